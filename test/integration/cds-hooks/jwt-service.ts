/**
 * The CDS service over real HTTP on loopback with JWT authentication on, for integration tests: a
 * JWKS server publishing a sandbox-style (ES384) and an Epic-style (RS384) client's keys, the
 * service trusting both (with the `fhir_servers` given), and a caller that signs a fresh token with
 * the exact `aud` of each URL it calls.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../../../cds-hooks/app.ts';
import { createJwtVerifier, ReplayCache, type TrustedIssuer } from '../../../cds-hooks/auth/index.ts';
import type { FeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../../cds-hooks/log.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import { NOW } from '../../fixtures/cds/records.ts';
import { startJwksServer } from '../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey } from '../../fixtures/cds-jwt/keys.ts';
import { EPIC_ISS, epicStyleToken, SANDBOX_ISS, sandboxStyleToken } from '../../fixtures/cds-jwt/tokens.ts';

export type Client = 'sandbox' | 'epic';

export interface JwtService {
  base: string;
  /** POST (with a body) or GET, signed as `client` for exactly this URL. */
  call(
    client: Client,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: any; headers: Headers; token: string }>;
  close(): Promise<void>;
}

export async function startJwtService(options: {
  feedback: FeedbackStore;
  fhirServers?: Partial<Record<Client, string[]>>;
  /** Live `jti`s the replay store may hold (default: the service's own default). */
  replayMaxEntries?: number;
  /** Turns on `/metrics` for this bearer token. */
  metricsToken?: string;
}): Promise<JwtService> {
  const [sandboxKey, epicKey] = await Promise.all([makeKey('ES384'), makeKey('RS384')]);
  const jwks = await startJwksServer();
  jwks.publish('/sandbox/jwks.json', jwksOf(sandboxKey));
  jwks.publish('/epic/jwks.json', jwksOf(epicKey));
  const issuer = (iss: string, path: string, servers?: string[]): TrustedIssuer => ({
    iss,
    jwks_url: jwks.url(path),
    ...(servers ? { fhir_servers: servers } : {}),
  });
  const trustedIssuers = [
    issuer(SANDBOX_ISS, '/sandbox/jwks.json', options.fhirServers?.sandbox),
    issuer(EPIC_ISS, '/epic/jwks.json', options.fhirServers?.epic),
  ];
  let app: ReturnType<typeof createApp> | undefined;
  const server = serve({
    fetch: (req) => (app as ReturnType<typeof createApp>).fetch(req),
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = createApp({
    kb: getKnowledge(),
    config: {
      publicBaseUrl: base,
      corsOrigins: [],
      appLaunchUrl: `${base}/app/launch.html`,
      formularyUnavailable: [],
      fhirTimeoutMs: 1000,
      fhirDeadlineMs: 2000,
      fhirMaxPages: 5,
      ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    },
    verifier: createJwtVerifier({
      trustedIssuers,
      ...(options.replayMaxEntries
        ? { replayStore: new ReplayCache({ maxEntries: options.replayMaxEntries }) }
        : {}),
    }),
    feedback: options.feedback,
    logger: createLogger('silent'),
    now: () => new Date(NOW),
  });

  return {
    base,
    async call(client, path, body, given) {
      const url = `${base}${path}`;
      const nowSec = Math.floor(Date.now() / 1000);
      const token =
        given ??
        (client === 'sandbox'
          ? await sandboxStyleToken({ key: sandboxKey, aud: url, nowSec })
          : await epicStyleToken({ key: epicKey, aud: url, nowSec }));
      const res = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers, token };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await jwks.close();
    },
  };
}
