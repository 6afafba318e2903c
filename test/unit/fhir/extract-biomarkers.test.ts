import { describe, expect, it } from 'vitest';
import type { BiomarkerResult } from '../../../src/core/model.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { hl7 } from './helpers.ts';
import { testKnowledge } from './kb.ts';

const knowledge = testKnowledge();
const biomarkers = (resources: unknown[]): BiomarkerResult[] =>
  toSnapshot(resources, [], { knowledge }).biomarkers;

const LOINC = 'http://loinc.org';
const obs = (
  id: string,
  code: string,
  value: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  effectiveDateTime: '2024-01-10',
  ...value,
  ...extra,
});

describe('HL7 example shapes', () => {
  it('GR3 ROS1 fusion variant (gene in component, value Present, method Sequencing)', () => {
    const [r, ...rest] = biomarkers([hl7('gr3-Observation-ROS1-Fusion-var')]);
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({
      gene: 'ROS1',
      kind: 'rearrangement',
      method: 'NGS',
      call: 'positive',
      status: 'final',
      date: '2023-02-01',
      sources: ['Observation/ROS1-Fusion-var'],
    });
  });

  it('mCODE MET-ALK fusion: ALK positive with MET as partner', () => {
    const [r, ...rest] = biomarkers([hl7('mcode4-Observation-gx-genomic-variant-fusion-met-alk')]);
    expect(rest).toHaveLength(0);
    expect(r).toMatchObject({ gene: 'ALK', kind: 'rearrangement', call: 'positive', fusionPartner: 'MET' });
  });

  it.each([
    'gr3-Observation-EGFR-L858R-var',
    'gr3-Observation-EGFR-L858R-molecular-consequence',
    'gr3-Observation-EGFR-L858R-therapuDrug1',
    'mcode4-Observation-gx-genomic-variant-pertinent-negative-nras-kit-braf',
    'mcode-stu1-Observation-mCODECancerGeneticVariantExample01',
    'gr3-Observation-ROS1-Fusion-therapuDrug',
    'gr3-Observation-ROS1-Fusion-disease',
    'mcode4-Observation-gx-genomic-therapeutic-implication-crizotinib',
    'gr3-DiagnosticReport-somaticReport',
  ])('negative control / not a result: %s', (name) => {
    expect(biomarkers([hl7(name)])).toEqual([]);
  });

  it('the report and the implications derived from a variant become its sources, not new findings', () => {
    const rs = biomarkers([
      hl7('gr3-Observation-ROS1-Fusion-var'),
      hl7('gr3-Observation-ROS1-Fusion-molecular-consequence'),
      hl7('gr3-Observation-ROS1-Fusion-disease'),
      hl7('gr3-Observation-ROS1-Fusion-therapuDrug'),
      hl7('gr3-DiagnosticReport-somaticReport'),
      hl7('gr3-Observation-EGFR-L858R-var'),
    ]);
    expect(rs).toHaveLength(1);
    expect(rs[0]?.sources).toEqual(
      expect.arrayContaining([
        'Observation/ROS1-Fusion-var',
        'Observation/ROS1-Fusion',
        'Observation/ROS1-Fusion-disease',
        'Observation/ROS1-Fusion-therapuDrug',
        'DiagnosticReport/somaticReport',
      ]),
    );
  });
});

