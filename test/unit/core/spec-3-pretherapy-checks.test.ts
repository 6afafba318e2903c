/**
 * Clinical spec §3 (pre-therapy checks): every check row in its four states, the drug × check
 * matrix, the ROS1 seed rule, pregnancy, and "could not check" when a query failed.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import {
  type CheckState,
  DEFAULT_CONFIG,
  type EvaluateConfig,
  type Measurement,
  type Severity,
} from '../../../src/core/model.ts';
import {
  checksMemo,
  evaluateAgentChecks,
  evaluateCheck,
  requiredChecks,
} from '../../../src/core/rules/pretherapy-checks.ts';
import type { Tki } from '../../../src/knowledge/index.ts';
import {
  alkFish,
  allChecksCurrent,
  daysAgo,
  gap,
  kb,
  measurement,
  NOW,
  ros1Fish,
  snapshot,
} from './builders.ts';

const tki = (id: string): Tki => {
  const a = kb.agents.get(id);
  if (a?.kind !== 'tki') throw new Error(id);
  return a;
};

/** All other analytes current and normal; the scenario's measurements replace their analytes. */
function withMeasurements(ms: Measurement[], drop: string[] = []) {
  const replaced = new Set([...ms.map((m) => m.analyte), ...drop]);
  return snapshot({ measurements: [...allChecksCurrent().filter((m) => !replaced.has(m.analyte)), ...ms] });
}

interface CheckScenario {
  name: string;
  check: string;
  agent?: string;
  measurements: Measurement[];
  drop?: string[];
  config?: Partial<EvaluateConfig>;
  state: CheckState;
  severity?: Severity;
  orders?: string[];
  why?: RegExp;
}

