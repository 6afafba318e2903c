/**
 * Fault injection on the FHIR server the service falls back to (issue 6). A real `node:http` server on
 * 127.0.0.1 (not msw: timeouts, truncation and resets happen on real sockets) holds a realistic record
 * and fails chosen resource types in one of ten ways. For each fault the service answers within its
 * deadline, with cards that say what could not be checked (never "missing", never all clear), or 412
 * when no data at all could be had.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../cds-hooks/app.ts';
import { type FeedbackStore, openFeedbackStore } from '../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../cds-hooks/log.ts';
import { type Card, CdsResponse } from '../../cds-hooks/schemas.ts';
import { getKnowledge } from '../../src/knowledge/index.ts';
import { draftMedicationRequest, NOW, ros1BrainMetsRecord } from '../fixtures/cds/records.ts';
import { prefetchFor, search, searchset } from '../integration/cds-hooks/fhir-search.ts';

type Fault =
  | 'hang'
  | 'slow'
  | 'http-500'
  | 'http-401'
  | 'http-403'
  | 'http-429'
  | 'truncated-json'
  | 'reset'
  | 'next-loop'
  | 'operation-outcome';

const FAULTS: Fault[] = [
  'hang',
  'slow',
  'http-500',
  'http-401',
  'http-403',
  'http-429',
  'truncated-json',
  'reset',
  'next-loop',
  'operation-outcome',
];

const TIMEOUT_MS = 300;
const DEADLINE_MS = 800;
/** Time for evaluation, card building and the event loop on a loaded 2-core machine. */
const MARGIN_MS = 700;
const PID = 'p-faults';
const record = ros1BrainMetsRecord(PID);
const kb = getKnowledge();

// --- the faulty FHIR server ----------------------------------------------------------------------

interface FhirFaultServer {
  base: string;
  /** Resource type → fault; types not listed answer normally. */
  faults: Map<string, Fault>;
  /** 429 on the first call of each URL only (then answer), to exercise the retry. */
  rateLimitOnce: boolean;
  /** URLs already answered 429 (for rateLimitOnce). */
  rateLimited: Set<string>;
  injected: number;
  requests: number;
  close(): Promise<void>;
}

const FHIR_JSON = { 'content-type': 'application/fhir+json' };

async function startFhirServer(): Promise<FhirFaultServer> {
  const state: FhirFaultServer = {
    base: '',
    faults: new Map(),
    rateLimitOnce: false,
    rateLimited: new Set(),
    injected: 0,
    requests: 0,
    close: async () => {},
  };

  function answer(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [type = '', id] = url.pathname.replace(/^\/fhir\//, '').split('/');
    const body = id
      ? record.find((r) => r.resourceType === type && r.id === id)
      : searchset(search(record, type, url.searchParams));
    if (!body) {
      res.writeHead(404, FHIR_JSON).end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [] }));
      return;
    }
    res.writeHead(200, FHIR_JSON).end(JSON.stringify(body));
  }

  const server: Server = createServer((req, res) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const type = url.pathname.replace(/^\/fhir\//, '').split('/')[0] ?? '';
    const fault = state.faults.get(type);
    if (!fault) return answer(req, res);
    const full = JSON.stringify(searchset(search(record, type, url.searchParams)));
    if (fault === 'http-429' && state.rateLimitOnce && state.rateLimited.has(req.url ?? ''))
      return answer(req, res);
    state.injected++;
    switch (fault) {
      case 'hang':
        return; // accept, read, never answer
      case 'slow': {
        const t = setTimeout(() => answer(req, res), TIMEOUT_MS * 2);
        res.on('close', () => clearTimeout(t));
        return;
      }
      case 'http-500':
      case 'http-401':
      case 'http-403': {
        const status = Number(fault.slice(5));
        res
          .writeHead(status, { ...FHIR_JSON, ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) })
          .end(
            JSON.stringify({
              resourceType: 'OperationOutcome',
              issue: [{ severity: 'error', code: 'exception' }],
            }),
          );
        return;
      }
      case 'http-429':
        state.rateLimited.add(req.url ?? '');
        res.writeHead(429, { ...FHIR_JSON, 'retry-after': '1' }).end(
          JSON.stringify({
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'throttled' }],
          }),
        );
        return;
      case 'truncated-json':
        // Chunked, half the body, then a clean end: the bytes arrive, the JSON does not parse.
        res.writeHead(200, FHIR_JSON);
        res.end(full.slice(0, Math.floor(full.length / 2)));
        return;
      case 'reset':
        // Content-Length promises the whole body; half is written and the socket destroyed.
        res.writeHead(200, { ...FHIR_JSON, 'content-length': String(Buffer.byteLength(full)) });
        res.write(full.slice(0, Math.floor(full.length / 2)), () => req.socket.destroy());
        return;
      case 'next-loop': {
        const self = `${state.base}${url.pathname}${url.search}`;
        res
          .writeHead(200, FHIR_JSON)
          .end(JSON.stringify({ ...JSON.parse(full), link: [{ relation: 'next', url: self }] }));
        return;
      }
      case 'operation-outcome':
        res.writeHead(200, FHIR_JSON).end(
          JSON.stringify({
            resourceType: 'OperationOutcome',
            issue: [{ severity: 'error', code: 'too-costly', diagnostics: 'search too costly' }],
          }),
        );
        return;
    }
  });
  server.keepAliveTimeout = 200;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

