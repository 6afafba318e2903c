import { getSearchParameter, matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { SERVED_TYPES } from '../../../sandbox/fhir/capability.ts';
import { indexFhirDefinitions, ownExpression } from '../../../sandbox/fhir/definitions.ts';

describe('narrowing shared search parameters to one resource type', () => {
  it("keeps only the type's own members of a union, parenthesised ones included", () => {
    expect(ownExpression('Observation', 'Condition.code | Observation.code | Procedure.code')).toBe(
      'Observation.code',
    );
    expect(
      ownExpression(
        'Observation',
        '(Observation.value as Quantity) | (Observation.value as SampledData) | Foo.x',
      ),
    ).toBe('(Observation.value as Quantity) | (Observation.value as SampledData)');
    // A union inside a function call is not split.
    expect(ownExpression('Observation', 'Observation.code.where(a | b)')).toBeUndefined();
    expect(ownExpression('Observation', 'Observation.status')).toBeUndefined();
    expect(ownExpression('Observation', 'Condition.code | Procedure.code')).toBeUndefined();
  });

  it('leaves Observation searches matching the same resources', () => {
    indexFhirDefinitions(SERVED_TYPES);
    expect(getSearchParameter('Observation', 'code')?.expression).toBe('Observation.code');
    expect(getSearchParameter('Observation', 'patient')?.expression).toBe(
      'Observation.subject.where(resolve() is Patient)',
    );
    const obs = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2823-3' }] },
      subject: { reference: 'Patient/p1' },
      effectiveDateTime: '2026-03-01T10:00:00Z',
    } as never;
    const matches = (q: string) => matchesSearchRequest(obs, parseSearchRequest(q));
    expect(matches('Observation?code=http://loinc.org|2823-3')).toBe(true);
    expect(matches('Observation?code=http://loinc.org|2160-0')).toBe(false);
    expect(matches('Observation?patient=Patient/p1&date=ge2026-01-01')).toBe(true);
    expect(matches('Observation?patient=Patient/p2')).toBe(false);
  });
});