const scenarios: CheckScenario[] = [
  {
    name: 'LVEF 60 % 90 days ago → current (180-day window)',
    check: 'lvef',
    measurements: [measurement('lvef', 60, 90)],
    state: 'current',
    orders: [],
  },
  {
    name: 'LVEF 200 days ago → stale, order echocardiogram',
    check: 'lvef',
    measurements: [measurement('lvef', 60, 200)],
    state: 'stale',
    orders: ['40701008'],
  },
  {
    name: 'no LVEF → missing, order echocardiogram',
    check: 'lvef',
    measurements: [],
    drop: ['lvef'],
    state: 'missing',
    orders: ['40701008'],
  },
  {
    name: 'LVEF 45 % → abnormal (< 50 %)',
    check: 'lvef',
    measurements: [measurement('lvef', 45, 10)],
    state: 'abnormal',
    severity: 'warning',
    why: /< 50 %/,
  },
  {
    name: 'LVEF window extended to 365 days by configuration → 200-day echo current',
    check: 'lvef',
    measurements: [measurement('lvef', 60, 200)],
    config: { checkWindowDays: { lvef: 365 } },
    state: 'current',
  },
  { name: 'QTc 420 ms, HR 72 → current', check: 'ecg', measurements: [], state: 'current' },
  {
    name: 'QTc 480 ms → abnormal warning (> 470 ms)',
    check: 'ecg',
    agent: 'crizotinib',
    measurements: [measurement('qtc', 480)],
    state: 'abnormal',
    severity: 'warning',
  },
  {
    name: 'QTc 510 ms before crizotinib (QT-prolonging) → critical',
    check: 'ecg',
    agent: 'crizotinib',
    measurements: [measurement('qtc', 510)],
    state: 'abnormal',
    severity: 'critical',
    why: /≥ 500 ms/,
  },
  {
    name: 'QTc exactly 500 ms before crizotinib → critical (spec §3: ≥ 500 ms)',
    check: 'ecg',
    agent: 'crizotinib',
    measurements: [measurement('qtc', 500)],
    state: 'abnormal',
    severity: 'critical',
  },
  {
    name: 'QTc 510 ms before alectinib (not QT-prolonging) → warning',
    check: 'ecg',
    agent: 'alectinib',
    measurements: [measurement('qtc', 510)],
    state: 'abnormal',
    severity: 'warning',
  },
  {
    name: 'heart rate 45 /min before alectinib → its own heart-rate check is abnormal (bradycardia, < 50)',
    check: 'heart-rate',
    agent: 'alectinib',
    measurements: [measurement('heart-rate', 45)],
    state: 'abnormal',
    severity: 'warning',
  },
  {
    name: 'an ECG with a QTc but no heart rate → the heart-rate check is missing, with an ECG to order',
    check: 'heart-rate',
    agent: 'crizotinib',
    measurements: [measurement('qtc', 430)],
    drop: ['heart-rate'],
    state: 'missing',
    orders: ['34534-8'],
  },
  {
    name: 'QTc 40 days old → stale, order 12-lead ECG',
    check: 'ecg',
    measurements: [measurement('qtc', 430, 40)],
    state: 'stale',
    orders: ['34534-8'],
  },
  {
    name: 'no ECG → missing, order 12-lead ECG',
    check: 'ecg',
    measurements: [],
    drop: ['qtc', 'heart-rate'],
    state: 'missing',
    orders: ['34534-8'],
  },
  {
    name: 'QTc warning threshold raised to 480 ms by configuration → 475 ms current',
    check: 'ecg',
    measurements: [measurement('qtc', 475)],
    config: { thresholds: { qtc: { warning: { value: 480 } } } },
    state: 'current',
  },
  {
    name: 'uric acid 7.5 mg/dL, no lab range → abnormal (> 7.0 default)',
    check: 'uric-acid',
    measurements: [measurement('uric-acid', 7.5)],
    state: 'abnormal',
    why: /default upper limit/,
  },
  {
    name: 'uric acid 6.5 mg/dL with lab upper limit 6.0 → abnormal (lab range wins)',
    check: 'uric-acid',
    measurements: [measurement('uric-acid', 6.5, 5, { referenceRange: { high: 6.0 } })],
    state: 'abnormal',
    why: /laboratory upper limit/,
  },
  {
    name: 'uric acid 6.9 mg/dL → current',
    check: 'uric-acid',
    measurements: [measurement('uric-acid', 6.9)],
    state: 'current',
  },
  {
    name: 'no uric acid → missing, order LOINC 3084-1',
    check: 'uric-acid',
    measurements: [],
    drop: ['uric-acid'],
    state: 'missing',
    orders: ['3084-1'],
  },
  {
    name: 'potassium 3.3 mmol/L → abnormal (< 3.5)',
    check: 'electrolytes',
    measurements: [measurement('potassium', 3.3)],
    state: 'abnormal',
  },
  {
    name: 'magnesium 0.65 mmol/L → abnormal (< 0.7)',
    check: 'electrolytes',
    measurements: [measurement('magnesium', 0.65)],
    state: 'abnormal',
  },
  {
    name: 'magnesium missing, potassium current → missing, order magnesium only',
    check: 'electrolytes',
    measurements: [],
    drop: ['magnesium'],
    state: 'missing',
    orders: ['19123-9'],
  },
  {
    name: 'no electrolytes → missing, order electrolyte panel and magnesium',
    check: 'electrolytes',
    measurements: [],
    drop: ['potassium', 'magnesium', 'calcium'],
    state: 'missing',
    orders: ['24326-1', '19123-9'],
  },
  {
    name: 'calcium missing alone (optional) → still current',
    check: 'electrolytes',
    measurements: [],
    drop: ['calcium'],
    state: 'current',
    orders: [],
  },
  {
    name: 'ALT 130 U/L, no lab range → abnormal (> 3× default ULN 40)',
    check: 'liver',
    measurements: [measurement('alt', 130)],
    state: 'abnormal',
    why: /3× ULN \(ULN 40 U\/L, default\)/,
  },
  {
    name: 'ALT 100 U/L with lab ULN 56 → current (< 3× ULN)',
    check: 'liver',
    measurements: [measurement('alt', 100, 5, { referenceRange: { high: 56 } })],
    state: 'current',
  },
  {
    name: 'bilirubin 2.0 mg/dL with lab ULN 1.2 → abnormal (> 1.5× ULN)',
    check: 'liver',
    measurements: [measurement('bilirubin-total', 2.0, 5, { referenceRange: { high: 1.2 } })],
    state: 'abnormal',
  },
  {
    name: 'liver tests 45 days old → stale, order hepatic panel',
    check: 'liver',
    measurements: [
      measurement('alt', 20, 45),
      measurement('ast', 20, 45),
      measurement('bilirubin-total', 0.5, 45),
    ],
    state: 'stale',
    orders: ['24325-3'],
  },
  {
    name: 'CK 600 U/L → abnormal (> 2.5× ULN)',
    check: 'ck',
    measurements: [measurement('ck', 600)],
    state: 'abnormal',
  },
  {
    name: 'no CK → missing, order CK',
    check: 'ck',
    measurements: [],
    drop: ['ck'],
    state: 'missing',
    orders: ['2157-6'],
  },
  {
    name: 'triglycerides 520 mg/dL → abnormal (> 500)',
    check: 'lipids',
    measurements: [measurement('triglycerides', 520)],
    state: 'abnormal',
  },
  {
    name: 'cholesterol 310 mg/dL → abnormal (> 300)',
    check: 'lipids',
    measurements: [measurement('cholesterol-total', 310)],
    state: 'abnormal',
  },
  {
    name: 'lipids 100 days old → stale (90-day window), order lipid panel',
    check: 'lipids',
    measurements: [measurement('cholesterol-total', 190, 100), measurement('triglycerides', 140, 100)],
    state: 'stale',
    orders: ['57698-3'],
  },
  {
    name: 'glucose missing but HbA1c current → current (either suffices)',
    check: 'glucose',
    measurements: [],
    drop: ['glucose'],
    state: 'current',
  },
  {
    name: 'glucose 200 mg/dL → abnormal (> 180)',
    check: 'glucose',
    measurements: [measurement('glucose', 200)],
    state: 'abnormal',
  },
  {
    name: 'HbA1c 8.5 % → abnormal (> 8 %)',
    check: 'glucose',
    measurements: [measurement('hba1c', 8.5)],
    state: 'abnormal',
  },
  {
    name: 'no glucose nor HbA1c → missing, order glucose',
    check: 'glucose',
    measurements: [],
    drop: ['glucose', 'hba1c'],
    state: 'missing',
    orders: ['2345-7'],
  },
  {
    name: 'lipase 130 U/L → abnormal (> 2× ULN)',
    check: 'pancreatic',
    measurements: [measurement('lipase', 130)],
    state: 'abnormal',
  },
  {
    name: 'no lipase nor amylase → missing, order lipase',
    check: 'pancreatic',
    measurements: [],
    drop: ['lipase', 'amylase'],
    state: 'missing',
    orders: ['3040-3'],
  },
  {
    name: 'BP 165/90 → abnormal (systolic ≥ 160)',
    check: 'blood-pressure',
    measurements: [measurement('systolic-bp', 165), measurement('diastolic-bp', 90)],
    state: 'abnormal',
  },
  {
    name: 'BP 150/100 → abnormal (diastolic ≥ 100)',
    check: 'blood-pressure',
    measurements: [measurement('systolic-bp', 150), measurement('diastolic-bp', 100)],
    state: 'abnormal',
  },
  {
    name: 'no BP → missing, no order (a vital sign)',
    check: 'blood-pressure',
    measurements: [],
    drop: ['systolic-bp', 'diastolic-bp'],
    state: 'missing',
    orders: [],
  },
  {
    name: 'potassium entered in error, none other → missing (the erroneous value is not used)',
    check: 'electrolytes',
    measurements: [measurement('potassium', 4.0, 5, { status: 'entered-in-error' })],
    state: 'missing',
  },
  {
    name: 'potassium value with unconvertible unit → could not check, never "done"',
    check: 'electrolytes',
    measurements: [
      measurement('potassium', undefined, 5, {
        originalValue: '4.1 mEq/dL?',
        unreadable: 'unknown unit "mEq/dL?"',
      }),
    ],
    state: 'could-not-check',
    orders: ['24326-1'],
  },
  {
    name: 'lab flags potassium critical-low even though our bound is not crossed → abnormal',
    check: 'electrolytes',
    measurements: [measurement('potassium', 3.6, 5, { interpretation: 'critical-low' })],
    state: 'abnormal',
  },
];

