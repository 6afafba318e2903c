/**
 * The one data path (src/fhir/fetch-record.ts), driven over real loopback sockets through the CDS
 * service's transport: paging within the FHIR base only (a `next` link to another host is a gap and
 * that host receives nothing, token or not), loops and page caps, an OperationOutcome instead of a
 * Bundle, and `medicationReference` resolution (contained, included, given, read in one more wave,
 * and every way that read can fail).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchRequirements } from '../../../cds-hooks/fhir-fetch.ts';
import { loadRecord, missingMedications, QueryFailure, underBase } from '../../../src/fhir/fetch-record.ts';
import type { DataRequirement } from '../../../src/fhir/queries.ts';

type Handler = (req: IncomingMessage, url: URL) => { status?: number; body: unknown } | undefined;

interface Listener {
  server: Server;
  base: string;
  requests: { path: string; authorization: string | undefined }[];
  handle: Handler;
}

async function listen(): Promise<Listener> {
  const l = { requests: [], handle: () => undefined } as unknown as Listener;
  l.server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', l.base);
    l.requests.push({ path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    const answer = l.handle(req, url) ?? {
      status: 404,
      body: { resourceType: 'OperationOutcome', issue: [] },
    };
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/fhir+json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => l.server.listen(0, '127.0.0.1', resolve));
  l.base = `http://127.0.0.1:${(l.server.address() as AddressInfo).port}`;
  return l;
}

let ehr: Listener;
let foreign: Listener;
beforeAll(async () => {
  ehr = await listen();
  foreign = await listen();
});
afterEach(() => {
  ehr.requests.length = 0;
  foreign.requests.length = 0;
  ehr.handle = () => undefined;
  foreign.handle = () => undefined;
});
afterAll(async () => {
  await new Promise((r) => ehr.server.close(r));
  await new Promise((r) => foreign.server.close(r));
});

const meds: DataRequirement = {
  id: 'medication-requests',
  resourceType: 'MedicationRequest',
  params: { status: 'active,stopped' },
  domains: ['medications'],
  required: true,
  description: 'meds',
};
const labs: DataRequirement = {
  id: 'labs',
  resourceType: 'Observation',
  params: { category: 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory' },
  domains: ['labs'],
  required: true,
  description: 'labs',
};

const fhirBase = () => `${ehr.base}/fhir/r4`;
const opts = (over: Partial<Parameters<typeof fetchRequirements>[1]> = {}) => ({
  fhirServer: fhirBase(),
  accessToken: 'secret-token-123',
  patientId: 'p1',
  timeoutMs: 1000,
  deadline: Date.now() + 3000,
  maxPages: 5,
  ...over,
});
const bundle = (entries: unknown[], next?: string) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: entries.map((resource) => ({ resource })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});
const order = (
  id: string,
  medicationReference: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  resourceType: 'MedicationRequest',
  id,
  status: 'active',
  subject: { reference: 'Patient/p1' },
  medicationReference,
  ...extra,
});

describe('paging stays within the FHIR base', () => {
  it('sends the search values percent-encoded and follows next links under the base', async () => {
    ehr.handle = (_req, url) =>
      url.searchParams.get('page') === '2'
        ? { body: bundle([{ resourceType: 'Observation', id: 'o2' }]) }
        : { body: bundle([{ resourceType: 'Observation', id: 'o1' }], `${fhirBase()}/Observation?page=2`) };
    const r = await fetchRequirements([labs], opts());
    expect(r.gaps).toEqual([]);
    expect(ehr.requests).toHaveLength(2);
    expect(ehr.requests[0]?.path).toContain('category=http%3A%2F%2Fterminology.hl7.org');
    expect(ehr.requests.every((q) => q.authorization === 'Bearer secret-token-123')).toBe(true);
  });

  it.each([
    ['another host', () => `${foreign.base}/fhir/r4/Observation?page=2`],
    ['the same host outside the base path', () => `${ehr.base}/admin/Observation?page=2`],
    ['a path that climbs out of the base', () => `${fhirBase()}/../../admin?page=2`],
    ['another scheme', () => 'file:///etc/passwd'],
    ['credentials in the URL', () => `http://user:pw@${ehr.base.slice(7)}/fhir/r4/Observation?page=2`],
  ])('a next link to %s is a gap, and that target receives nothing', async (_what, next) => {
    ehr.handle = (_req, url) =>
      url.pathname.startsWith('/fhir/r4')
        ? { body: bundle([{ resourceType: 'Observation', id: 'o1' }], next()) }
        : undefined;
    const r = await fetchRequirements([labs], opts());
    expect(r.gaps).toEqual([
      expect.objectContaining({
        query: 'labs',
        reason: 'invalid-response',
        detail: expect.stringMatching(/outside the FHIR server/),
      }),
    ]);
    expect(foreign.requests).toEqual([]);
    expect(ehr.requests.map((q) => q.path.split('?')[0])).toEqual(['/fhir/r4/Observation']);
  });

  it('a looping next link and a search past the page cap are gaps, not endless requests', async () => {
    ehr.handle = (_req, url) => ({ body: bundle([], `${fhirBase()}/Observation?${url.searchParams}`) });
    const loop = await fetchRequirements([labs], opts());
    expect(loop.gaps[0]).toMatchObject({ reason: 'invalid-response', detail: 'the next link loops' });
    ehr.handle = (_req, url) => {
      const page = Number(url.searchParams.get('page') ?? 1);
      return {
        body: bundle(
          [{ resourceType: 'Observation', id: `o${page}` }],
          `${fhirBase()}/Observation?page=${page + 1}`,
        ),
      };
    };
    ehr.requests.length = 0;
    const capped = await fetchRequirements([labs], opts({ maxPages: 3 }));
    expect(capped.gaps[0]).toMatchObject({ reason: 'truncated' });
    expect(ehr.requests).toHaveLength(3);
  });

  it('an OperationOutcome with 200 instead of a Bundle is a gap that quotes it', async () => {
    ehr.handle = () => ({
      body: {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'exception', diagnostics: 'search backend down' }],
      },
    });
    const r = await fetchRequirements([labs], opts());
    expect(r.gaps[0]).toMatchObject({
      reason: 'invalid-response',
      detail: 'the server answered with an OperationOutcome instead of a Bundle: search backend down',
    });
  });
});

describe('medicationReference resolution', () => {
  const carbamazepine = {
    resourceType: 'Medication',
    id: 'm1',
    code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '2002' }] },
  };

  it('reads a referenced Medication that neither contained nor _include brought, in one more wave', async () => {
    ehr.handle = (_req, url) => {
      if (url.pathname.endsWith('/MedicationRequest'))
        return { body: bundle([order('r1', { reference: 'Medication/m1' })]) };
      if (url.pathname.endsWith('/Medication/m1')) return { body: carbamazepine };
      return undefined;
    };
    const r = await fetchRequirements([meds], opts());
    expect(r.gaps).toEqual([]);
    expect(r.resources).toContainEqual(carbamazepine);
    expect(ehr.requests.map((q) => q.path.split('?')[0])).toEqual([
      '/fhir/r4/MedicationRequest',
      '/fhir/r4/Medication/m1',
    ]);
    expect(ehr.requests[1]?.authorization).toBe('Bearer secret-token-123');
  });

  it('reads the Medications that prefetch references (given) even when nothing else is fetched', async () => {
    ehr.handle = (_req, url) =>
      url.pathname.endsWith('/Medication/m1') ? { body: carbamazepine } : undefined;
    const prefetched = bundle([order('r1', { reference: `${fhirBase()}/Medication/m1` })]);
    const r = await fetchRequirements([], opts(), [prefetched]);
    expect(r.resources).toEqual([carbamazepine]);
    expect(r.calls).toBe(1);
  });

  it('reads nothing when the Medication is contained, included or given', async () => {
    const contained = order('r1', { reference: '#c1' }, { contained: [{ ...carbamazepine, id: 'c1' }] });
    ehr.handle = (_req, url) =>
      url.pathname.endsWith('/MedicationRequest')
        ? {
            body: {
              ...bundle([contained, order('r2', { reference: 'Medication/m1' })]),
              entry: [
                { resource: contained },
                { resource: order('r2', { reference: 'Medication/m1' }) },
                { resource: carbamazepine, search: { mode: 'include' } },
              ],
            },
          }
        : undefined;
    const r = await fetchRequirements([meds], opts());
    expect(r.gaps).toEqual([]);
    expect(ehr.requests).toHaveLength(1);
  });

  it.each([
    ['answers 404', { status: 404, body: { resourceType: 'OperationOutcome', issue: [] } }, 'not-found'],
    ['answers 500', { status: 500, body: { resourceType: 'OperationOutcome', issue: [] } }, 'error'],
    [
      'answers something else than a Medication',
      { body: { resourceType: 'Patient', id: 'm1' } },
      'invalid-response',
    ],
  ])('a Medication read that %s is a medications gap naming the count', async (_what, answer, reason) => {
    ehr.handle = (_req, url) =>
      url.pathname.endsWith('/MedicationRequest')
        ? {
            body: bundle([
              order('r1', { reference: 'Medication/m1' }),
              order('r2', { reference: 'Medication/m2' }),
            ]),
          }
        : answer;
    const r = await fetchRequirements([meds], opts());
    expect(r.gaps).toEqual([
      {
        domains: ['medications'],
        query: 'medication-references',
        reason,
        detail: expect.stringMatching(/^2 of 2 referenced medication\(s\) could not be read/),
      },
    ]);
  });

  it('a reference to a Medication on another server is not requested', async () => {
    ehr.handle = (_req, url) =>
      url.pathname.endsWith('/MedicationRequest')
        ? { body: bundle([order('r1', { reference: `${foreign.base}/fhir/r4/Medication/m1` })]) }
        : undefined;
    const r = await fetchRequirements([meds], opts());
    expect(foreign.requests).toEqual([]);
    expect(r.gaps[0]).toMatchObject({ query: 'medication-references', reason: 'unresolved-reference' });
  });
});

describe('the pure parts', () => {
  it('underBase keeps a URL only when it is under the base', () => {
    const base = 'https://ehr.example.org/fhir/r4/';
    expect(underBase(base, 'Observation?x=1')).toBe('https://ehr.example.org/fhir/r4/Observation?x=1');
    expect(underBase(base, 'https://EHR.example.org:443/fhir/r4/Patient/1')).toBe(
      'https://ehr.example.org/fhir/r4/Patient/1',
    );
    expect(underBase(base, 'https://ehr.example.org/fhir/r4x/Patient/1')).toBeUndefined();
    expect(underBase(base, 'https://ehr.example.org.evil.test/fhir/r4/Patient/1')).toBeUndefined();
    expect(underBase(base, '//evil.test/fhir/r4/Patient/1')).toBeUndefined();
  });

  it('missingMedications lists each Medication/id once, skipping contained and present ones', () => {
    expect(
      missingMedications([
        bundle([
          order('a', { reference: 'Medication/x' }),
          order('b', { reference: 'https://ehr.example.org/fhir/Medication/x/_history/2' }),
          order('c', { reference: '#c' }),
          order('d', { reference: 'Medication/y' }),
          { resourceType: 'Medication', id: 'y' },
        ]),
      ]),
    ).toEqual(['Medication/x']);
    expect(
      missingMedications([order('e', { reference: 'https://ehr.example.org/fhir/Medication/z' })]),
    ).toEqual(['https://ehr.example.org/fhir/Medication/z']);
  });

  it('an error from get that is not a QueryFailure aborts the load (the app: an expired session)', async () => {
    const expired = new Error('session expired');
    await expect(
      loadRecord(
        {
          base: 'https://ehr.example.org/fhir',
          get: async () => {
            throw expired;
          },
        },
        { patientId: 'p1', requirements: [labs] },
      ),
    ).rejects.toBe(expired);
    const failed = await loadRecord(
      {
        base: 'https://ehr.example.org/fhir',
        get: async () => {
          throw new QueryFailure('forbidden', 'HTTP 403');
        },
      },
      { patientId: 'p1', requirements: [labs] },
    );
    expect(failed.gaps).toEqual([
      { domains: ['labs'], query: 'labs', reason: 'forbidden', detail: 'HTTP 403' },
    ]);
  });
});
