/**
 * Clinical spec §1 (biomarker status), one scenario per row, named by situation and expected outcome.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import type { BiomarkerStatusValue, PatientSnapshot, TestingKind } from '../../../src/core/model.ts';
import {
  alkFish,
  daysAgo,
  gap,
  kb,
  mutationReport,
  NOW,
  progressedOn,
  result,
  ros1Fish,
  snapshot,
} from './builders.ts';

interface Scenario {
  name: string;
  record: PatientSnapshot;
  alk: BiomarkerStatusValue;
  ros1: BiomarkerStatusValue;
  testing: TestingKind[];
  reason?: RegExp;
}

const scenarios: Scenario[] = [
  {
    name: 'advanced NSCLC with no ALK or ROS1 result → both unknown, order broad NGS on tissue',
    record: snapshot(),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['initial-testing'],
  },
  {
    name: 'ALK IHC (D5F3) strong positive → ALK positive, IHC alone suffices',
    record: snapshot({ biomarkers: [result({ gene: 'ALK', method: 'IHC', call: 'positive' })] }),
    alk: 'positive',
    ros1: 'unknown',
    testing: [],
    reason: /IHC.*suffices/i,
  },
  {
    name: 'ALK IHC equivocal (weak staining) → ALK equivocal, confirm by FISH or NGS',
    record: snapshot({ biomarkers: [result({ gene: 'ALK', method: 'IHC', call: 'equivocal' })] }),
    alk: 'equivocal',
    ros1: 'unknown',
    testing: ['confirm-equivocal'],
  },
  {
    name: 'ALK IHC equivocal then FISH negative → ALK negative',
    record: snapshot({
      biomarkers: [result({ gene: 'ALK', method: 'IHC', call: 'equivocal' }), alkFish('negative')],
    }),
    alk: 'negative',
    ros1: 'unknown',
    testing: ['initial-testing'],
  },
  {
    name: 'ALK FISH break-apart positive → ALK positive',
    record: snapshot({ biomarkers: [alkFish('positive')] }),
    alk: 'positive',
    ros1: 'unknown',
    testing: [],
  },
  {
    name: 'ALK fusion detected by RNA NGS → ALK positive',
    record: snapshot({
      biomarkers: [result({ gene: 'ALK', method: 'NGS-RNA', call: 'positive', fusionPartner: 'EML4' })],
    }),
    alk: 'positive',
    ros1: 'unknown',
    testing: [],
  },
  {
    name: 'ROS1 FISH positive (≥ 15 % of cells) → ROS1 positive',
    record: snapshot({ biomarkers: [ros1Fish('positive')] }),
    alk: 'unknown',
    ros1: 'positive',
    testing: [],
  },
  {
    name: 'ROS1 fusion by RNA NGS → ROS1 positive',
    record: snapshot({
      biomarkers: [result({ gene: 'ROS1', method: 'NGS-RNA', call: 'positive', fusionPartner: 'CD74' })],
    }),
    alk: 'unknown',
    ros1: 'positive',
    testing: [],
  },
  {
    name: 'ROS1 IHC (SP384) positive only → ROS1 unconfirmed, confirm by FISH or RNA NGS',
    record: snapshot({ biomarkers: [result({ gene: 'ROS1', method: 'IHC', call: 'positive' })] }),
    alk: 'unknown',
    ros1: 'unconfirmed',
    testing: ['confirm-screen'],
    reason: /screen/i,
  },
  {
    name: 'ROS1 IHC positive, RNA NGS negative → ROS1 negative (screen not confirmed)',
    record: snapshot({
      biomarkers: [
        result({ gene: 'ROS1', method: 'IHC', call: 'positive' }),
        result({ gene: 'ROS1', method: 'NGS-RNA', call: 'negative' }),
        alkFish('negative'),
      ],
    }),
    alk: 'negative',
    ros1: 'negative',
    testing: [],
  },
  {
    name: 'ROS1 IHC positive, FISH negative → ROS1 discordant (FISH can miss fusions), review',
    record: snapshot({
      biomarkers: [result({ gene: 'ROS1', method: 'IHC', call: 'positive' }), ros1Fish('negative')],
    }),
    alk: 'unknown',
    ros1: 'discordant',
    testing: ['review-discordant'],
    reason: /miss/i,
  },
  {
    name: 'ALK and ROS1 reported negative → both negative, no testing card',
    record: snapshot({ biomarkers: [alkFish('negative'), ros1Fish('negative')] }),
    alk: 'negative',
    ros1: 'negative',
    testing: [],
  },
  {
    name: 'ALK and ROS1 both positive → both discordant (mutually exclusive), review',
    record: snapshot({ biomarkers: [alkFish('positive'), ros1Fish('positive')] }),
    alk: 'discordant',
    ros1: 'discordant',
    testing: ['review-discordant'],
    reason: /mutually exclusive/i,
  },
  {
    name: 'ALK FISH positive and ALK RNA NGS negative on tissue → ALK discordant',
    record: snapshot({
      biomarkers: [alkFish('positive'), result({ gene: 'ALK', method: 'NGS-RNA', call: 'negative' })],
    }),
    alk: 'discordant',
    ros1: 'unknown',
    testing: ['review-discordant'],
  },
  {
    name: 'ALK FISH positive and plasma NGS negative → ALK positive (plasma negatives do not rule out)',
    record: snapshot({
      biomarkers: [
        alkFish('positive'),
        result({ gene: 'ALK', method: 'NGS', specimen: 'plasma', call: 'negative' }),
      ],
    }),
    alk: 'positive',
    ros1: 'unknown',
    testing: [],
    reason: /plasma/i,
  },
  {
    name: 'only a plasma NGS negative for both genes → negative, confirm in tissue',
    record: snapshot({
      biomarkers: [
        result({ gene: 'ALK', method: 'NGS', specimen: 'plasma', call: 'negative' }),
        result({ gene: 'ROS1', method: 'NGS', specimen: 'plasma', call: 'negative' }),
      ],
    }),
    alk: 'negative',
    ros1: 'negative',
    testing: ['confirm-in-tissue'],
  },
  {
    name: 'ALK positive entered in error → ignored, ALK unknown, test',
    record: snapshot({ biomarkers: [alkFish('positive', { status: 'entered-in-error' })] }),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['initial-testing'],
  },
  {
    name: 'ROS1 positive cancelled → ignored, ROS1 unknown',
    record: snapshot({ biomarkers: [ros1Fish('positive', { status: 'cancelled' })] }),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['initial-testing'],
  },
  {
    name: 'ALK positive amended → ALK positive',
    record: snapshot({ biomarkers: [alkFish('positive', { status: 'amended' })] }),
    alk: 'positive',
    ros1: 'unknown',
    testing: [],
  },
  {
    name: 'ALK NGS positive, preliminary only → ALK unconfirmed (awaiting final report)',
    record: snapshot({
      biomarkers: [result({ gene: 'ALK', method: 'NGS', call: 'positive', status: 'preliminary' })],
    }),
    alk: 'unconfirmed',
    ros1: 'unknown',
    testing: [],
    reason: /preliminary/i,
  },
  {
    name: 'ALK test ordered, not resulted (registered) → unknown, test still recommended',
    record: snapshot({ biomarkers: [alkFish('positive', { status: 'registered' })] }),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['initial-testing'],
  },
  {
    name: 'ALK NGS no call (insufficient tissue) → unknown, repeat testing',
    record: snapshot({
      biomarkers: [
        result({ gene: 'ALK', method: 'NGS', call: 'no-call' }),
        result({ gene: 'ROS1', method: 'NGS', call: 'no-call' }),
      ],
    }),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['repeat-failed'],
  },
  {
    name: 'biomarker query failed → unknown, could not check (never "negative")',
    record: snapshot({ dataGaps: [gap(['biomarkers'])] }),
    alk: 'unknown',
    ros1: 'unknown',
    testing: ['could-not-check'],
  },
];

describe('clinical spec §1: biomarker status', () => {
  it.each(scenarios)('$name', ({ record, alk, ros1, testing, reason }) => {
    const a = evaluate(record, kb, { now: NOW });
    expect(a.biomarkers.ALK.status).toBe(alk);
    expect(a.biomarkers.ROS1.status).toBe(ros1);
    expect(a.testing.map((t) => t.kind).sort()).toEqual([...testing].sort());
    for (const t of a.testing) expect(t.evidence.length).toBeGreaterThan(0);
    if (reason) expect([...a.biomarkers.ALK.reasons, ...a.biomarkers.ROS1.reasons].join(' ')).toMatch(reason);
  });

  it('explains why an ignored result was set aside', () => {
    const a = evaluate(snapshot({ biomarkers: [alkFish('positive', { status: 'entered-in-error' })] }), kb, {
      now: NOW,
    });
    expect(a.biomarkers.ALK.ignored).toHaveLength(1);
    expect(a.biomarkers.ALK.ignored[0]?.why).toBe('entered in error');
  });

  it('attaches reported resistance mutations (ALK G1202R, L1196M; ROS1 G2032R) to the gene status with their sources', () => {
    const alk = mutationReport('ALK', ['G1202R', 'L1196M']);
    const a = evaluate(snapshot({ biomarkers: [alkFish('positive'), alk] }), kb, { now: NOW });
    expect(a.biomarkers.ALK.resistanceMutations.map((m) => m.mutation).sort()).toEqual(['G1202R', 'L1196M']);
    expect(a.biomarkers.ALK.resistanceMutations[0]?.sources).toEqual(alk.sources);
    const r = evaluate(
      snapshot({ biomarkers: [ros1Fish('positive'), mutationReport('ROS1', ['G2032R'])] }),
      kb,
      { now: NOW },
    );
    expect(r.biomarkers.ROS1.resistanceMutations.map((m) => m.mutation)).toEqual(['G2032R']);
  });

  it('a resistance mutation alone does not make the gene positive', () => {
    const a = evaluate(snapshot({ biomarkers: [mutationReport('ALK', ['G1202R'])] }), kb, { now: NOW });
    expect(a.biomarkers.ALK.status).toBe('unknown');
    expect(a.biomarkers.ALK.reasons.join(' ')).toMatch(/G1202R.*no ALK rearrangement/);
  });

  it('progression on a TKI with no molecular testing since → resistance testing (re-biopsy / plasma NGS)', () => {
    const a = evaluate(
      snapshot({
        biomarkers: [alkFish('positive', { date: daysAgo(900) })],
        therapies: [progressedOn('alectinib', 15)],
      }),
      kb,
      { now: NOW },
    );
    expect(a.testing.map((t) => t.kind)).toEqual(['resistance-testing']);
    expect(a.testing[0]?.evidence).toEqual(
      expect.arrayContaining(['ros1-first-line-qa-2025', 'rotow-miami-2023', 'ros1ders-2022']),
    );
  });

  it('progression on a TKI with NGS at progression → no resistance testing card', () => {
    const a = evaluate(
      snapshot({
        biomarkers: [
          alkFish('positive', { date: daysAgo(900) }),
          mutationReport('ALK', [], 10, { call: 'positive' }),
        ],
        therapies: [progressedOn('alectinib', 15)],
      }),
      kb,
      { now: NOW },
    );
    expect(a.testing).toEqual([]);
  });

  it('testing recommendations are not made for stage I–III disease (outside scope)', () => {
    const early = snapshot();
    if (early.nsclc) early.nsclc = { ...early.nsclc, stage: 'II', metastatic: false };
    expect(evaluate(early, kb, { now: NOW }).testing).toEqual([]);
  });
});
