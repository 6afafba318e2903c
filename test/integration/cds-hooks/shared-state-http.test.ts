/**
 * Two replicas of the service over real HTTP, one PostgreSQL for their shared state (PGlite served
 * over the wire protocol by @electric-sql/pglite-socket), signed JWTs on every call: what one
 * replica saw, the other knows, with at most one database round trip before each answer (order-select
 * records its cards after answering). The same with Debian's PostgreSQL, three `npm run serve`
 * processes and nginx: test/reliability/multi-replica.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../cds-hooks/app.ts';
import { createJwtVerifier } from '../../../cds-hooks/auth/index.ts';
import { openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../../cds-hooks/log.ts';
import type { Card } from '../../../cds-hooks/schemas.ts';
import { inProcessSharedState } from '../../../cds-hooks/shared-state/index.ts';
import { openPostgresSharedState } from '../../../cds-hooks/shared-state/postgres-shared-state.ts';
import type { ShownCardsStore } from '../../../cds-hooks/shown-cards.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import {
  alkG1202rRecord,
  draftMedicationRequest,
  medicationRequest,
  NOW,
  ros1BrainMetsRecord,
  ros1NaiveRecord,
} from '../../fixtures/cds/records.ts';
import { type JwksServer, startJwksServer } from '../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../../fixtures/cds-jwt/keys.ts';
import { SANDBOX_ISS, sandboxStyleToken } from '../../fixtures/cds-jwt/tokens.ts';
import { freshDataDir, removeTempDirs } from '../../unit/cds-hooks/feedback/helpers.ts';
import { prefetchFor, search, searchset } from './fhir-search.ts';

/** The URL clients call (a load balancer's); both replicas answer for it. */
const PUBLIC = 'http://cds.balancer.test';
const PID = 'p-replicas';
/** Set in beforeAll: a FHIR server answering every search after FHIR_DELAY_MS. */
let fhirBase = '';
const FHIR_DELAY_MS = 600;
/** Long enough for order-select's memory to be written after its answer, were it to be. */
const READ_CARDS_MS = 300;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** What the FHIR server was asked (the service did read the record). */
const fhirAskedAbout: string[] = [];

/** Rows in the shown-cards table now. */
const shownRows = async () =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM cds_shown_card')).rows[0]?.n ?? 0;

/**
 * Order-select records its cards once its answer has gone out: wait (5 s at most) until more than
 * `before` rows are there, as a clinician reads the cards before signing.
 */
async function shownRecorded(before: number) {
  const deadline = Date.now() + 5000;
  while ((await shownRows()) <= before) {
    if (Date.now() > deadline) throw new Error('order-select did not record the cards it showed');
    await pause(20);
  }
}

type State = Awaited<ReturnType<typeof openPostgresSharedState>>;
interface Replica {
  url: string;
  state: State;
  close(): Promise<void>;
}

let db: PGlite;
let pgServer: PGLiteSocketServer;
let databaseUrl = '';
let jwks: JwksServer;
let key: TestKey;
let otherKey: TestKey;
let fhir: Server;
const OTHER_ISS = 'https://ehr-b.example.org';
const replicas: Replica[] = [];

async function startReplica(shownCards?: ShownCardsStore): Promise<Replica> {
  const state = await openPostgresSharedState({ databaseUrl, poolMax: 1, purgeIntervalMs: 0 });
  const app = createApp({
    kb: getKnowledge(),
    config: {
      publicBaseUrl: PUBLIC,
      corsOrigins: [],
      appLaunchUrl: `${PUBLIC}/app/launch.html`,
      formularyUnavailable: [],
      fhirTimeoutMs: 1000,
      fhirDeadlineMs: 2000,
      fhirMaxPages: 5,
    },
    verifier: createJwtVerifier({
      trustedIssuers: [
        { iss: SANDBOX_ISS, jwks_url: jwks.url('/jwks.json'), fhir_servers: [fhirBase] },
        { iss: OTHER_ISS, jwks_url: jwks.url('/other/jwks.json'), fhir_servers: [fhirBase] },
      ],
      replayStore: state.replay,
    }),
    feedback: await openFeedbackStore({ dataDir: 'memory://' }),
    sharedState: shownCards ? { ...inProcessSharedState(), shownCards } : state,
    logger: createLogger('silent'),
    now: () => new Date(NOW),
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const replica: Replica = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await state.close();
    },
  };
  replicas.push(replica);
  return replica;
}

