/**
 * Starts a SMART App Launch 2.x authorization: EHR launch (`iss` + `launch`) or standalone (`iss`
 * only, asking for `launch/patient`). Checks made before anything leaves the page [§6 items 39–45]:
 * the issuer is on the `issMatch` allowlist (else a refusal page, no redirect); `fhirServiceUrl` /
 * `patientId` fake launches only in dev builds; the server advertises PKCE S256 (`pkceMode:
 * 'required'`); v2 scopes unless the server advertises only `permission-v1`. The state key is a
 * `crypto.randomUUID()` (122 random bits; fhirclient's own is Math.random-based). fhirclient runs with
 * `fullSessionStorageSupport: false` (see ready.ts): this launch must not touch another launch's
 * session in the same sessionStorage [§6 item 48].
 */
import FHIR from 'fhirclient';
import { IS_DEV, isAllowedIssuer, type LaunchConfig, toV1Scope } from '../config.ts';
import { AppError, redact } from './errors.ts';
import { configureFhirclient } from './ready.ts';

type AuthorizeOptions = Parameters<typeof FHIR.oauth2.authorize>[0];

export interface LaunchDeps {
  authorize: (options: AuthorizeOptions) => Promise<unknown>;
  fetch: typeof fetch;
  isDev: boolean;
  randomUUID: () => string;
}

const defaultDeps = (): LaunchDeps => ({
  authorize: (o) => {
    configureFhirclient();
    return FHIR.oauth2.authorize(o);
  },
  fetch: (...a) => fetch(...a),
  isDev: IS_DEV,
  randomUUID: () => crypto.randomUUID(),
});

export interface SmartConfiguration {
  capabilities: string[];
  codeChallengeMethods: string[];
}

/** `{iss}/.well-known/smart-configuration`, or undefined when the server does not publish one. */
export async function discover(
  iss: string,
  fetchImpl: typeof fetch,
): Promise<SmartConfiguration | undefined> {
  try {
    const res = await fetchImpl(`${iss.replace(/\/+$/, '')}/.well-known/smart-configuration`, {
      headers: { accept: 'application/json' },
    });
    if (!res.ok) return undefined;
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null) return undefined;
    const b = body as Record<string, unknown>;
    const strings = (x: unknown) =>
      Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : [];
    return {
      capabilities: strings(b.capabilities),
      codeChallengeMethods: strings(b.code_challenge_methods_supported),
    };
  } catch {
    return undefined;
  }
}

/** v2 scopes unless the server says it speaks only v1 [SMART 2.x: servers SHOULD advertise permission-v1/-v2]. */
export function chooseScope(
  config: LaunchConfig,
  smart: SmartConfiguration | undefined,
  ehrLaunch: boolean,
): string {
  const caps = smart?.capabilities ?? [];
  const v1Only = caps.includes('permission-v1') && !caps.includes('permission-v2');
  const scope = v1Only ? (config.scopeV1 ?? toV1Scope(config.scope)) : config.scope;
  const words = scope.split(/\s+/).filter(Boolean);
  // Standalone: no launch token, so ask the EHR to establish a patient.
  const launchWords = ehrLaunch ? ['launch'] : ['launch/patient'];
  return [...launchWords, ...words.filter((w) => w !== 'launch' && w !== 'launch/patient')].join(' ');
}

/** Redirects to the EHR's authorization endpoint (resolves only when the redirect did not happen). */
export async function startLaunch(
  url: URL,
  config: LaunchConfig,
  deps: LaunchDeps = defaultDeps(),
): Promise<unknown> {
  const q = url.searchParams;
  const iss = q.get('iss') ?? undefined;
  const launch = q.get('launch') ?? undefined;
  const fhirServiceUrl = q.get('fhirServiceUrl') ?? undefined;

  if (fhirServiceUrl || q.has('patientId')) {
    if (!deps.isDev)
      throw new AppError(
        'dev-only',
        'This address asks for a test launch without sign-in (fhirServiceUrl / patientId), which only the development build allows.',
      );
    if (fhirServiceUrl && !iss) {
      return deps.authorize({
        fhirServiceUrl,
        clientId: config.clientId,
        scope: config.scope,
        redirectUri: config.redirectUri,
        stateKey: deps.randomUUID(),
      });
    }
  }

  if (!iss) throw new AppError('not-launched', 'The launch address has no FHIR server (`iss`).');
  if (!isAllowedIssuer(iss, config.issMatch))
    throw new AppError(
      'issuer-not-allowed',
      `The FHIR server ${redact(iss)} is not on this installation's allowlist (launch-config.json issMatch). Nothing was sent to it.`,
    );

  const smart = await discover(iss, deps.fetch);
  if (smart && !smart.codeChallengeMethods.includes('S256'))
    throw new AppError(
      'auth',
      'The EHR does not advertise PKCE with S256 (code_challenge_methods_supported), which this app requires.',
    );

  try {
    return await deps.authorize({
      iss,
      ...(launch ? { launch } : {}),
      clientId: config.clientId,
      scope: chooseScope(config, smart, Boolean(launch)),
      redirectUri: config.redirectUri,
      pkceMode: 'required',
      completeInTarget: true,
      stateKey: deps.randomUUID(),
      issMatch: (candidate: string) => isAllowedIssuer(candidate, config.issMatch),
    });
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('auth', redact(e instanceof Error ? e.message : String(e)));
  }
}