describe('clinical spec §3: each check in each state', () => {
  it.each(scenarios)(
    '$name',
    ({ check, agent, measurements, drop, config, state, severity, orders, why }) => {
      const def = kb.checks.get(check);
      if (!def) throw new Error(check);
      const record = withMeasurements(measurements, drop);
      const status = evaluateCheck(
        def,
        kb,
        record,
        { ...DEFAULT_CONFIG, ...config },
        agent ? tki(agent) : undefined,
        NOW,
      );
      expect(status.state).toBe(state);
      if (severity) expect(status.severity).toBe(severity);
      if (orders) expect(status.orders.map((o) => o.code)).toEqual(orders);
      if (why) expect(status.summary).toMatch(why);
      expect(status.evidence.length).toBeGreaterThan(0);
    },
  );
});

describe('clinical spec §3 / §5: a failed query is "could not check", never missing or normal', () => {
  it('lab query failed, no lab results → liver tests "could not check"', () => {
    const record = snapshot({
      measurements: allChecksCurrent().filter((m) => kb.analytes.get(m.analyte)?.domain !== 'labs'),
      dataGaps: [gap(['labs'])],
    });
    const liver = evaluateCheck(kb.checks.get('liver') as never, kb, record, DEFAULT_CONFIG, undefined, NOW);
    expect(liver.state).toBe('could-not-check');
    expect(liver.summary).toMatch(/could not check/);
  });

  it('lab query failed but a current normal value was found elsewhere → still "could not check"', () => {
    const record = snapshot({ dataGaps: [gap(['labs'])] });
    const liver = evaluateCheck(kb.checks.get('liver') as never, kb, record, DEFAULT_CONFIG, undefined, NOW);
    expect(liver.state).toBe('could-not-check');
  });

  it('lab query failed but an abnormal value was found → abnormal (abnormal is never reassuring)', () => {
    const record = snapshot({
      measurements: [...allChecksCurrent().filter((m) => m.analyte !== 'alt'), measurement('alt', 300)],
      dataGaps: [gap(['labs'])],
    });
    const liver = evaluateCheck(kb.checks.get('liver') as never, kb, record, DEFAULT_CONFIG, undefined, NOW);
    expect(liver.state).toBe('abnormal');
  });

  it('cardiac studies query failed → LVEF and ECG "could not check" for entrectinib; labs unaffected', () => {
    const record = snapshot({ biomarkers: [ros1Fish()], dataGaps: [gap(['cardiac-studies'])] });
    const result = evaluateAgentChecks(kb, tki('entrectinib'), 'ROS1', record, DEFAULT_CONFIG, NOW);
    const state = Object.fromEntries(result.checks.map((c) => [c.check, c.state]));
    expect(state).toMatchObject({
      lvef: 'could-not-check',
      ecg: 'could-not-check',
      'uric-acid': 'current',
      liver: 'current',
    });
  });
});

