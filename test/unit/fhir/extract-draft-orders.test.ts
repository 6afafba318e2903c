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

  it.each([[null], [undefined], [{}], ['x']])('tolerates %j', (input) => {
    expect(extractDraftOrders(kb, input)).toEqual([]);
  });
});
