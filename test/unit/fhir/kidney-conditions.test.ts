/**
 * Severe kidney disease and dialysis from the problem list: by code (SNOMED CT, ICD-10-CM), then by
 * words; words about dialysis that do not mean the patient is on it are not read as dialysis.
 */
import { describe, expect, it } from 'vitest';
import { extractDisease } from '../../../src/fhir/extract-conditions.ts';
import { testKnowledge } from './kb.ts';

const kb = testKnowledge();
const condition = (id: string, code: Record<string, unknown>, status = 'active') => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: status }],
  },
  code,
});
const kinds = (...conditions: ReturnType<typeof condition>[]) =>
  extractDisease({ kb, conditions, observations: [], notes: [] }).kidney.map(
    (k) => `${k.kind}:${k.clinicalStatus}`,
  );

describe('kidney findings on the problem list', () => {
  it('codes: CKD stage 4 (SNOMED), ESRD (ICD-10-CM N18.6), dependence on dialysis (Z99.2)', () => {
    expect(
      kinds(condition('a', { coding: [{ system: 'http://snomed.info/sct', code: '431857002' }] })),
    ).toEqual(['severe-ckd:active']);
    expect(
      kinds(condition('b', { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'N18.6' }] })),
    ).toEqual(['severe-ckd:active']);
    expect(
      kinds(condition('c', { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z99.2' }] })),
    ).toEqual(['dialysis:active']);
  });

  it.each([
    ['Haemodialysis three times weekly', ['dialysis:active']],
    ['CKD stage 5D', ['dialysis:active']],
    ['CKD stage 4, pre-dialysis', ['severe-ckd:active']],
    ['CKD stage 4, not yet on dialysis', ['severe-ckd:active']],
    ['Dialysis access stenosis', []],
    ['Left arm AV fistula', []],
    ['AV fistula created for future haemodialysis', []],
    ['Haemodialysis via tunnelled catheter', ['dialysis:active']],
    ['On haemodialysis through left AV fistula', ['dialysis:active']],
    ['Chronic kidney disease stage 3a', []],
  ])('text only: %j → %j', (text, expected) => {
    expect(kinds(condition('t', { text }))).toEqual(expected);
  });
});