const tokenFor = (service: string, iss = SANDBOX_ISS) =>
  sandboxStyleToken({
    key: iss === SANDBOX_ISS ? key : otherKey,
    aud: `${PUBLIC}/cds-services/${service}`,
    nowSec: Math.floor(Date.now() / 1000),
    claims: { iss },
  });

async function call(replica: Replica, service: string, body: unknown, token?: string, signal?: AbortSignal) {
  const res = await fetch(`${replica.url}/cds-services/${service}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token ?? (await tokenFor(service))}`,
    },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, cards: (text ? JSON.parse(text).cards : undefined) as Card[] | undefined };
}

let hookInstance = 0;
const record = ros1BrainMetsRecord(PID);
const LOST_PID = 'p-lost-answer';
const lostRecord = ros1BrainMetsRecord(LOST_PID);
const draft = draftMedicationRequest(PID, 'draft-crizotinib', 'crizotinib');
/** A hook as an EHR sends it: with its fhirServer, and with prefetch unless `viaFhirServer`. */
function hookBody(
  hook: string,
  context: Record<string, unknown> = {},
  opts: { pid?: string; resources?: Record<string, unknown>[]; viaFhirServer?: boolean } = {},
) {
  const pid = opts.pid ?? PID;
  return {
    hook,
    hookInstance: `5d0c1f7e-3a49-4c1b-9a77-0c1d2e3f40${String(++hookInstance).padStart(2, '0')}`,
    fhirServer: fhirBase,
    ...(opts.viaFhirServer
      ? {
          fhirAuthorization: {
            access_token: `tok-${pid}`,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'patient/*.read',
            subject: 'cds-service',
          },
        }
      : { prefetch: prefetchFor(opts.resources ?? record, pid) }),
    context: { userId: 'Practitioner/onc-1', patientId: pid, ...context },
  };
}
const draftsOf = (d: Record<string, unknown>) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [{ resource: d }],
});
const orderSelect = (opts: Parameters<typeof hookBody>[2] = {}, d = draft) =>
  hookBody('order-select', { selections: [`MedicationRequest/${d.id}`], draftOrders: draftsOf(d) }, opts);
const orderSign = (opts: Parameters<typeof hookBody>[2] = {}, d = draft) =>
  hookBody('order-sign', { draftOrders: draftsOf(d) }, opts);
const crizotinibFinding = (cards: Card[] | undefined) =>
  (cards ?? []).some((c) => c.source.topic?.code === 'order-concordance' && /Crizotinib/.test(c.summary));

beforeAll(async () => {
  db = new PGlite(await freshDataDir());
  await db.waitReady;
  pgServer = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await pgServer.start();
  databaseUrl = `postgres://postgres:postgres@${pgServer.getServerConn()}/postgres?sslmode=disable`;
  jwks = await startJwksServer();
  [key, otherKey] = await Promise.all([makeKey('ES384'), makeKey('ES384')]);
  jwks.publish('/jwks.json', jwksOf(key));
  jwks.publish('/other/jwks.json', jwksOf(otherKey));
  // The EHR's FHIR server, slow enough for a client to give up on an order-select first.
  fhir = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fhir.local');
    const type = url.pathname.split('/').pop() ?? '';
    fhirAskedAbout.push(`${url.pathname}?${decodeURIComponent(url.search)}`);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify(searchset(search([...record, ...lostRecord], type, url.searchParams))));
    }, FHIR_DELAY_MS);
  });
  await new Promise<void>((resolve) => fhir.listen(0, '127.0.0.1', () => resolve()));
  fhirBase = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
}, 60_000);

