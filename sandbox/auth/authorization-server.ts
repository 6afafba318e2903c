/**
 * The sandbox's SMART App Launch 2.x authorization server, for public clients: EHR launch (a
 * `launch` id made by the sandbox EHR page) and standalone launch (a patient picker), authorization
 * code with PKCE S256 (required; `plain` refused), exact redirect URIs, single-use codes, refresh
 * tokens with rotation, and patient/encounter/user context in the token response. Everything lives
 * in memory: a restart signs everyone out, which is what a sandbox wants.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { LRUCache } from 'lru-cache';
import { sameSecret } from '../../cds-hooks/auth/same-secret.ts';
import type { SandboxKeys } from '../keys.ts';
import { escapeHtml, renderPage } from '../page.ts';
import { grantScopes, type ResourceGrant, resourceGrants } from './scopes.ts';

export interface RegisteredClient {
  clientId: string;
  /** Exact redirect URIs (RFC 9700 §4.1.3: no pattern matching). */
  redirectUris: string[];
  name: string;
}

export interface LaunchContext {
  /** Patient id. */
  patient: string;
  encounter?: string;
  /** `Practitioner/…`, the signed-in user. */
  user: string;
  appContext?: string;
  needPatientBanner: boolean;
}

/** What an access token lets its bearer do on the FHIR server. */
export interface AccessGrant {
  clientId: string;
  scopes: string[];
  grants: ResourceGrant[];
  /** Set when the token is bound to one patient (patient/ scopes or a patient launch context). */
  patient?: string;
}

export interface AuthorizationServerOptions {
  /** e.g. `http://localhost:3000`: the server's own URL, for links and id_token `iss`. */
  base: string;
  /** The FHIR base the tokens are for (`aud` of the authorize request). */
  fhirBase: string;
  clients: RegisteredClient[];
  /** Patients offered by the standalone picker. */
  patients: () => readonly { id: string; name: string; scenario: string }[];
  defaultUser: string;
  keys: SandboxKeys;
  smartStyleUrl?: string;
  now?: () => number;
}

interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state: string;
  scopes: string[];
  codeChallenge: string;
  nonce?: string;
  context?: LaunchContext;
}

interface IssuedCode extends PendingAuthorization {
  used: boolean;
  /**
   * Every token issued from this code, and from refreshes of those, shares the code's family: a
   * replayed code revokes the whole family (RFC 9700 §4.2.4), refresh tokens included.
   */
  family: string;
}

interface RefreshGrant {
  clientId: string;
  scopes: string[];
  context?: LaunchContext;
  family?: string;
}

const CODE_LIFETIME_MS = 60_000;
/** Refresh tokens (offline_access / online_access) last a day in the sandbox. */
const REFRESH_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;
/** Per kind of grant (launches, codes, tokens…): beyond it the oldest are dropped. */
const MAX_ENTRIES = 10_000;
const LAUNCH_LIFETIME_MS = 10 * 60_000;
const PENDING_LIFETIME_MS = 10 * 60_000;
export const ACCESS_TOKEN_LIFETIME_SEC = 3600;

const randomToken = () => randomBytes(32).toString('base64url');
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export interface AuthorizationServer {
  routes: Hono;
  /** The sandbox EHR page asks for a launch id before opening the app (EHR launch). */
  createLaunch(context: LaunchContext): string;
  /** Bearer token → grant, or undefined when unknown or expired. */
  introspect(token: string): AccessGrant | undefined;
  /** A patient-bound read token for the CDS service (the hook's `fhirAuthorization`). */
  issueServiceToken(patient: string, lifetimeSec: number): { token: string; scope: string };
  smartConfiguration(): Record<string, unknown>;
}

