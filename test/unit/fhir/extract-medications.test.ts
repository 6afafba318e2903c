import { describe, expect, it } from 'vitest';
import { endReasonFromText } from '../../../src/fhir/extract-medications.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { hl7 } from './helpers.ts';
import { testKnowledge } from './kb.ts';

const knowledge = testKnowledge();
const snap = (resources: unknown[]) => toSnapshot(resources, [], { knowledge });
const RX = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const mr = (
  id: string,
  status: string,
  rx: string,
  start: string,
  end?: string,
  extra: Record<string, unknown> = {},
) => ({
  resourceType: 'MedicationRequest',
  id,
  status,
  intent: 'order',
  medicationCodeableConcept: { coding: [{ system: RX, code: rx }] },
  authoredOn: start,
  dosageInstruction: [{ timing: { repeat: { boundsPeriod: { start, ...(end ? { end } : {}) } } } }],
  ...extra,
});

describe('therapy lines', () => {
  it('the mCODE gefitinib request is not an ALK/ROS1 line but is an (unrecognised) active medication', () => {
    const s = snap([hl7('mcode4-MedicationRequest-cancer-related-medication-request-gefitinib')]);
    expect(s.therapies).toEqual([]);
    expect(s.activeMedications).toEqual([
      {
        drug: null,
        display: 'gefitinib 250 MG Oral Tablet',
        sources: ['MedicationRequest/cancer-related-medication-request-gefitinib'],
      },
    ]);
  });

  it('three resource types for one agent make one line', () => {
    const s = snap([
      mr('r1', 'completed', '1727455', '2022-01-01', '2022-04-01'),
      {
        resourceType: 'MedicationStatement',
        id: 's1',
        status: 'completed',
        medicationCodeableConcept: { text: 'Alecensa' },
        effectivePeriod: { start: '2022-04-02', end: '2022-09-01' },
        statusReason: [{ text: 'Progressive disease on MRI' }],
      },
      {
        resourceType: 'MedicationAdministration',
        id: 'a1',
        status: 'completed',
        medicationCodeableConcept: { text: 'alectinib 150 mg' },
        effectiveDateTime: '2022-05-01',
      },
    ]);
    expect(s.therapies).toHaveLength(1);
    expect(s.therapies[0]).toMatchObject({
      agent: 'alectinib',
      kind: 'tki',
      status: 'ended',
      start: '2022-01-01',
      end: '2022-09-01',
      endReason: 'progression',
      progressionDate: '2022-09-01',
      sources: ['MedicationRequest/r1', 'MedicationStatement/s1', 'MedicationAdministration/a1'],
    });
  });

  it('a gap longer than the renewal window starts a new line', () => {
    const s = snap([
      mr('a', 'stopped', '1148495', '2019-01-01', '2019-06-01'),
      mr('b', 'active', '1148495', '2021-01-01'),
    ]);
    expect(s.therapies.map((t) => t.status)).toEqual(['ended', 'active']);
  });

  it.each([
    ['entered-in-error', 0],
    ['draft', 0],
    // R4: cancelled = withdrawn before any administration, so never taken.
    ['cancelled', 0],
  ])('status %s -> %i line(s)', (status, n) => {
    expect(snap([mr('x', status, '1148495', '2020-01-01', '2020-03-01')]).therapies).toHaveLength(n);
  });

  it('a cancelled order with a planned start is not a line either, and the record says why', () => {
    const s = snap([mr('x', 'cancelled', '1148495', '2020-01-01', '2020-03-01')]);
    expect(s.therapies).toEqual([]);
    expect(s.notes.join(' ')).toMatch(/MedicationRequest\/x \(.*\) is a cancelled order \(never taken\)/);
  });

  it('a cancelled order without a start is not a line', () => {
    const r = {
      resourceType: 'MedicationRequest',
      id: 'c',
      status: 'cancelled',
      intent: 'order',
      medicationCodeableConcept: { text: 'lorlatinib' },
    };
    expect(snap([r]).therapies).toEqual([]);
  });

  it('a CancerDiseaseStatus "worsened" during a line marks progression; CNS focus sets the pattern', () => {
    const s = snap([
      mr('l', 'active', '2103164', '2023-01-01'),
      {
        resourceType: 'Condition',
        id: 'bm',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '94225005' }] },
      },
      {
        resourceType: 'Observation',
        id: 'ds',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '97509-4' }] },
        effectiveDateTime: '2023-09-01',
        focus: [{ reference: 'Condition/bm' }],
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '271299001' }] },
      },
    ]);
    expect(s.therapies[0]).toMatchObject({
      agent: 'lorlatinib',
      status: 'active',
      progressionDate: '2023-09-01',
      progressionPattern: 'cns',
    });
    expect(s.therapies[0]?.endReason).toBeUndefined();
  });

  it.each([
    ['Disease progression', 'progression'],
    ['Hepatotoxicity grade 3', 'toxicity'],
    ['Intolerance', 'toxicity'],
    ['Course completed', 'completed'],
    ['Insurance', 'other'],
    ['', undefined],
  ])('end reason %s -> %s', (text, reason) => {
    expect(endReasonFromText(text)).toBe(reason);
  });
});

describe('active medications', () => {
  it('recognises interacting drugs by brand and keeps unknown drugs', () => {
    const s = snap([
      {
        resourceType: 'MedicationRequest',
        id: 'm1',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'Rifadin 300 mg capsule' },
      },
      {
        resourceType: 'MedicationRequest',
        id: 'm2',
        status: 'on-hold',
        intent: 'order',
        medicationCodeableConcept: { text: 'Metoprolol succinate ER 50 mg' },
      },
      {
        resourceType: 'MedicationRequest',
        id: 'm3',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text: 'Vitamin D3' },
      },
      {
        resourceType: 'MedicationRequest',
        id: 'm4',
        status: 'stopped',
        intent: 'order',
        medicationCodeableConcept: { text: 'Ketoconazole' },
      },
    ]);
    expect(s.activeMedications.map((m) => m.drug)).toEqual(['rifampin', 'metoprolol', null]);
  });
});
