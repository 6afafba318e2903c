import { describe, expect, it } from 'vitest';
import { stageFromText } from '../../../src/fhir/extract-conditions.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { hl7 } from './helpers.ts';
import { testKnowledge } from './kb.ts';

const knowledge = testKnowledge();
const snap = (resources: unknown[]) => toSnapshot(resources, [], { knowledge });
const cond = (id: string, code: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
  },
  code,
  ...extra,
});

describe('NSCLC', () => {
  it('mCODE primary cancer condition: histology extension and AJCC stage summary', () => {
    const s = snap([hl7('mcode4-Condition-primary-cancer-condition-nsclc')]);
    expect(s.nsclc).toMatchObject({
      histology: 'adenocarcinoma',
      stage: 'III',
      metastatic: false,
      onsetDate: '2019-04-01',
      sources: ['Condition/primary-cancer-condition-nsclc'],
    });
  });

  it('a secondary cancer condition makes the disease metastatic', () => {
    const s = snap([
      hl7('mcode4-Condition-primary-cancer-condition-nsclc'),
      hl7('mcode4-Condition-secondary-cancer-condition-brain-mets'),
    ]);
    expect(s.nsclc?.metastatic).toBe(true);
  });

  it.each([
    ['Stage IVB', 'IV'],
    ['American Joint Committee on Cancer stage IIIC (qualifier value)', 'III'],
    ['IVA', 'IV'],
    ['4', 'IV'],
    ['cT2a cN1 M1b', 'IV'],
    ['stage 2', 'II'],
    ['limited', 'unknown'],
  ])('stage %s -> %s', (text, stage) => {
    expect(stageFromText(text)).toBe(stage);
  });

  it('ICD-10-CM only: the note says whether histology came from the text or is unknown', () => {
    const icd = (text?: string) =>
      cond('c34', {
        coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C34.90' }],
        ...(text ? { text } : {}),
      });
    const fromText = snap([icd('Adenocarcinoma of right upper lobe of lung')]);
    expect(fromText.nsclc?.histology).toBe('adenocarcinoma');
    expect(fromText.notes.join(' ')).toMatch(
      /histology \(adenocarcinoma\) is read from the condition's text/,
    );
    const bare = snap([icd()]);
    expect(bare.nsclc?.histology).toBe('unknown');
    expect(bare.notes.join(' ')).toMatch(/histology unknown/);
  });

  it('stage-group observation raises the stage', () => {
    const s = snap([
      cond('n', { coding: [{ system: 'http://snomed.info/sct', code: '254637007' }] }),
      {
        resourceType: 'Observation',
        id: 'stg',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '21908-9' }] },
        effectiveDateTime: '2024-01-01',
        valueCodeableConcept: { text: 'Stage IVA' },
      },
    ]);
    expect(s.nsclc).toMatchObject({
      stage: 'IV',
      metastatic: true,
      sources: ['Condition/n', 'Observation/stg'],
    });
  });

  it('entered-in-error NSCLC is not a diagnosis', () => {
    const s = snap([
      cond(
        'n',
        { coding: [{ system: 'http://snomed.info/sct', code: '254637007' }] },
        {
          verificationStatus: { coding: [{ code: 'entered-in-error' }] },
        },
      ),
    ]);
    expect(s.nsclc).toBeUndefined();
    expect(s.notes.join(' ')).toContain('entered-in-error');
  });
});

describe('CNS', () => {
  it.each([
    ['mcode4-Condition-secondary-cancer-condition-brain-mets', 'brain'],
    ['mcode-stu1-Condition-mCODESecondaryCancerConditionExample01', 'brain'],
  ])('%s -> %s', (name, site) => {
    expect(snap([hl7(name)]).cns).toMatchObject([{ site, clinicalStatus: 'active' }]);
  });

  it.each([
    [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.3' }] }, 'brain'],
    [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.32' }] }, 'leptomeningeal'],
    [{ text: 'Meningeal carcinomatosis' }, 'leptomeningeal'],
    [{ text: 'Metastasis to brain' }, 'brain'],
    [
      { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.51' }], text: 'Bone metastasis' },
      undefined,
    ],
  ])('%j -> %s', (code, site) => {
    expect(snap([cond('c', code)]).cns[0]?.site).toBe(site);
  });

  it('generic metastasis with a meninges body site is leptomeningeal', () => {
    const c = cond(
      'm',
      { coding: [{ system: 'http://snomed.info/sct', code: '128462008' }] },
      {
        bodySite: [{ coding: [{ system: 'http://snomed.info/sct', code: '8935007' }] }],
      },
    );
    expect(snap([c]).cns).toMatchObject([{ site: 'leptomeningeal' }]);
  });

  it('the same metastasis coded twice is one finding with both sources', () => {
    const s = snap([
      cond('a', { coding: [{ system: 'http://snomed.info/sct', code: '94225005' }] }),
      cond('b', { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.31' }] }),
    ]);
    expect(s.cns).toHaveLength(1);
    expect(s.cns[0]?.sources).toEqual(['Condition/a', 'Condition/b']);
  });

  it('oligometastatic only when the record says so', () => {
    expect(snap([cond('a', { text: 'NSCLC' })]).oligometastatic).toBe('unknown');
    expect(snap([cond('a', { text: 'Oligometastatic NSCLC' })]).oligometastatic).toBe('yes');
  });
});
