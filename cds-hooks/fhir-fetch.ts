/**
 * Fetches what prefetch did not bring from the EHR's FHIR server, with the hook's bearer token.
 * Every call has a timeout, the whole wave has a deadline, paging is followed up to a cap, and any
 * failure becomes a DataGap for the domains the query feeds. The token is used for this request only:
 * never stored, logged or put in an error message.
 */
import type { DataGap, DataGapReason } from '../src/core/model.ts';
import type { DataRequirement } from '../src/fhir/queries.ts';
import { toSearchUrl } from '../src/fhir/queries.ts';
import {
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
  /** The transport; tests and fuzzing give their own. */
  httpGet?: HttpGet;
}

/** 32 MiB: a page of 1,000 large Observations is a few MB; anything beyond is not a page we can use. */
const DEFAULT_MAX_PAGE_BYTES = 32 * 1024 * 1024;

export interface FetchResult {
  resources: unknown[];
  gaps: DataGap[];
  /** HTTP calls made, for logs and benchmarks. */
  calls: number;
}

class FetchFailure extends Error {
  constructor(
    readonly reason: DataGapReason,
    message: string,
    /** 429 with a readable Retry-After: how long the server asked us to wait, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
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

function reasonForStatus(status: number): DataGapReason {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  return 'error';
}

function resolveUrl(base: string, url: string): string {
  return /^https?:\/\//.test(url) ? url : `${base.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

const TRANSPORT_FAILURE: Record<HttpGetErrorKind, DataGapReason> = {
  timeout: 'timeout',
  network: 'error',
  redirect: 'error',
  'bad-encoding': 'invalid-response',
  'too-large': 'truncated',
};

async function getJson(url: string, opts: FetchOptions): Promise<unknown> {
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

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Time a retried call needs at least, after waiting out Retry-After, for the retry to be worth it. */
const MIN_RETRY_BUDGET_MS = 100;

/**
 * getJson, retrying once on 429 when the server's Retry-After still leaves time before the deadline.
 * A 429 without Retry-After, or one asking for longer than the wave has left, is a gap at once:
 * waiting past the deadline would only delay the same "could not be checked" answer.
 */
async function getJsonWithRetry(url: string, opts: FetchOptions, count: () => void): Promise<unknown> {
  try {
    return await getJson(url, opts);
  } catch (e) {
    const wait = e instanceof FetchFailure ? e.retryAfterMs : undefined;
    if (wait === undefined || Date.now() + wait + MIN_RETRY_BUDGET_MS > opts.deadline) throw e;
    await new Promise((resolve) => setTimeout(resolve, wait));
    count();
    return getJson(url, opts);
  }
}

/** One requirement: a read (Patient) or a search followed through its `next` links. */
async function fetchRequirement(
  req: DataRequirement,
  opts: FetchOptions,
  count: () => void,
): Promise<unknown[]> {
  let url: string | undefined = resolveUrl(opts.fhirServer, toSearchUrl(req, opts.patientId));
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (let page = 0; url; page++) {
    if (page >= opts.maxPages) throw new FetchFailure('truncated', `more than ${opts.maxPages} pages`);
    if (seen.has(url)) throw new FetchFailure('invalid-response', 'the next link loops');
    seen.add(url);
    count();
    const body = await getJsonWithRetry(url, opts, count);
    if (!isObject(body)) throw new FetchFailure('invalid-response', 'not a FHIR resource');
    if (body.resourceType === 'OperationOutcome')
      throw new FetchFailure('error', 'the server answered with an OperationOutcome');
    if (body.resourceType !== 'Bundle') {
      out.push(body);
      break;
    }
    out.push(body);
    const next = Array.isArray(body.link)
      ? (body.link as unknown[]).find(
          (l) => isObject(l) && l.relation === 'next' && typeof l.url === 'string',
        )
      : undefined;
    url = isObject(next) ? resolveUrl(opts.fhirServer, String(next.url)) : undefined;
  }
  return out.map((r) => (isObject(r) && r.resourceType === 'Bundle' ? { ...r, link: undefined } : r));
}

/** Runs the requirements in one parallel wave. */
export async function fetchRequirements(
  reqs: readonly DataRequirement[],
  opts: FetchOptions,
): Promise<FetchResult> {
  let calls = 0;
  const settled = await Promise.allSettled(reqs.map((r) => fetchRequirement(r, opts, () => calls++)));
  const resources: unknown[] = [];
  const gaps: DataGap[] = [];
  settled.forEach((s, i) => {
    const req = reqs[i] as DataRequirement;
    if (s.status === 'fulfilled') resources.push(...s.value);
    else {
      const f = s.reason instanceof FetchFailure ? s.reason : new FetchFailure('error', 'unexpected failure');
      gaps.push({ domains: req.domains, query: req.id, reason: f.reason, detail: f.message });
    }
  });
  return { resources, gaps, calls };
}
