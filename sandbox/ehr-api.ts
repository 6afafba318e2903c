/**
 * The sandbox EHR page's back end (`/sandbox/api/*`): what a real EHR does server-side around CDS
 * Hooks and SMART. It makes launch contexts, signs the EHR's CDS JWTs with its own key, fills the
 * services' prefetch templates against its FHIR server, hands the service a patient-bound
 * `fhirAuthorization`, and shows what the CDS service stored as feedback.
 */
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { baseForHost } from '../cds-hooks/app.ts';
import type { FeedbackStore } from '../cds-hooks/feedback/index.ts';
import {
  type FhirSource,
  outcomeText,
  QueryFailure,
  reasonForStatus,
  searchAllPages,
} from '../src/fhir/fetch-record.ts';
import type { Knowledge } from '../src/knowledge/index.ts';
import type { AuthorizationServer } from './auth/authorization-server.ts';
import type { SandboxKeys } from './keys.ts';
import type { SamplePatient } from './patients/load.ts';

export interface EhrApiOptions {
  base: string;
  /** Other URLs the sandbox is reached at (http://127.0.0.1:P beside http://localhost:P). */
  otherBases?: string[];
  fhirBase: string;
  appLaunchUrl: string;
  /** `iss` of the sandbox's CDS JWTs (the CDS service trusts it). */
  cdsIssuer: string;
  user: { reference: string; name: string };
  patients: readonly SamplePatient[];
  auth: AuthorizationServer;
  keys: SandboxKeys;
  kb: Knowledge;
  feedback: FeedbackStore;
  /** Answers FHIR requests in-process (the sandbox FHIR routes): an absolute URL under `fhirBase`. */
  fhirRequest(url: string, token: string): Promise<Response>;
}

const CDS_JWT_LIFETIME_SEC = 300;
const SERVICE_TOKEN_LIFETIME_SEC = 300;
const PREFETCH_MAX_PAGES = 20;

const LaunchBody = z.object({
  patientId: z.string().min(1),
  encounterId: z.string().min(1).optional(),
  appContext: z.string().max(4096).optional(),
  /** Shown inside the sandbox's own chart, which already has a patient banner. */
  embedded: z.boolean().optional(),
});
const TokenBody = z.object({ aud: z.url() });
const HookFhirBody = z.object({
  patientId: z.string().min(1),
  userId: z.string().min(1).optional(),
  encounterId: z.string().min(1).optional(),
  prefetch: z.record(z.string(), z.string()).optional(),
});

function badRequest(diagnostics: string) {
  return new Response(
    JSON.stringify({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', diagnostics }],
    }),
    { status: 400, headers: { 'content-type': 'application/fhir+json' } },
  );
}

async function readBody<T>(req: Request, schema: z.ZodType<T>): Promise<T | Response> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    return badRequest('the body must be JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    return badRequest(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return parsed.data;
}

