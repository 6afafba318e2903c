/**
 * Clinical spec §5: what must never happen, as explicit tests over many situations.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import type { Assessment, PatientSnapshot } from '../../../src/core/model.ts';
import {
  alkFish,
  allChecksCurrent,
  brainMets,
  draft,
  gap,
  kb,
  NOW,
  progressedOn,
  result,
  ros1Fish,
  snapshot,
} from './builders.ts';

const noPositiveResult: [string, PatientSnapshot][] = [
  ['no result at all', snapshot()],
  ['ALK and ROS1 negative', snapshot({ biomarkers: [alkFish('negative'), ros1Fish('negative')] })],
  [
    'ALK positive entered in error',
    snapshot({ biomarkers: [alkFish('positive', { status: 'entered-in-error' })] }),
  ],
  ['ROS1 positive cancelled', snapshot({ biomarkers: [ros1Fish('positive', { status: 'cancelled' })] })],
  [
    'ALK IHC equivocal',
    snapshot({ biomarkers: [result({ gene: 'ALK', method: 'IHC', call: 'equivocal' })] }),
  ],
  [
    'ROS1 IHC screen only',
    snapshot({ biomarkers: [result({ gene: 'ROS1', method: 'IHC', call: 'positive' })] }),
  ],
  ['ALK preliminary positive', snapshot({ biomarkers: [alkFish('positive', { status: 'preliminary' })] })],
  [
    'ALK and ROS1 both positive (discordant)',
    snapshot({ biomarkers: [alkFish('positive'), ros1Fish('positive')] }),
  ],
  ['biomarker query failed', snapshot({ dataGaps: [gap(['biomarkers'])] })],
  ['no NSCLC diagnosis and no results', snapshot({ nsclc: undefined })],
  [
    'brain metastases, prior crizotinib, no result',
    snapshot({ cns: [brainMets()], therapies: [progressedOn('crizotinib')] }),
  ],
];

describe('§5 never: a TKI recommended without an ALK/ROS1-positive result', () => {
  it.each(noPositiveResult)('%s → no therapy options, and any drafted TKI is flagged', (_name, record) => {
    const a = evaluate(record, kb, { now: NOW, draftOrders: kb.tkis.map((t) => draft(t.id)) });
    expect(a.driver).toBeNull();
    expect(a.recommendation).toBeNull();
    expect(a.checks.every((c) => a.orderFindings.some((f) => f.drug === c.agent))).toBe(true);
    for (const t of kb.tkis) {
      expect(
        a.orderFindings.some(
          (f) => f.drug === t.id && f.code === 'no-confirmed-biomarker' && f.severity === 'warning',
        ),
      ).toBe(true);
    }
  });
});

describe('§5 never: "all checks done" when the FHIR server could not be read', () => {
  const domains = ['labs', 'vital-signs', 'cardiac-studies'] as const;
  it.each(domains)(
    '%s query failed → affected checks say "could not check", never current or missing',
    (domain) => {
      const record = snapshot({ biomarkers: [ros1Fish()], dataGaps: [gap([domain])] });
      const a = evaluate(record, kb, { now: NOW, draftOrders: [draft('entrectinib')] });
      const affected = a.checks
        .flatMap((c) => c.checks)
        .filter((c) => c.readings.some((r) => kb.analytes.get(r.analyte)?.domain === domain));
      expect(affected.length).toBeGreaterThan(0);
      for (const c of affected) expect(c.state).toBe('could-not-check');
      expect(a.notices.some((n) => n.severity === 'warning' && n.message.includes(domain))).toBe(true);
    },
  );

  it('with everything failed and no data, nothing is "current" and nothing is "missing"', () => {
    const record = snapshot({
      biomarkers: [alkFish()],
      measurements: [],
      dataGaps: [gap(['labs', 'vital-signs', 'cardiac-studies'])],
    });
    const a = evaluate(record, kb, { now: NOW });
    const states = new Set(a.checks.flatMap((c) => c.checks.map((s) => s.state)));
    expect([...states]).toEqual(['could-not-check']);
  });
});

describe('§5 never: an entered-in-error, cancelled or negative result treated as positive', () => {
  it.each([
    ['entered-in-error', alkFish('positive', { status: 'entered-in-error' })],
    ['cancelled', alkFish('positive', { status: 'cancelled' })],
    ['negative', alkFish('negative')],
    ['negative by plasma', result({ gene: 'ALK', method: 'NGS', specimen: 'plasma', call: 'negative' })],
  ])('%s ALK result → ALK is not positive', (_name, r) => {
    const a = evaluate(snapshot({ biomarkers: [r] }), kb, { now: NOW });
    expect(a.biomarkers.ALK.status).not.toBe('positive');
    expect(a.driver).toBeNull();
  });
});

function everyRecommendationHasASource(a: Assessment) {
  const rec = a.recommendation;
  const cited = [
    ...(rec ? [...rec.preferred, ...rec.other].map((o) => [o.id, o.evidence] as const) : []),
    ...(rec ? rec.avoid.map((o) => [o.id, o.evidence] as const) : []),
    ...(rec ? [[rec.situation.rule, rec.situation.evidence] as const] : []),
    ...a.orderFindings.map((f) => [`${f.topic}:${f.code}`, f.evidence] as const),
    ...a.testing.map((t) => [t.kind, t.evidence] as const),
    ...a.localTherapy.map((l) => [l.kind, l.evidence] as const),
    ...a.checks.flatMap((c) => c.checks.map((s) => [`${c.agent}:${s.check}`, s.evidence] as const)),
    ...a.interactions.map((i) => [`${i.agent}+${i.with.drug}`, i.evidence] as const),
  ];
  for (const [what, evidence] of cited) {
    expect(evidence.length, `${what} has a source`).toBeGreaterThan(0);
    for (const e of evidence) expect(kb.evidence.has(e), `${what} cites known evidence ${e}`).toBe(true);
  }
}

describe('§5 never: a recommendation without its source', () => {
  const situations: [string, PatientSnapshot][] = [
    ['ALK first line', snapshot({ biomarkers: [alkFish()] })],
    [
      'ALK brain metastases',
      snapshot({ biomarkers: [alkFish()], cns: [brainMets()], oligometastatic: 'yes' }),
    ],
    [
      'ALK after alectinib, on rifampin',
      snapshot({ biomarkers: [alkFish()], therapies: [progressedOn('alectinib')], activeMedications: [] }),
    ],
    [
      'ROS1 exhausted',
      snapshot({
        biomarkers: [ros1Fish()],
        therapies: [
          progressedOn('crizotinib', 900),
          progressedOn('repotrectinib', 400),
          progressedOn('lorlatinib'),
        ],
      }),
    ],
    ['untested', snapshot()],
    [
      'ROS1 with failed labs',
      snapshot({ biomarkers: [ros1Fish()], measurements: allChecksCurrent(400), dataGaps: [gap(['labs'])] }),
    ],
  ];
  it.each(situations)(
    '%s: every option, avoid, card finding, check and test cites known evidence',
    (_name, record) => {
      const drafts = ['alectinib', 'crizotinib', 'pembrolizumab', 'rifampin', 'entrectinib'].map((d) =>
        draft(d),
      );
      everyRecommendationHasASource(evaluate(record, kb, { now: NOW, draftOrders: drafts }));
    },
  );
});
