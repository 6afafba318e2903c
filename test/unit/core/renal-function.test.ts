/**
 * Renal function before crizotinib, brigatinib and lorlatinib: Cockcroft-Gault creatinine clearance
 * from the latest creatinine, age, sex and weight (saying which were used), eGFR, dialysis and severe
 * CKD from the problem list, and the label's dose rule on an abnormal result.
 */
import { describe, expect, it } from 'vitest';
import type { KidneyFinding, Measurement, PatientSnapshot } from '../../../src/core/model.ts';
import { DEFAULT_CONFIG } from '../../../src/core/model.ts';
import { evaluateAgentChecks } from '../../../src/core/rules/pretherapy-checks.ts';
import type { Tki } from '../../../src/knowledge/index.ts';
import { allChecksCurrent, kb, measurement, NOW, snapshot } from './builders.ts';

const tki = (id: string): Tki => {
  const a = kb.agents.get(id);
  if (a?.kind !== 'tki') throw new Error(id);
  return a;
};

const renalOf = (agent: string, s: PatientSnapshot) => {
  const checks = evaluateAgentChecks(kb, tki(agent), 'ALK', s, DEFAULT_CONFIG, NOW);
  const renal = checks.checks.find((c) => c.check === 'renal');
  if (!renal) throw new Error(`no renal check for ${agent}`);
  return renal;
};

/** The baseline with its renal inputs replaced. */
function withRenal(ms: Measurement[], extra: Partial<PatientSnapshot> = {}): PatientSnapshot {
  const replaced = new Set(ms.map((m) => m.analyte));
  return snapshot({
    measurements: [
      ...allChecksCurrent().filter((m) => !replaced.has(m.analyte) && m.analyte !== 'creatinine'),
      ...ms,
    ],
    ...extra,
  });
}

const withoutWeight = (s: PatientSnapshot): PatientSnapshot => ({
  ...s,
  measurements: s.measurements.filter((m) => m.analyte !== 'body-weight'),
});

const dialysis: KidneyFinding = {
  kind: 'dialysis',
  clinicalStatus: 'active',
  display: 'Dependence on renal dialysis',
  sources: ['Condition/dialysis'],
};
const ckd4: KidneyFinding = {
  kind: 'severe-ckd',
  clinicalStatus: 'active',
  display: 'Chronic kidney disease stage 4',
  sources: ['Condition/ckd4'],
};

