/**
 * CDS client trust layer: verification of the JWT bearer token CDS clients (EHRs, the CDS Hooks sandbox)
 * present on discovery, service and feedback calls (CDS Hooks 2.0 §Trusting CDS Clients).
 *
 * Usage:
 *   const verifier = createJwtVerifier({ trustedIssuers: parseTrustedIssuers(process.env.CDS_TRUSTED_ISSUERS) });
 *   const r = await verifier.verify(c.req.header('authorization'), `${PUBLIC_BASE_URL}/cds-services/${id}`);
 *   if (!r.ok) → bare 401 (log r.reason with iss/jti only, never the token).
 */
export {
  createJwtVerifier,
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_MAX_LIFETIME_SEC,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  type JwtVerifier,
  type JwtVerifierOptions,
  parseTrustedIssuers,
  type TrustedIssuer,
  type VerifyResult,
} from './jwt-verifier.ts';
export {
  DEFAULT_REPLAY_CACHE_MAX_ENTRIES,
  ReplayCache,
  type ReplayCacheOptions,
  type ReplayStore,
} from './replay-cache.ts';
