import { describe, expect, it } from 'vitest';
import {
  callForGene,
  callFromText,
  fusionPartnerFromText,
  methodFromText,
  mutationsFromText,
  specimenFromText,
} from '../../../src/fhir/biomarker-text.ts';

describe('callFromText', () => {
  it.each([
    ['ALK rearrangement detected', 'positive'],
    ['Positive', 'positive'],
    ['No ALK rearrangement detected', 'negative'],
    ['No rearrangement of the ALK gene was identified', 'negative'],
    ['Negative for ROS1 gene rearrangement', 'negative'],
    ['NOT DETECTED', 'negative'],
    ['Equivocal (weak staining)', 'equivocal'],
    ['Borderline', 'equivocal'],
    ['Insufficient tumour cells for FISH', 'no-call'],
    ['Test failed: QNS', 'no-call'],
    ['see report', undefined],
  ])('%s -> %s', (text, call) => {
    expect(callFromText(text)).toBe(call);
  });
});

describe('callForGene reads only what is said about the gene', () => {
  const conclusion =
    'Invasive adenocarcinoma. ALK (D5F3) immunohistochemistry: positive. ROS1: negative. EGFR: no mutation detected.';
  it.each([
    [conclusion, 'ALK', 'positive'],
    [conclusion, 'ROS1', 'negative'],
    ['EGFR negative, ALK positive', 'ALK', 'positive'],
    ['ALK positive, EGFR negative', 'ALK', 'positive'],
    ['ALK and ROS1 negative by FISH', 'ROS1', 'negative'],
    ['Negative for EGFR, ALK and ROS1 alterations', 'ALK', 'negative'],
    ['EGFR L858R detected', 'ALK', undefined],
    // A breakpoint written with a semicolon stays in its sentence.
    ['EML4-ALK fusion (E13;A20) detected', 'ALK', 'positive'],
    ['EML4-ALK fusion (E13;A20) detected; ROS1 not detected', 'ROS1', 'negative'],
  ] as const)('%s [%s] -> %s', (text, gene, call) => {
    expect(callForGene(text, gene)).toBe(call);
  });
});

describe('method, specimen, mutations, partner', () => {
  it.each([
    ['ALK (D5F3) IHC', 'IHC'],
    ['ALK break-apart FISH', 'FISH'],
    ['RNA NGS (anchored multiplex PCR)', 'NGS-RNA'],
    ['Targeted DNA next-generation sequencing panel', 'NGS-DNA'],
    ['Sequencing LA26398-0', 'NGS'],
    ['RT-PCR for EML4-ALK', 'PCR'],
    ['ALK test', 'unknown'],
  ])('method %s -> %s', (text, method) => {
    expect(methodFromText(text)).toBe(method);
  });

  it.each([
    ['ALK gene rearrangements [Presence] in Blood or Tissue by FISH', 'unknown'],
    ['Peripheral blood plasma (cfDNA)', 'plasma'],
    ['Liquid biopsy ctDNA', 'plasma'],
    ['FFPE tumor tissue', 'tissue'],
  ])('specimen %s -> %s', (text, specimen) => {
    expect(specimenFromText(text)).toBe(specimen);
  });

  it.each([
    ['NP_004295.2:p.Gly1202Arg', ['G1202R']],
    ['p.G1202R', ['G1202R']],
    ['ALK p.L1196M and p.G1202R identified', ['L1196M', 'G1202R']],
    ['ROS1 kinase domain mutation G2032R detected (VAF 4.1%)', ['G2032R']],
    ['Leu1196Met', ['L1196M']],
    ['ALK (D5F3) SP384', []],
    ['p.Gly1202=', []],
  ])('mutations %s -> %j', (text, muts) => {
    expect(mutationsFromText(text)).toEqual(muts);
  });

  it.each([
    ['EML4-ALK fusion', 'ALK', 'EML4'],
    ['CD74::ROS1', 'ROS1', 'CD74'],
    ['ALK rearrangement', 'ALK', undefined],
    ['non-ALK', 'ALK', undefined],
  ] as const)('partner %s -> %s', (text, gene, partner) => {
    expect(fusionPartnerFromText(text, gene)).toBe(partner);
  });
});
