import { describe, expect, it } from 'vitest';
import { interpretationOf } from '../../../src/fhir/extract-measurements.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { normaliseQuantity, toUcum } from '../../../src/fhir/units.ts';
import { hl7 } from './helpers.ts';
import { testKnowledge } from './kb.ts';

const knowledge = testKnowledge();
const snap = (resources: unknown[]) => toSnapshot(resources, [], { knowledge });
const analyte = (id: string) => {
  const a = knowledge.analytes.get(id);
  if (!a) throw new Error(id);
  return a;
};

describe('US Core 6.1 examples', () => {
  it.each([
    ['uscore6-observation-serum-potassium', 'potassium', 5.4, 'mmol/L', { low: 3.5, high: 5.5 }],
    ['uscore6-observation-serum-calcium', 'calcium', undefined, 'mg/dL', undefined],
    ['uscore6-observation-serum-glucose', 'glucose', undefined, 'mg/dL', undefined],
    ['uscore6-observation-serum-total-bilirubin', 'bilirubin-total', undefined, 'mg/dL', undefined],
    ['uscore6-heart-rate', 'heart-rate', 44, '/min', undefined],
  ])('%s -> %s', (name, id, value, unit, range) => {
    const [m, ...rest] = snap([hl7(name)]).measurements;
    expect(rest).toHaveLength(0);
    expect(m).toMatchObject({ analyte: id, unit, status: 'final' });
    expect(m?.unreadable).toBeUndefined();
    if (value !== undefined) expect(m?.value).toBeCloseTo(value, 3);
    if (range) expect(m?.referenceRange).toEqual(range);
  });

  it('blood pressure panel -> systolic and diastolic', () => {
    const ms = snap([hl7('uscore6-blood-pressure')]).measurements;
    expect(ms.map((m) => [m.analyte, m.value, m.unit])).toEqual([
      ['systolic-bp', 109, 'mm[Hg]'],
      ['diastolic-bp', 44, 'mm[Hg]'],
    ]);
  });

  it.each(['uscore6-q-t-interval-ekg-lead', 'uscore6-ekg-impression'])(
    '%s is not a QTc measurement',
    (name) => {
      expect(snap([hl7(name)]).measurements).toEqual([]);
    },
  );
});

describe('unit normalisation', () => {
  it.each([
    ['uric-acid', 416, 'umol/L', undefined, 6.993],
    ['uric-acid', 7, 'mg/dL', undefined, 7],
    ['magnesium', 2.0, 'mg/dL', undefined, 0.823],
    ['magnesium', 1.6, 'meq/L', undefined, 0.8],
    ['potassium', 4.2, 'meq/L', undefined, 4.2],
    ['qtc', 0.48, 's', undefined, 480],
    ['heart-rate', 60, undefined, 'beats/min', 60],
    ['systolic-bp', 120, undefined, 'mmHg', 120],
    ['bilirubin-total', 17.1, undefined, 'µmol/L', 1.0],
    ['glucose', 5.5, 'mmol/L', undefined, 99.09],
    ['cholesterol-total', 5.2, 'mmol/L', undefined, 201.06],
    ['alt', 30, '[IU]/L', undefined, 30],
    ['lvef', 55, undefined, undefined, 55],
  ])('%s %s %s/%s -> %s', (id, value, code, unit, expected) => {
    const n = normaliseQuantity(value, code, unit, analyte(id));
    expect('value' in n ? n.value : n.error).toBeCloseTo(expected, 2);
  });

  it.each([
    ['calcium', 9.1, undefined, undefined],
    ['lvef', 0.55, undefined, undefined],
    ['alt', 30, 'mg/dL', undefined],
    ['potassium', 4, 'furlongs', undefined],
  ])('%s %s %s -> unreadable', (id, value, code, unit) => {
    expect(normaliseQuantity(value, code, unit, analyte(id))).toHaveProperty('error');
  });

  it.each([
    ['mmHg', 'mm[Hg]'],
    ['beats/min', '/min'],
    ['µmol/L', 'umol/L'],
    ['IU/L', 'U/L'],
  ])('synonym %s -> %s', (from, to) => {
    expect(toUcum(from)).toBe(to);
  });
});

