/**
 * The benchmark patient: ROS1+ stage IV with brain metastases, and enough unrelated laboratory
 * history that the prefetch carries about 500 Observations, as a real record would.
 */
import { daysAgo, ros1BrainMetsRecord } from '../test/fixtures/cds/records.ts';
import { prefetchFor } from '../test/integration/cds-hooks/fhir-search.ts';

export const BENCH_PATIENT = 'bench-ros1';

const NOISE = [
  ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 13.1],
  ['6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 6.4],
  ['777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 240],
  ['2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 0.9],
  ['2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'mmol/L', 139],
  ['6768-6', 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 88],
] as const;

export function benchRecord(noise = 480) {
  const resources: Record<string, unknown>[] = ros1BrainMetsRecord(BENCH_PATIENT);
  for (let i = 0; i < noise; i++) {
    const [code, display, unit, value] = NOISE[i % NOISE.length] as (typeof NOISE)[number];
    resources.push({
      resourceType: 'Observation',
      id: `${BENCH_PATIENT}-noise-${i}`,
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code, display }], text: display },
      subject: { reference: `Patient/${BENCH_PATIENT}` },
      effectiveDateTime: daysAgo(7 + i * 3),
      valueQuantity: { value: value + (i % 7) / 10, unit, system: 'http://unitsofmeasure.org', code: unit },
    });
  }
  const prefetch = prefetchFor(resources, BENCH_PATIENT);
  type Entry = { resource?: { resourceType?: string } };
  const observations = Object.values(prefetch).reduce<number>((n, b) => {
    const entries = (b as { entry?: Entry[] } | null)?.entry ?? [];
    return n + entries.filter((e) => e.resource?.resourceType === 'Observation').length;
  }, 0);
  return { resources, prefetch, observations };
}

export function patientViewBody(prefetch?: Record<string, unknown>, fhirServer?: string) {
  return JSON.stringify({
    hook: 'patient-view',
    hookInstance: 'bench-0000-0000-0000-000000000001',
    context: { userId: 'Practitioner/bench', patientId: BENCH_PATIENT },
    ...(prefetch ? { prefetch } : {}),
    ...(fhirServer ? { fhirServer } : {}),
  });
}