/** CDS Hooks 2.0 prefetch tokens, filled from the hook context. */
export function fillPrefetchTemplate(
  template: string,
  context: { patientId: string; userId?: string; encounterId?: string },
): string | undefined {
  let missing = false;
  const filled = template.replace(/\{\{\s*([A-Za-z.]+)\s*\}\}/g, (_, token: string) => {
    const value =
      token === 'context.patientId'
        ? context.patientId
        : token === 'context.userId'
          ? context.userId
          : token === 'context.encounterId'
            ? context.encounterId
            : token === 'userPractitionerId' && context.userId?.startsWith('Practitioner/')
              ? context.userId.slice('Practitioner/'.length)
              : undefined;
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : filled;
}

export function createEhrApi(options: EhrApiOptions): Hono {
  const { auth, patients } = options;
  const baseFor = baseForHost(options.base, options.otherBases ?? []);
  /** The sandbox URL the page is using (by Host): the audience its CDS calls must name. */
  const baseOf = (c: Context) => baseFor(c.req.header('host'));
  const api = new Hono().basePath('/sandbox/api');
  const known = (id: string) => patients.find((p) => p.id === id);

  api.get('/session', (c) =>
    c.json({
      base: baseOf(c),
      fhirServer: options.fhirBase,
      appLaunchUrl: options.appLaunchUrl,
      cdsServicesUrl: `${baseOf(c)}/cds-services`,
      user: options.user,
    }),
  );

  api.get('/patients', (c) =>
    c.json(
      patients.map(({ id, name, scenario, description, birthDate, gender, encounterId }) => ({
        id,
        name,
        scenario,
        description,
        birthDate,
        gender,
        encounterId,
      })),
    ),
  );

  api.post('/launch', async (c) => {
    const body = await readBody(c.req.raw, LaunchBody);
    if (body instanceof Response) return body;
    const patient = known(body.patientId);
    if (!patient) return badRequest(`no sample patient "${body.patientId}"`);
    const launch = auth.createLaunch({
      patient: patient.id,
      encounter: body.encounterId ?? patient.encounterId,
      user: options.user.reference,
      ...(body.appContext ? { appContext: body.appContext } : {}),
      needPatientBanner: !body.embedded,
    });
    const url = new URL(options.appLaunchUrl);
    url.searchParams.set('iss', options.fhirBase);
    url.searchParams.set('launch', launch);
    return c.json({ launch, iss: options.fhirBase, launchUrl: url.href });
  });

  api.post('/cds-token', async (c) => {
    const body = await readBody(c.req.raw, TokenBody);
    if (body instanceof Response) return body;
    // Only for this sandbox's own CDS service: the key is not lent out to sign arbitrary audiences.
    const base = baseOf(c);
    if (body.aud !== `${base}/cds-services` && !body.aud.startsWith(`${base}/cds-services/`))
      return badRequest(`aud must be ${base}/cds-services or a service URL under it`);
    const token = await options.keys.sign(
      { iss: options.cdsIssuer, sub: 'sandbox-ehr', aud: body.aud },
      CDS_JWT_LIFETIME_SEC,
    );
    return c.json({ token }, 200, { 'cache-control': 'no-store' });
  });

  /** The sandbox FHIR server as the one data path reads it, with a patient-bound token. */
  const fhirSource = (token: string): FhirSource => ({
    base: options.fhirBase,
    pageCap: PREFETCH_MAX_PAGES,
    get: async (url) => {
      const res = await options.fhirRequest(url, token);
      const body: unknown = await res.json().catch(() => undefined);
      if (!res.ok)
        throw new QueryFailure(
          reasonForStatus(res.status),
          `HTTP ${res.status}${outcomeText(body) ? `: ${outcomeText(body)}` : ''}`,
        );
      return body;
    },
  });

  /**
   * One prefetch value, as an EHR fills it: the resource, or the searchset with every page merged
   * (a prefetch is the complete answer to its query). A failure travels as an OperationOutcome, so
   * the service knows not to trust the key and queries FHIR itself.
   */
  async function prefetchValue(url: string, token: string): Promise<unknown> {
    const source = fhirSource(token);
    const absolute = `${options.fhirBase}/${url.replace(/^\/+/, '')}`;
    try {
      if (!url.includes('?')) return await source.get(absolute);
      const [first, ...rest] = await searchAllPages(source, absolute);
      const { link: _paging, ...bundle } = first ?? { resourceType: 'Bundle', type: 'searchset' };
      return { ...bundle, entry: [first, ...rest].flatMap((b) => (Array.isArray(b?.entry) ? b.entry : [])) };
    } catch (e) {
      if (!(e instanceof QueryFailure)) throw e;
      return {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: e.reason === 'truncated' ? 'too-costly' : 'exception',
            diagnostics: e.message,
          },
        ],
      };
    }
  }

  api.post('/hook-fhir', async (c) => {
    const body = await readBody(c.req.raw, HookFhirBody);
    if (body instanceof Response) return body;
    const patient = known(body.patientId);
    if (!patient) return badRequest(`no sample patient "${body.patientId}"`);
    const { token, scope } = auth.issueServiceToken(patient.id, SERVICE_TOKEN_LIFETIME_SEC);
    const context = {
      patientId: patient.id,
      ...(body.userId ? { userId: body.userId } : {}),
      ...(body.encounterId ? { encounterId: body.encounterId } : {}),
    };
    let prefetch: Record<string, unknown> | undefined;
    if (body.prefetch) {
      const entries = await Promise.all(
        Object.entries(body.prefetch).map(async ([key, template]) => {
          const url = fillPrefetchTemplate(template, context);
          // A template the EHR cannot fill is left out: the service then queries FHIR itself.
          if (url === undefined) return undefined;
          return [key, await prefetchValue(url, token)] as const;
        }),
      );
      prefetch = Object.fromEntries(entries.filter((e) => e !== undefined));
    }
    return c.json(
      {
        fhirServer: options.fhirBase,
        fhirAuthorization: {
          access_token: token,
          token_type: 'Bearer',
          expires_in: SERVICE_TOKEN_LIFETIME_SEC,
          scope,
          subject: 'alk-ros1-cds',
        },
        ...(prefetch ? { prefetch } : {}),
      },
      200,
      { 'cache-control': 'no-store' },
    );
  });

  api.get('/orderables', (c) => {
    const agents = [...options.kb.agents.values()].map((a) => ({
      name: a.id,
      display: a.brands.length ? `${a.id} (${a.brands.join(', ')})` : a.id,
      ...(a.rxnorm?.verified ? { rxnorm: a.rxnorm.code } : {}),
      kind: a.kind,
    }));
    const others = [...options.kb.interactingDrugs.values()].map((d) => ({
      name: d.names[0] ?? d.id,
      display: d.brands.length ? `${d.names[0] ?? d.id} (${d.brands.join(', ')})` : (d.names[0] ?? d.id),
      ...(d.rxnorm?.verified ? { rxnorm: d.rxnorm.code } : {}),
      kind: 'other' as const,
    }));
    return c.json([...agents, ...others]);
  });

  api.get('/feedback', async (c) => c.json(await options.feedback.list({ newestFirst: true, limit: 100 })));

  api.notFound(() => badRequest('no such sandbox API route'));
  return api;
}
