/**
 * The service over real HTTP on loopback with JWT authentication on: sandbox-, Epic- and
 * Oracle-style tokens, the exact `aud` per endpoint, replay, untrusted issuers, and logs that never
 * carry a token.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../cds-hooks/app.ts';
import { createJwtVerifier } from '../../../cds-hooks/auth/index.ts';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../../cds-hooks/log.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import { NOW, ros1BrainMetsRecord } from '../../fixtures/cds/records.ts';
import { type JwksServer, startJwksServer } from '../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../../fixtures/cds-jwt/keys.ts';
import {
  EPIC_ISS,
  epicStyleToken,
  hmacToken,
  ORACLE_ISS,
  oracleStyleToken,
  SANDBOX_ISS,
  sandboxStyleToken,
  unsignedToken,
} from '../../fixtures/cds-jwt/tokens.ts';
import { prefetchFor } from './fhir-search.ts';

let jwks: JwksServer;
let feedback: FeedbackStore;
let server: ReturnType<typeof serve>;
let base = '';
let app: ReturnType<typeof createApp>;
const logs: string[] = [];
const keys: Record<'sandbox' | 'epic' | 'oracle' | 'stranger', TestKey> = {} as never;
const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [keys.sandbox, keys.epic, keys.oracle, keys.stranger] = await Promise.all([
    makeKey('ES384'),
    makeKey('RS384'),
    makeKey('ES256'),
    makeKey('ES384'),
  ]);
  jwks = await startJwksServer();
  jwks.publish('/sandbox/jwks.json', jwksOf(keys.sandbox));
  jwks.publish('/epic/jwks.json', jwksOf(keys.epic));
  jwks.publish('/oracle/jwks.json', jwksOf(keys.oracle));
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  server = serve({ fetch: (req) => app.fetch(req), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = createApp({
    kb: getKnowledge(),
    config: {
      publicBaseUrl: base,
      corsOrigins: [],
      appLaunchUrl: `${base}/launch.html`,
      formularyUnavailable: [],
      fhirTimeoutMs: 1000,
      fhirDeadlineMs: 2000,
      fhirMaxPages: 5,
      // The operator's choice that puts discovery behind a JWT too (CDS_DISCOVERY_REQUIRES_JWT).
      discoveryRequiresJwt: true,
    },
    verifier: createJwtVerifier({
      trustedIssuers: [
        { iss: SANDBOX_ISS, jwks_url: jwks.url('/sandbox/jwks.json') },
        { iss: EPIC_ISS, jwks_url: jwks.url('/epic/jwks.json') },
        { iss: ORACLE_ISS, jwks_url: jwks.url('/oracle/jwks.json') },
      ],
    }),
    feedback,
    logger: createLogger(
      'info',
      new Writable({
        write(chunk, _e, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    ),
    now: () => new Date(NOW),
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await jwks.close();
  await feedback.close();
});

const record = ros1BrainMetsRecord('p-http');
const hookBody = () => ({
  hook: 'patient-view',
  hookInstance: crypto.randomUUID(),
  context: { userId: 'Practitioner/1', patientId: 'p-http' },
  prefetch: prefetchFor(record, 'p-http'),
});

async function call(path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('JWT-protected endpoints over loopback HTTP', () => {
  it('discovery without a token, when the operator requires one → 401 OperationOutcome saying nothing about why', async () => {
    const r = await call('/cds-services', undefined);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(r.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'security', diagnostics: 'unauthorized' }],
    });
  });

  it('discovery with a CDS Hooks sandbox token (ES384, jku, aud …/cds-services) → 200', async () => {
    const token = await sandboxStyleToken({
      key: keys.sandbox,
      aud: `${base}/cds-services`,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    expect((await call('/cds-services', token)).status).toBe(200);
  });

  it('a service call needs aud = that service URL exactly', async () => {
    const path = '/cds-services/alk-ros1-patient-view';
    const good = await sandboxStyleToken({
      key: keys.sandbox,
      aud: `${base}${path}`,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    const ok = await call(path, good, hookBody());
    expect(ok.status).toBe(200);
    expect(ok.body.cards.length).toBeGreaterThan(0);
    const discoveryAud = await sandboxStyleToken({
      key: keys.sandbox,
      aud: `${base}/cds-services`,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    expect((await call(path, discoveryAud, hookBody())).status).toBe(401);
    const otherService = await sandboxStyleToken({
      key: keys.sandbox,
      aud: `${base}/cds-services/alk-ros1-order-sign`,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    expect((await call(path, otherService, hookBody())).status).toBe(401);
  });

  it('Epic-style (RS384, sub, nbf 5 minutes back, 15-minute lifetime) and Oracle-style (ES256, no jku) tokens are accepted', async () => {
    const path = '/cds-services/alk-ros1-patient-view';
    const epic = await epicStyleToken({
      key: keys.epic,
      aud: `${base}${path}`,
      nowSec: nowSec(),
      jku: jwks.url('/epic/jwks.json'),
    });
    expect((await call(path, epic, hookBody())).status).toBe(200);
    const oracle = await oracleStyleToken({ key: keys.oracle, aud: `${base}${path}`, nowSec: nowSec() });
    expect((await call(path, oracle, hookBody())).status).toBe(200);
  });

  it('a replayed token, an untrusted issuer, alg none and HS256 → 401', async () => {
    const path = '/cds-services/alk-ros1-patient-view';
    const aud = `${base}${path}`;
    const once = await sandboxStyleToken({
      key: keys.sandbox,
      aud,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    expect((await call(path, once, hookBody())).status).toBe(200);
    expect((await call(path, once, hookBody())).status).toBe(401);
    const stranger = await sandboxStyleToken({
      key: keys.stranger,
      aud,
      nowSec: nowSec(),
      claims: { iss: 'https://rogue.example' },
    });
    expect((await call(path, stranger, hookBody())).status).toBe(401);
    const t = nowSec();
    expect(
      (
        await call(
          path,
          unsignedToken({ iss: SANDBOX_ISS, aud, iat: t, exp: t + 60, jti: crypto.randomUUID() }),
          hookBody(),
        )
      ).status,
    ).toBe(401);
    const hs = await hmacToken({ iss: SANDBOX_ISS, aud, iat: t, exp: t + 60, jti: crypto.randomUUID() });
    expect((await call(path, hs, hookBody())).status).toBe(401);
  });

  it('feedback accepts aud = the feedback URL (sandbox behaviour) or the service URL', async () => {
    const path = '/cds-services/alk-ros1-patient-view/feedback';
    const body = {
      feedback: [
        {
          card: crypto.randomUUID(),
          outcome: 'overridden',
          overrideReason: { userComment: 'discussed at tumour board' },
          outcomeTimestamp: NOW,
        },
      ],
    };
    for (const aud of [`${base}${path}`, `${base}/cds-services/alk-ros1-patient-view`]) {
      const token = await sandboxStyleToken({
        key: keys.sandbox,
        aud,
        nowSec: nowSec(),
        jku: jwks.url('/sandbox/jwks.json'),
      });
      expect((await call(path, token, body)).status).toBe(200);
    }
    const wrong = await sandboxStyleToken({
      key: keys.sandbox,
      aud: `${base}/cds-services`,
      nowSec: nowSec(),
      jku: jwks.url('/sandbox/jwks.json'),
    });
    expect((await call(path, wrong, body)).status).toBe(401);
  });

  it('logs carry issuer and jti but never a token or the patient id', async () => {
    const joined = logs.join('');
    expect(joined).toMatch(/"iss":"https:\/\/sandbox\.cds-hooks\.org"/);
    expect(joined).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(joined).not.toMatch(/p-http/);
  });
});