export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const now = options.now ?? Date.now;
  const base = options.base.replace(/\/+$/, '');
  // Every grant expires by itself (lru-cache TTL entries, on this server's clock) and each kind is
  // bounded, so nothing here grows with use.
  const expiring = <V extends {}>(ttl: number) =>
    new LRUCache<string, V>({ max: MAX_ENTRIES, ttl, ttlResolution: 0, perf: { now } });
  const launches = expiring<LaunchContext>(LAUNCH_LIFETIME_MS);
  const pending = expiring<PendingAuthorization>(PENDING_LIFETIME_MS);
  const codes = expiring<IssuedCode>(CODE_LIFETIME_MS);
  const accessTokens = expiring<AccessGrant & { family?: string }>(ACCESS_TOKEN_LIFETIME_SEC * 1000);
  const refreshTokens = expiring<RefreshGrant>(REFRESH_TOKEN_LIFETIME_MS);
  /**
   * Families whose code was replayed: nothing of theirs works again, checked whenever a token is
   * used, so a token issued by an exchange still under way when the replay came is refused too.
   */
  const revokedFamilies = expiring<true>(REFRESH_TOKEN_LIFETIME_MS);
  const revoked = (grant: { family?: string }) =>
    grant.family !== undefined && revokedFamilies.has(grant.family);
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));

  function issueAccess(
    clientId: string,
    scopes: string[],
    context: LaunchContext | undefined,
    family: string | undefined,
  ) {
    const token = randomToken();
    const grants = resourceGrants(scopes);
    const patientBound = grants.some((g) => g.context === 'patient');
    accessTokens.set(token, {
      clientId,
      scopes,
      grants,
      ...(patientBound && context ? { patient: context.patient } : {}),
      ...(family ? { family } : {}),
    });
    return token;
  }

  async function tokenResponse(
    clientId: string,
    scopes: string[],
    context: LaunchContext | undefined,
    family: string | undefined,
    nonce?: string,
  ) {
    const accessToken = issueAccess(clientId, scopes, context, family);
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_SEC,
      scope: scopes.join(' '),
    };
    if (context) {
      if (scopes.includes('launch') || scopes.includes('launch/patient')) body.patient = context.patient;
      if (context.encounter && (scopes.includes('launch') || scopes.includes('launch/encounter'))) {
        body.encounter = context.encounter;
        body.fhirContext = [{ reference: `Encounter/${context.encounter}` }];
      }
      body.need_patient_banner = context.needPatientBanner;
      if (context.appContext) body.appContext = context.appContext;
      if (options.smartStyleUrl) body.smart_style_url = options.smartStyleUrl;
    }
    if (scopes.includes('offline_access') || scopes.includes('online_access')) {
      const refresh = randomToken();
      refreshTokens.set(refresh, {
        clientId,
        scopes,
        ...(context ? { context } : {}),
        ...(family ? { family } : {}),
      });
      body.refresh_token = refresh;
    }
    if (scopes.includes('openid')) {
      const user = context?.user ?? options.defaultUser;
      body.id_token = await options.keys.sign(
        {
          iss: base,
          sub: user.split('/').pop() ?? user,
          aud: clientId,
          ...(scopes.includes('fhirUser') ? { fhirUser: `${options.fhirBase}/${user}` } : {}),
          ...(nonce ? { nonce } : {}),
        },
        ACCESS_TOKEN_LIFETIME_SEC,
      );
    }
    return { accessToken, body };
  }

  const routes = new Hono();

  const errorPage = (status: 400 | 404, title: string, text: string) =>
    new Response(renderPage(title, `<p>${escapeHtml(text)}</p>`), {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });

  /** Errors after the client and redirect URI are known go back to the client (RFC 6749 §4.1.2.1). */
  const redirectError = (redirectUri: string, state: string, error: string, description: string) => {
    const back = new URL(redirectUri);
    back.searchParams.set('error', error);
    back.searchParams.set('error_description', description);
    if (state) back.searchParams.set('state', state);
    return new Response(null, { status: 302, headers: { location: back.href, 'cache-control': 'no-store' } });
  };

  function issueCode(p: PendingAuthorization) {
    const code = randomToken();
    codes.set(code, { ...p, used: false, family: randomToken() });
    const back = new URL(p.redirectUri);
    back.searchParams.set('code', code);
    if (p.state) back.searchParams.set('state', p.state);
    return new Response(null, { status: 302, headers: { location: back.href, 'cache-control': 'no-store' } });
  }

  routes.get('/authorize', (c) => {
    const q = new URL(c.req.url).searchParams;
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    const client = clients.get(clientId);
    // Never redirect to a URI that is not registered for the client (open redirector).
    if (!client) return errorPage(400, 'Unknown app', `No app is registered with client_id "${clientId}".`);
    if (!client.redirectUris.includes(redirectUri))
      return errorPage(400, 'Wrong redirect URI', `The redirect_uri is not registered for ${client.name}.`);
    const state = q.get('state') ?? '';
    if (q.get('response_type') !== 'code')
      return redirectError(redirectUri, state, 'unsupported_response_type', 'response_type must be code');
    if (q.get('code_challenge_method') !== 'S256' || !PKCE_VALUE.test(q.get('code_challenge') ?? ''))
      return redirectError(
        redirectUri,
        state,
        'invalid_request',
        'PKCE with code_challenge_method S256 is required',
      );
    if ((q.get('aud') ?? '').replace(/\/+$/, '') !== options.fhirBase)
      return redirectError(redirectUri, state, 'invalid_request', `aud must be ${options.fhirBase}`);
    const scopes = grantScopes(q.get('scope') ?? '');
    if (resourceGrants(scopes).length === 0)
      return redirectError(
        redirectUri,
        state,
        'invalid_scope',
        'no FHIR resource scope that this server grants',
      );
    const nonce = q.get('nonce');
    const request: PendingAuthorization = {
      clientId,
      redirectUri,
      state,
      scopes,
      codeChallenge: q.get('code_challenge') ?? '',
      ...(nonce ? { nonce } : {}),
    };

    const launch = q.get('launch');
    if (launch) {
      const context = launches.get(launch);
      if (!context) return redirectError(redirectUri, state, 'invalid_request', 'unknown or expired launch');
      // Single use: a launch id that leaked (a log, a referrer) cannot start a second session.
      launches.delete(launch);
      if (!scopes.includes('launch'))
        return redirectError(redirectUri, state, 'invalid_scope', 'an EHR launch needs the launch scope');
      return issueCode({ ...request, context });
    }
    if (scopes.includes('launch/patient') || scopes.some((s) => s.startsWith('patient/'))) {
      // Standalone launch: the user picks the patient.
      const id = randomToken();
      pending.set(id, request);
      return c.html(patientPicker(id, client.name, options.patients()), 200, { 'cache-control': 'no-store' });
    }
    return issueCode(request); // user-level access: no patient context
  });

  routes.post('/authorize/choose', async (c) => {
    const form = new URLSearchParams(await c.req.text());
    const request = pending.get(form.get('pending') ?? '');
    pending.delete(form.get('pending') ?? '');
    if (!request) return errorPage(400, 'Sign-in expired', 'This sign-in has expired. Start the app again.');
    const patientId = form.get('patient') ?? '';
    if (!options.patients().some((p) => p.id === patientId))
      return redirectError(request.redirectUri, request.state, 'access_denied', 'no patient was chosen');
    return issueCode({
      ...request,
      context: { patient: patientId, user: options.defaultUser, needPatientBanner: true },
    });
  });

  routes.post('/token', async (c) => {
    const headers = { 'cache-control': 'no-store', pragma: 'no-cache' };
    const fail = (error: string, description: string, status: 400 | 401 = 400) =>
      c.json({ error, error_description: description }, status, headers);
    if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
      return fail('invalid_request', 'the body must be application/x-www-form-urlencoded');
    const form = new URLSearchParams(await c.req.text());
    const clientId = form.get('client_id') ?? '';
    if (!clients.has(clientId)) return fail('invalid_client', 'unknown client_id', 401);
    const grantType = form.get('grant_type');

    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      if (!code) return fail('invalid_grant', 'unknown or expired code');
      if (code.used) {
        revokedFamilies.set(code.family, true);
        codes.delete(form.get('code') ?? '');
        return fail('invalid_grant', 'code already used');
      }
      code.used = true;
      if (code.clientId !== clientId) return fail('invalid_grant', 'code was issued to another client');
      if (form.get('redirect_uri') !== code.redirectUri)
        return fail('invalid_grant', 'redirect_uri does not match');
      const verifier = form.get('code_verifier') ?? '';
      if (!PKCE_VALUE.test(verifier) || !sameSecret(s256(verifier), code.codeChallenge))
        return fail('invalid_grant', 'code_verifier does not match the code_challenge');
      const { body } = await tokenResponse(clientId, code.scopes, code.context, code.family, code.nonce);
      return c.json(body, 200, headers);
    }

    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      if (!grant || grant.clientId !== clientId || revoked(grant))
        return fail('invalid_grant', 'unknown refresh_token');
      const asked = form.get('scope');
      const scopes = asked ? asked.split(/\s+/).filter(Boolean) : grant.scopes;
      if (scopes.some((s) => !grant.scopes.includes(s)))
        return fail('invalid_scope', 'a refresh cannot widen the granted scopes');
      refreshTokens.delete(presented); // rotation: each refresh token works once
      const { body } = await tokenResponse(clientId, scopes, grant.context, grant.family);
      if (!body.refresh_token) {
        const refresh = randomToken();
        refreshTokens.set(refresh, { ...grant, scopes });
        body.refresh_token = refresh;
      }
      return c.json(body, 200, headers);
    }
    return fail('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  });

  return {
    routes,
    createLaunch(context) {
      const id = randomToken();
      launches.set(id, context);
      return id;
    },
    introspect(token) {
      const grant = accessTokens.get(token);
      return grant && !revoked(grant) ? grant : undefined;
    },
    issueServiceToken(patient, lifetimeSec) {
      const token = randomToken();
      const scopes = ['patient/*.rs'];
      accessTokens.set(
        token,
        {
          clientId: 'sandbox-ehr',
          scopes,
          grants: resourceGrants(scopes),
          patient,
        },
        { ttl: lifetimeSec * 1000 },
      );
      return { token, scope: scopes.join(' ') };
    },
    smartConfiguration() {
      return {
        issuer: base,
        jwks_uri: `${base}/auth/jwks.json`,
        authorization_endpoint: `${base}/auth/authorize`,
        token_endpoint: `${base}/auth/token`,
        token_endpoint_auth_methods_supported: ['none'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: [
          'openid',
          'fhirUser',
          'launch',
          'launch/patient',
          'launch/encounter',
          'offline_access',
          'online_access',
          'patient/*.rs',
          'patient/*.read',
          'user/*.rs',
          'user/*.read',
        ],
        capabilities: [
          'launch-ehr',
          'launch-standalone',
          'client-public',
          'context-banner',
          'context-style',
          'context-ehr-patient',
          'context-ehr-encounter',
          'context-standalone-patient',
          'permission-offline',
          'permission-online',
          'permission-patient',
          'permission-user',
          'permission-v1',
          'permission-v2',
          'sso-openid-connect',
        ],
      };
    },
  };
}

function patientPicker(
  pendingId: string,
  appName: string,
  patients: readonly { id: string; name: string; scenario: string }[],
): string {
  const rows = patients
    .map(
      (p) =>
        `<li><button type="submit" name="patient" value="${escapeHtml(p.id)}">${escapeHtml(p.name)}</button> <span>${escapeHtml(p.scenario)}</span></li>`,
    )
    .join('\n');
  return renderPage(
    'Choose a patient',
    `<p>${escapeHtml(appName)} asks for access to one patient's record. Choose the patient (synthetic sample data).</p>
<form method="post" action="authorize/choose">
<input type="hidden" name="pending" value="${escapeHtml(pendingId)}">
<ul class="picker">${rows}</ul>
</form>`,
  );
}
