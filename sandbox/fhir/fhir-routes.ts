/**
 * The sandbox FHIR R4 endpoint (`/fhir`): Medplum's router over the in-memory repository does the
 * reads and searches; this adapter adds what a SMART client expects of a real server and Medplum's
 * router lacks: `/metadata`, SMART discovery, bearer tokens checked against the authorization
 * server (scopes, patient compartment), bare patient ids in reference searches, `_include` of
 * referenced Medications, `fullUrl`s and `next` links for paging. Read-only.
 *
 * The same routes also serve the open endpoint (`/open/fhir`): the same sample data with no token,
 * for clients that cannot send one (the CDS Hooks sandbox: "Cannot configure secured FHIR
 * endpoints"; the SMART Health IT launcher's proxy, which drops `Authorization`). It is as local as
 * the rest of the sandbox: synthetic patients on 127.0.0.1 unless `HOST` says otherwise.
 */
import { getStatus, normalizeOperationOutcome } from '@medplum/core';
import { type FhirRequest, FhirRouter, type MemoryRepository } from '@medplum/fhir-router';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AccessGrant } from '../auth/authorization-server.ts';
import { allows } from '../auth/scopes.ts';
import { asOf } from '../replay.ts';
import { capabilityStatement, INCLUDE_FIELDS, SERVED_TYPES, SHARED_TYPES } from './capability.ts';
import { compartmentOf, type SandboxStore } from './repository.ts';

type R = Record<string, unknown>;

export interface FhirRoutesOptions {
  store: SandboxStore;
  /** e.g. `http://localhost:3000/fhir`; its path is where the routes are mounted. */
  fhirBase: string;
  /**
   * Who may read. A SMART-protected endpoint checks bearer tokens against the authorization server;
   * the open endpoint lets anyone read (and search, naming a patient) without one.
   */
  access:
    | { kind: 'smart'; introspect(token: string): AccessGrant | undefined; smartConfiguration(): R }
    | { kind: 'open' };
  /** The replay day ("today is"), when one is set: resources are served as they stood then. */
  replayDay?: () => string | undefined;
}

/** What the open endpoint allows: reads and searches of everything it serves, no patient binding. */
const OPEN_GRANT: AccessGrant = {
  clientId: 'open-endpoint',
  scopes: [],
  grants: [{ context: 'user', type: '*', read: true, search: true }],
};

type Outcome = ReturnType<typeof normalizeOperationOutcome>;

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