// --- the service ----------------------------------------------------------------------------------

let fhir: FhirFaultServer;
let feedback: FeedbackStore;
const tally = { scenarios: 0, faultsByKind: {} as Record<string, number> };

function makeApp(timeoutMs = TIMEOUT_MS, deadlineMs = DEADLINE_MS) {
  return createApp({
    kb,
    config: {
      publicBaseUrl: 'http://cds.faults.test',
      corsOrigins: [],
      appLaunchUrl: 'http://cds.faults.test/launch.html',
      formularyUnavailable: [],
      fhirTimeoutMs: timeoutMs,
      fhirDeadlineMs: deadlineMs,
      fhirMaxPages: 5,
    },
    verifier: null,
    feedback,
    logger: createLogger('silent'),
    now: () => new Date(NOW),
  });
}

beforeAll(async () => {
  fhir = await startFhirServer();
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
});

afterAll(async () => {
  await fhir?.close();
  await feedback?.close();
  console.log(
    `[fhir faults] ${fhir?.injected} faults injected over ${fhir?.requests} FHIR requests in ${tally.scenarios} scenarios (${Object.entries(
      tally.faultsByKind,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
});

const OBSERVATION_KEYS = [
  'labs',
  'vital-signs',
  'cardiac-studies',
  'biomarker-lab-observations',
  'disease-status',
];
const ALL_TYPES = [
  'Patient',
  'Condition',
  'Observation',
  'DiagnosticReport',
  'MedicationRequest',
  'MedicationStatement',
  'MedicationAdministration',
];

async function call(
  app: ReturnType<typeof makeApp>,
  hook: 'patient-view' | 'order-select',
  opts: { prefetch?: Record<string, unknown> },
) {
  const context: Record<string, unknown> = { userId: 'Practitioner/onc-1', patientId: PID };
  if (hook === 'order-select') {
    context.draftOrders = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: draftMedicationRequest(PID, 'd-entrec', 'entrectinib 600 mg capsule') }],
    };
    context.selections = ['MedicationRequest/d-entrec'];
  }
  const started = performance.now();
  const res = await app.request(`http://cds.faults.test/cds-services/alk-ros1-${hook}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      hook,
      hookInstance: `faults-${Math.random()}`,
      fhirServer: fhir.base,
      fhirAuthorization: {
        access_token: 'fault-test-token',
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'patient/*.read',
        subject: 'cds',
        patient: PID,
      },
      context,
      ...(opts.prefetch ? { prefetch: opts.prefetch } : {}),
    }),
  });
  const ms = performance.now() - started;
  const body = (await res.json()) as { cards?: Card[]; resourceType?: string };
  return { status: res.status, body, ms };
}

