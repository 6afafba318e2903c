import { describe, expect, it } from 'vitest';
import {
  canonicalSystem,
  geneOfConcept,
  genesInText,
  hasCoding,
  matchAgent,
} from '../../../src/fhir/codings.ts';
import { testKnowledge } from './kb.ts';

const kb = testKnowledge();

describe('hasCoding', () => {
  it.each([
    ['http://www.genenames.org', true],
    ['http://www.genenames.org/', true],
    ['http://www.genenames.org/geneId', true],
    ['urn:oid:2.16.840.1.113883.6.281', true],
    ['http://example.org/genes', false],
  ])('HGNC:427 under %s -> %s', (system, expected) => {
    const concept = { coding: [{ system, code: 'HGNC:427' }] };
    expect(hasCoding(kb, concept, { system: 'http://www.genenames.org', code: 'HGNC:427' })).toBe(expected);
  });

  it('matches Sequence Ontology with and without a trailing slash', () => {
    expect(canonicalSystem(kb, 'http://www.sequenceontology.org/')).toBe(
      canonicalSystem(kb, 'http://www.sequenceontology.org'),
    );
  });

  it('never matches a code under the wrong system', () => {
    const concept = { coding: [{ system: 'http://snomed.info/sct', code: '78205-2' }] };
    expect(hasCoding(kb, concept, { system: 'http://loinc.org', code: '78205-2' })).toBe(false);
  });
});

describe('matchAgent', () => {
  it.each([
    [{ coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1148495' }] }, 'crizotinib'],
    [{ coding: [{ system: 'urn:oid:2.16.840.1.113883.6.88', code: '2103164' }] }, 'lorlatinib'],
    [{ text: 'ALECENSA 150 MG CAPSULE' }, 'alectinib'],
    [
      { coding: [{ system: 'urn:oid:2.16.840.1.113883.6.253', code: '1', display: 'XALKORI 250 MG CAP' }] },
      'crizotinib',
    ],
    ['Paxlovid (nirmatrelvir and ritonavir) tablets', 'ritonavir'],
    ['rifampicin 600 mg', 'rifampin'],
    [{ text: 'gefitinib 250 MG Oral Tablet' }, null],
    [{ text: 'Crizotinibum' }, null],
  ])('%j -> %s', (concept, expected) => {
    expect(matchAgent(kb, concept)?.id ?? null).toBe(expected);
  });

  it('ignores RxNorm codes the knowledge base has not verified', () => {
    // rifampin's 9384 is verified=false in interacting-drugs.json: a code alone must not match.
    const rifampin = kb.interactingDrugs.get('rifampin');
    expect(rifampin?.rxnorm?.verified).toBe(false);
    expect(
      matchAgent(kb, { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '9384' }] }),
    ).toBeNull();
  });
});

describe('genes', () => {
  it.each([
    ['ALK FISH', ['ALK']],
    ['ROS1 IHC (D4D6)', ['ROS1']],
    ['ROS-1 rearrangement', ['ROS1']],
    ['ALK PHOS', []],
    ['Alk Phosphatase, Total', []],
    ['Alkaline phosphatase', []],
    ['anaplastic lymphoma kinase and ROS1 panel', ['ALK', 'ROS1']],
  ])('%s -> %j', (text, genes) => {
    expect(genesInText(text)).toEqual(genes);
  });

  it('reads the gene-studied value by HGNC or NCBI Gene code', () => {
    expect(
      geneOfConcept(kb, { coding: [{ system: 'https://www.ncbi.nlm.nih.gov/gene', code: '238' }] }),
    ).toBe('ALK');
    expect(
      geneOfConcept(kb, { coding: [{ system: 'http://www.genenames.org/geneId', code: 'HGNC:10261' }] }),
    ).toBe('ROS1');
    expect(
      geneOfConcept(kb, {
        coding: [{ system: 'http://www.genenames.org', code: 'HGNC:3236', display: 'EGFR' }],
      }),
    ).toBeUndefined();
  });
});
