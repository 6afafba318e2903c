/**
 * Small, defensive readers for FHIR R4 JSON. Real records are often partial or malformed, so every
 * reader accepts `unknown` shapes and returns `undefined`/empty rather than throwing.
 */
import type { CodeableConcept, Coding, Reference } from 'fhir/r4';
import type { IsoDate, ResultStatus } from '../core/model.ts';

/** Any FHIR resource, read loosely: extractors must survive resources that break the spec. */
// biome-ignore lint/suspicious/noExplicitAny: FHIR JSON from the wire is untrusted and read field by field.
export type AnyResource = { resourceType: string; id?: string } & Record<string, any>;

export function isResource(x: unknown): x is AnyResource {
  return (
    typeof x === 'object' && x !== null && typeof (x as { resourceType?: unknown }).resourceType === 'string'
  );
}

export function asArray<T>(x: T | T[] | undefined | null): T[] {
  if (x === undefined || x === null) return [];
  return Array.isArray(x) ? x : [x];
}

export function isString(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/** `Observation/123`, the reference every finding carries. */
export function refOf(r: AnyResource): string {
  return `${r.resourceType}/${r.id ?? '(no id)'}`;
}

/** The codings of a CodeableConcept, skipping anything that is not a coding object. */
export function codingsOf(concept: unknown): Coding[] {
  if (typeof concept !== 'object' || concept === null) return [];
  const codings = (concept as CodeableConcept).coding;
  return Array.isArray(codings)
    ? codings.filter((c): c is Coding => typeof c === 'object' && c !== null)
    : [];
}

/** Every human-readable string in a CodeableConcept: its text and each coding display. */
export function conceptText(concept: unknown): string {
  if (typeof concept !== 'object' || concept === null) return '';
  const parts: string[] = [];
  const text = (concept as CodeableConcept).text;
  if (isString(text)) parts.push(text);
  for (const c of codingsOf(concept)) if (isString(c.display)) parts.push(c.display);
  return parts.join(' ');
}

/** The first readable label of a concept (text, else first display, else first code). */
export function conceptLabel(concept: unknown): string {
  if (typeof concept !== 'object' || concept === null) return '';
  const text = (concept as CodeableConcept).text;
  if (isString(text)) return text;
  for (const c of codingsOf(concept)) if (isString(c.display)) return c.display;
  for (const c of codingsOf(concept)) if (isString(c.code)) return c.code;
  return '';
}

/**
 * Splits a reference into type and id. Handles `Patient/1`, absolute URLs
 * (`https://x/fhir/Patient/1/_history/2`) and leaves `urn:uuid:` / `#contained` to the caller.
 */
export function parseReference(ref: unknown): { type: string; id: string } | undefined {
  const reference = typeof ref === 'string' ? ref : (ref as Reference | undefined)?.reference;
  if (!isString(reference) || reference.startsWith('#') || reference.startsWith('urn:')) return undefined;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  if (!m?.[1] || !m[2]) return undefined;
  return { type: m[1], id: m[2] };
}

/** Normalises a reference to `Type/id` when it can. */
export function normaliseReference(ref: unknown): string | undefined {
  const parsed = parseReference(ref);
  return parsed ? `${parsed.type}/${parsed.id}` : undefined;
}

const RESULT_STATUSES = new Set<ResultStatus>([
  'registered',
  'preliminary',
  'final',
  'amended',
  'corrected',
  'appended',
  'partial',
  'cancelled',
  'entered-in-error',
]);

export function resultStatus(s: unknown): ResultStatus {
  return typeof s === 'string' && RESULT_STATUSES.has(s as ResultStatus) ? (s as ResultStatus) : 'unknown';
}

function isoOrUndefined(x: unknown): IsoDate | undefined {
  return typeof x === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?/.test(x) ? x : undefined;
}

/** Observation / DiagnosticReport clinically relevant time: effective[x], else issued. */
export function effectiveDate(r: AnyResource): IsoDate | undefined {
  return (
    isoOrUndefined(r.effectiveDateTime) ??
    isoOrUndefined(r.effectivePeriod?.start) ??
    isoOrUndefined(r.effectiveInstant) ??
    isoOrUndefined(r.issued)
  );
}

export function dateOf(x: unknown): IsoDate | undefined {
  return isoOrUndefined(x);
}

/** Milliseconds since epoch of an ISO date (partial dates resolve to their first day), NaN if unreadable. */
export function dateMs(d: IsoDate | undefined): number {
  if (!d) return Number.NaN;
  const full = d.length === 4 ? `${d}-01-01` : d.length === 7 ? `${d}-01` : d;
  return Date.parse(full);
}

export const DAY_MS = 86_400_000;

/** Lower-cased concatenation of strings for text matching. */
export function joinText(...parts: (string | undefined | null)[]): string {
  return parts.filter((p): p is string => isString(p)).join(' \n ');
}

/** Text of plain-text attachments (presentedForm); PDFs and other binaries are not read. */
export function attachmentText(attachments: unknown): string {
  const out: string[] = [];
  for (const a of asArray(attachments as Record<string, unknown>[])) {
    if (typeof a !== 'object' || a === null) continue;
    const type = typeof a.contentType === 'string' ? a.contentType : '';
    if (!type.startsWith('text/plain') || !isString(a.data)) continue;
    try {
      // atob + TextDecoder work in browsers and Node alike (src/fhir also runs in the SMART app).
      const binary = atob(a.data);
      const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
      out.push(new TextDecoder().decode(bytes));
    } catch {
      // Not base64: nothing readable.
    }
  }
  return out.join('\n');
}
