/** The FHIR layer: FHIR R4 resources in, PatientSnapshot out; plus the queries that fetch them. */
export {
  type Call,
  canonicalSystem,
  type DrugMatch,
  type FhirKnowledge,
  hasCoding,
  matchAgent,
} from './codings.ts';
export { extractBiomarkers } from './extract-biomarkers.ts';
export { extractDisease } from './extract-conditions.ts';
export { extractDraftOrders } from './extract-draft-orders.ts';
export { extractMeasurements } from './extract-measurements.ts';
export { extractMedications } from './extract-medications.ts';
export { extractPatient } from './extract-patient.ts';
export {
  type DataRequirement,
  dataRequirements,
  prefetchTemplates,
  type QueryResourceType,
  requirementForUrl,
  toPrefetchTemplate,
  toSearchUrl,
} from './queries.ts';
export { type RecordResolver, readRecord, type SnapshotOptions, toSnapshot } from './to-snapshot.ts';
export { normaliseQuantity } from './units.ts';
