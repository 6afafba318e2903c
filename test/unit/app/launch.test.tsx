// @vitest-environment jsdom
/**
 * SMART App Launch 2.x from the app's side [specs-cds-smart.md §6 items 39–45, 48, 53]: the issuer
 * allowlist, no fake launch in production, PKCE S256 required, a random state key, v2 scopes with a
 * v1 fallback, the token exchange exactly once under StrictMode, code removed from the URL, and one
 * session per launch even when launches share a sessionStorage (state key kept in the URL).
 */
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import FHIR from 'fhirclient';
import BrowserAdapter from 'fhirclient/lib/adapters/BrowserAdapter';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { StrictMode } from 'react';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../../src/app/App.tsx';
import {
  isAllowedIssuer,
  type LaunchConfig,
  loadLaunchConfig,
  parseLaunchConfig,
  toV1Scope,
} from '../../../src/app/config.ts';
import { type LaunchDeps, startLaunch } from '../../../src/app/smart/launch.ts';
import type { SmartClient } from '../../../src/app/smart/load-patient-data.ts';
import { FHIRCLIENT_SETTINGS, readyOnce, resetReadyForTests } from '../../../src/app/smart/ready.ts';
import { grantsRead } from '../../../src/app/smart/scopes.ts';
import { ros1BrainMetsRecord } from '../../fixtures/cds/records.ts';
import { BASE, fhirHandlers, NOW } from './helpers.tsx';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  resetReadyForTests();
  sessionStorage.clear();
  window.history.replaceState({}, '', '/');
});
afterEach(() => {
  server.resetHandlers();
  cleanup();
});
afterAll(() => server.close());

const config: LaunchConfig = parseLaunchConfig({
  clientId: 'alk-ros1-test',
  issMatch: ['https://fhir\\.example\\.test/r4'],
  redirectUri: 'index.html',
});

const smartConfig = (caps: string[], methods = ['S256']) =>
  http.get(`${BASE}/.well-known/smart-configuration`, () =>
    HttpResponse.json({
      authorization_endpoint: `${BASE}/auth/authorize`,
      token_endpoint: `${BASE}/auth/token`,
      code_challenge_methods_supported: methods,
      capabilities: caps,
    }),
  );

function deps(overrides: Partial<LaunchDeps> = {}): LaunchDeps & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    authorize: async (o) => {
      calls.push(o);
    },
    fetch: (...a) => fetch(...a),
    isDev: false,
    randomUUID: () => crypto.randomUUID(),
    ...overrides,
  };
}

/**
 * fhirclient's browser adapter reads the page URL once and caches it; a real page load gets a new
 * adapter (with the app's settings), so each test does too.
 */
const freshApi = (settings: Record<string, unknown> = FHIRCLIENT_SETTINGS) =>
  new BrowserAdapter(settings).getSmartApi();
const freshReady = () => readyOnce(() => freshApi().ready() as unknown as Promise<SmartClient>);

const launchUrl = (q: string) => new URL(`https://app.example.test/index.html?${q}`);