describe('renal function (Cockcroft-Gault, eGFR, problem list)', () => {
  it('creatinine 3.0 mg/dL, male 64 y, 70 kg → CrCl 25 mL/min: abnormal, with the inputs named and the crizotinib label dose', () => {
    // (140 - 64) × 70 / (72 × 3.0) = 24.6 → 25 mL/min
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 3.0), measurement('body-weight', 70)]),
    );
    expect(renal.state).toBe('abnormal');
    expect(renal.severity).toBe('warning');
    const crcl = renal.readings.find((r) => r.analyte === 'crcl');
    expect(crcl?.measurement?.value).toBe(25);
    expect(crcl?.why).toMatch(
      /Cockcroft-Gault: creatinine 3 mg\/dL on \d{4}-\d{2}-\d{2}, age 64, male, weight 70 kg/,
    );
    expect(crcl?.threshold).toBe('< 30 mL/min');
    expect(renal.doseNotes?.map((n) => [n.agent, n.verified])).toEqual([['crizotinib', true]]);
    expect(renal.doseNotes?.[0]?.text).toMatch(/not requiring dialysis: 250 mg orally once daily/);
  });

  it('a woman of the same age, weight and creatinine gets 0.85 × the estimate (25 → 21 mL/min)', () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 3.0), measurement('body-weight', 70)], {
        patient: { id: 'p1', birthDate: '1962-03-04', sex: 'female', sources: ['Patient/p1'] },
      }),
    );
    expect(renal.readings.find((r) => r.analyte === 'crcl')?.measurement?.value).toBe(21);
  });

  it('the same creatinine with 120 kg → CrCl 42 mL/min: done, no dose note', () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 3.0), measurement('body-weight', 120)]),
    );
    expect(renal.state).toBe('current');
    expect(renal.doseNotes).toBeUndefined();
  });

  it('no weight on file: the clearance is not guessed ("could not check", saying body weight is missing)', () => {
    const renal = renalOf('brigatinib', withoutWeight(withRenal([measurement('creatinine', 1.0)])));
    expect(renal.state).toBe('could-not-check');
    expect(renal.summary).toMatch(/Cockcroft-Gault needs body weight/);
  });

  it('no sex recorded: not guessed either', () => {
    const renal = renalOf(
      'lorlatinib',
      withRenal([measurement('creatinine', 1.0), measurement('body-weight', 70)], {
        patient: { id: 'p1', birthDate: '1962-03-04', sex: 'unknown', sources: ['Patient/p1'] },
      }),
    );
    expect(renal.state).toBe('could-not-check');
    expect(renal.summary).toMatch(/sex \(female or male\)/);
  });

  it('eGFR 22 alone (no creatinine) → abnormal before lorlatinib, whose dose note (eGFR in place of CrCl) is flagged as not yet verified', () => {
    const renal = renalOf('lorlatinib', withRenal([measurement('egfr', 22)]));
    expect(renal.state).toBe('abnormal');
    expect(renal.readings.find((r) => r.analyte === 'egfr')?.why).toMatch(/eGFR 22 mL\/min\/1\.73 m² on /);
    expect(renal.doseNotes?.[0]).toMatchObject({ agent: 'lorlatinib', verified: false });
    expect(renal.doseNotes?.[0]?.text).toMatch(
      /75 mg orally once daily.*\(eGFR used in place of creatinine clearance\)/,
    );
  });

  it('CrCl 11 mL/min is below the band brigatinib and lorlatinib dose (15 to < 30): the card says the label gives no dose there', () => {
    // (140 - 64) × 50 / (72 × 4.8) = 11
    const s = withRenal([measurement('creatinine', 4.8), measurement('body-weight', 50)]);
    for (const agent of ['brigatinib', 'lorlatinib']) {
      const renal = renalOf(agent, s);
      expect(renal.state).toBe('abnormal');
      expect(renal.doseNotes?.map((n) => n.text)).toEqual([
        'Creatinine clearance (Cockcroft-Gault) 11 is outside the range this label doses (15 to < 30): the label gives no dose here; follow the label.',
      ]);
    }
  });

  it('a Cockcroft-Gault CrCl of 91 wins over an eGFR of 25: the check is abnormal (eGFR) but no CrCl dose rule is shown', () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 0.9), measurement('body-weight', 78), measurement('egfr', 25)]),
    );
    expect(renal.state).toBe('abnormal');
    expect(renal.doseNotes).toBeUndefined();
  });

  it("on dialysis, crizotinib's rule for patients not on dialysis is not shown as if it applied", () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 6.1), measurement('body-weight', 70)], { kidney: [dialysis] }),
    );
    expect(renal.doseNotes?.map((n) => n.text)).toEqual([
      'On dialysis: the label rule is written for patients not on dialysis and gives no dose here; follow the label.',
    ]);
  });

  it('a weight more than 90 days from the creatinine is not used, and no creatinine is ordered for a missing weight', () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 1.2), measurement('body-weight', 70, 200)]),
    );
    expect(renal.state).toBe('could-not-check');
    expect(renal.summary).toMatch(
      /a body weight within 90 days of the creatinine \(last \d{4}-\d{2}-\d{2}\)/,
    );
    expect(renal.orders).toEqual([]);
  });

  it('a failed conditions search is said on the renal check (dialysis not known), without hiding a current clearance', () => {
    const renal = renalOf('crizotinib', {
      ...withRenal([measurement('creatinine', 0.9), measurement('body-weight', 78)]),
      dataGaps: [{ domains: ['conditions'], query: 'conditions', reason: 'error', detail: 'HTTP 503' }],
    });
    expect(renal.state).toBe('current');
    expect(renal.summary).toMatch(
      /Problem list could not be read \(HTTP 503\): dialysis or severe kidney disease is not known/,
    );
  });

  it('a normal eGFR makes the check done when the clearance cannot be estimated', () => {
    const renal = renalOf(
      'crizotinib',
      withoutWeight(withRenal([measurement('creatinine', 1.0), measurement('egfr', 78)])),
    );
    expect(renal.state).toBe('current');
  });

  it('no creatinine and no eGFR → missing, with a creatinine order', () => {
    const renal = renalOf('crizotinib', withRenal([]));
    expect(renal.state).toBe('missing');
    expect(renal.orders.map((o) => o.code)).toEqual(['2160-0']);
  });

  it('creatinine 40 days old → out of date, and the EHR-reported clearance (35591-7) wins when newer', () => {
    expect(
      renalOf('crizotinib', withRenal([measurement('creatinine', 1.0, 40), measurement('body-weight', 70)]))
        .state,
    ).toBe('stale');
    const reported = renalOf(
      'crizotinib',
      withRenal([
        measurement('creatinine', 1.0, 40),
        measurement('body-weight', 70),
        measurement('crcl', 22, 3),
      ]),
    );
    expect(reported.state).toBe('abnormal');
    expect(reported.readings.find((r) => r.analyte === 'crcl')?.measurement?.derivedFrom).toBeUndefined();
  });

  it('dialysis on the problem list → abnormal whatever the last clearance, said in words', () => {
    const renal = renalOf(
      'crizotinib',
      withRenal([measurement('creatinine', 0.9), measurement('body-weight', 78)], { kidney: [dialysis] }),
    );
    expect(renal.state).toBe('abnormal');
    expect(renal.summary).toMatch(/On dialysis per the problem list \(Dependence on renal dialysis\)/);
  });

  it('CKD stage 4 on the problem list is a hint shown with the values; a resolved entry is not', () => {
    const s = withRenal([measurement('creatinine', 0.9), measurement('body-weight', 78)], { kidney: [ckd4] });
    const renal = renalOf('crizotinib', s);
    expect(renal.state).toBe('current');
    expect(renal.summary).toMatch(/Problem list: Chronic kidney disease stage 4 \(a hint/);
    const resolved = renalOf('crizotinib', { ...s, kidney: [{ ...ckd4, clinicalStatus: 'resolved' }] });
    expect(resolved.summary).not.toMatch(/Problem list/);
  });

  it('a lorlatinib check never cites the crizotinib or ceritinib QT label sections', () => {
    const checks = evaluateAgentChecks(kb, tki('lorlatinib'), 'ALK', snapshot(), DEFAULT_CONFIG, NOW);
    const cited = checks.checks.flatMap((c) => c.evidence);
    expect(
      cited.filter((id) => kb.evidence.get(id)?.drug && kb.evidence.get(id)?.drug !== 'lorlatinib'),
    ).toEqual([]);
    // The crizotinib check still cites its own label.
    const criz = evaluateAgentChecks(kb, tki('crizotinib'), 'ALK', snapshot(), DEFAULT_CONFIG, NOW);
    expect(criz.checks.flatMap((c) => c.evidence)).toContain('label-crizotinib-qt-bradycardia');
  });

  it('an ALT rise alone (drug liver injury, not impairment) carries no hepatic dose rule', () => {
    const s = snapshot({
      measurements: [...allChecksCurrent().filter((m) => m.analyte !== 'alt'), measurement('alt', 200)],
    });
    const liver = evaluateAgentChecks(kb, tki('crizotinib'), 'ALK', s, DEFAULT_CONFIG, NOW).checks.find(
      (c) => c.check === 'liver',
    );
    expect(liver?.state).toBe('abnormal');
    expect(liver?.doseNotes).toBeUndefined();
  });

  it('hepatic impairment: an abnormal liver panel before alectinib carries the Child-Pugh C dose', () => {
    const s = snapshot({
      measurements: [
        ...allChecksCurrent().filter((m) => m.analyte !== 'bilirubin-total'),
        measurement('bilirubin-total', 4.1),
      ],
    });
    const checks = evaluateAgentChecks(kb, tki('alectinib'), 'ALK', s, DEFAULT_CONFIG, NOW);
    const liver = checks.checks.find((c) => c.check === 'liver');
    expect(liver?.state).toBe('abnormal');
    expect(liver?.doseNotes?.[0]?.text).toMatch(/Child-Pugh C\): 450 mg orally twice daily/);
  });
});
