/**
 * Benchmark: toSnapshot over a 10,000-resource record (target < 50 ms, issue 3).
 *
 * The record is built deterministically (seeded PRNG): a realistic ALK-positive patient (conditions,
 * FISH + NGS results, a genomics report, TKI history, checks) buried in unrelated laboratory
 * Observations, ~10% of which are analytes the extractor converts (potassium, glucose in mmol/L...).
 */
import type { Resource } from 'fhir/r4';
import { toSnapshot } from '../src/fhir/index.ts';
import { getKnowledge } from '../src/knowledge/index.ts';
import { summariseTimes, type TimingSummary } from './stats.ts';

export interface BenchResult extends TimingSummary {
  name: string;
  resources: number;
}

/** mulberry32: a tiny seeded PRNG so every run times the same record. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const P = 'bench-patient';
const LOINC = 'http://loinc.org';
const subject = { reference: `Patient/${P}` };

const NOISE: [string, string, string, number, number][] = [
  ['718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 9, 16],
  ['6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 3, 12],
  ['777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 120, 400],
  ['2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'mmol/L', 132, 146],
  ['2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 0.6, 1.4],
  ['3094-0', 'Urea nitrogen [Mass/volume] in Serum or Plasma', 'mg/dL', 7, 25],
  ['1751-7', 'Albumin [Mass/volume] in Serum or Plasma', 'g/dL', 3, 5],
  ['6768-6', 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 40, 130],
];
const ANALYTES: [string, string, string, number, number][] = [
  ['2823-3', 'Potassium [Moles/volume] in Serum or Plasma', 'mmol/L', 3.2, 5.4],
  ['2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'mmol/L', 4, 9],
  ['1742-6', 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 10, 90],
  ['14933-6', 'Urate [Moles/volume] in Serum or Plasma', 'umol/L', 200, 500],
];

function lab(
  i: number,
  r: () => number,
  [code, display, unit, lo, hi]: [string, string, string, number, number],
) {
  const day = 1 + Math.floor(r() * 28);
  const month = 1 + Math.floor(r() * 12);
  return {
    resourceType: 'Observation',
    id: `lab-${i}`,
    status: 'final',
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code: { coding: [{ system: LOINC, code, display }], text: display },
    subject,
    effectiveDateTime: `2023-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T08:00:00Z`,
    valueQuantity: {
      value: Math.round((lo + r() * (hi - lo)) * 10) / 10,
      unit,
      system: 'http://unitsofmeasure.org',
      code: unit,
    },
    referenceRange: [{ low: { value: lo, unit, code: unit }, high: { value: hi, unit, code: unit } }],
  };
}

/** The realistic part of the record (about 20 resources). */
function patientCore(): Record<string, unknown>[] {
  return [
    { resourceType: 'Patient', id: P, gender: 'female', birthDate: '1970-04-04' },
    {
      resourceType: 'Condition',
      id: 'nsclc',
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: {
        coding: [{ system: 'http://snomed.info/sct', code: '424993006' }],
        text: 'Adenocarcinoma of lung, stage IV',
      },
      subject,
    },
    {
      resourceType: 'Condition',
      id: 'brain',
      clinicalStatus: { coding: [{ code: 'active' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.31' }] },
      subject,
    },
    {
      resourceType: 'Observation',
      id: 'alk-fish',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '78205-2' }] },
      subject,
      effectiveDateTime: '2022-01-10',
      valueString: 'ALK rearrangement detected',
    },
    {
      resourceType: 'Observation',
      id: 'alk-var',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '69548-6' }] },
      subject,
      effectiveDateTime: '2022-01-12',
      valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA9633-4' }] },
      component: [
        {
          code: { coding: [{ system: LOINC, code: '48018-6' }] },
          valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: 'HGNC:427' }] },
        },
        {
          code: { coding: [{ system: LOINC, code: '81252-9' }] },
          valueCodeableConcept: { text: 'EML4-ALK fusion' },
        },
      ],
    },
    {
      resourceType: 'DiagnosticReport',
      id: 'gx',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '51969-4' }] },
      subject,
      effectiveDateTime: '2022-01-12',
      result: [{ reference: 'Observation/alk-var' }],
      conclusion: 'EML4-ALK fusion detected. ROS1 not detected.',
    },
    {
      resourceType: 'MedicationRequest',
      id: 'alec',
      status: 'stopped',
      intent: 'order',
      subject,
      medicationCodeableConcept: { text: 'Alecensa 150 mg capsule' },
      authoredOn: '2022-02-01',
      dosageInstruction: [
        { timing: { repeat: { boundsPeriod: { start: '2022-02-01', end: '2023-05-01' } } } },
      ],
      statusReason: { text: 'Disease progression' },
    },
    {
      resourceType: 'MedicationRequest',
      id: 'lorla',
      status: 'active',
      intent: 'order',
      subject,
      medicationCodeableConcept: { text: 'lorlatinib 100 mg tablet' },
      authoredOn: '2023-05-10',
    },
    {
      resourceType: 'MedicationRequest',
      id: 'rif',
      status: 'active',
      intent: 'order',
      subject,
      medicationCodeableConcept: { text: 'rifampin 300 mg capsule' },
      authoredOn: '2023-06-01',
    },
    {
      resourceType: 'Observation',
      id: 'bp',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '85354-9' }] },
      subject,
      effectiveDateTime: '2023-06-01',
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8480-6' }] },
          valueQuantity: { value: 128, unit: 'mmHg' },
        },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 82, unit: 'mmHg' } },
      ],
    },
    {
      resourceType: 'Observation',
      id: 'qtc',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '8636-3' }] },
      subject,
      effectiveDateTime: '2023-06-01',
      valueQuantity: { value: 0.44, unit: 's', code: 's', system: 'http://unitsofmeasure.org' },
    },
  ];
}