const pretherapy = (cards: Card[]) => cards.find((c) => c.source.topic.code === 'pretherapy-checks');

/** Prefetch with every key but the Observation searches: those come from the faulty server. */
function prefetchWithoutObservations() {
  const prefetch = prefetchFor(record, PID);
  for (const key of OBSERVATION_KEYS) delete prefetch[key];
  return prefetch;
}

describe('FHIR fallback under faults (real sockets on 127.0.0.1)', () => {
  it('no fault: the fallback gives the same pre-therapy card as prefetch (LVEF and uric acid missing)', async () => {
    fhir.faults.clear();
    const r = await call(makeApp(), 'patient-view', { prefetch: prefetchWithoutObservations() });
    expect(r.status).toBe(200);
    expect(pretherapy(r.body.cards ?? [])?.summary).toMatch(/missing: LVEF, Uric acid/);
  });

  describe.each(FAULTS)('%s', (fault) => {
    it('on Observation searches → 200 within the deadline; the checks they feed say "could not be checked", never "missing"', async () => {
      fhir.faults = new Map([['Observation', fault]]);
      fhir.rateLimitOnce = false;
      const before = fhir.injected;
      for (const hook of ['patient-view', 'order-select'] as const) {
        const r = await call(makeApp(), hook, { prefetch: prefetchWithoutObservations() });
        tally.scenarios++;
        expect(r.ms, `${fault} ${hook} took ${r.ms.toFixed(0)} ms`).toBeLessThan(DEADLINE_MS + MARGIN_MS);
        expect(r.status).toBe(200);
        expect(CdsResponse.safeParse(r.body).success).toBe(true);
        const card = pretherapy(r.body.cards ?? []);
        // Never all clear: a pre-therapy card is there, and it is not presented as done or missing.
        expect(card, `${fault} ${hook}: no pre-therapy card`).toBeDefined();
        expect(card?.summary).toMatch(/could not be checked/);
        expect(card?.summary).not.toMatch(/missing|done/);
        expect(card?.detail).toMatch(/LVEF[^\n]*could not be checked/);
        expect(card?.detail).not.toMatch(/: missing\.|: done\./);
        expect(JSON.stringify(r.body)).not.toContain('fault-test-token');
      }
      const injected = fhir.injected - before;
      tally.faultsByKind[fault] = (tally.faultsByKind[fault] ?? 0) + injected;
      expect(injected).toBeGreaterThan(0);
    });

    it('on every resource type, with no prefetch → 412 OperationOutcome within the deadline', async () => {
      fhir.faults = new Map(ALL_TYPES.map((t) => [t, fault]));
      fhir.rateLimitOnce = false;
      const before = fhir.injected;
      const r = await call(makeApp(), 'patient-view', {});
      tally.scenarios++;
      tally.faultsByKind[fault] = (tally.faultsByKind[fault] ?? 0) + fhir.injected - before;
      expect(r.ms, `${fault} took ${r.ms.toFixed(0)} ms`).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      expect(r.status).toBe(412);
      expect(r.body.resourceType).toBe('OperationOutcome');
    });
  });

  it('429 with Retry-After: 1 that fits the deadline → retried once, and the data arrives', async () => {
    fhir.faults = new Map([['Observation', 'http-429']]);
    fhir.rateLimitOnce = true;
    fhir.rateLimited.clear();
    const before = fhir.injected;
    const r = await call(makeApp(1_000, 2_500), 'patient-view', { prefetch: prefetchWithoutObservations() });
    tally.scenarios++;
    tally.faultsByKind['http-429 (retried)'] = fhir.injected - before;
    expect(fhir.injected - before).toBe(OBSERVATION_KEYS.length);
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(1_000);
    expect(r.ms).toBeLessThan(2_500 + MARGIN_MS);
    expect(pretherapy(r.body.cards ?? [])?.summary).toMatch(/missing: LVEF, Uric acid/);
    fhir.rateLimitOnce = false;
  });
});