describe('launch', () => {
  it('refuses an issuer that is not on the allowlist, without contacting it', async () => {
    const d = deps({ fetch: vi.fn() });
    await expect(
      startLaunch(launchUrl('iss=https://evil.example/fhir&launch=x'), config, d),
    ).rejects.toMatchObject({
      kind: 'issuer-not-allowed',
    });
    expect(d.calls).toHaveLength(0);
    expect(d.fetch).not.toHaveBeenCalled();
  });

  it('anchors allowlist patterns: a lookalike URL containing an allowed one is refused', () => {
    expect(isAllowedIssuer('https://fhir.example.test/r4', config.issMatch)).toBe(true);
    expect(isAllowedIssuer('https://evil.example/?u=https://fhir.example.test/r4', config.issMatch)).toBe(
      false,
    );
    expect(isAllowedIssuer('https://fhir.example.test/r4.evil.example', config.issMatch)).toBe(false);
  });

  it('rejects fhirServiceUrl / patientId fake launches in production builds, allows them in dev', async () => {
    await expect(
      startLaunch(launchUrl(`fhirServiceUrl=${BASE}&patientId=p1`), config, deps()),
    ).rejects.toMatchObject({ kind: 'dev-only' });
    const dev = deps({ isDev: true });
    await startLaunch(launchUrl(`fhirServiceUrl=${BASE}`), config, dev);
    expect(dev.calls[0]).toMatchObject({ fhirServiceUrl: BASE });
  });

  it('EHR launch: PKCE required, completeInTarget, a UUID state key, v2 scopes with launch', async () => {
    server.use(smartConfig(['launch-ehr', 'permission-v2', 'permission-v1']));
    const d = deps();
    await startLaunch(launchUrl(`iss=${BASE}&launch=abc`), config, d);
    const o = d.calls[0] as Record<string, any>;
    expect(o).toMatchObject({
      iss: BASE,
      launch: 'abc',
      clientId: 'alk-ros1-test',
      pkceMode: 'required',
      completeInTarget: true,
    });
    expect(o.stateKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(o.scope.split(' ')[0]).toBe('launch');
    expect(o.scope).toContain('patient/Observation.rs');
    expect(o.issMatch(BASE)).toBe(true);
  });

  it('falls back to v1 scopes when the server advertises only permission-v1; standalone asks for launch/patient', async () => {
    server.use(smartConfig(['launch-standalone', 'permission-v1']));
    const d = deps();
    await startLaunch(launchUrl(`iss=${BASE}`), config, d);
    const scope = (d.calls[0] as { scope: string }).scope;
    expect(scope).toContain('patient/Observation.read');
    expect(scope).not.toContain('.rs');
    expect(scope.split(' ')[0]).toBe('launch/patient');
    expect(toV1Scope('launch patient/Condition.rs openid')).toBe('launch patient/Condition.read openid');
  });

  it('refuses a server that does not advertise PKCE S256', async () => {
    server.use(smartConfig(['permission-v2'], ['plain']));
    await expect(startLaunch(launchUrl(`iss=${BASE}&launch=abc`), config, deps())).rejects.toMatchObject({
      kind: 'auth',
    });
  });

  it('builds a conforming authorize request through fhirclient (S256 challenge, state, aud, launch)', async () => {
    server.use(smartConfig(['launch-ehr', 'permission-v2']));
    window.history.replaceState({}, '', `/index.html?iss=${encodeURIComponent(BASE)}&launch=xyz`);
    const uuid = crypto.randomUUID();
    const d = deps({
      authorize: (o) => FHIR.oauth2.authorize({ ...o, noRedirect: true }),
      randomUUID: () => uuid,
    });
    const redirect = new URL(String(await startLaunch(new URL(window.location.href), config, d)));
    const q = redirect.searchParams;
    expect(redirect.origin + redirect.pathname).toBe(`${BASE}/auth/authorize`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('alk-ros1-test');
    expect(q.get('aud')).toBe(BASE);
    expect(q.get('launch')).toBe('xyz');
    expect(q.get('state')).toBe(uuid);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('redirect_uri')).toBe('http://localhost:3000/index.html');
  });

  it('validates launch-config.json and reports what is wrong', async () => {
    const bad = async () => new Response(JSON.stringify({ issMatch: [] }), { status: 200 });
    await expect(loadLaunchConfig('launch-config.json', bad as typeof fetch)).rejects.toThrow(
      /clientId|issMatch/,
    );
  });

  it('reads v1 and v2 grants', () => {
    expect(grantsRead('patient/Observation.rs', 'Observation')).toBe(true);
    expect(grantsRead('patient/Observation.read', 'Observation')).toBe(true);
    expect(grantsRead('patient/*.read', 'Condition')).toBe(true);
    expect(grantsRead('patient/Observation.r', 'Observation')).toBe(false);
    expect(grantsRead('patient/Condition.rs', 'Observation')).toBe(false);
  });
});

describe('ready', () => {
  function seedState(key: string) {
    sessionStorage.setItem(
      key,
      JSON.stringify({
        clientId: 'alk-ros1-test',
        scope: config.scope,
        redirectUri: 'http://localhost:3000/index.html',
        serverUrl: BASE,
        tokenUri: `${BASE}/auth/token`,
        authorizeUri: `${BASE}/auth/authorize`,
        key,
        codeVerifier: 'verifier-123',
        codeChallenge: 'challenge',
        completeInTarget: true,
        tokenResponse: {},
      }),
    );
  }

  it('exchanges the code exactly once under StrictMode, clears code from the address bar and keeps state', async () => {
    const key = crypto.randomUUID();
    seedState(key);
    window.history.replaceState({}, '', `/index.html?code=the-code&state=${key}`);
    let tokenCalls = 0;
    server.use(
      http.post(`${BASE}/auth/token`, async ({ request }) => {
        tokenCalls++;
        const body = new URLSearchParams(await request.text());
        expect(body.get('code_verifier')).toBe('verifier-123');
        expect(body.get('code')).toBe('the-code');
        return HttpResponse.json(
          {
            access_token: 'tok-1',
            token_type: 'Bearer',
            expires_in: 3600,
            scope: config.scope,
            patient: 'ros1-bm',
          },
          { headers: { 'cache-control': 'no-store' } },
        );
      }),
      ...fhirHandlers(ros1BrainMetsRecord()),
    );
    render(
      <StrictMode>
        <App getClient={freshReady} now={NOW} />
      </StrictMode>,
    );
    await screen.findByTestId('summary', {}, { timeout: 15_000 });
    expect(tokenCalls).toBe(1);
    expect(window.location.search).not.toMatch(/code=/);
    expect(new URLSearchParams(window.location.search).get('state')).toBe(key);
    expect(window.location.href).not.toMatch(/tok-1/);
    expect(sessionStorage.getItem('SMART_KEY')).toBeNull();
    expect(localStorage.length).toBe(0);
  });

  it('shows an auth error from the redirect (error, error_description) as a readable page', async () => {
    window.history.replaceState(
      {},
      '',
      '/index.html?error=access_denied&error_description=User+denied+access&state=x',
    );
    render(<App getClient={freshReady} now={NOW} />);
    await screen.findByRole('heading', { name: 'Sign-in to the EHR did not complete' });
    expect(screen.getByText(/Access was not granted \(User denied access\)/)).toBeTruthy();
    expect(screen.getByText(/relaunch the app from the EHR/)).toBeTruthy();
    expect(window.location.search).not.toMatch(/error=|state=/);
  });

  it('an unknown or used launch sent back by the EHR is said as such, not as an expired session', async () => {
    window.history.replaceState(
      {},
      '',
      '/index.html?error=invalid_request&error_description=unknown+or+expired+launch&state=x',
    );
    render(<App getClient={freshReady} now={NOW} />);
    await screen.findByRole('heading', { name: 'This launch cannot be used' });
    expect(screen.getByText(/A launch works once and only for a few minutes/)).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Your session has expired' })).toBeNull();
  });

  it('a page opened directly (no launch in progress) says to open it from the EHR', async () => {
    render(<App getClient={freshReady} now={NOW} />);
    await screen.findByRole('heading', { name: 'Open this app from the EHR' });
  });

  it('an unknown state at the redirect is refused without a token request', async () => {
    window.history.replaceState({}, '', `/index.html?code=c&state=${crypto.randomUUID()}`);
    render(<App getClient={freshReady} now={NOW} />);
    await waitFor(() => expect(document.querySelector('.error-page')).not.toBeNull());
    expect(screen.getByRole('heading', { name: 'Open this app from the EHR' })).toBeTruthy();
  });
});

describe('two launches sharing one sessionStorage [§6 item 48]', () => {
  const PATIENTS = { a: 'patient-a', b: 'patient-b' } as const;

  /** Launch, EHR redirect and return for one patient, through fhirclient with the given settings. */
  async function launchAndReturn(
    which: keyof typeof PATIENTS,
    settings: Record<string, unknown> = FHIRCLIENT_SETTINGS,
  ): Promise<string> {
    const key = crypto.randomUUID();
    window.history.replaceState({}, '', `/index.html?iss=${encodeURIComponent(BASE)}&launch=${which}`);
    const redirect = await startLaunch(
      new URL(window.location.href),
      config,
      deps({
        authorize: (o) => freshApi(settings).authorize({ ...o, noRedirect: true }),
        randomUUID: () => key,
      }),
    );
    expect(new URL(String(redirect)).searchParams.get('state')).toBe(key);
    resetReadyForTests();
    window.history.replaceState({}, '', `/index.html?code=code-${which}&state=${key}`);
    const client = await readyOnce(() => freshApi(settings).ready() as unknown as Promise<SmartClient>);
    expect(client.patient.id).toBe(PATIENTS[which]);
    return key;
  }

  /** A reload of the page at `search`: a new page load with a new adapter. */
  async function reload(search: string): Promise<SmartClient> {
    resetReadyForTests();
    window.history.replaceState({}, '', `/index.html${search}`);
    return freshReady();
  }

  beforeEach(() => {
    server.use(
      smartConfig(['launch-ehr', 'permission-v2']),
      http.post(`${BASE}/auth/token`, async ({ request }) => {
        const code = new URLSearchParams(await request.text()).get('code') ?? '';
        const which = code.replace(/^code-/, '') as keyof typeof PATIENTS;
        return HttpResponse.json({
          access_token: `token-${which}`,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: config.scope,
          patient: PATIENTS[which],
        });
      }),
    );
  });

  it('each reload finds its own session from the state in its URL; no SMART_KEY, nothing in localStorage', async () => {
    const keyA = await launchAndReturn('a');
    const afterA = window.location.search;
    const keyB = await launchAndReturn('b');
    const afterB = window.location.search;
    expect(afterA).toBe(`?state=${keyA}`);
    expect(afterB).toBe(`?state=${keyB}`);
    // B's launch left A's session alone.
    expect(sessionStorage.getItem(keyA)).toContain('token-a');
    expect(sessionStorage.getItem('SMART_KEY')).toBeNull();
    expect(localStorage.length).toBe(0);

    expect((await reload(afterA)).patient.id).toBe(PATIENTS.a);
    expect((await reload(afterB)).patient.id).toBe(PATIENTS.b);
    expect((await reload(afterA)).patient.id).toBe(PATIENTS.a);
    expect(window.location.search).toBe(afterA);
  });

  it("fhirclient's default (state key in sessionStorage['SMART_KEY']) loses the first launch: why the setting", async () => {
    const keyA = await launchAndReturn('a', {});
    await launchAndReturn('b', {});
    expect(sessionStorage.getItem(keyA)).toBeNull();
    expect(window.location.search).toBe('');
  });

  it('a reload whose session is gone is refused, though another launch is live in the same storage', async () => {
    const keyA = await launchAndReturn('a');
    const keyB = await launchAndReturn('b');
    sessionStorage.removeItem(keyA);
    await expect(reload(`?state=${keyA}`)).rejects.toMatchObject({ kind: 'not-launched' });
    expect(window.location.search).toBe('');
    // No state in the address: refused even when SMART_KEY (as fhirclient's default writes it) names B.
    sessionStorage.setItem('SMART_KEY', JSON.stringify(keyB));
    await expect(reload('')).rejects.toMatchObject({ kind: 'not-launched' });
  });

  it("the app's own authorize() and ready() run with fullSessionStorageSupport false", async () => {
    FHIR.oauth2.settings.fullSessionStorageSupport = true;
    let atAuthorize: unknown;
    const authorize = vi.spyOn(FHIR.oauth2, 'authorize').mockImplementation(async () => {
      atAuthorize = FHIR.oauth2.settings.fullSessionStorageSupport;
    });
    server.use(smartConfig(['launch-ehr', 'permission-v2']));
    await startLaunch(launchUrl(`iss=${BASE}&launch=abc`), config);
    expect(authorize).toHaveBeenCalledOnce();
    expect(atAuthorize).toBe(false);

    FHIR.oauth2.settings.fullSessionStorageSupport = true;
    let atReady: unknown;
    const ready = vi.spyOn(FHIR.oauth2, 'ready').mockImplementation(async () => {
      atReady = FHIR.oauth2.settings.fullSessionStorageSupport;
      throw new Error('No state found! Please (re)launch the app.');
    });
    window.history.replaceState({}, '', '/index.html?state=some-key');
    await expect(readyOnce()).rejects.toMatchObject({ kind: 'not-launched' });
    expect(ready).toHaveBeenCalledOnce();
    expect(atReady).toBe(false);
    authorize.mockRestore();
    ready.mockRestore();
  });
});
