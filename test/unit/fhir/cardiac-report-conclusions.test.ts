/**
 * Echo and ECG results written only in a report's conclusion are read conservatively: one clear
 * left-ventricular value is read (a range by its worse bound); comparisons, two values or words
 * without a number need review; the right ventricle, the atrial rate, gated CT and stress tests are
 * not read as LVEF, heart rate or a resting ECG; a structured value of the same report wins.
 */
import { describe, expect, it } from 'vitest';
import { extractMeasurements } from '../../../src/fhir/extract-measurements.ts';
import { testKnowledge } from './kb.ts';

const kb = testKnowledge();
let n = 0;
function report(name: string, conclusion: string, category = 'CUS', extra: Record<string, unknown> = {}) {
  n += 1;
  return {
    resourceType: 'DiagnosticReport',
    id: `r${n}`,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: category }] }],
    code: { text: name },
    effectiveDateTime: '2026-11-01T10:00:00Z',
    conclusion,
    ...extra,
  };
}
const read = (...reports: ReturnType<typeof report>[]) =>
  extractMeasurements({ kb, observations: [], notes: [], reports }).map(
    (m) => `${m.analyte}:${m.value ?? (m.unreadable?.includes('needs review') ? 'review' : 'unreadable')}`,
  );

describe('echo conclusions', () => {
  it.each([
    ['Moderately reduced LV systolic function, LVEF 30-35% (visual estimate).', ['lvef:30']],
    ['Ejection fraction estimated at 35.5 %.', ['lvef:35.5']],
    ['EF (2024-05-01) 35%.', ['lvef:35']],
    ['Right ventricular ejection fraction 40%. LVEF 62%.', ['lvef:62']],
    ['LVEF decreased from 55% to 35%.', ['lvef:review']],
    ['EF previously 60%, now 30%.', ['lvef:review']],
    ['EF not assessed, HR 72 bpm.', ['lvef:review']],
    ['Mildly reduced left ventricular systolic function.', ['lvef:review']],
    ['Mild mitral regurgitation. Normal valves.', []],
  ])('%j → %j', (conclusion, expected) => {
    expect(read(report('Transthoracic echocardiogram', conclusion))).toEqual(expected);
  });

  it('a structured LVEF the report points to (absolute, versioned reference) wins over its conclusion', () => {
    const obs = {
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '10230-1' }] },
      effectiveDateTime: '2026-10-30',
      valueQuantity: { value: 35, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    };
    const r = report('TTE', 'LVEF 55-60%.', 'CUS', {
      result: [{ reference: 'https://ehr.example/fhir/Observation/o1/_history/2' }],
    });
    const out = extractMeasurements({ kb, observations: [obs], notes: [], reports: [r] });
    expect(out.map((m) => [m.analyte, m.value])).toEqual([['lvef', 35]]);
  });
});

describe('ECG conclusions', () => {
  it.each([
    ['Sinus bradycardia at 48 bpm. QTc 512 ms.', ['qtc:512', 'heart-rate:48']],
    ['QT/QTc 400/520 ms. Sinus rhythm 64 bpm.', ['qtc:520', 'heart-rate:64']],
    ['QTcF 520 ms.', ['qtc:520']],
    ['Atrial flutter, atrial rate 300 bpm, ventricular rate 45 bpm. QTc 460.', ['qtc:460', 'heart-rate:45']],
    ['Sinus rhythm. Borderline prolonged QT interval.', ['qtc:review']],
  ])('%j → %j', (conclusion, expected) => {
    expect(read(report('12-lead ECG', conclusion, 'EC'))).toEqual(expected);
  });

  it('an ECG-gated cardiac CT or an exercise ECG is not a resting ECG', () => {
    expect(read(report('ECG-gated cardiac CT', 'HR 55 bpm. QTc 430 ms.', 'EC'))).toEqual([]);
    expect(read(report('Exercise ECG (treadmill)', 'Peak HR 160 bpm.', 'EC'))).toEqual([]);
  });
});
