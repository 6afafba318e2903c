/**
 * Fetches what prefetch did not bring from the EHR's FHIR server, with the hook's bearer token, by
 * the one data path (`src/fhir/fetch-record.ts`: one wave, pages, Medication references, every
 * failure a DataGap; no URL outside `fhirServer` is ever requested). This module is its transport:
 * every call has a timeout, the whole wave a deadline, a 429 is retried once when Retry-After
 * allows. The token is used for this request only: never stored, logged or put in an error message.
 */
import type { DataGap, DataGapReason } from '../src/core/model.ts';
import {
  type FhirGet,
  loadRecord,
  QueryFailure,
  reasonForStatus,
  underBase,
} from '../src/fhir/fetch-record.ts';
import type { DataRequirement } from '../src/fhir/queries.ts';
import {
  type ByteBudget,
  type HttpGet,
  HttpGetError,
  type HttpGetErrorKind,
  type HttpGetResponse,
  httpGet,
} from './http-get.ts';

export interface FetchOptions {
  fhirServer: string;
  accessToken?: string;
  patientId: string;
  /** Per HTTP call. */
  timeoutMs: number;
  /** Absolute time (ms since epoch) by which the whole wave must end. */
  deadline: number;
  maxPages: number;
  /** Largest page accepted (bytes, after decompression); a larger one makes the query truncated. */
  maxPageBytes?: number;
  /** Bytes all pages of all searches of this call may add up to (after decompression). */
  maxTotalBytes?: number;
  /** Refuse loopback and link-local targets, checked on DNS answers (no `fhir_servers` allowlist). */
  publicTargetsOnly?: boolean;
  /** The transport; tests and fuzzing give their own. */
  httpGet?: HttpGet;
}

/** 32 MiB: a page of 1,000 large Observations is a few MB; anything beyond is not a page we can use. */
const DEFAULT_MAX_PAGE_BYTES = 32 * 1024 * 1024;
/**
 * 16 MiB for all pages of one hook call together: a record of about 30,000 Observations. It bounds
 * what concurrent hooks against a server sending huge pages can make the process hold.
 */
export const DEFAULT_MAX_TOTAL_BYTES = 16 * 1024 * 1024;

export interface FetchResult {
  resources: unknown[];
  gaps: DataGap[];
  /** HTTP calls made, for logs and benchmarks. */
  calls: number;
}

class FetchFailure extends QueryFailure {
  constructor(
    reason: DataGapReason,
    message: string,
    /** 429 with a readable Retry-After: how long the server asked us to wait, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(reason, message);
  }
}

/** Retry-After as delay-seconds or an HTTP-date [RFC 9110 §10.2.3]; undefined when absent or unreadable. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const TRANSPORT_FAILURE: Record<HttpGetErrorKind, DataGapReason> = {
  timeout: 'timeout',
  network: 'error',
  redirect: 'error',
  'bad-encoding': 'invalid-response',
  'too-large': 'truncated',
  'refused-address': 'forbidden',
};

async function getJson(url: string, opts: FetchOptions, budget: ByteBudget): Promise<unknown> {
  const remaining = opts.deadline - Date.now();
  if (remaining <= 0) throw new FetchFailure('timeout', 'deadline passed before the request');
  const timeoutMs = Math.min(opts.timeoutMs, remaining);
  let res: HttpGetResponse;
  try {
    res = await (opts.httpGet ?? httpGet)({
      url,
      headers: {
        accept: 'application/fhir+json, application/json',
        ...(opts.accessToken ? { authorization: `Bearer ${opts.accessToken}` } : {}),
      },
      timeoutMs,
      maxBytes: opts.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES,
      budget,
      // Redirects, like next links, only under the FHIR base: the token goes nowhere else.
      mayFollow: (target) => underBase(opts.fhirServer, target.href) !== undefined,
      ...(opts.publicTargetsOnly ? { publicTargetsOnly: true } : {}),
    });
  } catch (e) {
    if (!(e instanceof HttpGetError) || e.kind === 'network')
      throw new FetchFailure('error', 'the FHIR server could not be reached');
    throw new FetchFailure(TRANSPORT_FAILURE[e.kind], e.message);
  }
  if (res.status < 200 || res.status > 299)
    throw new FetchFailure(
      reasonForStatus(res.status),
      `HTTP ${res.status}`,
      res.status === 429 ? retryAfterMs(res.header('retry-after')) : undefined,
    );
  try {
    return JSON.parse(res.body);
  } catch {
    throw new FetchFailure('invalid-response', 'response is not valid JSON');
  }
}

/** Time a retried call needs at least, after waiting out Retry-After, for the retry to be worth it. */
const MIN_RETRY_BUDGET_MS = 100;

/**
 * getJson, retrying once on 429 when the server's Retry-After still leaves time before the deadline.
 * A 429 without Retry-After, or one asking for longer than the wave has left, is a gap at once:
 * waiting past the deadline would only delay the same "could not be checked" answer.
 */
async function getJsonWithRetry(
  url: string,
  opts: FetchOptions,
  budget: ByteBudget,
  retried: () => void,
): Promise<unknown> {
  try {
    return await getJson(url, opts, budget);
  } catch (e) {
    const wait = e instanceof FetchFailure ? e.retryAfterMs : undefined;
    if (wait === undefined || Date.now() + wait + MIN_RETRY_BUDGET_MS > opts.deadline) throw e;
    await new Promise((resolve) => setTimeout(resolve, wait));
    retried();
    return getJson(url, opts, budget);
  }
}

/**
 * Runs the requirements in one parallel wave, then reads the Medications that they and `given`
 * (prefetch) reference but did not bring.
 */
export async function fetchRequirements(
  reqs: readonly DataRequirement[],
  opts: FetchOptions,
  given: readonly unknown[] = [],
): Promise<FetchResult> {
  let retries = 0;
  const total = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  const budget: ByteBudget = { remaining: total, total };
  const get: FhirGet = (url) =>
    getJsonWithRetry(url, opts, budget, () => {
      retries++;
    });
  const loaded = await loadRecord(
    { base: opts.fhirServer, get, pageCap: opts.maxPages },
    { patientId: opts.patientId, requirements: reqs, given },
  );
  return { resources: loaded.resources, gaps: loaded.gaps, calls: loaded.requests + retries };
}