function outcome(severity: 'error' | 'warning', code: string, diagnostics: string): R {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

const fhirResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': FHIR_JSON, ...headers } });

const refId = (value: string) => value.replace(/^.*\bPatient\//, '');

export function createFhirRoutes(options: FhirRoutesOptions): Hono {
  const { store, fhirBase, access } = options;
  const router = new FhirRouter();
  const basePath = new URL(fhirBase).pathname.replace(/\/+$/, '');
  const app = new Hono().basePath(basePath);
  // Bearer tokens, no cookies: any origin may call (an app on the Vite dev server, for one).
  app.use('*', cors({ origin: '*', allowHeaders: ['Authorization', 'Content-Type', 'Accept'], maxAge: 600 }));

  async function route(url: string, repo: MemoryRepository): Promise<[Outcome, R | undefined]> {
    const request = {
      method: 'GET',
      url,
      pathname: '',
      query: {},
      params: {},
      headers: {},
      body: undefined,
    } as unknown as FhirRequest;
    try {
      const [result, resource] = await router.handleRequest(request, repo);
      return [result, resource as R | undefined];
    } catch (e) {
      return [normalizeOperationOutcome(e), undefined];
    }
  }

  if (access.kind === 'smart')
    app.get('/.well-known/smart-configuration', (c) => c.json(access.smartConfiguration()));
  app.get('/metadata', () =>
    fhirResponse(
      200,
      capabilityStatement(fhirBase, access.kind === 'smart' ? access.smartConfiguration() : undefined),
    ),
  );

  app.all('*', async (c) => {
    // POST [type]/_search with a form body is a search, as GET [type]?… is [FHIR R4 http §3.1.0.8:
    // https://hl7.org/fhir/R4/http.html#search] (the CDS Hooks sandbox tries it first). Nothing else
    // but GET: the server is read-only.
    const searchByPost = c.req.method === 'POST' && /\/_search\/?$/.test(new URL(c.req.url).pathname);
    if (c.req.method !== 'GET' && !searchByPost)
      return fhirResponse(405, outcome('error', 'not-supported', 'the sandbox FHIR server is read-only'), {
        allow: 'GET, POST (_search)',
      });
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const grant = access.kind === 'open' ? OPEN_GRANT : bearer ? access.introspect(bearer) : undefined;
    if (!grant)
      return fhirResponse(401, outcome('error', 'login', 'a valid bearer token is required'), {
        'www-authenticate': 'Bearer realm="sandbox-fhir"',
      });

    const url = new URL(c.req.url);
    if (searchByPost) {
      if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded'))
        return fhirResponse(
          415,
          outcome('error', 'not-supported', 'POST _search takes application/x-www-form-urlencoded'),
        );
      for (const [k, v] of new URLSearchParams(await c.req.text())) url.searchParams.append(k, v);
      url.pathname = url.pathname.replace(/\/_search\/?$/, '');
    }
    const path = url.pathname.slice(basePath.length).replace(/^\/+/, '');
    const [type = '', id, ...rest] = path.split('/');
    if (!SERVED_TYPES.includes(type) || rest.length > 0)
      return fhirResponse(404, outcome('error', 'not-found', `no such endpoint: ${path}`));
    const interaction = id ? 'read' : 'search';
    if (!allows(grant.grants, type, interaction))
      return fhirResponse(
        403,
        outcome('error', 'forbidden', `the token's scopes do not allow ${interaction} of ${type}`),
      );

    if (id) {
      const repo = store.locate(type, id);
      if (!repo) return fhirResponse(404, outcome('error', 'not-found', `${type}/${id} is not known`));
      const [result, resource] = await route(`${type}/${encodeURIComponent(id)}`, repo);
      if (!resource || getStatus(result) >= 300) return fhirResponse(getStatus(result), result);
      const owner = compartmentOf(resource);
      if (grant.patient && owner !== undefined && owner !== grant.patient)
        return fhirResponse(403, outcome('error', 'forbidden', 'the resource belongs to another patient'));
      const day = options.replayDay?.();
      const shown = day ? asOf(resource, day) : resource;
      if (!shown)
        return fhirResponse(404, outcome('error', 'not-found', `${type}/${id} did not exist yet on ${day}`));
      return fhirResponse(200, shown);
    }
    return search(type, url.searchParams, grant);
  });

  async function search(type: string, params: URLSearchParams, grant: AccessGrant): Promise<Response> {
    const query = new URLSearchParams();
    const includes: string[] = [];
    let named: string | undefined;
    for (const [key, value] of params) {
      if (key === '_include') {
        includes.push(value);
        continue;
      }
      if (key === 'patient' || key === 'subject' || (type === 'Patient' && key === '_id')) {
        named = refId(value);
        // Medplum matches reference searches only as `Patient/<id>`.
        query.append(key, key === '_id' ? value : `Patient/${named}`);
        continue;
      }
      query.append(key, value);
    }
    const shared = SHARED_TYPES.includes(type);
    // Resources outside every compartment (Medication, Practitioner) are not one patient's data.
    if (grant.patient && !shared && named !== grant.patient)
      return fhirResponse(
        403,
        outcome('error', 'forbidden', `searches with this token must name patient ${grant.patient}`),
      );
    if (!shared && named === undefined)
      return fhirResponse(
        400,
        outcome(
          'error',
          'not-supported',
          `searches of ${type} on this sandbox must name the patient (patient=…)`,
        ),
      );
    const count = Math.min(Number(params.get('_count') ?? DEFAULT_COUNT) || DEFAULT_COUNT, MAX_COUNT);
    const offset = Math.max(0, Number(params.get('_offset') ?? 0) || 0);
    query.set('_count', String(count));
    if (offset) query.set('_offset', String(offset));

    const repo = shared ? store.shared : named !== undefined ? store.patient(named) : undefined;
    if (!repo)
      return fhirResponse(200, { resourceType: 'Bundle', type: 'searchset', total: 0, link: [], entry: [] });
    const [result, bundle] = await route(`${type}?${query}`, repo);
    if (!bundle || getStatus(result) >= 300) return fhirResponse(getStatus(result), result);
    const day = options.replayDay?.();
    const matches = ((bundle.entry as { resource: R }[] | undefined) ?? [])
      .map((e) => (day ? asOf(e.resource, day) : e.resource))
      .filter((r): r is R => r !== undefined);
    const entry: R[] = matches.map((resource) => ({
      fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    }));
    for (const resource of await included(matches, includes)) {
      entry.push({
        fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id}`,
        resource,
        search: { mode: 'include' },
      });
    }
    const total = typeof bundle.total === 'number' ? bundle.total : undefined;
    const shownTotal = day ? undefined : total;
    const page = (at: number) => {
      const next = new URLSearchParams(params);
      next.set('_count', String(count));
      next.set('_offset', String(at));
      return `${fhirBase}/${type}?${next}`;
    };
    const link = [{ relation: 'self', url: page(offset) }];
    const pageSize = ((bundle.entry as unknown[] | undefined) ?? []).length;
    const hasMore = total !== undefined ? offset + pageSize < total : pageSize === count;
    if (hasMore) link.push({ relation: 'next', url: page(offset + count) });
    if (offset > 0) link.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
    return fhirResponse(200, {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(shownTotal !== undefined ? { total: shownTotal } : {}),
      link,
      entry,
    });
  }

  async function included(matches: R[], includes: string[]): Promise<R[]> {
    const wanted = new Set<string>();
    for (const include of includes) {
      const field = INCLUDE_FIELDS[include];
      if (!field) continue;
      for (const m of matches) {
        const ref = (m[field] as { reference?: string } | undefined)?.reference;
        if (typeof ref === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) wanted.add(ref);
      }
    }
    const out: R[] = [];
    for (const ref of wanted) {
      const [type = '', id = ''] = ref.split('/');
      const repo = store.locate(type, id);
      if (!repo) continue;
      const [result, resource] = await route(ref, repo);
      if (resource && getStatus(result) < 300) out.push(resource);
    }
    return out;
  }

  return app;
}