describe('checks evaluated once per evaluation and shared between agents', () => {
  it('a QTc of 510 ms is critical before crizotinib and a warning before alectinib, with one memo', () => {
    const record = withMeasurements([measurement('qtc', 510)]);
    const memo = checksMemo(record, DEFAULT_CONFIG, NOW);
    const ecg = (agent: string) =>
      evaluateAgentChecks(kb, tki(agent), 'ALK', record, DEFAULT_CONFIG, NOW, memo).checks.find(
        (c) => c.check === 'ecg',
      );
    for (const [agent, severity] of [
      ['alectinib', 'warning'],
      ['crizotinib', 'critical'],
      ['alectinib', 'warning'],
    ] as const) {
      expect(ecg(agent)).toMatchObject({ state: 'abnormal', severity });
    }
  });

  it('a memo made for another snapshot is not used', () => {
    const normal = withMeasurements([]);
    const long = withMeasurements([measurement('qtc', 510)]);
    const memo = checksMemo(normal, DEFAULT_CONFIG, NOW);
    evaluateAgentChecks(kb, tki('crizotinib'), 'ALK', normal, DEFAULT_CONFIG, NOW, memo);
    const result = evaluateAgentChecks(kb, tki('crizotinib'), 'ALK', long, DEFAULT_CONFIG, NOW, memo);
    expect(result.checks.find((c) => c.check === 'ecg')?.state).toBe('abnormal');
  });
});

