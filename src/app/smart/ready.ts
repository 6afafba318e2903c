/**
 * Completes the authorization (code → token) exactly once per page load. React StrictMode runs
 * effects twice; a second `/token` call with the same code fails with `invalid_grant`, so the
 * promise is kept at module level [§6 item 43]. Afterwards `code` is removed from the address bar
 * (fhirclient does so too; this also covers the error path) [§6 item 44]; `state` stays, see below.
 *
 * One session per address [§6 item 48]: fhirclient keeps each launch's session (tokens included) in
 * sessionStorage under its state key. By default it also records the "current" key in
 * sessionStorage['SMART_KEY'], strips `state` from the URL and, on a new authorize(), deletes the
 * session SMART_KEY names. Frames of one EHR tab (and embedded browsers that share sessionStorage
 * across instances) share that storage, so a second launch deleted the first and a reload of the
 * first frame showed the second patient. With `fullSessionStorageSupport: false` the state key stays
 * in the URL and SMART_KEY is never written, so a new authorize() (or a 401 clearing an expired
 * session) deletes no other launch's session, and ready() takes the key from the URL. ready() still
 * falls back to SMART_KEY when the URL has no state, so such a page load is refused here first.
 */
import FHIR from 'fhirclient';
import { AppError, fromAuthorizationError, toAppError } from './errors.ts';
import type { SmartClient } from './load-patient-data.ts';

/** fhirclient settings for both pages (launch and return): applied before authorize() and ready(). */
export const FHIRCLIENT_SETTINGS = { fullSessionStorageSupport: false, replaceBrowserHistory: true } as const;

export function configureFhirclient(settings: Record<string, unknown> = FHIR.oauth2.settings): void {
  Object.assign(settings, FHIRCLIENT_SETTINGS);
}

let pending: Promise<SmartClient> | undefined;

const AUTH_PARAMS = ['code', 'state', 'error', 'error_description', 'error_uri', 'complete'];

/**
 * Removes the authorization parameters from the address bar. After a successful exchange `state`
 * is kept: it is how a reload finds this launch's session (it is a storage key, not a credential;
 * the session itself never leaves this tab's sessionStorage).
 */
export function scrubAuthParams(
  { keepState }: { keepState: boolean } = { keepState: false },
  loc: Location = window.location,
  hist: History = window.history,
): void {
  const url = new URL(loc.href);
  let changed = false;
  for (const p of AUTH_PARAMS) {
    if (keepState && p === 'state') continue;
    if (url.searchParams.has(p)) {
      url.searchParams.delete(p);
      changed = true;
    }
  }
  if (changed) hist.replaceState(hist.state, '', url.pathname + url.search + url.hash);
}

const defaultReady = (): Promise<SmartClient> => {
  configureFhirclient();
  return FHIR.oauth2.ready() as Promise<SmartClient>;
};

/** Refuses a page load that names no launch (no `state`; an `error` redirect is fhirclient's to report). */
function requireLaunchInUrl(loc: Location = window.location): void {
  const q = new URL(loc.href).searchParams;
  if (!q.get('state') && !q.has('error') && !q.has('error_description'))
    throw new AppError('not-launched', 'This address does not belong to a launch from the EHR.');
}

export function readyOnce(ready: () => Promise<SmartClient> = defaultReady): Promise<SmartClient> {
  pending ??= Promise.resolve()
    .then(() => {
      // An authorization server's error redirect is said in its own words, before fhirclient's.
      const refused = fromAuthorizationError(new URL(window.location.href).searchParams);
      if (refused) throw refused;
      requireLaunchInUrl();
      return ready();
    })
    .then(
      (client) => {
        scrubAuthParams({ keepState: true });
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
