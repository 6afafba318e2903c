/**
 * Fetches the patient's record through an authorised SMART client, by the one data path
 * (`src/fhir/fetch-record.ts`: one wave of searches, pages, Medication references, failures as
 * DataGaps). This module gives it a `get` made of fhirclient's request: a timeout per request, HTTP
 * errors turned into gap reasons, and the page-level refusals below.
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
import type { DataGap } from '../../core/model.ts';
import {
  DEFAULT_PAGE_CAP,
  loadRecord,
  outcomeText,
  QueryFailure,
  reasonForStatus,
} from '../../fhir/fetch-record.ts';
import { type DataRequirement, dataRequirements } from '../../fhir/queries.ts';
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

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

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
  const pageCap = options.pageCap ?? DEFAULT_PAGE_CAP;
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

  const loaded = await loadRecord(
    { base: client.state.serverUrl, get, pageCap, mayRead: allowed },
    { patientId, requirements: reqs },
  );
  if (fatal) throw fatal;
  const { resources, gaps } = loaded;

  const patient = resources.find((r): r is Json => isObject(r) && r.resourceType === 'Patient');
  if (patient && patient.id !== patientId)
    throw new AppError(
      'wrong-patient',
      'The EHR returned a different patient from the one this launch is for. Nothing is shown, to avoid showing the wrong record.',
    );

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
