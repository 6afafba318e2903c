/**
 * A small FHIR search over in-memory resources, enough for the service's own queries: reference,
 * token (`system|code`, comma = OR) and status parameters. Builds prefetch in tests and answers the
 * fallback queries through msw, so both paths see the same data.
 */
import { HttpResponse, http } from 'msw';
import { dataRequirements } from '../../../src/fhir/queries.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';

type R = Record<string, any>;

const codingsOf = (concepts: unknown): R[] =>
  (Array.isArray(concepts) ? concepts : [concepts]).flatMap((c: any) =>
    Array.isArray(c?.coding) ? c.coding : [],
  );

function tokenMatch(concepts: unknown, param: string): boolean {
  const wanted = param.split(',');
  return codingsOf(concepts).some((c) =>
    wanted.some((w) => (w.includes('|') ? w === `${c.system}|${c.code}` : w === c.code)),
  );
}

const STATUS_FIELD: Record<string, (r: R) => unknown> = {
  status: (r) => r.status,
  'clinical-status': (r) => codingsOf(r.clinicalStatus)[0]?.code,
};

export function search(resources: readonly R[], type: string, params: URLSearchParams): R[] {
  return resources.filter((r) => {
    if (r.resourceType !== type) return false;
    for (const [key, value] of params) {
      if (key === '_count' || key === '_sort' || key === '_include') continue;
      if (key === 'patient' || key === 'subject') {
        const id = value.replace(/^Patient\//, '');
        if (r.subject?.reference !== `Patient/${id}` && r.patient?.reference !== `Patient/${id}`)
          return false;
      } else if (key === 'code') {
        if (!tokenMatch(r.code, value) && !tokenMatch(r.medicationCodeableConcept, value)) return false;
      } else if (key === 'category') {
        if (!tokenMatch(r.category, value)) return false;
      } else if (STATUS_FIELD[key]) {
        if (!value.split(',').includes(String(STATUS_FIELD[key](r)))) return false;
      }
    }
    return true;
  });
}

export const searchset = (resources: R[]) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ resource })),
});

/** Prefetch as a conforming EHR fills it for the discovery templates. */
export function prefetchFor(resources: readonly R[], patientId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const req of dataRequirements(getKnowledge())) {
    if (req.resourceType === 'Patient') {
      out[req.id] = resources.find((r) => r.resourceType === 'Patient' && r.id === patientId) ?? null;
      continue;
    }
    const params = new URLSearchParams({ patient: patientId, ...req.params });
    out[req.id] = searchset(search(resources, req.resourceType, params));
  }
  return out;
}

export interface FhirServerLog {
  requests: { url: string; authorization: string | null }[];
}

/** msw handlers for a FHIR server at `base` holding `resources`; `fail` maps a resource type to a status. */
export function fhirServer(
  base: string,
  resources: readonly R[],
  log: FhirServerLog,
  fail: Record<string, number> = {},
) {
  return [
    http.get(`${base}/:type/:id`, ({ request, params }) => {
      log.requests.push({ url: request.url, authorization: request.headers.get('authorization') });
      const found = resources.find((r) => r.resourceType === params.type && r.id === params.id);
      return found
        ? HttpResponse.json(found)
        : HttpResponse.json(
            { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] },
            { status: 404 },
          );
    }),
    http.get(`${base}/:type`, ({ request, params }) => {
      log.requests.push({ url: request.url, authorization: request.headers.get('authorization') });
      const type = String(params.type);
      const status = fail[type];
      if (status)
        return HttpResponse.json(
          { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] },
          { status },
        );
      return HttpResponse.json(searchset(search(resources, type, new URL(request.url).searchParams)));
    }),
  ];
}
