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

  it('eGFR 13 alone (no creatinine) → abnormal before lorlatinib, whose dose note is flagged as not yet verified', () => {
    const renal = renalOf('lorlatinib', withRenal([measurement('egfr', 13)]));
    expect(renal.state).toBe('abnormal');
    expect(renal.readings.find((r) => r.analyte === 'egfr')?.why).toMatch(/eGFR 13 mL\/min\/1\.73 m² on /);
    expect(renal.doseNotes?.[0]).toMatchObject({ agent: 'lorlatinib', verified: false });
    expect(renal.doseNotes?.[0]?.text).toMatch(/75 mg orally once daily/);
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
