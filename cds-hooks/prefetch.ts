/**
 * Turns what the EHR prefetched into resources, and says what is still needed. Each key may be a
 * resource, a searchset Bundle (empty or paged), null, an OperationOutcome, or absent
 * [CDS Hooks 2.0 §Prefetch]. null means "no data": nothing to fetch. Absent or an OperationOutcome
 * means the EHR did not (or could not) provide it: fetch it. A paged Bundle is kept and its remaining
 * pages fetched.
 */
import type { DataGap } from '../src/core/model.ts';
import type { DataRequirement } from '../src/fhir/queries.ts';

export interface PrefetchResult {
  resources: unknown[];
  /** Requirements to fetch from fhirServer (absent, OperationOutcome, or paged beyond page one). */
  toFetch: DataRequirement[];
  /** What the EHR said it could not provide (kept when no fallback is possible). */
  failed: DataGap[];
  /** First pages of paged searches: used only if the full search cannot be fetched. */
  partial: Map<string, unknown>;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function hasNextLink(bundle: Record<string, unknown>): boolean {
  return Array.isArray(bundle.link) && bundle.link.some((l) => isObject(l) && l.relation === 'next');
}

export function normalisePrefetch(
  prefetch: Record<string, unknown> | undefined,
  reqs: readonly DataRequirement[],
): PrefetchResult {
  const resources: unknown[] = [];
  const toFetch: DataRequirement[] = [];
  const failed: DataGap[] = [];
  const partial = new Map<string, unknown>();
  for (const req of reqs) {
    const present = prefetch !== undefined && Object.hasOwn(prefetch, req.id);
    const value = present ? prefetch?.[req.id] : undefined;
    if (!present) {
      toFetch.push(req);
    } else if (value === null) {
      // The EHR looked and found nothing.
    } else if (!isObject(value) || typeof value.resourceType !== 'string') {
      toFetch.push(req);
      failed.push({
        domains: req.domains,
        query: req.id,
        reason: 'invalid-response',
        detail: 'prefetch value is not a FHIR resource',
      });
    } else if (value.resourceType === 'OperationOutcome') {
      toFetch.push(req);
      failed.push({
        domains: req.domains,
        query: req.id,
        reason: 'error',
        detail: 'the EHR could not prefetch it (OperationOutcome)',
      });
    } else if (value.resourceType === 'Bundle' && hasNextLink(value)) {
      // The whole search is fetched again when fhirServer allows; otherwise page one is used and
      // toSnapshot marks the domain truncated (its next link is still there).
      toFetch.push(req);
      partial.set(req.id, value);
    } else {
      resources.push(value);
    }
  }
  return { resources, toFetch, failed, partial };
}
