import { describe, expect, it } from 'vitest';
import type { DataGap } from '../../../src/core/model.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { hl7 } from './helpers.ts';
import { testKnowledge } from './kb.ts';

const knowledge = testKnowledge();

describe('toSnapshot', () => {
  it('accepts bare resources and Bundles alike', () => {
    const k = hl7('uscore6-observation-serum-potassium');
    const a = toSnapshot([k], [], { knowledge });
    const b = toSnapshot([{ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: k }] }], [], {
      knowledge,
    });
    expect(b.measurements).toEqual(a.measurements);
    expect(a.measurements).toHaveLength(1);
  });

  it('never throws on malformed input; skips and notes it', () => {
    const bad = [
      null,
      42,
      'Observation',
      { resourceType: 'Observation' },
      {
        resourceType: 'Observation',
        id: 'x',
        code: 'not-a-concept',
        component: 'nope',
        valueQuantity: { value: 'high' },
      },
      { resourceType: 'Bundle', entry: [null, { resource: { foo: 1 } }] },
      { resourceType: 'Condition', id: 'c', code: { coding: 'bad' }, stage: 7 },
      {
        resourceType: 'MedicationRequest',
        id: 'm',
        medicationReference: { reference: 'Medication/missing' },
        status: 'active',
      },
    ];
    const s = toSnapshot(bad, [], { knowledge });
    expect(s.biomarkers).toEqual([]);
    expect(s.notes.join(' ')).toMatch(/malformed/);
    expect(s.activeMedications).toEqual([
      { drug: null, display: 'unnamed medication', sources: ['MedicationRequest/m'] },
    ]);
  });

  it('passes caller gaps through and adds a truncated gap for an unfollowed next link', () => {
    const gap: DataGap = {
      domains: ['medications'],
      query: 'medication-requests',
      reason: 'forbidden',
      detail: 'HTTP 403',
    };
    const s = toSnapshot(
      [
        {
          resourceType: 'Bundle',
          type: 'searchset',
          link: [{ relation: 'next', url: 'https://x/Condition?page=2' }],
          entry: [],
        },
      ],
      [gap],
      { knowledge },
    );
    expect(s.dataGaps[0]).toEqual(gap);
    expect(s.dataGaps[1]).toMatchObject({ reason: 'truncated' });
  });

  it('ignores resources about another patient when the patient is known', () => {
    const s = toSnapshot(
      [
        { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1970-01-01' },
        { ...hl7('uscore6-observation-serum-potassium'), subject: { reference: 'Patient/p2' } },
        {
          ...hl7('uscore6-observation-serum-calcium'),
          subject: { reference: 'https://ehr/fhir/Patient/p1' },
        },
      ],
      [],
      { knowledge },
    );
    expect(s.patient).toEqual({ id: 'p1', sex: 'female', birthDate: '1970-01-01', sources: ['Patient/p1'] });
    expect(s.measurements.map((m) => m.analyte)).toEqual(['calcium']);
    expect(s.notes.join(' ')).toContain('another patient');
  });

  it('resolves urn:uuid references of transaction-style bundles', () => {
    const s = toSnapshot(
      [
        {
          resourceType: 'Bundle',
          type: 'collection',
          entry: [
            {
              fullUrl: 'urn:uuid:med-1',
              resource: { resourceType: 'Medication', id: 'med-1', code: { text: 'Xalkori' } },
            },
            {
              fullUrl: 'urn:uuid:mr-1',
              resource: {
                resourceType: 'MedicationRequest',
                id: 'mr-1',
                status: 'active',
                intent: 'order',
                medicationReference: { reference: 'urn:uuid:med-1' },
                authoredOn: '2024-01-01',
              },
            },
          ],
        },
      ],
      [],
      { knowledge },
    );
    expect(s.therapies).toMatchObject([{ agent: 'crizotinib', status: 'active' }]);
  });

  it('is deterministic: the same input gives the same snapshot', () => {
    const input = [hl7('gr3-Observation-ROS1-Fusion-var'), hl7('uscore6-blood-pressure')];
    expect(toSnapshot(input, [], { knowledge })).toEqual(toSnapshot(input, [], { knowledge }));
  });
});
