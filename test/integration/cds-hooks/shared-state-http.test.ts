/**
 * Two replicas of the service over real HTTP, one PostgreSQL for their shared state (PGlite served
 * over the wire protocol by @electric-sql/pglite-socket), signed JWTs on every call: what one
 * replica saw, the other knows, in one or two database round trips per request. The same with
 * Debian's PostgreSQL, three `npm run serve` processes and nginx: test/reliability/multi-replica.test.ts.
 */
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
import { draftMedicationRequest, NOW, ros1BrainMetsRecord } from '../../fixtures/cds/records.ts';
import { type JwksServer, startJwksServer } from '../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../../fixtures/cds-jwt/keys.ts';
import { SANDBOX_ISS, sandboxStyleToken } from '../../fixtures/cds-jwt/tokens.ts';
import { freshDataDir, removeTempDirs } from '../../unit/cds-hooks/feedback/helpers.ts';
import { prefetchFor } from './fhir-search.ts';

/** The URL clients call (a load balancer's); both replicas answer for it. */
const PUBLIC = 'http://cds.balancer.test';
const PID = 'p-replicas';

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
      trustedIssuers: [{ iss: SANDBOX_ISS, jwks_url: jwks.url('/jwks.json') }],
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

const tokenFor = (service: string) =>
  sandboxStyleToken({ key, aud: `${PUBLIC}/cds-services/${service}`, nowSec: Math.floor(Date.now() / 1000) });

async function call(replica: Replica, service: string, body: unknown, token?: string) {
  const res = await fetch(`${replica.url}/cds-services/${service}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token ?? (await tokenFor(service))}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, cards: (text ? JSON.parse(text).cards : undefined) as Card[] | undefined };
}

let hookInstance = 0;
const record = ros1BrainMetsRecord(PID);
const draft = draftMedicationRequest(PID, 'draft-crizotinib', 'crizotinib');
function hookBody(hook: string, context: Record<string, unknown> = {}) {
  return {
    hook,
    hookInstance: `5d0c1f7e-3a49-4c1b-9a77-0c1d2e3f40${String(++hookInstance).padStart(2, '0')}`,
    context: { userId: 'Practitioner/onc-1', patientId: PID, ...context },
    prefetch: prefetchFor(record, PID),
  };
}
const drafts = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] };
const orderSelect = () =>
  hookBody('order-select', { selections: ['MedicationRequest/draft-crizotinib'], draftOrders: drafts });
const orderSign = () => hookBody('order-sign', { draftOrders: drafts });
const crizotinibFinding = (cards: Card[] | undefined) =>
  (cards ?? []).some((c) => c.source.topic?.code === 'order-concordance' && /Crizotinib/.test(c.summary));

beforeAll(async () => {
  db = new PGlite(await freshDataDir());
  await db.waitReady;
  pgServer = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await pgServer.start();
  databaseUrl = `postgres://postgres:postgres@${pgServer.getServerConn()}/postgres?sslmode=disable`;
  jwks = await startJwksServer();
  key = await makeKey('ES384');
  jwks.publish('/jwks.json', jwksOf(key));
}, 60_000);

afterAll(async () => {
  for (const r of replicas.splice(0)) await r.close();
  await jwks?.close();
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
    const select = await call(a, 'alk-ros1-order-select', orderSelect());
    expect(select.status).toBe(200);
    expect(crizotinibFinding(select.cards)).toBe(true);
    const sign = await call(b, 'alk-ros1-order-sign', orderSign());
    expect(sign.status).toBe(200);
    expect(crizotinibFinding(sign.cards)).toBe(false);
  });

  it('takes one database round trip for patient-view, two for order-select and order-sign', async () => {
    const trips = async (service: string, body: unknown) => {
      const before = a.state.statements;
      expect((await call(a, service, body)).status).toBe(200);
      return a.state.statements - before;
    };
    // patient-view: the replay check. Order hooks: the replay check, then the memory, written
    // before answering (so that order-sign on another replica reads it) or read.
    expect(await trips('alk-ros1-patient-view', hookBody('patient-view'))).toBe(1);
    expect(await trips('alk-ros1-order-select', orderSelect())).toBe(2);
    expect(await trips('alk-ros1-order-sign', orderSign())).toBe(2);
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
    const sign = await call(c, 'alk-ros1-order-sign', orderSign());
    expect(sign.status).toBe(200);
    expect(crizotinibFinding(sign.cards)).toBe(true);
  });
});
