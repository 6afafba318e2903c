/**
 * The fallback FHIR client: paging, loops, page caps, per-call timeout and overall deadline, error
 * statuses and bodies, each becoming a DataGap for the domains the query feeds; the bearer token is
 * sent and never appears in a gap.
 */
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchRequirements } from '../../../cds-hooks/fhir-fetch.ts';
import type { DataRequirement } from '../../../src/fhir/queries.ts';

const EHR = 'https://ehr.example.test/fhir';
const msw = setupServer();
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterEach(() => msw.resetHandlers());
afterAll(() => msw.close());

const labs: DataRequirement = {
  id: 'labs',
  resourceType: 'Observation',
  params: { category: 'laboratory' },
  domains: ['labs'],
  required: true,
  description: 'labs',
};
const meds: DataRequirement = {
  id: 'meds',
  resourceType: 'MedicationRequest',
  params: {},
  domains: ['medications'],
  required: true,
  description: 'meds',
};
const opts = (over: Partial<Parameters<typeof fetchRequirements>[1]> = {}) => ({
  fhirServer: EHR,
  accessToken: 'tok-123',
  patientId: 'p1',
  timeoutMs: 300,
  deadline: Date.now() + 800,
  maxPages: 3,
  ...over,
});
const page = (ids: string[], next?: string) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: ids.map((id) => ({ resource: { resourceType: 'Observation', id } })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});
const ids = (resources: unknown[]) =>
  resources.flatMap((b: any) => (b.entry ?? []).map((e: any) => e.resource.id));

describe('fetchRequirements', () => {
  it('follows next links, sends the bearer token, and strips the links it followed', async () => {
    const auth: (string | null)[] = [];
    msw.use(
      http.get(`${EHR}/Observation`, ({ request }) => {
        auth.push(request.headers.get('authorization'));
        const p = new URL(request.url).searchParams.get('page');
        return HttpResponse.json(p === '2' ? page(['o3']) : page(['o1', 'o2'], `${EHR}/Observation?page=2`));
      }),
    );
    const r = await fetchRequirements([labs], opts());
    expect(ids(r.resources)).toEqual(['o1', 'o2', 'o3']);
    expect(r.gaps).toEqual([]);
    expect(r.calls).toBe(2);
    expect(auth).toEqual(['Bearer tok-123', 'Bearer tok-123']);
    expect(r.resources.every((b: any) => b.link === undefined)).toBe(true);
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not-found'],
    [429, 'error'],
    [500, 'error'],
  ])('HTTP %i → a gap with reason %s for the query domains only', async (status, reason) => {
    msw.use(
      http.get(`${EHR}/Observation`, () =>
        HttpResponse.json({ resourceType: 'OperationOutcome' }, { status }),
      ),
      http.get(`${EHR}/MedicationRequest`, () => HttpResponse.json(page([]))),
    );
    const r = await fetchRequirements([labs, meds], opts());
    expect(r.gaps).toEqual([{ domains: ['labs'], query: 'labs', reason, detail: `HTTP ${status}` }]);
  });

  it('429 with a Retry-After that fits the deadline → retried once; one that does not → a gap at once', async () => {
    let n = 0;
    msw.use(
      http.get(`${EHR}/Observation`, () =>
        ++n === 1
          ? HttpResponse.json(
              { resourceType: 'OperationOutcome' },
              { status: 429, headers: { 'retry-after': '0' } },
            )
          : HttpResponse.json(page(['o1'])),
      ),
    );
    const retried = await fetchRequirements([labs], opts());
    expect(ids(retried.resources)).toEqual(['o1']);
    expect(retried.calls).toBe(2);

    msw.use(
      http.get(`${EHR}/Observation`, () =>
        HttpResponse.json(
          { resourceType: 'OperationOutcome' },
          { status: 429, headers: { 'retry-after': '5' } },
        ),
      ),
    );
    const started = Date.now();
    const late = await fetchRequirements([labs], opts());
    expect(Date.now() - started).toBeLessThan(300);
    expect(late.gaps).toEqual([expect.objectContaining({ reason: 'error', detail: 'HTTP 429' })]);
    expect(late.calls).toBe(1);
  });

  it('an OperationOutcome with 200, truncated JSON, or a non-resource → a gap', async () => {
    for (const body of [
      '{"resourceType":"OperationOutcome"}',
      '{"resourceType":"Bundle","entry":[',
      '[1,2]',
    ]) {
      msw.use(
        http.get(
          `${EHR}/Observation`,
          () => new HttpResponse(body, { headers: { 'content-type': 'application/fhir+json' } }),
        ),
      );
      const r = await fetchRequirements([labs], opts());
      expect(r.gaps).toHaveLength(1);
      expect(r.resources).toEqual([]);
    }
  });

  it('a next link that loops, or more pages than allowed → a gap (never an endless fetch)', async () => {
    msw.use(
      http.get(`${EHR}/Observation`, () => HttpResponse.json(page(['o1'], `${EHR}/Observation?page=1`))),
    );
    const loop = await fetchRequirements([labs], opts());
    expect(loop.gaps[0]?.reason).toBe('invalid-response');
    let n = 0;
    msw.use(
      http.get(`${EHR}/Observation`, () =>
        HttpResponse.json(page([`o${n}`], `${EHR}/Observation?page=${++n}`)),
      ),
    );
    const many = await fetchRequirements([labs], opts({ maxPages: 3 }));
    expect(many.gaps[0]?.reason).toBe('truncated');
  });

  it('a slow server → a timeout gap within the per-call timeout; the wave ends by its deadline', async () => {
    msw.use(
      http.get(`${EHR}/Observation`, async () => {
        await delay(5_000);
        return HttpResponse.json(page(['late']));
      }),
      http.get(`${EHR}/MedicationRequest`, () => HttpResponse.json(page([]))),
    );
    const started = Date.now();
    const r = await fetchRequirements([labs, meds], opts({ timeoutMs: 200, deadline: Date.now() + 400 }));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(r.gaps).toEqual([expect.objectContaining({ query: 'labs', reason: 'timeout' })]);
    expect(JSON.stringify(r.gaps)).not.toContain('tok-123');
  });

  it('an unreachable server → an error gap, never a throw', async () => {
    msw.use(http.get(`${EHR}/Observation`, () => HttpResponse.error()));
    const r = await fetchRequirements([labs], opts());
    expect(r.gaps).toEqual([
      expect.objectContaining({ reason: 'error', detail: 'the FHIR server could not be reached' }),
    ]);
  });
});
