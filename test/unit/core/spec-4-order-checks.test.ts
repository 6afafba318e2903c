/**
 * Clinical spec §4 (order-time checks): one scenario per row, with the card topic, severity and
 * the alternatives offered.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import type {
  EvaluateConfig,
  OrderFindingCode,
  OrderTopic,
  PatientSnapshot,
  Severity,
} from '../../../src/core/model.ts';
import {
  alkFish,
  allChecksCurrent,
  brainMets,
  daysAgo,
  draft,
  kb,
  line,
  measurement,
  med,
  NOW,
  progressedOn,
  result,
  ros1Fish,
  snapshot,
} from './builders.ts';

interface Expectation {
  topic: OrderTopic;
  code: OrderFindingCode;
  severity: Severity;
  alternatives?: string[];
  message?: RegExp;
}

interface Scenario {
  name: string;
  record: PatientSnapshot;
  drafts: string[];
  expect: Expectation[];
  config?: Partial<EvaluateConfig>;
}

const alk = (s: Partial<PatientSnapshot> = {}) => snapshot({ biomarkers: [alkFish('positive')], ...s });
const ros1 = (s: Partial<PatientSnapshot> = {}) => snapshot({ biomarkers: [ros1Fish('positive')], ...s });

const scenarios: Scenario[] = [
  {
    name: 'lorlatinib drafted with clarithromycin active → warning: 75 mg, and the previous dose 3 to 5 half-lives after the inhibitor stops',
    record: alk({ activeMedications: [med('clarithromycin', 'clarithromycin 500 mg tablet')] }),
    drafts: ['lorlatinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /100 mg to 75 mg.*3 to 5 of its half-lives/,
      },
    ],
  },
  {
    name: 'lorlatinib drafted with efavirenz active → warning: 125 mg and liver tests monitored',
    record: alk({ activeMedications: [med('efavirenz', 'efavirenz 600 mg tablet')] }),
    drafts: ['lorlatinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /125 mg once daily.*monitor liver tests/,
      },
    ],
  },
  {
    name: 'brigatinib drafted for a patient on diltiazem → warning: a moderate CYP3A inhibitor raises brigatinib (dose about 40 % lower), besides the bradycardia warning',
    record: alk({ activeMedications: [med('diltiazem', 'diltiazem 120 mg ER capsule')] }),
    drafts: ['brigatinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /moderate CYP3A inhibitor.*about 40 %/,
      },
      { topic: 'drug-interaction', code: 'interaction', severity: 'warning', message: /causes bradycardia/ },
    ],
  },
  {
    name: 'entrectinib drafted for a patient on efavirenz → warning: a moderate CYP3A inducer lowers entrectinib',
    record: ros1({ activeMedications: [med('efavirenz', 'efavirenz 600 mg tablet')] }),
    drafts: ['entrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /moderate CYP3A inducer lowers the entrectinib level/,
      },
    ],
  },
  {
    name: 'taletrectinib drafted for a patient on omeprazole → warning: acid reducers lower its absorption; antacid spacing',
    record: ros1({ activeMedications: [med('omeprazole', 'omeprazole 20 mg capsule')] }),
    drafts: ['taletrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /acid-reducing agent.*lower taletrectinib absorption.*at least 2 hours/,
      },
    ],
  },
  {
    name: 'taletrectinib drafted with itraconazole active (ROS1+) → warning: a strong CYP3A inhibitor raises its level; avoid',
    record: ros1({ activeMedications: [med('itraconazole', 'itraconazole 100 mg capsule')] }),
    drafts: ['taletrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message:
          /Taletrectinib is a CYP3A substrate: a strong CYP3A inhibitor raises its level .*Avoid the combination/,
      },
    ],
  },
  {
    name: 'taletrectinib drafted with efavirenz active (ROS1+) → warning: a moderate CYP3A inducer lowers its level; avoid',
    record: ros1({ activeMedications: [med('efavirenz', 'Sustiva 600 mg tablet')] }),
    drafts: ['taletrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /A moderate CYP3A inducer lowers the taletrectinib level .*Avoid the combination/,
      },
    ],
  },
  {
    name: 'taletrectinib (QT-prolonging) drafted with escitalopram active (ROS1+) → warning: avoid, or check ECG and electrolytes more often',
    record: ros1({ activeMedications: [med('escitalopram', 'escitalopram 10 mg tablet')] }),
    drafts: ['taletrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message:
          /Taletrectinib prolongs QTc: avoid other QT-prolonging drugs; .*check ECG and electrolytes more often/,
      },
    ],
  },
  {
    name: "famotidine drafted for a patient on taletrectinib → warning from the new drug's side",
    record: ros1({ activeMedications: [med('taletrectinib', 'Ibtrozi 200 mg capsule')], therapies: [] }),
    drafts: ['famotidine'],
    expect: [{ topic: 'drug-interaction', code: 'interaction', severity: 'warning', message: /H2 blockers/ }],
  },
  {
    name: 'crizotinib drafted for a patient on cyclosporine → warning: crizotinib (a CYP3A inhibitor) raises its level',
    record: alk({ activeMedications: [med('cyclosporine', 'Neoral (cyclosporine)')] }),
    drafts: ['crizotinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /moderate CYP3A inhibitor.*level of this drug rises/,
      },
    ],
  },
  {
    name: 'repotrectinib drafted for a patient on tacrolimus → warning: repotrectinib (a CYP3A4 inducer) lowers its level',
    record: ros1({ activeMedications: [med('tacrolimus', 'tacrolimus 1 mg')] }),
    drafts: ['repotrectinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /induces CYP3A4.*level of this drug falls/,
      },
    ],
  },
  {
    name: 'ensartinib drafted after crizotinib → warning: indicated only without a prior ALK inhibitor; preferred agents offered',
    record: alk({ therapies: [progressedOn('crizotinib')] }),
    drafts: ['ensartinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'not-indicated',
        severity: 'warning',
        alternatives: ['alectinib', 'lorlatinib'],
        message: /not received an ALK inhibitor.*Crizotinib/,
      },
    ],
  },
  {
    name: 'alectinib drafted 18 days after pembrolizumab → warning: liver injury and pneumonitis are more frequent after an ICI',
    record: alk({
      therapies: [line('pembrolizumab', { status: 'ended', start: daysAgo(60), end: daysAgo(18) })],
    }),
    drafts: ['alectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'after-immunotherapy',
        severity: 'warning',
        message: /pembrolizumab \(last given 18 day\(s\) ago, within 90 days\).*45\.5% vs 8\.1%/,
      },
    ],
  },
  {
    name: 'crizotinib drafted while an ICI is still active → the same warning, "current"',
    record: alk({ therapies: [line('nivolumab', { status: 'active', start: daysAgo(40) })] }),
    drafts: ['crizotinib'],
    expect: [
      { topic: 'order-concordance', code: 'after-immunotherapy', severity: 'warning', message: /current/ },
    ],
  },
  {
    name: 'a 120-day window from site configuration catches an ICI given 100 days ago',
    record: alk({
      therapies: [line('pembrolizumab', { status: 'ended', start: daysAgo(160), end: daysAgo(100) })],
    }),
    drafts: ['alectinib'],
    config: { immunotherapyToTkiWindowDays: 120 },
    expect: [{ topic: 'order-concordance', code: 'after-immunotherapy', severity: 'warning' }],
  },
  {
    name: 'alectinib drafted for a ROS1+ patient → critical: does not work in ROS1; suggest ROS1 agents',
    record: ros1(),
    drafts: ['alectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'wrong-gene',
        severity: 'critical',
        alternatives: ['crizotinib', 'entrectinib', 'repotrectinib'],
        message: /does not work in ROS1/,
      },
    ],
  },
  {
    name: 'brigatinib drafted for a ROS1+ patient → warning: much less effective',
    record: ros1(),
    drafts: ['brigatinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'less-effective',
        severity: 'warning',
        message: /much less effective/i,
      },
    ],
  },
  {
    name: 'ensartinib drafted for a ROS1+ patient → warning: much less effective',
    record: ros1(),
    drafts: ['ensartinib'],
    expect: [{ topic: 'order-concordance', code: 'less-effective', severity: 'warning' }],
  },
  {
    name: 'crizotinib drafted first line for an ALK+ patient → warning: 2nd/3rd-generation ALK TKIs preferred',
    record: alk(),
    drafts: ['crizotinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'not-preferred',
        severity: 'warning',
        alternatives: ['alectinib', 'brigatinib', 'lorlatinib'],
        message: /preferred/,
      },
    ],
  },
  {
    name: 'crizotinib drafted for an ALK+ patient with brain metastases → warning: poor CNS penetration; CNS-active alternatives',
    record: alk({ cns: [brainMets()] }),
    drafts: ['crizotinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'poor-cns',
        severity: 'warning',
        alternatives: ['alectinib', 'brigatinib', 'lorlatinib'],
        message: /CNS/,
      },
    ],
  },
  {
    name: 'crizotinib drafted for a ROS1+ patient with brain metastases → warning: poor CNS penetration',
    record: ros1({ cns: [brainMets()] }),
    drafts: ['crizotinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'poor-cns',
        severity: 'warning',
        alternatives: ['entrectinib', 'repotrectinib'],
      },
    ],
  },
  {
    name: 'entrectinib drafted for an ALK+ patient → warning: a TKI for the other gene only',
    record: alk(),
    drafts: ['entrectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'wrong-gene',
        severity: 'warning',
        message: /Not an inhibitor of ALK/,
      },
    ],
  },
  {
    name: 'repotrectinib drafted for an ALK+ patient → warning: other gene only',
    record: alk(),
    drafts: ['repotrectinib'],
    expect: [{ topic: 'order-concordance', code: 'wrong-gene', severity: 'warning' }],
  },
  {
    name: 'alectinib drafted again after progression on alectinib → warning: prior progression',
    record: alk({ therapies: [progressedOn('alectinib')] }),
    drafts: ['alectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'prior-progression',
        severity: 'warning',
        alternatives: ['lorlatinib'],
      },
    ],
  },
  {
    name: 'alectinib drafted with no ALK/ROS1 result → warning: no confirmed result',
    record: snapshot(),
    drafts: ['alectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'no-confirmed-biomarker',
        severity: 'warning',
        message: /ALK unknown, ROS1 unknown/,
      },
    ],
  },
  {
    name: 'entrectinib drafted with only a ROS1 IHC screen → warning: no confirmed result',
    record: snapshot({ biomarkers: [result({ gene: 'ROS1', method: 'IHC', call: 'positive' })] }),
    drafts: ['entrectinib'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'no-confirmed-biomarker',
        severity: 'warning',
        message: /ROS1 unconfirmed/,
      },
    ],
  },
  {
    name: 'pembrolizumab drafted for an ALK+ patient → warning: ICI not recommended',
    record: alk(),
    drafts: ['pembrolizumab'],
    expect: [
      {
        topic: 'order-concordance',
        code: 'immunotherapy',
        severity: 'warning',
        alternatives: ['alectinib', 'brigatinib', 'lorlatinib'],
        message: /limited efficacy/,
      },
    ],
  },
  {
    name: 'nivolumab drafted for a ROS1+ patient after TKI progression → warning: avoid immunotherapy',
    record: ros1({ therapies: [progressedOn('crizotinib')] }),
    drafts: ['nivolumab'],
    expect: [{ topic: 'order-concordance', code: 'immunotherapy', severity: 'warning' }],
  },
  {
    name: 'pembrolizumab drafted before ALK/ROS1 results → info: settle biomarkers first',
    record: snapshot(),
    drafts: ['pembrolizumab'],
    expect: [{ topic: 'biomarker-testing', code: 'no-confirmed-biomarker', severity: 'info' }],
  },
  {
    name: 'entrectinib drafted for ROS1+ with a stale echo and no uric acid → pretherapy card, one order per check',
    record: ros1({
      measurements: [
        ...allChecksCurrent().filter((m) => !['lvef', 'uric-acid'].includes(m.analyte)),
        measurement('lvef', 60, 200),
      ],
    }),
    drafts: ['entrectinib'],
    expect: [
      {
        topic: 'pretherapy-checks',
        code: 'pretherapy-check',
        severity: 'info',
        message: /LVEF.*out of date|LVEF.*stale/,
      },
    ],
  },
  {
    name: 'crizotinib drafted for ROS1+ with QTc 512 ms → critical pretherapy card (QT-prolonging TKI)',
    record: ros1({
      measurements: [...allChecksCurrent().filter((m) => m.analyte !== 'qtc'), measurement('qtc', 512)],
    }),
    drafts: ['crizotinib'],
    expect: [{ topic: 'pretherapy-checks', code: 'pretherapy-check', severity: 'critical' }],
  },
  {
    name: 'lorlatinib drafted with rifampin active → critical: contraindicated with strong CYP3A inducers',
    record: alk({ activeMedications: [med('rifampin', 'rifampin 600 mg capsule')] }),
    drafts: ['lorlatinib'],
    expect: [
      { topic: 'drug-interaction', code: 'interaction', severity: 'critical', message: /Contraindicated/ },
    ],
  },
  {
    name: 'alectinib is unaffected by carbamazepine per its label, but brigatinib drafted with carbamazepine → warning',
    record: alk({ activeMedications: [med('carbamazepine')] }),
    drafts: ['brigatinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /strong CYP3A inducer/,
      },
    ],
  },
  {
    name: 'crizotinib drafted with itraconazole active (ROS1+) → warning: strong CYP3A inhibitor',
    record: ros1({ activeMedications: [med('itraconazole')] }),
    drafts: ['crizotinib'],
    expect: [
      {
        topic: 'drug-interaction',
        code: 'interaction',
        severity: 'warning',
        message: /strong CYP3A inhibitor/,
      },
    ],
  },
  {
    name: 'repotrectinib drafted with clarithromycin active (ROS1+) → warning (avoid strong CYP3A inhibitors)',
    record: ros1({ activeMedications: [med('clarithromycin')] }),
    drafts: ['repotrectinib'],
    expect: [{ topic: 'drug-interaction', code: 'interaction', severity: 'warning' }],
  },
  {
    name: 'entrectinib (QT-prolonging) drafted with ondansetron active → warning: QT-prolonging combination',
    record: ros1({ activeMedications: [med('ondansetron')] }),
    drafts: ['entrectinib'],
    expect: [{ topic: 'drug-interaction', code: 'interaction', severity: 'warning', message: /QT/ }],
  },
  {
    name: "rifampin drafted for a patient on lorlatinib → critical interaction from the new drug's side",
    record: alk({ activeMedications: [med('lorlatinib', 'lorlatinib 100 mg tablet')], therapies: [] }),
    drafts: ['rifampin'],
    expect: [{ topic: 'drug-interaction', code: 'interaction', severity: 'critical' }],
  },
];

describe('clinical spec §4: order-time checks', () => {
  it.each(scenarios)('$name', ({ record, drafts, expect: expected, config }) => {
    const orders = drafts.map((d) => draft(d));
    const a = evaluate(record, kb, { now: NOW, draftOrders: orders, ...(config ? { config } : {}) });
    for (const e of expected) {
      const hit = a.orderFindings.find(
        (f) =>
          f.topic === e.topic &&
          f.code === e.code &&
          f.severity === e.severity &&
          (!e.message || e.message.test(f.message)),
      );
      expect(
        hit,
        `${e.topic}/${e.code}/${e.severity} ${e.message ?? ''} in ${JSON.stringify(a.orderFindings.map((f) => [f.topic, f.code, f.severity, f.message]))}`,
      ).toBeDefined();
      if (!hit) continue;
      expect(orders.map((o) => o.ref)).toContain(hit.draft);
      expect(hit.evidence.length).toBeGreaterThan(0);
      if (e.alternatives) expect(hit.alternatives).toEqual(e.alternatives);
      if (e.message) expect(hit.message).toMatch(e.message);
    }
  });

  it('no ICI warning past the window, and no prior-inhibitor warning for ensartinib in an ALK-inhibitor-naive patient', () => {
    const past = evaluate(
      alk({ therapies: [line('pembrolizumab', { status: 'ended', start: daysAgo(200), end: daysAgo(91) })] }),
      kb,
      { now: NOW, draftOrders: [draft('alectinib')] },
    );
    expect(past.orderFindings.map((f) => f.code)).not.toContain('after-immunotherapy');
    const naive = evaluate(alk(), kb, { now: NOW, draftOrders: [draft('ensartinib')] });
    expect(naive.orderFindings.map((f) => f.code)).not.toContain('not-indicated');
    // A prior ROS1-only TKI is not a prior ALK inhibitor.
    const otherGene = evaluate(alk({ therapies: [progressedOn('entrectinib')] }), kb, {
      now: NOW,
      draftOrders: [draft('ensartinib')],
    });
    expect(otherGene.orderFindings.map((f) => f.code)).not.toContain('not-indicated');
  });

  it('an acid reducer matters only to taletrectinib: entrectinib drafted with omeprazole raises no interaction', () => {
    const a = evaluate(ros1({ activeMedications: [med('omeprazole', 'omeprazole 20 mg capsule')] }), kb, {
      now: NOW,
      draftOrders: [draft('entrectinib')],
    });
    expect(a.orderFindings.map((f) => f.topic)).not.toContain('drug-interaction');
  });

  it('a preferred TKI with every check current raises no card at all', () => {
    const a = evaluate(alk(), kb, { now: NOW, draftOrders: [draft('alectinib')] });
    expect(a.orderFindings).toEqual([]);
  });

  it('the pretherapy finding lists one order per missing check', () => {
    const record = ros1({
      measurements: allChecksCurrent().filter((m) => !['lvef', 'uric-acid'].includes(m.analyte)),
    });
    const a = evaluate(record, kb, { now: NOW, draftOrders: [draft('entrectinib')] });
    const f = a.orderFindings.find((x) => x.topic === 'pretherapy-checks');
    expect(f?.checks?.map((c) => [c.check, c.state, c.orders.map((o) => o.code)])).toEqual([
      ['lvef', 'missing', ['40701008']],
      ['uric-acid', 'missing', ['3084-1']],
    ]);
  });

  it('alectinib with strong CYP3A inducers raises no interaction (no such label action), but bradycardic drugs do', () => {
    const a = evaluate(alk({ activeMedications: [med('rifampin'), med('metoprolol')] }), kb, {
      now: NOW,
      draftOrders: [draft('alectinib')],
    });
    const ix = a.orderFindings.filter((f) => f.topic === 'drug-interaction');
    expect(ix.map((f) => f.interaction?.interactionClass)).toEqual(['bradycardic']);
  });

  it('two drafts in one order-sign (crizotinib + voriconazole) are checked against each other once', () => {
    const a = evaluate(ros1(), kb, { now: NOW, draftOrders: [draft('crizotinib'), draft('voriconazole')] });
    const ix = a.orderFindings.filter((f) => f.topic === 'drug-interaction');
    expect(ix.map((f) => f.interaction?.interactionClass).sort()).toEqual([
      'qt-prolonging',
      'strong-cyp3a-inhibitor',
    ]);
  });

  it('an unrecognised drug draws no card', () => {
    const a = evaluate(alk(), kb, { now: NOW, draftOrders: [draft(null, 'acetaminophen 500 mg')] });
    expect(a.orderFindings).toEqual([]);
  });

  it('candidate agents list interactions with current medications for the app', () => {
    const a = evaluate(alk({ activeMedications: [med('rifampin')] }), kb, { now: NOW });
    const lorlatinib = a.interactions.find((i) => i.agent === 'lorlatinib');
    expect(lorlatinib?.severity).toBe('critical');
    expect(lorlatinib?.with.drug).toBe('rifampin');
  });
});