describe('clinical spec §3: which drug needs which check', () => {
  const matrix: [string, 'ALK' | 'ROS1', string[]][] = [
    // Heart rate is its own check for the TKIs whose labels warn of bradycardia (spec §3); renal
    // function for those whose labels give a renal dose rule (crizotinib, brigatinib, lorlatinib).
    ['crizotinib', 'ALK', ['ecg', 'electrolytes', 'heart-rate', 'liver', 'renal']],
    ['crizotinib', 'ROS1', ['ecg', 'electrolytes', 'heart-rate', 'liver', 'lvef', 'renal', 'uric-acid']],
    ['ceritinib', 'ALK', ['ecg', 'electrolytes', 'glucose', 'heart-rate', 'liver', 'pancreatic']],
    ['alectinib', 'ALK', ['blood-pressure', 'ck', 'ecg', 'heart-rate', 'liver']],
    [
      'brigatinib',
      'ALK',
      ['blood-pressure', 'ck', 'ecg', 'glucose', 'heart-rate', 'liver', 'pancreatic', 'renal'],
    ],
    ['lorlatinib', 'ALK', ['blood-pressure', 'ecg', 'glucose', 'lipids', 'renal']],
    [
      'lorlatinib',
      'ROS1',
      ['blood-pressure', 'ecg', 'electrolytes', 'glucose', 'lipids', 'lvef', 'renal', 'uric-acid'],
    ],
    ['ensartinib', 'ALK', ['glucose', 'liver', 'uric-acid']],
    ['entrectinib', 'ROS1', ['ecg', 'electrolytes', 'liver', 'lvef', 'uric-acid']],
    ['repotrectinib', 'ROS1', ['ck', 'ecg', 'electrolytes', 'liver', 'lvef', 'uric-acid']],
    ['taletrectinib', 'ROS1', ['ecg', 'electrolytes', 'liver', 'lvef', 'uric-acid']],
  ];
  it.each(matrix)('%s for %s-positive disease needs %j', (agent, gene, expected) => {
    const why = requiredChecks(kb, tki(agent), gene, snapshot(), DEFAULT_CONFIG, NOW);
    expect(Object.keys(why).sort()).toEqual([...expected].sort());
    for (const entries of Object.values(why))
      for (const e of entries) expect(e.evidence.length).toBeGreaterThan(0);
  });

  it('the ROS1 seed rule (LVEF, uric acid, QT, electrolytes) cites ros1-first-line-qa-2025', () => {
    const why = requiredChecks(kb, tki('crizotinib'), 'ROS1', snapshot(), DEFAULT_CONFIG, NOW);
    expect(why.lvef?.[0]?.evidence).toEqual(['ros1-first-line-qa-2025']);
  });

  it.each([
    ['female aged 40', { sex: 'female' as const, birthDate: '1986-05-01' }, true],
    ['female of unknown age', { sex: 'female' as const }, true],
    ['female aged 70', { sex: 'female' as const, birthDate: '1956-05-01' }, false],
    ['male aged 40', { sex: 'male' as const, birthDate: '1986-05-01' }, false],
  ])('pregnancy check for a %s: %s', (_label, patient, expected) => {
    const record = snapshot({ patient: { id: 'p1', sources: [], ...patient } });
    const why = requiredChecks(kb, tki('alectinib'), 'ALK', record, DEFAULT_CONFIG, NOW);
    expect('pregnancy' in why).toBe(expected);
  });

  it('lorlatinib and repotrectinib ask for non-hormonal contraception', () => {
    const record = snapshot({ patient: { id: 'p1', sex: 'female', birthDate: '1990-01-01', sources: [] } });
    for (const agent of ['lorlatinib', 'repotrectinib']) {
      const why = requiredChecks(kb, tki(agent), 'ROS1', record, DEFAULT_CONFIG, NOW);
      expect(why.pregnancy?.[0]?.why).toMatch(/non-hormonal/);
    }
    const why = requiredChecks(kb, tki('crizotinib'), 'ROS1', record, DEFAULT_CONFIG, NOW);
    expect(why.pregnancy?.[0]?.why).not.toMatch(/non-hormonal/);
  });

  it('a positive pregnancy test is abnormal; a negative one 10 days ago is current', () => {
    const female = { id: 'p1', sex: 'female' as const, birthDate: '1990-01-01', sources: [] };
    const positive = snapshot({
      patient: female,
      measurements: [
        ...allChecksCurrent(),
        measurement('pregnancy-test', undefined, 3, { call: 'positive' }),
      ],
    });
    const negative = snapshot({
      patient: female,
      measurements: [
        ...allChecksCurrent(),
        measurement('pregnancy-test', undefined, 10, { call: 'negative' }),
      ],
    });
    const state = (s: typeof positive) =>
      evaluateAgentChecks(kb, tki('alectinib'), 'ALK', s, DEFAULT_CONFIG, NOW).checks.find(
        (c) => c.check === 'pregnancy',
      )?.state;
    expect(state(positive)).toBe('abnormal');
    expect(state(negative)).toBe('current');
  });

  it('dosing notes the card carries: brigatinib 90 → 180 mg, repotrectinib step-up, ceritinib 450 mg with food [aslan-ch11-4.2]', () => {
    const note = (agent: string) =>
      tki(agent)
        .dosingNotes.filter((n) => n.evidence.includes('aslan-ch11-4.2'))
        .map((n) => n.text)
        .join(' ');
    expect(note('brigatinib')).toMatch(/90 mg once daily for 7 days, then 180 mg/);
    expect(note('repotrectinib')).toMatch(/160 mg orally once daily for 14 days, then 160 mg twice daily/);
    expect(note('ceritinib')).toMatch(/450 mg orally once daily with food/);
  });
});

describe('assessment: checks per candidate agent', () => {
  it('evaluates checks for every TKI offered, and none for avoided agents', () => {
    const a = evaluate(snapshot({ biomarkers: [alkFish()] }), kb, { now: NOW });
    expect(a.checks.map((c) => c.agent).sort()).toEqual([
      'alectinib',
      'brigatinib',
      'ceritinib',
      'crizotinib',
      'ensartinib',
      'lorlatinib',
    ]);
    for (const c of a.checks) for (const s of c.checks) expect(s.state).toBe('current');
  });

  it('stale echo (200 days) for a ROS1 candidate', () => {
    const a = evaluate(
      snapshot({
        biomarkers: [ros1Fish()],
        measurements: [
          ...allChecksCurrent().filter((m) => m.analyte !== 'lvef'),
          measurement('lvef', 62, 200),
        ],
      }),
      kb,
      { now: NOW },
    );
    const entrectinib = a.checks.find((c) => c.agent === 'entrectinib');
    expect(entrectinib?.checks.find((c) => c.check === 'lvef')?.state).toBe('stale');
    expect(daysAgo(0)).toBe(new Date(Date.parse(NOW)).toISOString());
  });
});
