/**
 * Typed builders for clinical scenarios. Each builder fills only what a real record would carry,
 * so a scenario reads as the situation it tests.
 */

import type {
  ActiveMedication,
  BiomarkerResult,
  CnsFinding,
  DataGap,
  DraftOrder,
  Measurement,
  NsclcDiagnosis,
  PatientSnapshot,
  TherapyLine,
} from '../../../src/core/model.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';

export const NOW = '2026-11-22T09:00:00Z';
export const kb = getKnowledge();

let seq = 0;
const ref = (type: string) => `${type}/${type.toLowerCase()}-${++seq}`;

/** ISO date `days` before NOW. */
export function daysAgo(days: number): string {
  return new Date(Date.parse(NOW) - days * 86_400_000).toISOString();
}

export function stageIvAdenocarcinoma(overrides: Partial<NsclcDiagnosis> = {}): NsclcDiagnosis {
  return {
    histology: 'adenocarcinoma',
    stage: 'IV',
    metastatic: true,
    recurrent: false,
    onsetDate: daysAgo(200),
    display: 'Adenocarcinoma of lung, stage IV',
    sources: [ref('Condition')],
    ...overrides,
  };
}

export function result(
  r: Partial<BiomarkerResult> & Pick<BiomarkerResult, 'gene' | 'method' | 'call'>,
): BiomarkerResult {
  return {
    kind: 'rearrangement',
    specimen: 'tissue',
    status: 'final',
    date: daysAgo(60),
    resistanceMutations: [],
    display: `${r.gene} ${r.method} ${r.call}`,
    sources: [ref('Observation')],
    ...r,
  };
}

export const alkFish = (call: BiomarkerResult['call'] = 'positive', extra: Partial<BiomarkerResult> = {}) =>
  result({ gene: 'ALK', method: 'FISH', call, ...extra });
export const ros1Fish = (call: BiomarkerResult['call'] = 'positive', extra: Partial<BiomarkerResult> = {}) =>
  result({ gene: 'ROS1', method: 'FISH', call, ...extra });
export const mutationReport = (
  gene: 'ALK' | 'ROS1',
  mutations: string[],
  days = 10,
  extra: Partial<BiomarkerResult> = {},
) =>
  result({
    gene,
    method: 'NGS',
    call: 'positive',
    kind: 'mutation',
    resistanceMutations: mutations,
    date: daysAgo(days),
    ...extra,
  });

export function line(agent: string, l: Partial<TherapyLine> = {}): TherapyLine {
  const a = kb.agents.get(agent);
  return {
    agent,
    kind:
      a?.kind === 'tki'
        ? 'tki'
        : a?.kind === 'immunotherapy'
          ? 'immunotherapy'
          : a?.kind === 'chemotherapy'
            ? 'chemotherapy'
            : 'other',
    display: agent,
    start: daysAgo(400),
    status: 'active',
    sources: [ref('MedicationRequest')],
    ...l,
  };
}

/** A TKI the disease progressed on, ended `daysAgo` days before NOW. */
export const progressedOn = (agent: string, endedDaysAgo = 20, extra: Partial<TherapyLine> = {}) =>
  line(agent, { status: 'ended', end: daysAgo(endedDaysAgo), endReason: 'progression', ...extra });

export function med(drug: string | null, display = drug ?? 'unknown drug'): ActiveMedication {
  return { drug, display, sources: [ref('MedicationRequest')] };
}

export function draft(drug: string | null, display = drug ?? 'unknown drug'): DraftOrder {
  return { ref: `MedicationRequest/draft-${drug ?? 'x'}-${++seq}`, drug, display };
}

export function brainMets(extra: Partial<CnsFinding> = {}): CnsFinding {
  return {
    site: 'brain',
    clinicalStatus: 'active',
    date: daysAgo(30),
    display: 'Secondary malignant neoplasm of brain',
    sources: [ref('Condition')],
    ...extra,
  };
}

export function measurement(
  analyte: string,
  value: number | undefined,
  days = 5,
  extra: Partial<Measurement> = {},
): Measurement {
  const unit = kb.analytes.get(analyte)?.unit;
  return {
    analyte,
    ...(value !== undefined ? { value } : {}),
    ...(unit ? { unit } : {}),
    date: daysAgo(days),
    status: 'final',
    sources: [ref('Observation')],
    ...extra,
  };
}

/** Normal, current results for every analyte: the "all checks done" baseline. */
export function allChecksCurrent(days = 5): Measurement[] {
  const normal: Record<string, number> = {
    lvef: 60,
    qtc: 420,
    'heart-rate': 72,
    'systolic-bp': 124,
    'diastolic-bp': 78,
    'uric-acid': 5.1,
    potassium: 4.2,
    magnesium: 0.85,
    calcium: 9.4,
    alt: 22,
    ast: 25,
    'bilirubin-total': 0.6,
    ck: 110,
    'cholesterol-total': 190,
    triglycerides: 140,
    glucose: 95,
    hba1c: 5.4,
    lipase: 30,
    amylase: 60,
    // Creatinine clearance by Cockcroft-Gault from these (male, 64 at NOW): about 92 mL/min.
    creatinine: 0.9,
    'body-weight': 78,
  };
  return Object.entries(normal).map(([a, v]) => measurement(a, v, days));
}

export function snapshot(s: Partial<PatientSnapshot> = {}): PatientSnapshot {
  return {
    patient: { id: 'p1', birthDate: '1962-03-04', sex: 'male', sources: ['Patient/p1'] },
    nsclc: stageIvAdenocarcinoma(),
    cns: [],
    oligometastatic: 'unknown',
    biomarkers: [],
    therapies: [],
    activeMedications: [],
    measurements: allChecksCurrent(),
    dataGaps: [],
    notes: [],
    ...s,
  };
}

export function gap(domains: DataGap['domains'], reason: DataGap['reason'] = 'error'): DataGap {
  return {
    domains,
    query: `query-${domains.join('-')}`,
    reason,
    detail: `HTTP 503 on ${domains.join(', ')}`,
  };
}