describe('test-code shapes', () => {
  it.each([
    [15, 'positive'],
    [14.9, 'negative'],
    [38, 'positive'],
    [0, 'negative'],
  ])('ALK FISH %s%% of nuclei -> %s (15%% cut-off)', (value, call) => {
    const [r] = biomarkers([obs('p', '78233-4', { valueQuantity: { value, unit: '%', code: '%' } })]);
    expect(r).toMatchObject({ gene: 'ALK', method: 'FISH', specimen: 'tissue', call });
  });

  it.each([
    [{ valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA6576-8' }] } }, 'positive'],
    [
      { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260415000' }] } },
      'negative',
    ],
    [{ valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA18198-4' }] } }, 'no-call'],
    [{ valueString: 'Equivocal: 12% split signals, recount advised' }, 'equivocal'],
    [
      {
        interpretation: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'POS' },
            ],
          },
        ],
      },
      'positive',
    ],
  ])('coded, text and interpretation answers: %j -> %s', (value, call) => {
    expect(biomarkers([obs('a', '78205-2', value)])[0]?.call).toBe(call);
  });

  it('an unreadable value is not a result (and is noted)', () => {
    const snap = toSnapshot([obs('x', '78205-2', { valueString: 'See scanned report' })], [], { knowledge });
    expect(snap.biomarkers).toEqual([]);
    expect(snap.notes.join(' ')).toContain('Observation/x');
  });

  it('keeps cancelled and registered results with their status, and does not merge them with final ones', () => {
    const rs = biomarkers([
      obs('c', '78205-2', { valueString: 'Positive' }, { status: 'cancelled' }),
      obs('f', '78205-2', { valueString: 'Positive' }),
      obs('r', '78205-2', { valueString: 'Positive' }, { status: 'registered' }),
    ]);
    expect(rs.map((r) => r.status).sort()).toEqual(['cancelled', 'final', 'registered']);
  });

  it('ALK 100019-9 with pHGVS text is a mutation report with one-letter changes', () => {
    const [r] = biomarkers([obs('m', '100019-9', { valueString: 'NP_004295.2:p.Gly1202Arg detected' })]);
    expect(r).toMatchObject({
      gene: 'ALK',
      kind: 'mutation',
      call: 'positive',
      resistanceMutations: ['G1202R'],
    });
  });
});

describe('reports and duplicates', () => {
  const report = (conclusion: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'DiagnosticReport',
    id: 'dr1',
    status: 'final',
    code: { text: 'Molecular pathology' },
    effectiveDateTime: '2024-01-10',
    conclusion,
    ...extra,
  });

  it('a report conclusion repeating its result observation adds a source, not a finding', () => {
    const rs = biomarkers([
      obs('fish', '78205-2', { valueString: 'Positive' }),
      report('ALK FISH: rearrangement detected.', { result: [{ reference: 'Observation/fish' }] }),
    ]);
    expect(rs).toHaveLength(1);
    expect(rs[0]?.sources).toEqual(['Observation/fish', 'DiagnosticReport/dr1']);
  });

  it('a report that disagrees with its observation keeps both (discordance is for the core)', () => {
    const rs = biomarkers([
      obs('fish', '78205-2', { valueString: 'Positive' }),
      report('ALK FISH negative.', { result: [{ reference: 'Observation/fish' }] }),
    ]);
    expect(rs.map((r) => r.call).sort()).toEqual(['negative', 'positive']);
  });

  it('reads a text/plain presentedForm', () => {
    const data = btoa('ROS1 FISH: positive (CD74-ROS1), 45% of nuclei.');
    const rs = biomarkers([
      {
        resourceType: 'DiagnosticReport',
        id: 'pf',
        status: 'final',
        code: { text: 'Report' },
        presentedForm: [{ contentType: 'text/plain', data }],
      },
    ]);
    expect(rs[0]).toMatchObject({ gene: 'ROS1', method: 'FISH', call: 'positive', fusionPartner: 'CD74' });
  });

  it('same fact, dates more than a day apart: two findings', () => {
    const rs = biomarkers([
      obs('a', '78205-2', { valueString: 'Positive' }),
      obs('b', '78205-2', { valueString: 'Positive' }, { effectiveDateTime: '2024-03-10' }),
    ]);
    expect(rs).toHaveLength(2);
  });
});

describe('variant type: only a fusion can make ALK/ROS1 positive', () => {
  const variant = (id: string, components: Record<string, unknown>[]) =>
    obs(
      id,
      '69548-6',
      { valueCodeableConcept: { coding: [{ system: LOINC, code: 'LA9633-4', display: 'Present' }] } },
      {
        component: [
          {
            code: { coding: [{ system: LOINC, code: '48018-6' }] },
            valueCodeableConcept: {
              coding: [{ system: 'http://www.genenames.org', code: 'HGNC:427', display: 'ALK' }],
            },
          },
          ...components,
        ],
      },
    );
  const changeType = (code: string, display: string) => ({
    code: { coding: [{ system: LOINC, code: '48019-4' }] },
    valueCodeableConcept: { coding: [{ system: 'http://www.sequenceontology.org', code, display }] },
  });
  const variation = (text: string) => ({
    code: { coding: [{ system: LOINC, code: '81252-9' }] },
    valueCodeableConcept: { text },
  });

  it('an ALK amplification (SO copy_number_gain) is not a rearrangement: no finding, and a note says why', () => {
    const snap = toSnapshot([variant('amp-1', [changeType('SO:0001742', 'copy_number_gain')])], [], {
      knowledge,
    });
    expect(snap.biomarkers).toEqual([]);
    expect(snap.notes.join(' ')).toMatch(/copy-number variant is not a rearrangement/);
  });

  it('an ALK amplification named only in text is not a rearrangement either', () => {
    expect(biomarkers([variant('amp-2', [variation('ALK amplification (8 copies)')])])).toEqual([]);
  });

  it('an ALK variant without any fusion detail is read as a rearrangement, with a note asking to confirm', () => {
    const snap = toSnapshot([variant('bare-1', [])], [], { knowledge });
    expect(snap.biomarkers.map((b) => [b.gene, b.kind, b.call])).toEqual([
      ['ALK', 'rearrangement', 'positive'],
    ]);
    expect(snap.notes.join(' ')).toMatch(/without fusion detail/);
  });

  it('an EML4-ALK fusion with a copy-number-like word in its text is still a fusion', () => {
    expect(
      biomarkers([variant('fus-1', [variation('EML4-ALK fusion, variant 3 (gain of signal)')])]).map(
        (b) => b.kind,
      ),
    ).toEqual(['rearrangement']);
  });
});
