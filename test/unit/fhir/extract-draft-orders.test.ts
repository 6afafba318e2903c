import { describe, expect, it } from 'vitest';
import { extractDraftOrders } from '../../../src/fhir/index.ts';
import { testKnowledge } from './kb.ts';

const kb = testKnowledge();

describe('draft orders', () => {
  it('reads MedicationRequests from a draftOrders Bundle, with contained medications', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-1',
            status: 'draft',
            intent: 'order',
            medicationCodeableConcept: {
              coding: [
                {
                  system: 'http://www.nlm.nih.gov/research/umls/rxnorm',
                  code: '1921217',
                  display: 'brigatinib',
                },
              ],
            },
          },
        },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-2',
            status: 'draft',
            intent: 'order',
            contained: [{ resourceType: 'Medication', id: 'm', code: { text: 'LORBRENA 100 MG TABLET' } }],
            medicationReference: { reference: '#m' },
          },
        },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-3',
            status: 'draft',
            intent: 'order',
            medicationCodeableConcept: { text: 'Tylenol' },
          },
        },
        {
          resource: {
            resourceType: 'ServiceRequest',
            id: 'sr',
            status: 'draft',
            intent: 'order',
            code: { text: 'ECG' },
          },
        },
      ],
    };
    expect(extractDraftOrders(kb, bundle)).toEqual([
      { ref: 'MedicationRequest/draft-1', drug: 'brigatinib', display: 'brigatinib' },
      { ref: 'MedicationRequest/draft-2', drug: 'lorlatinib', display: 'LORBRENA 100 MG TABLET' },
      { ref: 'MedicationRequest/draft-3', drug: null, display: 'Tylenol' },
    ]);
  });

  it('resolves a Medication by the draft Bundle fullUrl (urn:uuid), then by the record resolver', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          fullUrl: 'urn:uuid:3c1f6a52-1a55-4a5e-9a57-0b7c2d6e0001',
          resource: { resourceType: 'Medication', code: { text: 'Alunbrig 90 mg tablet' } },
        },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-u',
            status: 'draft',
            intent: 'order',
            medicationReference: { reference: 'urn:uuid:3c1f6a52-1a55-4a5e-9a57-0b7c2d6e0001' },
          },
        },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'draft-r',
            status: 'draft',
            intent: 'order',
            medicationReference: { reference: 'Medication/epic-med-77' },
          },
        },
      ],
    };
    const inRecord = (ref: string) =>
      ref === 'Medication/epic-med-77'
        ? { resourceType: 'Medication', id: 'epic-med-77', code: { text: 'ALECENSA 150 MG CAPSULE' } }
        : undefined;
    expect(extractDraftOrders(kb, bundle, inRecord)).toEqual([
      { ref: 'MedicationRequest/draft-u', drug: 'brigatinib', display: 'Alunbrig 90 mg tablet' },
      { ref: 'MedicationRequest/draft-r', drug: 'alectinib', display: 'ALECENSA 150 MG CAPSULE' },
    ]);
  });

  it.each([[null], [undefined], [{}], ['x']])('tolerates %j', (input) => {
    expect(extractDraftOrders(kb, input)).toEqual([]);
  });
});
