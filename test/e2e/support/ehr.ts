/**
 * A minimal SMART EHR for browser tests, in one node:http server: launch-config.json,
 * smart-configuration, authorize (PKCE S256 checks), token, FHIR reads and searches that require the
 * bearer token, and the production build of the app as static files. Faults can be injected per FHIR
 * query (by data-requirement id), at the token endpoint, or for the whole FHIR server after the token.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { requirementForUrl } from '../../../src/fhir/queries.ts';
import { search, searchset } from '../../integration/cds-hooks/fhir-search.ts';

export const CLIENT_ID = 'e2e-client';

type R = Record<string, any>;

/** What a FHIR request gets instead of its answer. */
export type FhirFault =
  /** This status and body (default: an OperationOutcome). */
  | { status: number; body?: unknown }
  /** No answer at all: the request stays open until the server closes. */
  | 'hang'
  /** The connection is dropped without an HTTP answer (a server that is down). */
  | 'reset';

export interface EhrOptions {
  patientId: string;
  resources: readonly R[];
  /** Extra launch-config.json fields (e.g. `requestTimeoutMs`). */
  launchConfig?: Record<string, unknown>;
  /** launch-config.json never answers (the app has not rendered anything of its own yet). */
  hangLaunchConfig?: boolean;
  /** Per authorised FHIR request: `queryId` is the data requirement it was made from (if any). */
  fhirFault?: (req: { type: string; queryId: string | undefined; url: URL }) => FhirFault | undefined;
  /** The token endpoint answers this instead of a token. */
  tokenFault?: { status: number; body: unknown };
  /** Once a token is issued, every FHIR request has its connection dropped. */
  fhirDownAfterToken?: boolean;
}

export interface Ehr {
  server: Server;
  base: string;
  fhirBase: string;
  tokenCalls: number;
  fhirCalls: number;
  unauthorised: number;
  authorizeProblems: string[];
  /** FHIR requests answered with a fault, as `queryId or path: fault`. */
  faulted: string[];
  /** The EHR launch URL for this server (`launch.html?iss=…&launch=xyz`). */
  launchUrl: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

const b64url = (buf: Buffer) =>
  buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const outcome = (code: string, diagnostics?: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code, ...(diagnostics ? { diagnostics } : {}) }],
});

export function startEhr(dist: string, options: EhrOptions): Promise<Ehr> {
  const { patientId, resources } = options;
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const tokens = new Set<string>();
  const ehr = {
    tokenCalls: 0,
    fhirCalls: 0,
    unauthorised: 0,
    authorizeProblems: [] as string[],
    faulted: [] as string[],
  } as Ehr;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d) => {
        s += d;
      });
      req.on('end', () => resolve(s));
    });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', ehr.base);
    const p = url.pathname;
    const fhirBase = ehr.fhirBase;
    if (p === '/launch-config.json' && options.hangLaunchConfig) return;
    if (p === '/launch-config.json')
      return json(res, 200, {
        clientId: CLIENT_ID,
        issMatch: [fhirBase.replace(/[.]/g, '\\.')],
        redirectUri: 'index.html',
        ...options.launchConfig,
      });
    if (p.startsWith('/fhir/') && options.fhirDownAfterToken && tokens.size > 0) {
      ehr.fhirCalls++;
      ehr.faulted.push(`${p}: reset`);
      return req.socket.destroy();
    }
    if (p === '/fhir/.well-known/smart-configuration')
      return json(res, 200, {
        issuer: ehr.base,
        authorization_endpoint: `${ehr.base}/auth/authorize`,
        token_endpoint: `${ehr.base}/auth/token`,
        code_challenge_methods_supported: ['S256'],
        capabilities: [
          'launch-ehr',
          'client-public',
          'context-ehr-patient',
          'permission-v2',
          'permission-v1',
          'context-passthrough-style',
        ],
      });
    if (p === '/fhir/metadata')
      return json(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
      });
    if (p === '/fhir/smart-style.json')
      return json(res, 200, { color_highlight: '#0b5cad', dim_border_radius: '6px' });
    if (p === '/auth/authorize') {
      const q = url.searchParams;
      const problems = [
        q.get('response_type') !== 'code' && 'response_type',
        q.get('client_id') !== CLIENT_ID && 'client_id',
        q.get('code_challenge_method') !== 'S256' && 'code_challenge_method',
        !q.get('code_challenge') && 'code_challenge',
        q.get('launch') !== 'xyz' && 'launch',
        q.get('aud') !== fhirBase && 'aud',
        !/^[0-9a-f-]{36}$/.test(q.get('state') ?? '') && 'state',
        !q.get('redirect_uri')?.startsWith(ehr.base) && 'redirect_uri',
        !q.get('scope')?.split(' ').includes('launch') && 'scope',
      ].filter((x): x is string => typeof x === 'string');
      ehr.authorizeProblems.push(...problems);
      if (problems.length)
        return json(res, 400, { error: 'invalid_request', error_description: problems.join(',') });
      const code = randomUUID();
      codes.set(code, { challenge: q.get('code_challenge') ?? '', redirectUri: q.get('redirect_uri') ?? '' });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (p === '/auth/token' && req.method === 'POST') {
      ehr.tokenCalls++;
      const form = new URLSearchParams(await readBody(req));
      if (options.tokenFault) return json(res, options.tokenFault.status, options.tokenFault.body);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !grant ||
        form.get('grant_type') !== 'authorization_code' ||
        form.get('redirect_uri') !== grant.redirectUri ||
        b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
      )
        return json(res, 400, { error: 'invalid_grant' });
      const token = randomUUID();
      tokens.add(token);
      return json(
        res,
        200,
        {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'launch openid fhirUser patient/*.rs',
          patient: patientId,
          need_patient_banner: true,
          smart_style_url: `${fhirBase}/smart-style.json`,
        },
        { 'cache-control': 'no-store', pragma: 'no-cache' },
      );
    }
    if (p.startsWith('/fhir/')) {
      ehr.fhirCalls++;
      const auth = req.headers.authorization ?? '';
      if (!tokens.has(auth.replace(/^Bearer /, ''))) {
        ehr.unauthorised++;
        return json(res, 401, outcome('login'));
      }
      const [type = '', id] = p.slice('/fhir/'.length).split('/');
      const queryId = requirementForUrl(`${p.slice('/fhir/'.length)}${url.search}`)?.id;
      const fault = options.fhirFault?.({ type, queryId, url });
      if (fault) {
        ehr.faulted.push(`${queryId ?? p}: ${typeof fault === 'string' ? fault : fault.status}`);
        if (fault === 'hang') return; // never answered; closed with the server
        if (fault === 'reset') return req.socket.destroy();
        return json(res, fault.status, fault.body ?? outcome('exception', `injected HTTP ${fault.status}`));
      }
      if (id) {
        const found = resources.find((r) => r.resourceType === type && r.id === id);
        return found ? json(res, 200, found) : json(res, 404, outcome('not-found'));
      }
      return json(res, 200, searchset(search(resources, type, url.searchParams)));
    }
    // The built app (static files).
    const file = normalize(join(dist, p === '/' ? 'index.html' : p));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      ehr.server = server;
      ehr.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      ehr.fhirBase = `${ehr.base}/fhir`;
      ehr.launchUrl = `${ehr.base}/launch.html?iss=${encodeURIComponent(ehr.fhirBase)}&launch=xyz`;
      ehr.close = () =>
        new Promise<void>((done) => {
          server.closeAllConnections(); // hung requests included
          server.close(() => done());
        });
      resolve(ehr);
    }),
  );
}
