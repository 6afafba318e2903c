/**
 * The sandbox as `npm start` assembles it, over real HTTP on loopback (front ends not needed): the
 * CDS service trusting only JWTs signed by the sandbox's own key (fetched from its JWKS), the EHR
 * back end (launches, CDS tokens, prefetch filled from the FHIR server), the fallback path where the
 * service queries the sandbox FHIR server with `fhirAuthorization`, and readable 400s for bad input.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';
import { isAllowedIssuer } from '../../../src/app/config.ts';

let sandbox: Sandbox;
let base: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, feedbackDataDir: 'memory://', logLevel: 'silent' });
  base = sandbox.base;
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function cdsToken(aud: string): Promise<string> {
  const res = await post('/sandbox/api/cds-token', { aud });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function discovery() {
  const res = await fetch(`${base}/cds-services`, {
    headers: { authorization: `Bearer ${await cdsToken(`${base}/cds-services`)}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { services: { id: string; prefetch: Record<string, string> }[] };
}

async function patientView(patientId: string, withPrefetch: boolean) {
  const { services } = await discovery();
  const service = services.find((s) => s.id === 'alk-ros1-patient-view');
  const fhir = (await (
    await post('/sandbox/api/hook-fhir', {
      patientId,
      userId: 'Practitioner/sandbox-oncologist',
      ...(withPrefetch ? { prefetch: service?.prefetch } : {}),
    })
  ).json()) as Record<string, any>;
  const url = `${base}/cds-services/alk-ros1-patient-view`;
  const res = await post(
    '/cds-services/alk-ros1-patient-view',
    {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: fhir.fhirServer,
      fhirAuthorization: fhir.fhirAuthorization,
      context: { userId: 'Practitioner/sandbox-oncologist', patientId },
      ...(fhir.prefetch ? { prefetch: fhir.prefetch } : {}),
    },
    { authorization: `Bearer ${await cdsToken(url)}` },
  );
  return { res, fhir };
}

describe('the CDS service inside the sandbox', () => {
  it('answers discovery without a JWT (it holds no patient data), services only with one, and trusts the JWTs the sandbox signs', async () => {
    const open = await fetch(`${base}/cds-services`);
    expect(open.status).toBe(200);
    expect(((await open.json()) as { services: unknown[] }).services).toHaveLength(3);
    const noJwt = await post('/cds-services/alk-ros1-patient-view', {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      context: { userId: 'Practitioner/sandbox-oncologist', patientId: 'alk-naive' },
    });
    expect(noJwt.status).toBe(401);
    await discovery();
  });

  it('gives the same patient-view cards with prefetch and by querying the sandbox FHIR server itself', async () => {
    const summaries = [];
    for (const withPrefetch of [true, false]) {
      const { res } = await patientView('ros1-brain-mets', withPrefetch);
      expect(res.status).toBe(200);
      const { cards } = (await res.json()) as {
        cards: { summary: string; source: { topic: { code: string } } }[];
      };
      expect(cards.map((c) => c.source.topic.code)).toContain('therapy-selection');
      summaries.push(cards.map((c) => c.summary).sort());
    }
    expect(summaries[1]).toEqual(summaries[0]);
  });
});

describe('the sandbox EHR back end', () => {
  it('fills prefetch with every page of a search, as one complete Bundle', async () => {
    const { fhir } = await patientView('alk-after-crizotinib', true);
    const labs = fhir.prefetch['biomarker-lab-observations'];
    expect(labs.resourceType).toBe('Bundle');
    expect(labs.entry.length).toBe(labs.total);
    expect(labs.total).toBeGreaterThan(200); // more than one page of _count=200
    expect(labs.link ?? []).not.toContainEqual(expect.objectContaining({ relation: 'next' }));
  });

  it("binds the service's fhirAuthorization to the hook's patient", async () => {
    const { fhir } = await patientView('ros1-naive', false);
    const auth = { authorization: `Bearer ${fhir.fhirAuthorization.access_token}` };
    expect((await fetch(`${fhir.fhirServer}/Patient/ros1-naive`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${fhir.fhirServer}/Observation?patient=alk-naive`, { headers: auth })).status).toBe(
      403,
    );
  });

  it('makes an EHR launch URL for the app with its FHIR server as iss, allowed by the served launch config', async () => {
    const res = await post('/sandbox/api/launch', { patientId: 'ros1-brain-mets', embedded: true });
    const { launchUrl, iss } = (await res.json()) as { launchUrl: string; iss: string };
    expect(iss).toBe(`${base}/fhir`);
    const url = new URL(launchUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${base}/app/launch.html`);
    expect(url.searchParams.get('launch')).toBeTruthy();
    const config = (await (await fetch(`${base}/app/launch-config.json`)).json()) as { issMatch: string[] };
    expect(isAllowedIssuer(iss, config.issMatch)).toBe(true);
    expect(isAllowedIssuer('https://evil.example/fhir', config.issMatch)).toBe(false);
  });

  it('refuses to sign a CDS JWT for any audience but its own CDS service', async () => {
    const res = await post('/sandbox/api/cds-token', { aud: 'https://cds.other.example/cds-services/x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it.each([
    ['not JSON', '{'],
    ['an unknown patient', { patientId: 'nobody' }],
    ['a missing patient', {}],
  ])('answers a launch request with %s with a 400 OperationOutcome', async (_, body) => {
    const res = await post('/sandbox/api/launch', body);
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as { resourceType: string; issue: { diagnostics: string }[] };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.diagnostics).toBeTruthy();
  });

  it('lists stored feedback newest first', async () => {
    const url = `${base}/cds-services/alk-ros1-order-select/feedback`;
    for (const card of ['0e5c2a9e-0000-4000-8000-000000000001', '0e5c2a9e-0000-4000-8000-000000000002']) {
      const res = await post(
        '/cds-services/alk-ros1-order-select/feedback',
        {
          feedback: [
            {
              card,
              outcome: 'accepted',
              acceptedSuggestions: [{ id: 's-1' }],
              outcomeTimestamp: new Date().toISOString(),
            },
          ],
        },
        { authorization: `Bearer ${await cdsToken(url)}` },
      );
      expect(res.status).toBe(200);
    }
    const stored = (await (await fetch(`${base}/sandbox/api/feedback`)).json()) as { card: string }[];
    expect(stored.slice(0, 2).map((f) => f.card)).toEqual([
      '0e5c2a9e-0000-4000-8000-000000000002',
      '0e5c2a9e-0000-4000-8000-000000000001',
    ]);
  });

  it('says plainly when a front end is not built instead of a bare 404', async () => {
    const other = await startSandbox({
      port: 0,
      feedbackDataDir: 'memory://',
      logLevel: 'silent',
      appDist: '/nonexistent/app',
      ehrDist: '/nonexistent/ehr',
    });
    try {
      const res = await fetch(`${other.base}/app/index.html`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('has not been built');
    } finally {
      await other.close();
    }
  }, 60_000);
});

describe('the Host header (DNS rebinding)', () => {
  /** A raw request with the Host header a page on another site would send if its name pointed here. */
  const withHost = (path: string, host: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(`${base}${path}`);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: payload ? 'POST' : 'GET',
          headers: { host, ...(payload ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  it('refuses a host name it does not know, before any route hands out a token', async () => {
    const port = new URL(base).port;
    const token = await withHost('/sandbox/api/hook-fhir', `attacker.example:${port}`, {
      patientId: 'alk-naive',
    });
    expect(token.status).toBe(403);
    expect(token.text).not.toMatch(/access_token/);
    expect((await withHost('/sandbox/api/session', `attacker.example:${port}`)).status).toBe(403);
  });

  it('answers to localhost, 127.0.0.1 and [::1]', async () => {
    const port = new URL(base).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      expect((await withHost('/sandbox/api/session', host)).status, host).toBe(200);
  });
});

describe('the open FHIR endpoint (/open/fhir)', () => {
  const labs =
    'category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory&_count=500';
  const idsOf = (bundle: { entry?: { resource: { id: string } }[] }) =>
    (bundle.entry ?? []).map((e) => e.resource.id).sort();

  it('reads and searches the same sample data without a token; the SMART endpoint still needs one', async () => {
    const open = await fetch(`${base}/open/fhir/Observation?patient=alk-naive&${labs}`);
    expect(open.status).toBe(200);
    const bundle = (await open.json()) as { entry?: { resource: { id: string } }[] };
    expect(idsOf(bundle).length).toBeGreaterThan(100);
    expect((await fetch(`${base}/open/fhir/Patient/alk-naive`)).status).toBe(200);
    expect((await fetch(`${base}/fhir/Observation?patient=alk-naive&${labs}`)).status).toBe(401);
    const metadata = (await (await fetch(`${base}/open/fhir/metadata`)).json()) as Record<string, any>;
    expect(metadata.rest[0].security.service).toBeUndefined();
  });

  it('answers POST _search with a form body like the GET search, and refuses every write', async () => {
    const get = (await (await fetch(`${base}/open/fhir/Observation?patient=alk-naive&${labs}`)).json()) as {
      entry?: { resource: { id: string } }[];
    };
    const post = await fetch(`${base}/open/fhir/Observation/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `patient=alk-naive&${labs}`,
    });
    expect(post.status).toBe(200);
    expect(idsOf((await post.json()) as { entry?: { resource: { id: string } }[] })).toEqual(idsOf(get));
    const create = await fetch(`${base}/open/fhir/Observation`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Observation' }),
    });
    expect(create.status).toBe(405);
    expect((await fetch(`${base}/open/fhir/Patient/alk-naive`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('discovery prefetch templates, as CDS clients fill them', () => {
  it('every template fills from the open endpoint (as the CDS Hooks sandbox fills them), and stays Epic-safe', async () => {
    const { services } = (await (await fetch(`${base}/cds-services`)).json()) as {
      services: { id: string; prefetch: Record<string, string> }[];
    };
    for (const service of services) {
      for (const [key, template] of Object.entries(service.prefetch)) {
        // Epic: Observation searches need a category or a code; medication searches list statuses.
        const [type, query = ''] = template.split('?');
        const params = new URLSearchParams(query);
        if (type === 'Observation') expect(params.has('category') || params.has('code'), key).toBe(true);
        if (type === 'MedicationRequest' || type === 'MedicationStatement')
          expect(params.get('status')?.split(',').length, key).toBeGreaterThanOrEqual(4);
        expect(template, key).not.toMatch(/_include|_revinclude|_has|:contains/);
        const url = `${base}/open/fhir/${template.replaceAll('{{context.patientId}}', 'ros1-brain-mets')}`;
        const res = await fetch(url);
        expect(res.status, `${service.id} ${key}`).toBe(200);
        const body = (await res.json()) as { resourceType: string };
        expect(body.resourceType, key).toBe(type?.startsWith('Patient/') ? 'Patient' : 'Bundle');
      }
    }
  });
});