afterAll(async () => {
  for (const r of replicas.splice(0)) await r.close();
  await jwks?.close();
  fhir?.closeAllConnections();
  await new Promise<void>((resolve) => (fhir ? fhir.close(() => resolve()) : resolve()));
  await pgServer?.stop();
  await db?.close();
  removeTempDirs();
});

describe('two replicas sharing PostgreSQL', () => {
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    a = await startReplica();
    b = await startReplica();
  }, 30_000);

  it('refuses on replica B a token already used on replica A', async () => {
    const service = 'alk-ros1-patient-view';
    const token = await tokenFor(service);
    expect((await call(a, service, hookBody('patient-view'), token)).status).toBe(200);
    expect((await call(b, service, hookBody('patient-view'), token)).status).toBe(401);
    expect((await call(a, service, hookBody('patient-view'), token)).status).toBe(401);
  });

  it('order-sign on replica B does not repeat the finding order-select showed on replica A', async () => {
    const before = await shownRows();
    const select = await call(a, 'alk-ros1-order-select', orderSelect());
    expect(select.status).toBe(200);
    expect(crizotinibFinding(select.cards)).toBe(true);
    await shownRecorded(before);
    const sign = await call(b, 'alk-ros1-order-sign', orderSign());
    expect(sign.status).toBe(200);
    expect(crizotinibFinding(sign.cards)).toBe(false);
  });

  it('what one EHR was shown does not hide the card in another EHR with the same patient and order ids', async () => {
    const pid = 'p-two-ehrs';
    const opts = { pid, resources: ros1BrainMetsRecord(pid) };
    const d = draftMedicationRequest(pid, 'draft-1', 'crizotinib');
    const before = await shownRows();
    expect(crizotinibFinding((await call(a, 'alk-ros1-order-select', orderSelect(opts, d))).cards)).toBe(
      true,
    );
    await shownRecorded(before);
    const otherEhr = await call(
      b,
      'alk-ros1-order-sign',
      orderSign(opts, d),
      await tokenFor('alk-ros1-order-sign', OTHER_ISS),
    );
    expect(otherEhr.status).toBe(200);
    expect(crizotinibFinding(otherEhr.cards)).toBe(true);
  });

  it('a draft changed to another drug under the same order id is a new finding at order-sign', async () => {
    // ROS1+, no brain metastases, TKI-naive: ceritinib and lorlatinib are both "not preferred" here.
    const pid = 'p-changed-draft';
    const opts = { pid, resources: ros1NaiveRecord(pid) };
    const named = (cards: Card[] | undefined, drug: RegExp) =>
      (cards ?? []).some((c) => c.source.topic?.code === 'order-concordance' && drug.test(c.summary));
    const before = await shownRows();
    const selected = await call(
      a,
      'alk-ros1-order-select',
      orderSelect(opts, draftMedicationRequest(pid, 'draft-1', 'ceritinib')),
    );
    expect(named(selected.cards, /Ceritinib/)).toBe(true);
    await shownRecorded(before);
    const sign = await call(
      b,
      'alk-ros1-order-sign',
      orderSign(opts, draftMedicationRequest(pid, 'draft-1', 'lorlatinib 100 mg tablet', '2103164')),
    );
    expect(sign.status).toBe(200);
    expect(named(sign.cards, /Lorlatinib/)).toBe(true);
  });

  it('a critical finding (lorlatinib with rifampin) is shown again at order-sign', async () => {
    const pid = 'p-rifampin';
    const resources = alkG1202rRecord(pid);
    resources.push(medicationRequest(pid, 'rifampin', 'rifampin 600 MG Oral Capsule', undefined));
    const d = draftMedicationRequest(pid, 'draft-lorlatinib', 'lorlatinib 100 mg tablet', '2103164');
    const critical = (cards: Card[] | undefined) =>
      (cards ?? []).some((c) => c.indicator === 'critical' && /rifampin/.test(c.summary));
    const before = await shownRows();
    expect(critical((await call(a, 'alk-ros1-order-select', orderSelect({ pid, resources }, d))).cards)).toBe(
      true,
    );
    await shownRecorded(before);
    expect(critical((await call(b, 'alk-ros1-order-sign', orderSign({ pid, resources }, d))).cards)).toBe(
      true,
    );
  });

  it('an order-select answer the client never received hides nothing at order-sign', async () => {
    // The service reads the record from the slow FHIR server; the client gives up before it answers.
    const d = draftMedicationRequest(LOST_PID, 'draft-1', 'crizotinib');
    const gaveUp = await call(
      a,
      'alk-ros1-order-select',
      orderSelect({ pid: LOST_PID, viaFhirServer: true }, d),
      undefined,
      AbortSignal.timeout(FHIR_DELAY_MS / 3),
    ).catch((e: unknown) => e);
    expect(gaveUp).toBeInstanceOf(Error);
    await pause(FHIR_DELAY_MS * 2 + READ_CARDS_MS);
    // The service did get the request and read the record: only its answer went nowhere.
    expect(fhirAskedAbout.some((q) => q.includes(LOST_PID))).toBe(true);
    const sign = await call(b, 'alk-ros1-order-sign', orderSign({ pid: LOST_PID, resources: lostRecord }, d));
    expect(sign.status).toBe(200);
    expect(crizotinibFinding(sign.cards)).toBe(true);
  });

  it('takes one database round trip for patient-view, two for order-select (the second after answering) and order-sign', async () => {
    const trips = async (service: string, body: unknown) => {
      const before = a.state.statements;
      expect((await call(a, service, body)).status).toBe(200);
      return a.state.statements - before;
    };
    // The replay check; at order-sign the memory read; order-select writes its memory once its
    // answer has gone out (that it waits for the answer: the test above).
    expect(await trips('alk-ros1-patient-view', hookBody('patient-view'))).toBe(1);
    const before = a.state.statements;
    await call(a, 'alk-ros1-order-select', orderSelect());
    const deadline = Date.now() + 5000;
    while (a.state.statements - before < 2 && Date.now() < deadline) await pause(20);
    await pause(READ_CARDS_MS);
    expect(a.state.statements - before).toBe(2);
    expect(await trips('alk-ros1-order-sign', orderSign())).toBe(2);
  });
});

