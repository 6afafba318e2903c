/**
 * Completes the authorization (code → token) exactly once per page load. React StrictMode runs
 * effects twice; a second `/token` call with the same code fails with `invalid_grant`, so the
 * promise is kept at module level [§6 item 43]. Afterwards `code` and `state` are removed from the
 * address bar (fhirclient does so too; this also covers the error path) [§6 item 44].
 */
import FHIR from 'fhirclient';
import { toAppError } from './errors.ts';
import type { SmartClient } from './load-patient-data.ts';

let pending: Promise<SmartClient> | undefined;

const AUTH_PARAMS = ['code', 'state', 'error', 'error_description', 'error_uri', 'complete'];

export function scrubAuthParams(loc: Location = window.location, hist: History = window.history): void {
  const url = new URL(loc.href);
  let changed = false;
  for (const p of AUTH_PARAMS) {
    if (url.searchParams.has(p)) {
      url.searchParams.delete(p);
      changed = true;
    }
  }
  if (changed) hist.replaceState(hist.state, '', url.pathname + url.search + url.hash);
}

export function readyOnce(
  ready: () => Promise<SmartClient> = () => FHIR.oauth2.ready() as Promise<SmartClient>,
): Promise<SmartClient> {
  pending ??= ready().then(
    (client) => {
      scrubAuthParams();
      return client;
    },
    (e: unknown) => {
      scrubAuthParams();
      throw toAppError(e);
    },
  );
  return pending;
}

/** Tests only: forget the memoised exchange. */
export function resetReadyForTests(): void {
  pending = undefined;
}