describe('values, statuses, interpretation', () => {
  const k = (id: string, extra: Record<string, unknown>) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
    effectivePeriod: { start: '2024-01-01T08:00:00Z' },
    ...extra,
  });

  it('drops entered-in-error and cancelled values, keeps preliminary and amended with status', () => {
    const s = snap([
      k('e', { status: 'entered-in-error', valueQuantity: { value: 2, unit: 'mmol/L' } }),
      k('c', { status: 'cancelled' }),
      k('p', { status: 'preliminary', valueQuantity: { value: 3.1, unit: 'mmol/L' } }),
      k('a', { status: 'amended', valueQuantity: { value: 3.3, unit: 'mmol/L' } }),
    ]);
    expect(s.measurements.map((m) => [m.sources[0], m.status, m.value])).toEqual([
      ['Observation/p', 'preliminary', 3.1],
      ['Observation/a', 'amended', 3.3],
    ]);
    expect(s.notes.join(' ')).toContain('2 check observation(s)');
  });

  it('a value with no unit and no plausible default is unreadable, and says why', () => {
    const [m] = snap([k('n', { valueQuantity: { value: 4.1 } })]).measurements;
    expect(m?.value).toBeUndefined();
    expect(m?.unreadable).toMatch(/no unit/);
    expect(m?.date).toBe('2024-01-01T08:00:00Z');
  });

  it('a data-absent value is unreadable', () => {
    const [m] = snap([k('d', { dataAbsentReason: { text: 'Specimen haemolysed' } })]).measurements;
    expect(m?.unreadable).toContain('haemolysed');
  });

  it.each([
    [[{ coding: [{ code: 'HH' }] }], 'critical-high'],
    [[{ coding: [{ code: 'L' }] }], 'low'],
    [[{ text: 'Abnormal' }], 'abnormal'],
    [[{ text: 'High' }], 'high'],
    [[{ coding: [{ code: 'N' }] }], 'normal'],
    [[], undefined],
  ])('interpretation %j -> %s', (concepts, expected) => {
    expect(interpretationOf(concepts)).toBe(expected);
  });
});

describe('numbers written as text (echo and ECG reports)', () => {
  const textObs = (code: string, display: string, valueString: string) => ({
    resourceType: 'Observation',
    id: `t-${code}-${valueString.length}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code, display }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-20T10:00:00Z',
    valueString,
  });
  const lvef = (text: string) =>
    snap([textObs('10230-1', 'Left ventricular Ejection fraction', text)]).measurements[0];
  const qtc = (text: string) => snap([textObs('8636-3', 'Q-T interval corrected', text)]).measurements[0];

  it.each([
    ['30-35% (visual estimate)', 30],
    ['EF 35 to 40 %', 35],
    ['LVEF: 45–50%', 45],
    ['≥ 55 %', 55],
    ['60%', 60],
  ])('LVEF "%s" reads %d %% (a range by its lower bound: low is abnormal)', (text, value) => {
    const m = lvef(text);
    expect(m?.unreadable).toBeUndefined();
    expect(m?.value).toBe(value);
    expect(m?.unit).toBe('%');
    expect(m?.originalValue).toBe(text);
  });

  it('a QTc range reads by its upper bound (high is abnormal)', () => {
    expect(qtc('470-510 ms')).toMatchObject({ value: 510, unit: 'ms' });
  });

  it('words without a number are never a value: "needs review"', () => {
    const m = lvef('mildly reduced');
    expect(m?.value).toBeUndefined();
    expect(m?.unreadable).toMatch(/needs review/);
  });
});
