/**
 * The sandbox EHR page's back end (`/sandbox/api/*`): what a real EHR does server-side around CDS
 * Hooks and SMART. It makes launch contexts, signs the EHR's CDS JWTs with its own key, fills the
 * services' prefetch templates against its FHIR server, hands the service a patient-bound
 * `fhirAuthorization`, and shows what the CDS service stored as feedback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { baseForHost } from '../cds-hooks/app.ts';
import type { FeedbackRecord, FeedbackStore } from '../cds-hooks/feedback/index.ts';
import {
  type FhirSource,
  outcomeText,
  QueryFailure,
  reasonForStatus,
  searchAllPages,
} from '../src/fhir/fetch-record.ts';
import type { Knowledge } from '../src/knowledge/index.ts';
import type { AuthorizationServer } from './auth/authorization-server.ts';
import type { SandboxPatient } from './ehr/types.ts';
import { MAX_IMPORT_BYTES, type PatientImports, toOutcome } from './import-patient.ts';
import type { SandboxKeys } from './keys.ts';
import type { SamplePatient } from './patients/load.ts';
import type { ReplayClock } from './replay.ts';

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
  /** Patients a developer loaded (`POST /sandbox/api/patients`), beside the samples. */
  imports?: PatientImports;
  auth: AuthorizationServer;
  keys: SandboxKeys;
  kb: Knowledge;
  feedback: FeedbackStore;
  /**
   * Where the page's notes on its feedback (card summary, suggestion labels, patient) are kept, one
   * JSON object a line; undefined keeps them in memory (tests).
   */
  feedbackNotesFile?: string;
  /** "Today is": the day every chart is replayed at (GET/PUT /sandbox/api/today). */
  replay?: ReplayClock;
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

const FeedbackNoteBody = z.object({
  serviceId: z.string().min(1).max(200),
  card: z.string().min(1).max(200),
  outcome: z.enum(['accepted', 'overridden']),
  outcomeTimestamp: z.string().min(1).max(64),
  patientId: z.string().min(1).max(200),
  summary: z.string().min(1).max(500),
  suggestionLabels: z.array(z.string().min(1).max(300)).max(20).optional(),
});
type FeedbackNote = z.infer<typeof FeedbackNoteBody> & { patientName: string };

/** The feedback a note is about: what CDS Hooks feedback itself identifies it by. */
const noteKey = (n: { serviceId: string; card: string; outcome: string; outcomeTimestamp: string }): string =>
  JSON.stringify([n.serviceId, n.card, n.outcome, n.outcomeTimestamp]);

/** Notes kept beyond this are dropped oldest first (the sandbox is for trying things, not a record). */
const MAX_NOTES = 10_000;

/**
 * The sandbox page's notes on the feedback it sent. The CDS feedback store keeps CDS Hooks feedback
 * as sent, with no patient identifiers by design; the EHR is the party that knows which patient and
 * which words a card uuid stood for, so it keeps that itself, as an EHR would, in a JSON-lines file.
 */
