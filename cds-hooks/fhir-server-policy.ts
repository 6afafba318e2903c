/**
 * Which `fhirServer` a CDS client may make this service call (contract: `fhir_servers` in
 * `CDS_TRUSTED_ISSUERS`). Without a rule any trusted issuer could make the service GET any address
 * with a bearer token of its choosing (SSRF), and learn from 200 vs 412 what answers there.
 *
 * - An issuer with `fhir_servers`: only those base URLs; a hook naming another gets no request.
 * - An issuer without: any server, but never a loopback, link-local (cloud metadata) or unspecified
 *   address, checked on the addresses DNS answers at connection time (`http-get.ts`).
 */
import type { TrustedIssuer } from './auth/index.ts';

export type FhirServerAccess =
  | { allowed: true; publicTargetsOnly: boolean }
  | { allowed: false; reason: string };

/** A base URL compared by its parsed form: scheme, host, port and path, without trailing slashes. */
function baseKey(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.username || u.password || u.search || u.hash) return undefined;
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/**
 * May this client make the service call `fhirServer`? `client`: the verified token's issuer with
 * its `fhir_servers` (jwt-verifier.ts); undefined when no verifier is configured (development).
 */
export function fhirServerAccess(
  client: { fhirServers?: readonly string[] } | undefined,
  fhirServer: string,
): FhirServerAccess {
  if (!client) return { allowed: true, publicTargetsOnly: false };
  const allowlist = client.fhirServers;
  if (!allowlist) return { allowed: true, publicTargetsOnly: true };
  const key = baseKey(fhirServer);
  return key !== undefined && allowlist.some((a) => baseKey(a) === key)
    ? { allowed: true, publicTargetsOnly: false }
    : { allowed: false, reason: 'fhirServer is not one of the FHIR servers this CDS client may name' };
}

/** Issuers with no `fhir_servers`: named in a warning at start. */
export const issuersWithoutAllowlist = (issuers: readonly TrustedIssuer[]) =>
  issuers.filter((i) => !i.fhir_servers).map((i) => i.iss);
