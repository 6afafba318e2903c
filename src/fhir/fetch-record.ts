/**
 * The one data path: how every front door gets a patient's record from a FHIR server. The SMART
 * app (fhirclient), the CDS service's fallback (`fhirServer` + `fhirAuthorization`) and the sandbox
 * EHR's prefetch filler all call this module with their own `get`; nothing else follows pages or
 * resolves references.
 *
 * - One parallel wave of the data requirements (`queries.ts`), each search followed through its
 *   `next` links up to a page cap.
 * - Every URL requested stays under the FHIR base (same origin and base path): a `next` link that
 *   points anywhere else is a failed query and is never requested, so the bearer token the `get`
 *   carries cannot leave for another host.
 * - `medicationReference` targets that are neither contained nor brought by `_include` (nor given,
 *   e.g. in prefetch) are read by id in one more wave. Without them a drug cannot be identified
 *   [FHIR R4 MedicationRequest.medication[x]: https://hl7.org/fhir/R4/medicationrequest.html].
 * - Every failure is data: an HTTP error, an OperationOutcome or anything else instead of the
 *   expected resource, a timeout, a truncated search, a reference that cannot be read becomes a
 *   DataGap naming the domains it feeds. Only errors that are not a `QueryFailure` (the app's expired
 *   session) abort the whole load.
 *
 * Pure apart from the `get` it is given: no fetch, no clock, no timers. Timeouts, retries and
 * transport details belong to each front door's `get`.
 */
import type { DataGap, DataGapReason } from '../core/model.ts';
import { type DataRequirement, toSearchUrl } from './queries.ts';
import { parseReference } from './read.ts';

type Json = Record<string, unknown>;

/** A failure that is data: it becomes a DataGap for the query it happened in. */
export class QueryFailure extends Error {
  constructor(
    readonly reason: DataGapReason,
    message: string,
  ) {
    super(message);
  }
}

/** The gap reason an HTTP error status makes, for every `get` of the one data path. */
export function reasonForStatus(status: number): DataGapReason {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  return 'error';
}

/**
 * Gets one absolute URL under the FHIR base and returns its parsed JSON body. Throws a QueryFailure
 * for what should become a gap (HTTP status, timeout, unreadable body); anything else it throws
 * aborts the load.
 */
export type FhirGet = (url: string) => Promise<unknown>;

export interface FhirSource {
  /** The FHIR base URL; every request stays under it. */
  base: string;
  get: FhirGet;
  /** Pages followed per search; a search with more is truncated (a gap). */
  pageCap?: number;
  /** Whether the server will let us read a resource type (SMART scopes); default: yes. */
  mayRead?: (resourceType: string) => boolean;
}

export interface RecordRequest {
  patientId: string;
  /** The searches to run (all of `dataRequirements()`, or what prefetch did not bring). */
  requirements: readonly DataRequirement[];
  /** Resources already at hand (prefetch): their medication references are resolved too. */
  given?: readonly unknown[];
}

export interface LoadedRecord {
  /** Bundles (links removed) and resources, as `toSnapshot` takes them; `given` is not repeated. */
  resources: unknown[];
  gaps: DataGap[];
  /** HTTP requests made. */
  requests: number;
}

