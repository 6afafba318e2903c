/**
 * Clinical spec §2 (systemic therapy): every row of the ALK and ROS1 tables, the formulary rule
 * and local-therapy information, as scenarios named by situation and expected outcome.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import {
  type AvoidReason,
  DEFAULT_CONFIG,
  type EvaluateConfig,
  type PatientSnapshot,
  type TherapyLine,
} from '../../../src/core/model.ts';
import { summariseTherapy } from '../../../src/core/rules/therapy-history.ts';
import {
  alkFish,
  brainMets,
  daysAgo,
  kb,
  line,
  mutationReport,
  NOW,
  progressedOn,
  ros1Fish,
  snapshot,
} from './builders.ts';

interface Scenario {
  name: string;
  record: PatientSnapshot;
  config?: Partial<EvaluateConfig>;
  rule: string;
  preferred: string[];
  other: string[];
  avoid?: [string, AvoidReason][];
  note?: RegExp;
}

const alk = (s: Partial<PatientSnapshot> = {}) => snapshot({ biomarkers: [alkFish('positive')], ...s });
const ros1 = (s: Partial<PatientSnapshot> = {}) => snapshot({ biomarkers: [ros1Fish('positive')], ...s });

const scenarios: Scenario[] = [
  // ALK-positive table
  {
    name: 'ALK+ first line, no CNS disease → alectinib, brigatinib, lorlatinib preferred; ensartinib, crizotinib, ceritinib other; ICI avoided',
    record: alk(),
    rule: 'alk-first-line',
    preferred: ['alectinib', 'brigatinib', 'lorlatinib'],
    other: ['ensartinib', 'crizotinib', 'ceritinib'],
    avoid: [
      ['pembrolizumab', 'immunotherapy'],
      ['nivolumab', 'immunotherapy'],
      ['entrectinib', 'wrong-gene'],
      ['repotrectinib', 'wrong-gene'],
    ],
  },
  {
    name: 'ALK+ first line with brain metastases → alectinib, brigatinib, lorlatinib preferred (lorlatinib: highest intracranial activity); ensartinib other; crizotinib avoided (poor CNS penetration)',
    record: alk({ cns: [brainMets()] }),
    rule: 'alk-first-line-cns',
    preferred: ['alectinib', 'brigatinib', 'lorlatinib'],
    other: ['ensartinib'],
    avoid: [['crizotinib', 'poor-cns']],
    note: /Highest intracranial activity/,
  },
  {
    name: 'ALK+ first line with leptomeningeal disease → CNS row',
    record: alk({ cns: [brainMets({ site: 'leptomeningeal', display: 'Leptomeningeal metastases' })] }),
    rule: 'alk-first-line-cns',
    preferred: ['alectinib', 'brigatinib', 'lorlatinib'],
    other: ['ensartinib'],
    avoid: [['crizotinib', 'poor-cns']],
  },
  {
    name: 'ALK+ after progression on crizotinib → alectinib, lorlatinib preferred; brigatinib, ceritinib other; crizotinib not again',
    record: alk({ therapies: [progressedOn('crizotinib')] }),
    rule: 'alk-after-crizotinib',
    preferred: ['alectinib', 'lorlatinib'],
    other: ['brigatinib', 'ceritinib'],
    avoid: [['crizotinib', 'prior-progression']],
  },
  {
    name: 'ALK+ after progression on alectinib → lorlatinib preferred; brigatinib other (after alectinib); crizotinib avoided',
    record: alk({ therapies: [progressedOn('alectinib')] }),
    rule: 'alk-after-second-generation',
    preferred: ['lorlatinib'],
    other: ['brigatinib'],
    avoid: [
      ['crizotinib', 'resistance'],
      ['alectinib', 'prior-progression'],
    ],
  },
  {
    name: 'ALK+ after progression on brigatinib → lorlatinib preferred; brigatinib not offered again',
    record: alk({ therapies: [progressedOn('brigatinib')] }),
    rule: 'alk-after-second-generation',
    preferred: ['lorlatinib'],
    other: [],
    avoid: [
      ['brigatinib', 'prior-progression'],
      ['crizotinib', 'resistance'],
    ],
  },
  {
    name: 'ALK+ after progression on ensartinib → lorlatinib preferred',
    record: alk({ therapies: [progressedOn('ensartinib')] }),
    rule: 'alk-after-second-generation',
    preferred: ['lorlatinib'],
    other: [],
  },
  {
    name: 'ALK+ with G1202R after alectinib → lorlatinib only; all others resistant',
    record: alk({
      biomarkers: [alkFish('positive', { date: daysAgo(700) }), mutationReport('ALK', ['G1202R'])],
      therapies: [progressedOn('alectinib')],
    }),
    rule: 'alk-g1202r',
    preferred: ['lorlatinib'],
    other: [],
    avoid: [
      ['alectinib', 'resistance'],
      ['brigatinib', 'resistance'],
      ['ceritinib', 'resistance'],
      ['crizotinib', 'resistance'],
      ['ensartinib', 'resistance'],
    ],
  },
  {
    name: 'ALK+ with compound L1196M + G1202R → no standard TKI: clinical trial, platinum + pemetrexed',
    record: alk({
      biomarkers: [alkFish('positive', { date: daysAgo(900) }), mutationReport('ALK', ['L1196M', 'G1202R'])],
      therapies: [progressedOn('crizotinib', 400), progressedOn('lorlatinib')],
    }),
    rule: 'alk-compound-l1196m-g1202r',
    preferred: ['clinical-trial', 'platinum-pemetrexed'],
    other: [],
    avoid: [['lorlatinib', 'resistance']],
  },
  {
    name: 'ALK+ after progression on lorlatinib → no standard TKI: clinical trial, platinum + pemetrexed',
    record: alk({ therapies: [progressedOn('alectinib', 500), progressedOn('lorlatinib')] }),
    rule: 'alk-after-lorlatinib',
    preferred: ['clinical-trial', 'platinum-pemetrexed'],
    other: [],
    avoid: [
      ['lorlatinib', 'prior-progression'],
      ['alectinib', 'prior-progression'],
    ],
  },
  // ROS1-positive table
  {
    name: 'ROS1+ first line, no CNS disease → crizotinib, entrectinib, repotrectinib preferred; taletrectinib, ceritinib, lorlatinib other; alectinib never',
    record: ros1(),
    rule: 'ros1-first-line',
    preferred: ['crizotinib', 'entrectinib', 'repotrectinib'],
    other: ['taletrectinib', 'ceritinib', 'lorlatinib'],
    avoid: [
      ['alectinib', 'wrong-gene'],
      ['brigatinib', 'less-effective'],
      ['ensartinib', 'less-effective'],
      ['pembrolizumab', 'immunotherapy'],
    ],
  },
  {
    name: 'ROS1+ first line with brain metastases → entrectinib, repotrectinib preferred; lorlatinib other; crizotinib and alectinib avoided',
    record: ros1({ cns: [brainMets()] }),
    rule: 'ros1-first-line-cns',
    preferred: ['entrectinib', 'repotrectinib'],
    other: ['lorlatinib', 'taletrectinib'],
    avoid: [
      ['crizotinib', 'poor-cns'],
      ['alectinib', 'wrong-gene'],
    ],
  },
  {
    name: 'ROS1+ after progression on crizotinib → repotrectinib, taletrectinib preferred (both labelled after a ROS1 TKI); lorlatinib (not with G2032R), entrectinib other; alectinib and crizotinib avoided',
    record: ros1({ therapies: [progressedOn('crizotinib')] }),
    rule: 'ros1-after-crizotinib-or-ceritinib',
    preferred: ['repotrectinib', 'taletrectinib'],
    other: ['lorlatinib', 'entrectinib'],
    note: /Not with G2032R/,
    avoid: [
      ['alectinib', 'wrong-gene'],
      ['crizotinib', 'prior-progression'],
    ],
  },
  {
    name: 'ROS1+ after progression on ceritinib → repotrectinib, taletrectinib preferred',
    record: ros1({ therapies: [progressedOn('ceritinib')] }),
    rule: 'ros1-after-crizotinib-or-ceritinib',
    preferred: ['repotrectinib', 'taletrectinib'],
    other: ['lorlatinib', 'entrectinib'],
    avoid: [['ceritinib', 'prior-progression']],
  },
  {
    name: 'ROS1+ after progression on entrectinib → repotrectinib, taletrectinib (not given yet) preferred; lorlatinib, chemotherapy, clinical trial other',
    record: ros1({ therapies: [progressedOn('entrectinib')] }),
    rule: 'ros1-after-entrectinib-or-repotrectinib',
    preferred: ['repotrectinib', 'taletrectinib'],
    other: ['lorlatinib', 'platinum-pemetrexed', 'clinical-trial'],
    avoid: [
      ['entrectinib', 'prior-progression'],
      ['alectinib', 'wrong-gene'],
    ],
  },
  {
    name: 'ROS1+ after progression on repotrectinib → taletrectinib preferred; lorlatinib, chemotherapy, clinical trial other; repotrectinib not again',
    record: ros1({ therapies: [progressedOn('repotrectinib')] }),
    rule: 'ros1-after-entrectinib-or-repotrectinib',
    preferred: ['taletrectinib'],
    other: ['lorlatinib', 'platinum-pemetrexed', 'clinical-trial'],
    avoid: [['repotrectinib', 'prior-progression']],
  },
  {
    name: 'ROS1+ with G2032R after crizotinib → repotrectinib, taletrectinib preferred; every TKI without G2032R activity avoided',
    record: ros1({
      biomarkers: [ros1Fish('positive', { date: daysAgo(700) }), mutationReport('ROS1', ['G2032R'])],
      therapies: [progressedOn('crizotinib')],
    }),
    rule: 'ros1-g2032r',
    preferred: ['repotrectinib', 'taletrectinib'],
    other: [],
    avoid: [
      ['crizotinib', 'resistance'],
      ['entrectinib', 'resistance'],
      ['lorlatinib', 'resistance'],
      ['ceritinib', 'resistance'],
      ['brigatinib', 'resistance'],
      ['ensartinib', 'resistance'],
      ['alectinib', 'wrong-gene'],
    ],
  },
  {
    name: 'ROS1+ with targeted options exhausted → platinum + pemetrexed and clinical trial; immunotherapy still avoided',
    record: ros1({
      therapies: [
        progressedOn('crizotinib', 900),
        progressedOn('repotrectinib', 400),
        progressedOn('taletrectinib', 150),
        progressedOn('lorlatinib', 20),
      ],
    }),
    rule: 'ros1-targeted-options-exhausted',
    preferred: ['platinum-pemetrexed', 'clinical-trial'],
    other: [],
    avoid: [
      ['pembrolizumab', 'immunotherapy'],
      ['lorlatinib', 'prior-progression'],
    ],
    note: /No targeted option/,
  },
  // Formulary
  {
    name: 'ROS1+ first line, repotrectinib unavailable → crizotinib and entrectinib preferred; the card says why',
    record: ros1(),
    config: { formularyUnavailable: ['repotrectinib'] },
    rule: 'ros1-first-line',
    preferred: ['crizotinib', 'entrectinib'],
    other: ['taletrectinib', 'ceritinib', 'lorlatinib'],
    note: /Repotrectinib \(Augtyro\) is not available at this site/,
  },
  {
    name: 'ROS1+ brain metastases, entrectinib and repotrectinib unavailable → lorlatinib moves up, and the card says why',
    record: ros1({ cns: [brainMets()] }),
    config: { formularyUnavailable: ['entrectinib', 'REPOTRECTINIB '] },
    rule: 'ros1-first-line-cns',
    preferred: ['lorlatinib'],
    other: ['taletrectinib'],
    note: /Lorlatinib \(Lorbrena\) moved up because Entrectinib \(Rozlytrek\), Repotrectinib \(Augtyro\) are not available/,
  },
  {
    name: 'ALK+ first line, alectinib, brigatinib and lorlatinib unavailable → ensartinib moves up; crizotinib, ceritinib remain other',
    record: alk(),
    config: { formularyUnavailable: ['alectinib', 'brigatinib', 'lorlatinib'] },
    rule: 'alk-first-line',
    preferred: ['ensartinib'],
    other: ['crizotinib', 'ceritinib'],
    note: /moved up/,
  },
  // History details
  {
    name: 'ALK+ with crizotinib ended and no reason recorded → treated as progression, and said so',
    record: alk({ therapies: [line('crizotinib', { status: 'ended', end: daysAgo(30) })] }),
    rule: 'alk-after-crizotinib',
    preferred: ['alectinib', 'lorlatinib'],
    other: ['brigatinib', 'ceritinib'],
    avoid: [['crizotinib', 'prior-progression']],
  },
  {
    name: 'ALK+ with alectinib stopped for toxicity (no progression) → still first line; alectinib annotated',
    record: alk({
      therapies: [line('alectinib', { status: 'ended', end: daysAgo(30), endReason: 'toxicity' })],
    }),
    rule: 'alk-first-line',
    preferred: ['alectinib', 'brigatinib', 'lorlatinib'],
    other: ['ensartinib', 'crizotinib', 'ceritinib'],
  },
  {
    name: 'ALK+ on alectinib with oligoprogression (continuing) → not a failed line; first-line row, currently receiving alectinib',
    record: alk({
      therapies: [line('alectinib', { progressionDate: daysAgo(10), progressionPattern: 'oligo' })],
    }),
    rule: 'alk-first-line',
    preferred: ['alectinib', 'brigatinib', 'lorlatinib'],
    other: ['ensartinib', 'crizotinib', 'ceritinib'],
    note: /Currently receiving Alectinib/,
  },
];

describe('clinical spec §2: therapy options', () => {
  it.each(scenarios)('$name', ({ record, config, rule, preferred, other, avoid, note }) => {
    const a = evaluate(record, kb, { now: NOW, ...(config ? { config } : {}) });
    const rec = a.recommendation;
    expect(rec).not.toBeNull();
    if (!rec) return;
    expect(rec.situation.rule).toBe(rule);
    expect(rec.preferred.map((o) => o.id)).toEqual(preferred);
    expect(rec.other.map((o) => o.id)).toEqual(other);
    for (const [id, reason] of avoid ?? []) {
      expect(
        rec.avoid.some((x) => x.id === id && x.reason === reason),
        `${id} avoided for ${reason}`,
      ).toBe(true);
    }
    // Nothing is both offered and avoided; every entry carries its source.
    const offered = [...rec.preferred, ...rec.other].map((o) => o.id);
    for (const x of rec.avoid) expect(offered).not.toContain(x.id);
    for (const o of [...rec.preferred, ...rec.other]) {
      expect(o.evidence.length, `${o.id} evidence`).toBeGreaterThan(0);
      for (const e of o.evidence) expect(kb.evidence.has(e), e).toBe(true);
    }
    for (const x of rec.avoid) expect(x.evidence.length, `${x.id} evidence`).toBeGreaterThan(0);
    if (note)
      expect([...rec.notes, ...[...rec.preferred, ...rec.other].flatMap((o) => o.notes)].join(' ')).toMatch(
        note,
      );
  });

  it('presumed progression is stated as an ambiguity notice', () => {
    const a = evaluate(alk({ therapies: [line('crizotinib', { status: 'ended', end: daysAgo(30) })] }), kb, {
      now: NOW,
    });
    expect(a.notices.some((n) => /no reason recorded: treated as progression/.test(n.message))).toBe(true);
    expect(a.recommendation?.avoid.find((x) => x.id === 'crizotinib')?.why).toMatch(/presumed/);
  });

  it('a patient stopped for toxicity has the agent annotated', () => {
    const a = evaluate(
      alk({ therapies: [line('alectinib', { status: 'ended', end: daysAgo(30), endReason: 'toxicity' })] }),
      kb,
      { now: NOW },
    );
    expect(a.recommendation?.preferred.find((o) => o.id === 'alectinib')?.notes.join(' ')).toMatch(
      /toxicity/,
    );
  });

  it('counts the line of therapy from progression events (a combination line counts once)', () => {
    const a = evaluate(
      alk({
        therapies: [
          line('carboplatin', {
            status: 'ended',
            start: daysAgo(900),
            end: daysAgo(800),
            endReason: 'progression',
          }),
          line('pemetrexed', {
            status: 'ended',
            start: daysAgo(900),
            end: daysAgo(795),
            endReason: 'progression',
          }),
          progressedOn('crizotinib', 100),
          line('alectinib', { start: daysAgo(90) }),
        ],
      }),
      kb,
      { now: NOW },
    );
    expect(a.therapy.lineNumber).toBe(3);
    expect(a.therapy.current?.agent).toBe('alectinib');
    expect(a.therapy.tkiNaive).toBe(false);
  });
});

describe('clinical spec §2: local therapy (information, never an order)', () => {
  it('oligometastatic disease → consider local ablative therapy (SBRT, surgery)', () => {
    const a = evaluate(alk({ oligometastatic: 'yes' }), kb, { now: NOW });
    expect(a.localTherapy.map((l) => l.kind)).toEqual(['oligometastatic']);
    expect(a.localTherapy[0]?.message).toMatch(/SBRT/);
    expect(a.localTherapy[0]?.evidence).toContain('aslan-ch11-5.3');
  });

  it('brain metastases → SRS / WBRT / surgery information; radiation may be deferred with a CNS-active TKI', () => {
    const a = evaluate(ros1({ cns: [brainMets()] }), kb, { now: NOW });
    expect(a.localTherapy.map((l) => l.kind)).toEqual(['cns-lesions']);
    expect(a.localTherapy[0]?.message).toMatch(/SRS.*WBRT.*deferred/);
  });

  it('oligoprogression on a TKI → local therapy and continue the TKI', () => {
    const a = evaluate(
      alk({ therapies: [line('alectinib', { progressionDate: daysAgo(10), progressionPattern: 'oligo' })] }),
      kb,
      { now: NOW },
    );
    expect(a.localTherapy.map((l) => l.kind)).toEqual(['oligoprogression']);
    expect(a.localTherapy[0]?.message).toMatch(/continue the TKI/);
  });

  it('no local-therapy information without NSCLC or a driver', () => {
    const a = evaluate(snapshot({ nsclc: undefined, oligometastatic: 'yes' }), kb, { now: NOW });
    expect(a.localTherapy).toEqual([]);
  });
});

describe('clinical spec §2: lines of therapy are regimens (drugs started together), not drugs', () => {
  const chemoIo = (startDays: number, extra: { end?: number; endReason?: 'progression' } = {}) =>
    ['carboplatin', 'pemetrexed', 'pembrolizumab'].map((agent) =>
      line(agent, {
        start: daysAgo(startDays),
        ...(extra.end !== undefined
          ? {
              status: 'ended' as const,
              end: daysAgo(extra.end),
              ...(extra.endReason ? { endReason: extra.endReason } : {}),
            }
          : {}),
      }),
    );

  it('carboplatin + pemetrexed + pembrolizumab started the same day → one line (line 1), not three', () => {
    const a = evaluate(alk({ therapies: chemoIo(60) }), kb, { now: NOW });
    expect(a.therapy.regimens.map((r) => [r.number, r.displays])).toEqual([
      [1, ['carboplatin', 'pemetrexed', 'pembrolizumab']],
    ]);
    expect(a.therapy.regimens[0]?.status).toBe('active');
    expect(a.therapy.regimens[0]?.maintenance).toBeUndefined();
    expect(a.therapy.lineNumber).toBe(1);
    expect(a.therapy.currentRegimen?.number).toBe(1);
    // Per-agent records are kept for what reads them per drug.
    expect(a.therapy.lines.map((l) => l.agent)).toEqual(['carboplatin', 'pemetrexed', 'pembrolizumab']);
  });

  it('carboplatin stopped after 4 cycles (no reason recorded) while pemetrexed + pembrolizumab continue → still line 1, on maintenance, no progression', () => {
    const [carboplatin, pemetrexed, pembrolizumab] = chemoIo(150);
    const a = evaluate(
      alk({
        therapies: [
          { ...(carboplatin as TherapyLine), status: 'ended', end: daysAgo(87) },
          pemetrexed as TherapyLine,
          pembrolizumab as TherapyLine,
        ],
      }),
      kb,
      { now: NOW },
    );
    expect(a.therapy.regimens).toHaveLength(1);
    const r = a.therapy.regimens[0];
    expect(r?.number).toBe(1);
    expect(r?.status).toBe('active');
    expect(r?.end).toBeUndefined();
    expect(r?.maintenance).toEqual({ since: daysAgo(87), displays: ['pemetrexed', 'pembrolizumab'] });
    expect(r?.progressed).toBe(false);
    expect(a.therapy.lineNumber).toBe(1);
    expect(a.therapy.tkiNaive).toBe(true);
    expect(a.therapy.progressedOn).toEqual([]);
    expect(a.therapy.presumedProgression).toEqual([]);
    expect(a.notices.some((n) => /carboplatin.*treated as progression/.test(n.message))).toBe(false);
    expect(a.notices.some((n) => /carboplatin stopped .*read as maintenance/.test(n.message))).toBe(true);
    expect(a.recommendation?.avoid.some((x) => x.id === 'carboplatin')).toBe(false);
  });

  it('chemo-immunotherapy progressed, then alectinib started → alectinib is line 2 (the combination counts once)', () => {
    const a = evaluate(
      alk({
        therapies: [
          ...chemoIo(400, { end: 100, endReason: 'progression' }),
          line('alectinib', { start: daysAgo(90) }),
        ],
      }),
      kb,
      { now: NOW },
    );
    expect(a.therapy.regimens.map((r) => [r.number, r.agents, r.progressed])).toEqual([
      [1, ['carboplatin', 'pemetrexed', 'pembrolizumab'], true],
      [2, ['alectinib'], false],
    ]);
    expect(a.therapy.lineNumber).toBe(2);
    expect(a.therapy.currentRegimen?.agents).toEqual(['alectinib']);
    expect(a.therapy.tkiNaive).toBe(true);
  });

  it('two TKIs in sequence, each ended in progression → lines 1 and 2; line 3 next', () => {
    const { summary } = summariseTherapy([
      line('crizotinib', {
        start: daysAgo(700),
        status: 'ended',
        end: daysAgo(400),
        endReason: 'progression',
      }),
      line('alectinib', { start: daysAgo(395), status: 'ended', end: daysAgo(20), endReason: 'progression' }),
    ]);
    expect(summary.regimens.map((r) => [r.number, r.agents])).toEqual([
      [1, ['crizotinib']],
      [2, ['alectinib']],
    ]);
    expect(summary.lineNumber).toBe(3);
    expect(summary.tkiNaive).toBe(false);
  });

  it('a TKI after chemo-immunotherapy progression is line 2, the TKI after that line 3', () => {
    const { summary } = summariseTherapy([
      ...chemoIo(900, { end: 700, endReason: 'progression' }),
      line('crizotinib', {
        start: daysAgo(690),
        status: 'ended',
        end: daysAgo(200),
        endReason: 'progression',
      }),
      line('lorlatinib', { start: daysAgo(190) }),
    ]);
    expect(summary.regimens.map((r) => [r.number, r.displays.join(' + ')])).toEqual([
      [1, 'carboplatin + pemetrexed + pembrolizumab'],
      [2, 'crizotinib'],
      [3, 'lorlatinib'],
    ]);
    expect(summary.lineNumber).toBe(3);
    expect(summary.currentRegimen?.number).toBe(3);
  });

  it('a TKI switched for toxicity within days is a regimen of its own, not a combination, and keeps the line number', () => {
    const { summary } = summariseTherapy([
      line('crizotinib', { start: daysAgo(200), status: 'ended', end: daysAgo(190), endReason: 'toxicity' }),
      line('alectinib', { start: daysAgo(188) }),
    ]);
    expect(summary.regimens.map((r) => [r.number, r.agents])).toEqual([
      [1, ['crizotinib']],
      [1, ['alectinib']],
    ]);
    expect(summary.lineNumber).toBe(1);
  });

  describe('pembrolizumab started 20 days after carboplatin + pemetrexed, all ended in progression', () => {
    const lines = [
      line('carboplatin', {
        start: daysAgo(300),
        status: 'ended',
        end: daysAgo(100),
        endReason: 'progression',
      }),
      line('pemetrexed', {
        start: daysAgo(300),
        status: 'ended',
        end: daysAgo(100),
        endReason: 'progression',
      }),
      line('pembrolizumab', {
        start: daysAgo(280),
        status: 'ended',
        end: daysAgo(100),
        endReason: 'progression',
      }),
    ];

    it('with the default window (14 days) → two lines; line 3 next', () => {
      expect(DEFAULT_CONFIG.regimenStartWindowDays).toBe(14);
      const { summary } = summariseTherapy(lines, [], { regimenStartWindowDays: 14 });
      expect(summary.regimens.map((r) => [r.number, r.agents])).toEqual([
        [1, ['carboplatin', 'pemetrexed']],
        [2, ['pembrolizumab']],
      ]);
      expect(summary.lineNumber).toBe(3);
      expect(summariseTherapy(lines).summary.regimens).toHaveLength(2);
    });

    it('with a 30-day window → one line; line 2 next', () => {
      const { summary } = summariseTherapy(lines, [], { regimenStartWindowDays: 30 });
      expect(summary.regimens.map((r) => [r.number, r.agents])).toEqual([
        [1, ['carboplatin', 'pemetrexed', 'pembrolizumab']],
      ]);
      expect(summary.lineNumber).toBe(2);
    });

    it('a site window given to evaluate() reaches the line count (30 days → line 2 next)', () => {
      const s = snapshot({ therapies: lines });
      expect(evaluate(s, kb, { now: NOW }).therapy.lineNumber).toBe(3);
      expect(evaluate(s, kb, { now: NOW, config: { regimenStartWindowDays: 30 } }).therapy.lineNumber).toBe(
        2,
      );
    });
  });
});
