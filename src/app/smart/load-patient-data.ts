/**
 * Fetches the patient's record through an authorised SMART client: every search of
 * `src/fhir/queries.ts` at once (one wave after the token), each followed through its `next` links up
 * to a page cap, then Medication resources that neither `_include` nor `contained` brought (a second
 * wave, only when needed). Failure is data: a 403, an OperationOutcome instead of a Bundle, a scope
 * not granted or a truncated search become a DataGap for the query's domains [§6 items 46, 55].
 *
 * Every request has its own timeout (`requestTimeoutMs`, 8 s unless configured): a search that never
 * answers is aborted and becomes a `timeout` gap, so a hung server cannot hold the page on a spinner.
 * The clock of a request starts when the browser can actually send it: over HTTP/1.1 browsers open at
 * most 6 connections per server and queue the rest, so a request's timer waits until fewer than 6
 * older requests are still open. Otherwise searches stuck behind hung ones would time out without
 * ever reaching the server and be reported as "no answer" too. All requests still leave at once (one
 * wave; HTTP/2 servers take them in parallel); a hung request is declared after at most
 * ceil(requests / 6) timeouts.
 *
 * Fatal, page-level problems throw an AppError instead: no patient in context, an expired session
 * (401), or a Patient that is not the launch patient [§6 item 47].
 *
 * The client is typed structurally, so tests and the bench can pass any fhirclient Client.
 */
import type { DataGap, DataGapReason } from '../../core/model.ts';
import { type DataRequirement, dataRequirements, toSearchUrl } from '../../fhir/queries.ts';
import { AppError } from './errors.ts';
import { grantsRead } from './scopes.ts';

type Json = Record<string, unknown>;

export interface TokenContext {
  access_token?: string;
  patient?: string;
  scope?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  refresh_token?: string;
  expires_in?: number;
}

/** The part of fhirclient's Client the loader uses. */
export interface SmartClient {
  request<T = unknown>(
    requestOptions: string | { url: string; signal?: AbortSignal },
    fhirOptions?: { pageLimit?: number; flat?: boolean; useRefreshToken?: boolean },
  ): Promise<T>;
  patient: { id: string | null };
  state: { serverUrl: string; tokenResponse?: TokenContext; expiresAt?: number };
}

export interface LaunchContext {
  patientId: string;
  serverUrl: string;
  /** SMART `need_patient_banner`; absent means true [§6 item 50]. */
  needPatientBanner: boolean;
  smartStyleUrl?: string;
  grantedScope: string;
}

export interface RequestTiming {
  /** Resource path and type only (no query string: keeps logs free of identifiers). */
  what: string;
  start: number;
  end: number;
}

export interface LoadedData {
  /** Bundles (links removed) and resources, as `toSnapshot` takes them. */
  resources: unknown[];
  gaps: DataGap[];
  /** The Patient resource, for the banner. */
  patient?: Json;
  context: LaunchContext;
  /** Sequential waves of FHIR requests (groups of overlapping requests). */
  waves: number;
  requests: number;
  timings: RequestTiming[];
}