export const DEFAULT_PAGE_CAP = 50;
/** Medication reads in the reference wave at most; more references than this leave a gap. */
const MAX_REFERENCE_READS = 100;
/** The query id of the reference wave, as gaps name it. */
export const MEDICATION_REFERENCES_QUERY = 'medication-references';

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The diagnostics of an OperationOutcome, short, for a gap's detail. */
export function outcomeText(body: unknown): string {
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

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * `url` made absolute against the base, or undefined when it would leave the base (another scheme,
 * host, port, or a path outside the base path). Compared after URL parsing, so `..`, case in the
 * host and default ports cannot disguise another target.
 */
export function underBase(base: string, url: string): string | undefined {
  let b: URL;
  let u: URL;
  try {
    b = new URL(`${trimSlash(base)}/`);
    u = new URL(url, b);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (u.origin !== b.origin || u.username || u.password) return undefined;
  if (!u.pathname.startsWith(b.pathname)) return undefined;
  return u.href;
}

function notA(expected: string, body: unknown): QueryFailure {
  if (isObject(body) && body.resourceType === 'OperationOutcome') {
    const text = outcomeText(body);
    return new QueryFailure(
      'invalid-response',
      `the server answered with an OperationOutcome instead of a ${expected}${text ? `: ${text}` : ''}`,
    );
  }
  return new QueryFailure('invalid-response', `the answer is not a FHIR ${expected}`);
}

const entriesOf = (bundle: Json): unknown[] => (Array.isArray(bundle.entry) ? bundle.entry : []);

function nextLinkOf(bundle: Json): string | undefined {
  const links = Array.isArray(bundle.link) ? bundle.link : [];
  const next = links.find((l: unknown) => isObject(l) && l.relation === 'next' && typeof l.url === 'string');
  return isObject(next) ? String(next.url) : undefined;
}

/**
 * Every page of one search, as Bundles without their links. Throws QueryFailure when a page fails,
 * is not a Bundle, the `next` links loop or leave the base, or there are more than `pageCap` pages.
 */
export async function searchAllPages(source: FhirSource, url: string, count = () => {}): Promise<Json[]> {
  const cap = source.pageCap ?? DEFAULT_PAGE_CAP;
  const pages: Json[] = [];
  const seen = new Set<string>();
  let next: string | undefined = underBase(source.base, url);
  if (!next) throw new QueryFailure('invalid-response', 'the search URL is outside the FHIR server');
  while (next) {
    if (pages.length >= cap) {
      const entries = pages.reduce((n, b) => n + entriesOf(b).length, 0);
      throw new QueryFailure(
        'truncated',
        `more than ${cap} pages: only the first ${cap} were read (${entries} entries)`,
      );
    }
    if (seen.has(next)) throw new QueryFailure('invalid-response', 'the next link loops');
    seen.add(next);
    count();
    const body = await source.get(next);
    if (!isObject(body) || body.resourceType !== 'Bundle') throw notA('Bundle', body);
    pages.push({ ...body, link: undefined });
    const link = nextLinkOf(body);
    if (link === undefined) break;
    next = underBase(source.base, link);
    if (!next)
      throw new QueryFailure(
        'invalid-response',
        'the next page link points outside the FHIR server; it was not followed',
      );
  }
  return pages;
}

/** Reads one resource of the expected type. */
async function readResource(
  source: FhirSource,
  path: string,
  type: string,
  count: () => void,
): Promise<Json> {
  const url = underBase(source.base, path);
  if (!url)
    throw new QueryFailure('unresolved-reference', `${path} is on another server; it was not requested`);
  count();
  const body = await source.get(url);
  if (!isObject(body) || body.resourceType !== type) throw notA(type, body);
  return body;
}

function fetchRequirement(
  source: FhirSource,
  req: DataRequirement,
  patientId: string,
  count: () => void,
): Promise<Json[]> {
  const path = toSearchUrl(req, patientId);
  if (req.resourceType === 'Patient') return readResource(source, path, 'Patient', count).then((p) => [p]);
  return searchAllPages(source, path, count);
}

const MEDICATION_USERS = /^Medication(Request|Statement|Administration|Dispense)$/;

function flatResources(input: readonly unknown[]): Json[] {
  return input.flatMap((r) =>
    isObject(r) && r.resourceType === 'Bundle'
      ? entriesOf(r)
          .map((e) => (isObject(e) ? e.resource : undefined))
          .filter(isObject)
      : isObject(r)
        ? [r]
        : [],
  );
}

/**
 * References (as written) of medication resources whose Medication is not in `resources`, one per
 * `Medication/id`. Contained `#id` targets are left to the reader, which finds them inside their
 * resource. An absolute reference is kept absolute: it is read only if it is under the FHIR base.
 */
export function missingMedications(resources: readonly unknown[]): string[] {
  const all = flatResources(resources);
  const have = new Set(
    all
      .filter((r) => r.resourceType === 'Medication' && typeof r.id === 'string')
      .map((m) => `Medication/${m.id}`),
  );
  const wanted = new Map<string, string>();
  for (const r of all) {
    if (!MEDICATION_USERS.test(String(r.resourceType))) continue;
    const ref = isObject(r.medicationReference) ? r.medicationReference.reference : undefined;
    if (typeof ref !== 'string' || ref.startsWith('#')) continue;
    const parsed = parseReference(ref);
    if (parsed?.type !== 'Medication') continue;
    const key = `Medication/${parsed.id}`;
    if (!have.has(key) && !wanted.has(key)) wanted.set(key, ref);
  }
  return [...wanted.values()];
}

/** Reads referenced Medications by id in one wave; what cannot be read is a gap. */
async function resolveMedications(
  source: FhirSource,
  known: readonly unknown[],
  count: () => void,
): Promise<{ resources: Json[]; gaps: DataGap[] }> {
  const missing = missingMedications(known);
  if (!missing.length) return { resources: [], gaps: [] };
  const gap = (reason: DataGapReason, detail: string): DataGap => ({
    domains: ['medications'],
    query: MEDICATION_REFERENCES_QUERY,
    reason,
    detail,
  });
  if (source.mayRead && !source.mayRead('Medication'))
    return {
      resources: [],
      gaps: [
        gap(
          'forbidden',
          `${missing.length} medication(s) are named only by reference and the EHR did not grant read access to Medication.`,
        ),
      ],
    };
  const wanted = missing.slice(0, MAX_REFERENCE_READS);
  const settled = await Promise.allSettled(
    wanted.map((ref) => readResource(source, ref, 'Medication', count)),
  );
  const resources: Json[] = [];
  const failures: QueryFailure[] = [];
  settled.forEach((s) => {
    if (s.status === 'fulfilled') resources.push(s.value);
    else if (s.reason instanceof QueryFailure) failures.push(s.reason);
    else throw s.reason;
  });
  const unread = failures.length + (missing.length - wanted.length);
  if (!unread) return { resources, gaps: [] };
  const first = failures[0];
  return {
    resources,
    gaps: [
      gap(
        first?.reason ?? 'truncated',
        `${unread} of ${missing.length} referenced medication(s) could not be read${first ? ` (${first.message})` : ` (more than ${MAX_REFERENCE_READS})`}: those drugs are unknown.`,
      ),
    ],
  };
}

/**
 * The record for one patient: the requirements in one wave, then the Medications their results
 * (and `given`) reference in a second wave when any is missing.
 */
export async function loadRecord(source: FhirSource, request: RecordRequest): Promise<LoadedRecord> {
  let requests = 0;
  const count = () => {
    requests++;
  };
  const gaps: DataGap[] = [];
  const resources: unknown[] = [];
  const runnable = request.requirements.filter((r) => {
    if (!source.mayRead || source.mayRead(r.resourceType)) return true;
    gaps.push({
      domains: r.domains,
      query: r.id,
      reason: 'forbidden',
      detail: `The EHR did not grant read access to ${r.resourceType} (scope).`,
    });
    return false;
  });

  const settled = await Promise.allSettled(
    runnable.map((r) => fetchRequirement(source, r, request.patientId, count)),
  );
  settled.forEach((s, i) => {
    const req = runnable[i] as DataRequirement;
    if (s.status === 'fulfilled') resources.push(...s.value);
    else if (s.reason instanceof QueryFailure)
      gaps.push({ domains: req.domains, query: req.id, reason: s.reason.reason, detail: s.reason.message });
    else throw s.reason;
  });

  const meds = await resolveMedications(source, [...(request.given ?? []), ...resources], count);
  resources.push(...meds.resources);
  gaps.push(...meds.gaps);
  return { resources, gaps, requests };
}
