/**
 * A test double of the SMART Health IT launcher (smart-on-fhir/smart-launcher-v2) as it behaves in
 * front of a FHIR server: an OAuth server that accepts any client and redirect URI, and a FHIR
 * proxy under `/v/r4/fhir` that
 * - rewrites each request as `new URL(upstream + path).href.replace(/\/\s*\//g, '/')`, so every `//`
 *   inside the query collapses (an unencoded `http://loinc.org|…` becomes `http:/loinc.org|…`);
 * - drops `Authorization` (the server behind it must be open) after checking its own token;
 * - rewrites the upstream base URL to its own in every answer body (so `next` links stay with it).
 * The facts come from running the real launcher locally; no code of it is used here.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LauncherProxy {
  server: Server;
  /** The FHIR base the app is launched with (`iss`). */
  fhirBase: string;
  /** Every URL the proxy requested upstream, after its rewriting. */
  upstreamRequests: string[];
  /** `<appLaunchUrl>?iss=…&launch=…` for a patient, as the launcher's EHR launch builds it. */
  launchUrl(appLaunchUrl: string, patientId: string): string;
  close(): Promise<void>;
}

const b64url = (buf: Buffer) =>
  buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'access-control-allow-origin': '*',
    'access-control-allow-headers': 'authorization, content-type, accept',
    ...headers,
  });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startLauncherProxy(upstream: string): Promise<LauncherProxy> {
  const codes = new Map<string, { patient: string; challenge: string; scope: string }>();
  const tokens = new Set<string>();
  const upstreamRequests: string[] = [];
  let base = '';

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'OPTIONS') return send(res, 204, '');
    if (url.pathname === '/v/r4/fhir/.well-known/smart-configuration')
      return send(res, 200, {
        authorization_endpoint: `${base}/v/r4/auth/authorize`,
        token_endpoint: `${base}/v/r4/auth/token`,
        capabilities: [
          'launch-ehr',
          'client-public',
          'context-ehr-patient',
          'permission-v2',
          'permission-v1',
        ],
        code_challenge_methods_supported: ['S256'],
      });
    if (url.pathname === '/v/r4/auth/authorize') {
      // The launch code carries the patient (the real one is base64url JSON: [type, patient, …]).
      const launch = JSON.parse(Buffer.from(url.searchParams.get('launch') ?? '', 'base64url').toString());
      const code = randomUUID();
      codes.set(code, {
        patient: String(launch[1]),
        challenge: url.searchParams.get('code_challenge') ?? '',
        scope: url.searchParams.get('scope') ?? '',
      });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/v/r4/auth/token' && req.method === 'POST') {
      const form = await readForm(req);
      const grant = codes.get(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!grant || b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge)
        return send(res, 400, { error: 'invalid_grant' });
      const token = randomUUID();
      tokens.add(token);
      return send(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: grant.scope,
        patient: grant.patient,
        need_patient_banner: true,
      });
    }
    if (url.pathname.startsWith('/v/r4/fhir')) {
      const path = `${url.pathname.slice('/v/r4/fhir'.length)}${url.search}`;
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!path.startsWith('/metadata') && !(bearer && tokens.has(bearer)))
        return send(res, 401, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login' }],
        });
      const target = new URL(upstream + path).href.replace(/\/\s*\//g, '/');
      upstreamRequests.push(target);
      const headers: Record<string, string> = { accept: 'application/fhir+json' };
      const answer = await fetch(target, { headers });
      const text = (await answer.text()).replaceAll(upstream, `${base}/v/r4/fhir`);
      return send(res, answer.status, text, {
        'content-type': answer.headers.get('content-type') ?? 'application/fhir+json',
      });
    }
    send(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    server,
    fhirBase: `${base}/v/r4/fhir`,
    upstreamRequests,
    launchUrl(appLaunchUrl, patientId) {
      const launch = Buffer.from(JSON.stringify([0, patientId, '', 'AUTO'])).toString('base64url');
      const u = new URL(appLaunchUrl);
      u.searchParams.set('iss', `${base}/v/r4/fhir`);
      u.searchParams.set('launch', launch);
      return u.href;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
