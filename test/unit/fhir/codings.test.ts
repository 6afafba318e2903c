import { describe, expect, it } from 'vitest';
import {
  canonicalSystem,
  flagsOf,
  geneOfConcept,
  genesInText,
  hasCoding,
  keysOf,
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

describe('flagsOf', () => {
  // An index as the triage uses: canonical system -> code -> flags.
  const bySystem = new Map([
    [
      'http://loinc.org',
      new Map([
        ['8867-4', 1],
        ['2823-3', 2],
      ]),
    ],
    ['http://www.genenames.org', new Map([['HGNC:427', 4]])],
  ]);
  const byKey = new Map<string, number>();
  for (const [system, codes] of bySystem) for (const [code, f] of codes) byKey.set(`${system}|${code}`, f);
  const viaKeys = (concept: unknown) => keysOf(kb, concept).reduce((f, k) => f | (byKey.get(k) ?? 0), 0);

  it.each([
    ['a CodeableConcept', { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }],
    ['a bare Coding', { system: 'http://loinc.org', code: '2823-3' }],
    [
      'a list of Codings',
      [
        { system: 'http://loinc.org', code: '8867-4' },
        { system: 'http://loinc.org', code: '2823-3' },
      ],
    ],
    [
      'an alias system and a padded code',
      { coding: [{ system: 'http://www.genenames.org/geneId', code: ' HGNC:427 ' }] },
    ],
    ['a trailing slash', { coding: [{ system: 'http://loinc.org/', code: '8867-4' }] }],
    ['another system', { coding: [{ system: 'http://snomed.info/sct', code: '8867-4' }] }],
    ['no system', { coding: [{ code: '8867-4' }] }],
    [
      'junk codings',
      { coding: [null, 3, 'x', { system: 'http://loinc.org' }, { system: 'http://loinc.org', code: 7 }] },
    ],
    ['no codings', { text: 'Heart rate' }],
    ['not an object', 'http://loinc.org|8867-4'],
    ['a "|" inside the system', { coding: [{ system: 'http://loinc.org|8867-4', code: 'x' }] }],
    ['a "|" inside the code', { coding: [{ system: 'http://loinc.org', code: '8867-4|x' }] }],
  ])('equals the keysOf look-ups for %s', (_, concept) => {
    expect(flagsOf(kb, concept, bySystem)).toBe(viaKeys(concept));
  });
});