describe('when PostgreSQL cannot be reached', () => {
  it('refuses tokens with 503 (never serves unchecked), is not ready, and is still alive', async () => {
    const down = await startReplica();
    await down.state.close();
    const res = await call(down, 'alk-ros1-patient-view', hookBody('patient-view'));
    expect(res.status).toBe(503);
    const health = await fetch(`${down.url}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: 'degraded',
      sharedState: 'postgres',
      sharedStateStore: 'unavailable',
    });
    expect((await fetch(`${down.url}/health/live`)).status).toBe(200);
  });
});

describe('when the shown-cards memory cannot be reached', () => {
  it('answers order-select, and order-sign shows the finding again rather than hiding it', async () => {
    const broken: ShownCardsStore = {
      remember: async () => {
        throw new Error('connection refused');
      },
      shownAmong: async () => {
        throw new Error('connection refused');
      },
    };
    const c = await startReplica(broken);
    const select = await call(c, 'alk-ros1-order-select', orderSelect());
    expect(select.status).toBe(200);
    expect(crizotinibFinding(select.cards)).toBe(true);
    await pause(READ_CARDS_MS);
    const sign = await call(c, 'alk-ros1-order-sign', orderSign());
    expect(sign.status).toBe(200);
    expect(crizotinibFinding(sign.cards)).toBe(true);
  });
});
