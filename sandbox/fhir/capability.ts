/**
 * The sandbox FHIR server's CapabilityStatement (`GET /fhir/metadata`): what fhirclient and SMART
 * clients read to find the OAuth endpoints and each type's patient search parameter.
 */

/** Resource types the sandbox serves (the sample patients' record). */
export const SERVED_TYPES: readonly string[] = [
  'Patient',
  'Practitioner',
  'Encounter',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'Medication',
  'MedicationRequest',
  'MedicationStatement',
  'MedicationAdministration',
  'ServiceRequest',
];

/** Types outside any patient compartment: searchable without a patient. */
export const SHARED_TYPES: readonly string[] = ['Practitioner', 'Medication'];

const COMMON = [
  { name: '_id', type: 'token' },
  { name: '_count', type: 'number' },
  { name: '_sort', type: 'string' },
];
const PATIENT_PARAMS = [
  { name: 'patient', type: 'reference' },
  { name: 'subject', type: 'reference' },
];

const SEARCH_PARAMS: Record<string, { name: string; type: string }[]> = {
  Patient: [{ name: 'name', type: 'string' }],
  Practitioner: [],
  Encounter: [...PATIENT_PARAMS, { name: 'status', type: 'token' }, { name: 'date', type: 'date' }],
  Condition: [
    ...PATIENT_PARAMS,
    { name: 'category', type: 'token' },
    { name: 'clinical-status', type: 'token' },
    { name: 'code', type: 'token' },
  ],
  Observation: [
    ...PATIENT_PARAMS,
    { name: 'category', type: 'token' },
    { name: 'code', type: 'token' },
    { name: 'date', type: 'date' },
    { name: 'status', type: 'token' },
  ],
  DiagnosticReport: [
    ...PATIENT_PARAMS,
    { name: 'category', type: 'token' },
    { name: 'code', type: 'token' },
    { name: 'date', type: 'date' },
  ],
  Medication: [{ name: 'code', type: 'token' }],
  MedicationRequest: [
    ...PATIENT_PARAMS,
    { name: 'status', type: 'token' },
    { name: 'intent', type: 'token' },
  ],
  MedicationStatement: [...PATIENT_PARAMS, { name: 'status', type: 'token' }],
  MedicationAdministration: [...PATIENT_PARAMS, { name: 'status', type: 'token' }],
  ServiceRequest: [...PATIENT_PARAMS, { name: 'status', type: 'token' }, { name: 'code', type: 'token' }],
};

/** `_include` values the server resolves, and the reference field each follows (one table for both). */
export const INCLUDE_FIELDS: Readonly<Record<string, string>> = {
  'MedicationRequest:medication': 'medicationReference',
  'MedicationStatement:medication': 'medicationReference',
  'MedicationAdministration:medication': 'medicationReference',
};

const includesOf = (type: string) => Object.keys(INCLUDE_FIELDS).filter((i) => i.startsWith(`${type}:`));

/** The server's CapabilityStatement; `smart` (its SMART configuration) is absent for the open endpoint. */
export function capabilityStatement(
  fhirBase: string,
  smart: Record<string, unknown> | undefined,
): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'ALK / ROS1 sandbox EHR (Medplum in-memory FHIR router)' },
    implementation: { description: 'Local sandbox with synthetic patients', url: fhirBase },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: smart
          ? {
              cors: true,
              service: [
                {
                  coding: [
                    {
                      system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                      code: 'SMART-on-FHIR',
                    },
                  ],
                },
              ],
              extension: [
                {
                  url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                  extension: [
                    { url: 'authorize', valueUri: smart.authorization_endpoint },
                    { url: 'token', valueUri: smart.token_endpoint },
                  ],
                },
              ],
            }
          : { cors: true, description: 'Open, read-only: synthetic sandbox data, no token needed.' },
        resource: SERVED_TYPES.map((type) => ({
          type,
          interaction: [{ code: 'read' }, { code: 'search-type' }],
          ...(includesOf(type).length ? { searchInclude: includesOf(type) } : {}),
          searchParam: [...COMMON, ...(SEARCH_PARAMS[type] ?? [])],
        })),
      },
    ],
  };
}