/** A 10,000-resource searchset-style record, the same on every call for the same seed. */
export function buildRecord(total = 10_000, seed = 42): Record<string, unknown>[] {
  const r = rng(seed);
  const core = patientCore();
  const out: Record<string, unknown>[] = [...core];
  for (let i = 0; out.length < total; i++) {
    const pick =
      r() < 0.1 ? ANALYTES[Math.floor(r() * ANALYTES.length)] : NOISE[Math.floor(r() * NOISE.length)];
    out.push(lab(i, r, pick as [string, string, string, number, number]));
  }
  return out;
}

function stats(name: string, times: number[], resources: number): BenchResult {
  return { name, resources, ...summariseTimes(times) };
}

/** toSnapshot over the 10k record: warm-up, then `iterations` timed runs. */
export async function benchSnapshot(iterations = 50, warmup = 10): Promise<BenchResult> {
  const knowledge = getKnowledge();
  const record = buildRecord();
  const bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: record.map((resource) => ({ resource })),
  };
  for (let i = 0; i < warmup; i++)
    toSnapshot([structuredClone(bundle)] as unknown as Resource[], [], { knowledge });
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    // A fresh copy each time (outside the timed section): no per-object cache survives between runs,
    // as in production where every request brings new resources.
    const input = [structuredClone(bundle)] as unknown as Resource[];
    const t0 = performance.now();
    const snap = toSnapshot(input, [], { knowledge });
    times.push(performance.now() - t0);
    if (snap.biomarkers.length === 0) throw new Error('benchmark record lost its ALK result');
  }
  return stats('toSnapshot (10k resources)', times, record.length);
}

/** Baseline: JSON.parse of the same record plus one pass over every resource. */
export async function benchParseBaseline(iterations = 50, warmup = 5): Promise<BenchResult> {
  const record = buildRecord();
  const text = JSON.stringify({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: record.map((resource) => ({ resource })),
  });
  const run = () => {
    const parsed = JSON.parse(text) as { entry: { resource: { resourceType: string } }[] };
    let n = 0;
    for (const e of parsed.entry) if (e.resource.resourceType === 'Observation') n++;
    return n;
  };
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return stats('baseline: JSON.parse + iterate (10k)', times, record.length);
}