export interface LoadOptions {
  signal?: AbortSignal;
  /** Pages followed per search; beyond it the search is marked truncated. */
  pageCap?: number;
  requirements?: readonly DataRequirement[];
  /** Seconds since the epoch, for the token-expiry check. */
  nowSeconds?: () => number;
  /** High-resolution clock for request timings. */
  clock?: () => number;
  /** Milliseconds one request may take before it is aborted and its query becomes a `timeout` gap. */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 8_000;

/** Connections a browser opens per server over HTTP/1.1 (Chromium, Firefox and Safari alike). */
export const BROWSER_CONNECTIONS_PER_HOST = 6;

class QueryFailure extends Error {
  constructor(
    readonly reason: DataGapReason,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

function outcomeText(body: unknown): string {
  if (!isObject(body) || !Array.isArray(body.issue)) return '';
  return body.issue
    .map((i: unknown) => {
      if (!isObject(i)) return '';
      const text = i.diagnostics ?? (isObject(i.details) ? i.details.text : undefined) ?? i.code;
      return typeof text === 'string' ? text : '';
    })
    .filter(Boolean)
    .join('; ')
    .slice(0, 200);
}

function reasonForStatus(status: number): DataGapReason {
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  return 'error';
}

/** Groups request intervals into waves: a request that starts after every earlier one ended opens a new wave. */
export function countWaves(timings: readonly RequestTiming[]): number {
  const sorted = [...timings].sort((a, b) => a.start - b.start);
  let waves = 0;
  let waveEnd = Number.NEGATIVE_INFINITY;
  for (const t of sorted) {
    if (t.start >= waveEnd) waves++;
    waveEnd = t.start >= waveEnd ? t.end : Math.max(waveEnd, t.end);
  }
  return waves;
}

const pathOf = (url: string) => url.replace(/^https?:\/\/[^/]+/, '').split('?')[0] ?? url;

export async function loadPatientData(client: SmartClient, options: LoadOptions = {}): Promise<LoadedData> {
  const token = client.state.tokenResponse ?? {};
  const patientId = client.patient.id ?? token.patient;
  if (!patientId)
    throw new AppError(
      'no-patient',
      'The EHR did not send a patient with this launch (no patient in context).',
    );

  const nowSeconds = options.nowSeconds ?? (() => Date.now() / 1000);
  const expiresAt = client.state.expiresAt;
  if (expiresAt !== undefined && expiresAt < nowSeconds() && !token.refresh_token)
    throw new AppError('expired', 'The access token from the EHR has expired and cannot be renewed.');

  const clock = options.clock ?? (() => performance.now());
  const pageCap = options.pageCap ?? 50;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const timeoutSeconds = Math.round(timeoutMs / 100) / 10;
  const reqs = options.requirements ?? dataRequirements();
  const granted = token.scope ?? '';
  // No scope in the token response (it is REQUIRED) is read as "as requested"; the server still decides.
  const allowed = (type: string) => granted.trim() === '' || grantsRead(granted, type);
  const timings: RequestTiming[] = [];
  let fatal: AppError | undefined;

  // Open requests in the order they were issued; the oldest BROWSER_CONNECTIONS_PER_HOST have a
  // running timer (the others are, over HTTP/1.1, still queued in the browser).
  const open: { armed: boolean; arm: () => void }[] = [];
  const armOldest = () => {
    for (const r of open.slice(0, BROWSER_CONNECTIONS_PER_HOST)) {
      if (r.armed) continue;
      r.armed = true;
      r.arm();
    }
  };

  const get = async (url: string): Promise<unknown> => {
    if (fatal) throw fatal;
    const t: RequestTiming = { what: pathOf(url), start: clock(), end: 0 };
    timings.push(t);
    // One controller per request: aborted by the caller's signal (unmount) or by this request's timeout.
    const controller = new AbortController();
    const outer = options.signal;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Also raced, so a client that ignores the signal cannot hang the page either.
    const slot = { armed: false, arm: () => {} };
    const deadline = new Promise<never>((_, reject) => {
      slot.arm = () => {
        timer = setTimeout(() => {
          timedOut = true;
          controller.abort();
          reject(new QueryFailure('timeout', `no answer within ${timeoutSeconds} s`));
        }, timeoutMs);
      };
    });
    open.push(slot);
    armOldest();
    try {
      return await Promise.race([
        client.request({ url, signal: controller.signal }, { pageLimit: 1, flat: false }),
        deadline,
      ]);
    } catch (e) {
      if (timedOut && !outer?.aborted)
        throw new QueryFailure('timeout', `no answer within ${timeoutSeconds} s`);
      const status = isObject(e) && typeof e.status === 'number' ? e.status : undefined;
      if (status === 401) {
        fatal ??= new AppError('expired', 'The EHR no longer accepts this session (HTTP 401).');
        throw fatal;
      }
      if (isObject(e) && e.name === 'AbortError') throw e;
      if (status !== undefined) {
        let detail = `HTTP ${status}`;
        // fhirclient's HttpError has already read the body into its message (`…\n\n{json}`).
        const message = isObject(e) && typeof e.message === 'string' ? e.message : '';
        const at = message.indexOf('\n\n{');
        if (at >= 0) {
          try {
            const text = outcomeText(JSON.parse(message.slice(at + 2)));
            if (text) detail += `: ${text}`;
          } catch {
            // not JSON: the status alone says enough
          }
        }
        throw new QueryFailure(reasonForStatus(status), detail);
      }
      throw new QueryFailure('error', 'the FHIR server could not be reached');
    } finally {
      clearTimeout(timer);
      open.splice(open.indexOf(slot), 1);
      armOldest();
      outer?.removeEventListener('abort', forward);
      t.end = clock();
    }
  };

  const fetchRequirement = async (req: DataRequirement): Promise<unknown[]> => {
    const first = toSearchUrl(req, patientId);
    if (req.resourceType === 'Patient') {
      const body = await get(first);
      if (isObject(body) && body.resourceType === 'OperationOutcome')
        throw new QueryFailure(
          'invalid-response',
          `OperationOutcome instead of the Patient: ${outcomeText(body)}`,
        );
      if (!isObject(body) || body.resourceType !== 'Patient')
        throw new QueryFailure('invalid-response', 'the answer is not a Patient');
      return [body];
    }
    const out: unknown[] = [];
    const seen = new Set<string>();
    let url: string | undefined = first;
    for (let page = 0; url; page++) {
      if (page >= pageCap)
        throw new QueryFailure(
          'truncated',
          `more than ${pageCap} pages: only the first ${pageCap} were read (${out.reduce((n: number, b) => n + (isObject(b) && Array.isArray(b.entry) ? b.entry.length : 0), 0)} entries)`,
        );
      if (seen.has(url)) throw new QueryFailure('invalid-response', 'the next link loops');
      seen.add(url);
      const body = await get(url);
      if (isObject(body) && body.resourceType === 'OperationOutcome')
        throw new QueryFailure(
          'invalid-response',
          `the server answered with an OperationOutcome instead of a Bundle${outcomeText(body) ? `: ${outcomeText(body)}` : ''}`,
        );
      if (!isObject(body) || body.resourceType !== 'Bundle')
        throw new QueryFailure('invalid-response', 'the answer is not a FHIR Bundle');
      const links = Array.isArray(body.link) ? body.link : [];
      const next = links.find(
        (l: unknown) => isObject(l) && l.relation === 'next' && typeof l.url === 'string',
      );
      out.push({ ...body, link: undefined });
      url = isObject(next) ? String(next.url) : undefined;
    }
    return out;
  };

  const gaps: DataGap[] = [];
  const resources: unknown[] = [];
  const runnable = reqs.filter((r) => {
    if (allowed(r.resourceType)) return true;
    gaps.push({
      domains: r.domains,
      query: r.id,
      reason: 'forbidden',
      detail: `The EHR did not grant read access to ${r.resourceType} (scope).`,
    });
    return false;
  });

  // Wave 1: every query at once.
  const settled = await Promise.allSettled(runnable.map(fetchRequirement));
  if (fatal) throw fatal;
  settled.forEach((s, i) => {
    const req = runnable[i] as DataRequirement;
    if (s.status === 'fulfilled') resources.push(...s.value);
    else if (s.reason instanceof QueryFailure)
      gaps.push({ domains: req.domains, query: req.id, reason: s.reason.reason, detail: s.reason.message });
    else throw s.reason;
  });

  const patient = resources.find((r): r is Json => isObject(r) && r.resourceType === 'Patient');
  if (patient && patient.id !== patientId)
    throw new AppError(
      'wrong-patient',
      'The EHR returned a different patient from the one this launch is for. Nothing is shown, to avoid showing the wrong record.',
    );

  // Wave 2, only when needed: Medication resources referenced but neither included nor contained.
  const missing = missingMedications(resources);
  if (missing.length) {
    if (!allowed('Medication')) {
      gaps.push({
        domains: ['medications'],
        query: 'medication-references',
        reason: 'forbidden',
        detail: `${missing.length} medication(s) are named only by reference and the EHR did not grant read access to Medication.`,
      });
    } else {
      const meds = await Promise.allSettled(missing.slice(0, 100).map((ref) => get(ref)));
      if (fatal) throw fatal;
      const failed = meds.filter((m) => m.status === 'rejected').length;
      for (const m of meds) if (m.status === 'fulfilled' && isObject(m.value)) resources.push(m.value);
      if (failed || missing.length > 100)
        gaps.push({
          domains: ['medications'],
          query: 'medication-references',
          reason: 'error',
          detail: `${failed + Math.max(0, missing.length - 100)} referenced medication(s) could not be read.`,
        });
    }
  }

  return {
    resources,
    gaps,
    ...(patient ? { patient } : {}),
    context: {
      patientId,
      serverUrl: client.state.serverUrl,
      needPatientBanner: token.need_patient_banner !== false,
      ...(typeof token.smart_style_url === 'string' ? { smartStyleUrl: token.smart_style_url } : {}),
      grantedScope: granted,
    },
    waves: countWaves(timings),
    requests: timings.length,
    timings,
  };
}

/** `Medication/x` references from medication resources whose target is not in the results. */
export function missingMedications(resources: readonly unknown[]): string[] {
  const entries = resources.flatMap((r) =>
    isObject(r) && r.resourceType === 'Bundle' && Array.isArray(r.entry)
      ? r.entry.map((e: unknown) => (isObject(e) ? e.resource : undefined))
      : [r],
  );
  const have = new Set(
    entries
      .filter((r): r is Json => isObject(r) && r.resourceType === 'Medication')
      .map((m) => `Medication/${m.id}`),
  );
  const wanted = new Set<string>();
  for (const r of entries) {
    if (!isObject(r) || !/^Medication(Request|Statement|Administration)$/.test(String(r.resourceType)))
      continue;
    const ref = isObject(r.medicationReference) ? r.medicationReference.reference : undefined;
    if (typeof ref !== 'string') continue;
    const m = /(?:^|\/)(Medication\/[A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (m?.[1] && !have.has(m[1])) wanted.add(m[1]);
  }
  return [...wanted];
}
