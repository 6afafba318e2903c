/**
 * The sandbox's SMART authorization server and FHIR endpoint, in-process (Hono `request`): EHR and
 * standalone launch, PKCE S256 required and verified, exact redirect URIs, single-use codes, refresh
 * rotation, patient context in the token response, and what a token lets its bearer read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServer,
  createAuthorizationServer,
} from '../../../sandbox/auth/authorization-server.ts';
import { createFhirRoutes } from '../../../sandbox/fhir/fhir-routes.ts';
import { createSandboxStore } from '../../../sandbox/fhir/repository.ts';
import { createSandboxKeys, type SandboxKeys } from '../../../sandbox/keys.ts';

const BASE = 'http://sandbox.test';
const FHIR = `${BASE}/fhir`;
const CLIENT = 'test-app';
const REDIRECT = `${BASE}/app/index.html`;
const USER = 'Practitioner/doc-1';

const LOINC = 'http://loinc.org';
const labCategory = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
];
function potassium(patient: string, i: number) {
  return {
    resourceType: 'Observation',
    id: `${patient}-k-${i}`,
    status: 'final',
    category: labCategory,
    code: {
      coding: [{ system: LOINC, code: '2823-3', display: 'Potassium [Moles/volume] in Serum or Plasma' }],
    },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    valueQuantity: {
      value: 4 + (i % 10) / 10,
      unit: 'mmol/L',
      system: 'http://unitsofmeasure.org',
      code: 'mmol/L',
    },
  };
}
const RECORD = [
  { resourceType: 'Patient', id: 'pat-a', name: [{ family: 'Alpha', given: ['Sample'] }], gender: 'female' },
  { resourceType: 'Patient', id: 'pat-b', name: [{ family: 'Beta', given: ['Sample'] }], gender: 'male' },
  {
    resourceType: 'Encounter',
    id: 'pat-a-enc',
    status: 'in-progress',
    class: { code: 'AMB' },
    subject: { reference: 'Patient/pat-a' },
  },
  { resourceType: 'Medication', id: 'med-criz', code: { text: 'crizotinib 250 mg capsule' } },
  {
    resourceType: 'MedicationRequest',
    id: 'pat-a-mr',
    status: 'stopped',
    intent: 'order',
    subject: { reference: 'Patient/pat-a' },
    medicationReference: { reference: 'Medication/med-criz' },
  },
  ...Array.from({ length: 45 }, (_, i) => potassium('pat-a', i)),
  potassium('pat-b', 0),
];

const b64url = (b: Buffer) => b.toString('base64url');
function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

let auth: AuthorizationServer;
let keys: SandboxKeys;
let app: Hono;

beforeAll(async () => {
  keys = await createSandboxKeys();
  auth = createAuthorizationServer({
    base: BASE,
    fhirBase: FHIR,
    clients: [{ clientId: CLIENT, redirectUris: [REDIRECT], name: 'Test app' }],
    patients: () => [
      { id: 'pat-a', name: 'Sample Alpha', scenario: 'first' },
      { id: 'pat-b', name: 'Sample Beta', scenario: 'second' },
    ],
    defaultUser: USER,
    keys,
    smartStyleUrl: `${BASE}/style.json`,
  });
  const store = await createSandboxStore(RECORD);
  app = new Hono();
  app.route('/auth', auth.routes);
  const fhir = createFhirRoutes({
    store,
    fhirBase: FHIR,
    access: { kind: 'smart', introspect: auth.introspect, smartConfiguration: auth.smartConfiguration },
  });
  app.all('/fhir/*', (c) => fhir.fetch(c.req.raw));
}, 60_000);

function authorizeUrl(params: Record<string, string | undefined>) {
  const url = new URL(`${BASE}/auth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

function ehrLaunchParams(challenge: string, extra: Record<string, string | undefined> = {}) {
  const launch = auth.createLaunch({
    patient: 'pat-a',
    encounter: 'pat-a-enc',
    user: USER,
    needPatientBanner: false,
  });
  return {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: REDIRECT,
    launch,
    scope:
      'launch openid fhirUser offline_access patient/Patient.rs patient/Observation.rs patient/MedicationRequest.rs patient/Medication.rs',
    state: 'state-123',
    aud: FHIR,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
}

async function authorize(params: Record<string, string | undefined>) {
  const res = await app.request(authorizeUrl(params));
  const location = res.headers.get('location');
  return { res, location: location ? new URL(location) : undefined };
}

function token(form: Record<string, string>) {
  return app.request(`${BASE}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

async function codeFor(challenge: string, extra: Record<string, string | undefined> = {}) {
  const { location } = await authorize(ehrLaunchParams(challenge, extra));
  const code = location?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${location?.href}`);
  return code;
}

async function launchAndToken() {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  const res = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: CLIENT,
    code_verifier: verifier,
  });
  return { res, body: (await res.json()) as Record<string, any> };
}

const fhirGet = (path: string, accessToken?: string) =>
  app.request(`${FHIR}/${path}`, accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {});

describe('SMART discovery', () => {
  it('advertises PKCE S256 only, the endpoints and the launch capabilities', async () => {
    const res = await fhirGet('.well-known/smart-configuration');
    const config = (await res.json()) as Record<string, any>;
    expect(config.code_challenge_methods_supported).toEqual(['S256']);
    expect(config.authorization_endpoint).toBe(`${BASE}/auth/authorize`);
    expect(config.token_endpoint).toBe(`${BASE}/auth/token`);
    expect(config.capabilities).toEqual(
      expect.arrayContaining([
        'launch-ehr',
        'launch-standalone',
        'client-public',
        'context-ehr-patient',
        'permission-v2',
      ]),
    );
  });

  it('serves a CapabilityStatement at /metadata with the OAuth URIs', async () => {
    const cs = (await (await fhirGet('metadata')).json()) as Record<string, any>;
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.fhirVersion).toBe('4.0.1');
    const oauth = cs.rest[0].security.extension[0].extension;
    expect(oauth).toContainEqual({ url: 'token', valueUri: `${BASE}/auth/token` });
    const observation = cs.rest[0].resource.find((r: any) => r.type === 'Observation');
    expect(observation.searchParam.map((p: any) => p.name)).toContain('patient');
  });
});

describe('EHR launch with PKCE', () => {
  it('returns the code and state to the registered redirect URI, then a token with the launch context', async () => {
    const { verifier, challenge } = pkce();
    const { res, location } = await authorize(ehrLaunchParams(challenge));
    expect(res.status).toBe(302);
    expect(`${location?.origin}${location?.pathname}`).toBe(REDIRECT);
    expect(location?.searchParams.get('state')).toBe('state-123');
    const tokenRes = await token({
      grant_type: 'authorization_code',
      code: location?.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: verifier,
    });
    expect(tokenRes.status).toBe(200);
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    const body = (await tokenRes.json()) as Record<string, any>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      patient: 'pat-a',
      encounter: 'pat-a-enc',
      need_patient_banner: false,
      smart_style_url: `${BASE}/style.json`,
    });
    expect(body.fhirContext).toEqual([{ reference: 'Encounter/pat-a-enc' }]);
    expect(body.scope.split(' ')).toEqual(expect.arrayContaining(['launch', 'patient/Observation.rs']));
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');
    // The id_token is signed by the sandbox key and names the user as fhirUser.
    const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(keys.jwks()), {
      issuer: BASE,
      audience: CLIENT,
    });
    expect(payload.fhirUser).toBe(`${FHIR}/${USER}`);
  });

  it('refuses an authorize request without PKCE, or with the plain method, back at the client', async () => {
    for (const extra of [
      { code_challenge: undefined, code_challenge_method: undefined },
      { code_challenge_method: 'plain' },
      { code_challenge: 'short' },
    ]) {
      const { res, location } = await authorize(ehrLaunchParams(pkce().challenge, extra));
      expect(res.status).toBe(302);
      expect(location?.searchParams.get('error')).toBe('invalid_request');
      expect(location?.searchParams.get('code')).toBeNull();
      expect(location?.searchParams.get('state')).toBe('state-123');
    }
  });

  it('rejects a wrong code_verifier, and the code cannot be used again afterwards', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const wrong = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: pkce().verifier,
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    const retry = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: verifier,
    });
    expect(retry.status).toBe(400);
  });

  it('rejects a token request without a code_verifier', async () => {
    const code = await codeFor(pkce().challenge);
    const res = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('shows an error page and never redirects to an unregistered redirect URI', async () => {
    const { res, location } = await authorize(
      ehrLaunchParams(pkce().challenge, { redirect_uri: 'https://attacker.example/cb' }),
    );
    expect(res.status).toBe(400);
    expect(location).toBeUndefined();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('redirect_uri is not registered');
  });

  it('rejects a token request whose redirect_uri differs from the authorize request', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const res = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${BASE}/app/other.html`,
      client_id: CLIENT,
      code_verifier: verifier,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses an unknown launch id and an aud that is not this FHIR server', async () => {
    const unknown = await authorize(ehrLaunchParams(pkce().challenge, { launch: 'not-a-launch' }));
    expect(unknown.location?.searchParams.get('error')).toBe('invalid_request');
    const aud = await authorize(ehrLaunchParams(pkce().challenge, { aud: 'https://other.example/fhir' }));
    expect(aud.location?.searchParams.get('error')).toBe('invalid_request');
  });

  it('revokes every token of a replayed code: its access and refresh tokens and every token refreshed from them (RFC 9700 §4.2.4)', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: verifier,
    };
    const first = (await (await token(form)).json()) as Record<string, any>;
    const refreshed = (await (
      await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: CLIENT })
    ).json()) as Record<string, any>;
    expect((await fhirGet('Patient/pat-a', refreshed.access_token)).status).toBe(200);

    expect((await token(form)).status).toBe(400); // the replay
    expect((await fhirGet('Patient/pat-a', first.access_token)).status).toBe(401);
    expect((await fhirGet('Patient/pat-a', refreshed.access_token)).status).toBe(401);
    const again = await token({
      grant_type: 'refresh_token',
      refresh_token: refreshed.refresh_token,
      client_id: CLIENT,
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('one code exchanged twice at once: one answer has tokens, the other is a 400, and those tokens are revoked', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: verifier,
    };
    // Both requests start before either answers (the first is still signing its id_token).
    const [first, replay] = await Promise.all([token(form), token(form)]);
    const statuses = [first.status, replay.status].sort();
    expect(statuses).toEqual([200, 400]);
    const issued = (await (first.status === 200 ? first : replay).json()) as Record<string, any>;
    expect((await fhirGet('Patient/pat-a', issued.access_token)).status).toBe(401);
    const refresh = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token,
      client_id: CLIENT,
    });
    expect(refresh.status).toBe(400);
  });

  it('takes a launch id once: a second authorization with it is refused', async () => {
    const params = ehrLaunchParams(pkce().challenge);
    const first = await authorize(params);
    expect(first.location?.searchParams.get('code')).toBeTruthy();
    const second = await authorize({ ...params, code_challenge: pkce().challenge });
    expect(second.location?.searchParams.get('error')).toBe('invalid_request');
    expect(second.location?.searchParams.get('code')).toBeNull();
  });

  it('refreshes with rotation and never widens the scopes', async () => {
    const { body } = await launchAndToken();
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
      client_id: CLIENT,
    });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Record<string, any>;
    expect(next.patient).toBe('pat-a');
    expect(next.access_token).not.toBe(body.access_token);
    expect((await fhirGet('Patient/pat-a', next.access_token)).status).toBe(200);
    const reused = await token({
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
      client_id: CLIENT,
    });
    expect(reused.status).toBe(400);
    const wider = await token({
      grant_type: 'refresh_token',
      refresh_token: next.refresh_token,
      client_id: CLIENT,
      scope: 'patient/*.rs',
    });
    expect(wider.status).toBe(400);
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
  });
});

describe('standalone launch', () => {
  it('asks the user to pick a patient, then puts that patient in the token response', async () => {
    const { verifier, challenge } = pkce();
    const params = {
      ...ehrLaunchParams(challenge),
      launch: undefined,
      scope: 'launch/patient openid fhirUser patient/*.rs',
    };
    const picker = await app.request(authorizeUrl(params));
    expect(picker.status).toBe(200);
    const html = await picker.text();
    expect(html).toContain('Sample Beta');
    const pending = /name="pending" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const chosen = await app.request(`${BASE}/auth/authorize/choose`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pending, patient: 'pat-b' }).toString(),
    });
    expect(chosen.status).toBe(302);
    const code = new URL(chosen.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const res = await token({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: CLIENT,
      code_verifier: verifier,
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body.patient).toBe('pat-b');
    expect(body.need_patient_banner).toBe(true);
  });
});

describe('FHIR access with the token', () => {
  it('answers 401 with WWW-Authenticate without a valid bearer token', async () => {
    const none = await fhirGet('Patient/pat-a');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fhirGet('Patient/pat-a', 'made-up')).status).toBe(401);
  });

  it("keeps a patient-bound token inside its patient's record", async () => {
    const { body } = await launchAndToken();
    expect((await fhirGet('Patient/pat-b', body.access_token)).status).toBe(403);
    expect((await fhirGet('Observation?patient=pat-b', body.access_token)).status).toBe(403);
    expect((await fhirGet('Observation?code=2823-3', body.access_token)).status).toBe(403);
    expect((await fhirGet('Observation/pat-b-k-0', body.access_token)).status).toBe(403);
  });

  it('lets a patient-bound token search resources outside any compartment (Medication)', async () => {
    const { body } = await launchAndToken();
    const res = await fhirGet('Medication?_id=med-criz', body.access_token);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Record<string, any>;
    expect(bundle.entry.map((e: any) => e.resource.id)).toEqual(['med-criz']);
  });

  it('refuses resource types outside the granted scopes', async () => {
    const { body } = await launchAndToken();
    const res = await fhirGet('Condition?patient=pat-a', body.access_token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).resourceType).toBe('OperationOutcome');
  });

  it('pages with next links until every match was returned, bare patient ids accepted', async () => {
    const { body } = await launchAndToken();
    let url: string | undefined = `${FHIR}/Observation?patient=pat-a&code=${LOINC}|2823-3&_count=20`;
    const ids: string[] = [];
    let pages = 0;
    while (url) {
      const res = await app.request(url, { headers: { authorization: `Bearer ${body.access_token}` } });
      const bundle = (await res.json()) as Record<string, any>;
      expect(bundle.total).toBe(45);
      for (const e of bundle.entry) {
        expect(e.fullUrl).toBe(`${FHIR}/Observation/${e.resource.id}`);
        ids.push(e.resource.id);
      }
      url = bundle.link.find((l: any) => l.relation === 'next')?.url;
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(45);
  });

  it('includes the Medication a MedicationRequest refers to', async () => {
    const { body } = await launchAndToken();
    const res = await fhirGet(
      'MedicationRequest?patient=pat-a&_include=MedicationRequest:medication',
      body.access_token,
    );
    const bundle = (await res.json()) as Record<string, any>;
    expect(bundle.entry.map((e: any) => [e.resource.resourceType, e.search.mode])).toEqual([
      ['MedicationRequest', 'match'],
      ['Medication', 'include'],
    ]);
  });

  it('is read-only', async () => {
    const { body } = await launchAndToken();
    const res = await app.request(`${FHIR}/Observation`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(potassium('pat-a', 99)),
    });
    expect(res.status).toBe(405);
  });
});