function openFeedbackNotes(file: string | undefined) {
  const notes = new Map<string, FeedbackNote>();
  const remember = (n: FeedbackNote) => {
    notes.delete(noteKey(n));
    notes.set(noteKey(n), n);
    if (notes.size > MAX_NOTES) notes.delete(notes.keys().next().value as string);
  };
  if (file && existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const raw = JSON.parse(line) as Record<string, unknown>;
        const parsed = FeedbackNoteBody.safeParse(raw);
        // A torn last line (a crash mid-write) or a hand edit is skipped, not fatal.
        if (parsed.success && typeof raw.patientName === 'string')
          remember({ ...parsed.data, patientName: raw.patientName });
      } catch {
        // Not JSON: skipped.
      }
    }
  }
  let writes: Promise<void> = Promise.resolve();
  return {
    get: (record: FeedbackRecord) => notes.get(noteKey(record)),
    /** Resolves once the note is on disk (writes are serialised, so lines never interleave). */
    add(note: FeedbackNote): Promise<void> {
      remember(note);
      if (!file) return Promise.resolve();
      const write = writes.then(async () => {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(note)}\n`, 'utf8');
      });
      writes = write.catch(() => undefined);
      return write;
    },
  };
}

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
  const known = (id: string) => patients.find((p) => p.id === id) ?? options.imports?.get(id);
  const notes = openFeedbackNotes(options.feedbackNotesFile);

  // "Today is": replay every chart at a past day, or back to today with { today: null }.
  api.get('/today', (c) => c.json({ today: options.replay?.get() ?? null }));
  api.put('/today', async (c) => {
    const replay = options.replay;
    if (!replay) return c.json({ today: null }, 404);
    const body = (await c.req.json().catch(() => undefined)) as { today?: unknown } | undefined;
    const day = body?.today;
    if (day !== null && typeof day !== 'string')
      return badRequest('send { "today": "YYYY-MM-DD" } or { "today": null }');
    try {
      replay.set(day ?? undefined);
    } catch (e) {
      return badRequest((e as Error).message);
    }
    return c.json({ today: replay.get() ?? null });
  });

  api.get('/session', (c) =>
    c.json({
      base: baseOf(c),
      fhirServer: options.fhirBase,
      appLaunchUrl: options.appLaunchUrl,
      cdsServicesUrl: `${baseOf(c)}/cds-services`,
      user: options.user,
    }),
  );

  // ---- Patients: the samples, and patients a developer brings (sandbox/import-patient.ts) ----------

  /** A patient as the page lists it: the fields it shows, never the stored record. */
  const listed = ({ id, name, scenario, description, birthDate, gender, encounterId }: SandboxPatient) => ({
    id,
    name,
    scenario,
    description,
    birthDate,
    gender,
    encounterId,
  });
  api.get('/patients', (c) =>
    c.json([
      ...patients.map(listed),
      ...(options.imports?.list() ?? []).map((p) => ({
        ...listed(p),
        imported: true,
        importedAt: p.importedAt,
      })),
    ]),
  );

  const outcomeResponse = (status: number, code: string, diagnostics: string) =>
    new Response(JSON.stringify(toOutcome([{ severity: 'error', code, diagnostics }])), {
      status,
      headers: { 'content-type': 'application/fhir+json' },
    });

  /**
   * The body as text, refused past `limit` bytes: read chunk by chunk, so no more than the limit
   * (and one chunk) is ever held. `undefined` when it is too large.
   */
  async function bodyWithin(req: Request, limit: number): Promise<string | undefined> {
    if (Number(req.headers.get('content-length') ?? '0') > limit) return undefined;
    if (!req.body) return '';
    const reader = req.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        return undefined;
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Another site's page cannot load patients into (or delete them from) a sandbox on this machine:
   * a browser's request must come from the origin it is sent to (curl and scripts send no Origin).
   */
  const foreignOrigin = (c: Context) => {
    const origin = c.req.header('origin');
    return origin !== undefined && origin !== `${new URL(c.req.url).protocol}//${c.req.header('host')}`;
  };

  /** A FHIR R4 Bundle holding one Patient and its record: 201 `{ id, name }`, or 400 naming every problem. */
  api.post('/patients', async (c) => {
    const imports = options.imports;
    if (!imports)
      return outcomeResponse(404, 'not-supported', 'this sandbox does not take imported patients');
    if (foreignOrigin(c))
      return outcomeResponse(403, 'forbidden', 'patients are imported from the sandbox page');
    const text = await bodyWithin(c.req.raw, MAX_IMPORT_BYTES);
    if (text === undefined) {
      const tooLarge = outcomeResponse(
        413,
        'too-costly',
        `the body is over ${MAX_IMPORT_BYTES / 1024 / 1024} MB: import a smaller Bundle (one patient's record)`,
      );
      // The rest of the body is never read: the connection cannot carry another request.
      tooLarge.headers.set('connection', 'close');
      return tooLarge;
    }
    let bundle: unknown;
    try {
      bundle = JSON.parse(text);
    } catch (e) {
      return outcomeResponse(
        400,
        'structure',
        `the body is not JSON (${e instanceof Error ? e.message : String(e)}): send a FHIR R4 Bundle as JSON`,
      );
    }
    try {
      const result = await imports.import(bundle);
      if (!result.ok)
        return new Response(JSON.stringify(result.outcome), {
          status: 400,
          headers: { 'content-type': 'application/fhir+json' },
        });
      return c.json({ id: result.patient.id, name: result.patient.name }, 201, {
        location: `${options.fhirBase}/Patient/${result.patient.id}`,
      });
    } catch (e) {
      return outcomeResponse(
        500,
        'exception',
        `the patient could not be stored, nothing was imported: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });

  api.delete('/patients/:id', async (c) => {
    const id = c.req.param('id');
    if (foreignOrigin(c))
      return outcomeResponse(403, 'forbidden', 'patients are deleted from the sandbox page');
    if (patients.some((p) => p.id === id))
      return outcomeResponse(
        403,
        'forbidden',
        `${id} is a built-in sample patient: only imported patients can be deleted`,
      );
    try {
      if (!(await options.imports?.remove(id)))
        return outcomeResponse(404, 'not-found', `no imported patient "${id}"`);
    } catch (e) {
      return outcomeResponse(
        500,
        'exception',
        `${id} could not be deleted: ${e instanceof Error ? e.message : e}`,
      );
    }
    return c.body(null, 204);
  });
  // ---- end of patients --------------------------------------------------------------------------

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

  /**
   * What the CDS service stored, newest first, each joined with the page's note (card summary,
   * suggestion labels, patient) when there is one. `?patient=<id>`: only feedback noted for that
   * patient (feedback from other clients has no note and no patient, so it is left out).
   */
  api.get('/feedback', async (c) => {
    const patientId = c.req.query('patient');
    const records = await options.feedback.list({ newestFirst: true, limit: patientId ? 1000 : 100 });
    const joined = records.map((r) => {
      const note = notes.get(r);
      return note
        ? {
            ...r,
            summary: note.summary,
            patient: { id: note.patientId, name: note.patientName },
            ...(note.suggestionLabels ? { suggestionLabels: note.suggestionLabels } : {}),
          }
        : r;
    });
    return c.json(
      patientId ? joined.filter((r) => 'patient' in r && r.patient.id === patientId).slice(0, 100) : joined,
      200,
      { 'cache-control': 'no-store' },
    );
  });

  /** The page's note on feedback it just sent (after the CDS service answered). */
  api.post('/feedback-notes', async (c) => {
    const body = await readBody(c.req.raw, FeedbackNoteBody);
    if (body instanceof Response) return body;
    const patient = known(body.patientId);
    if (!patient) return badRequest(`no sample patient "${body.patientId}"`);
    try {
      await notes.add({ ...body, patientName: patient.name });
    } catch {
      return new Response(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'exception', diagnostics: 'the note could not be written' }],
        }),
        { status: 500, headers: { 'content-type': 'application/fhir+json' } },
      );
    }
    return c.json({ stored: true }, 201);
  });

  api.notFound(() => badRequest('no such sandbox API route'));
  return api;
}
