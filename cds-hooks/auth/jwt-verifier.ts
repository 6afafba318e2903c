/**
 * CDS Hooks 2.0 §Trusting CDS Clients — verification of the `Authorization: Bearer <JWT>` a CDS client
 * (EHR, sandbox) sends with discovery, service and feedback calls.
 *
 * Order of checks (cheap and local first, network last, replay bookkeeping only after full success):
 *   1. header syntax `Bearer <compact JWS>` and size cap;
 *   2. decode the protected header and the payload WITHOUT trusting them: `alg` allowlist (never `none`
 *      or `HS*`), `typ`, `iss` ∈ trusted issuers, `jku` (if present) === the configured `jwks_url`
 *      or one of the issuer's announced `jku` values;
 *   3. signature against the issuer's JWKS, fetched ONLY from the configured `jwks_url` (one cached
 *      remote JWKS per issuer; unknown `kid` → one rate-limited refresh, so key rotation needs no restart),
 *      then `aud` / `exp` / `nbf` / `iss` by jose;
 *   4. project rules: `iat`, `exp`, `jti` required; `iat` not in the future; `exp - iat` ≤ max lifetime;
 *   5. `iss` + `jti` replay check.
 *
 * Failure reasons are short constant strings meant for logs; they never contain the token or any value
 * taken from it (no log injection). Callers must answer every failure with a bare 401.
 */
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type JWTVerifyResult,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { z } from 'zod';
import { ReplayCache, type ReplayStore } from './replay-cache.ts';

export interface TrustedIssuer {
  iss: string;
  jwks_url: string;
  /**
   * The FHIR servers (base URLs) this client may name in `fhirServer`; any other gets no request.
   * Absent: any server, except those resolving to loopback or link-local addresses.
   */
  fhir_servers?: string[];
  /**
   * `jku` header values this client announces besides `jwks_url` itself. Keys are still fetched
   * only from `jwks_url`: this is for a client whose tokens name its public JWKS URL while its keys
   * are served elsewhere (a local build of the CDS Hooks sandbox announces
   * https://sandbox.cds-hooks.org/.well-known/jwks.json and serves the same keys itself).
   */
  jku?: string[];
}

export interface JwtVerifierOptions {
  trustedIssuers: TrustedIssuer[];
  /** default ['RS256','RS384','ES256','ES384']; never 'none' or HS* (reject even if configured) */
  algorithms?: string[];
  /** clock skew tolerance in seconds for exp/nbf/iat, default 60 */
  clockToleranceSec?: number;
  /** reject tokens whose exp - iat exceeds this (seconds), default 3600 */
  maxLifetimeSec?: number;
  /** current time in ms (tests) — default Date.now */
  now?: () => number;
  /** JWKS HTTP timeout ms, default 2000 */
  jwksTimeoutMs?: number;
  /**
   * Replay store for `iss`+`jti`. Default: a per-process {@link ReplayCache} (100k entries). A
   * multi-instance deployment must pass a shared store.
   */
  replayStore?: ReplayStore;
}

export type VerifyResult =
  | {
      ok: true;
      iss: string;
      sub?: string;
      jti: string;
      tenant?: string;
      kid?: string;
      alg: string;
      /** The matched issuer's `fhir_servers`: the only FHIR servers it may name (fhir-server-policy.ts). */
      fhirServers?: readonly string[];
    }
  // reason is for logs only, never sent to clients; never contains the token. `unavailable`: the
  // token could not be checked (the replay store could not record it), so the answer is 503, not 401.
  | { ok: false; reason: string; unavailable?: true };

export interface JwtVerifier {
  /** `audience`: the exact URL called, or the URLs accepted for it (the token's aud must contain one). */
  verify(authorization: string | undefined, audience: string | readonly string[]): Promise<VerifyResult>;
}

export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'ES256', 'ES384'];
/**
 * Asymmetric JWS algorithms that may be enabled through `algorithms`. Anything else — `none`, every
 * `HS*` (symmetric, forbidden by CDS Hooks §JWT Signing Algorithm), typos — is dropped even if configured.
 */
const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
export const DEFAULT_CLOCK_TOLERANCE_SEC = 60;
export const DEFAULT_MAX_LIFETIME_SEC = 3600;
export const DEFAULT_JWKS_TIMEOUT_MS = 2000;
/** jose remote JWKS: minimum time between two refreshes triggered by an unknown `kid`. */
export const JWKS_COOLDOWN_MS = 30_000;
/** jose remote JWKS: a cached JWKS older than this is refetched before use. */
export const JWKS_CACHE_MAX_AGE_MS = 600_000;
/** Upper bound on the bearer token size; real CDS client JWTs are well under 2 KiB. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Upper bound on `jti` length, to bound replay-cache memory. */
const MAX_JTI_LENGTH = 512;

const BEARER_RE = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*) *$/i;

// ---------------------------------------------------------------------------------------------------------
// Configuration: CDS_TRUSTED_ISSUERS
// ---------------------------------------------------------------------------------------------------------

const trustedIssuersSchema = z.array(
  z.object({
    iss: z.string().trim().min(1, 'iss must be a non-empty string'),
    jwks_url: z.url({ protocol: /^https?$/, error: 'jwks_url must be an http(s) URL' }),
    fhir_servers: z
      .array(z.url({ protocol: /^https?$/, error: 'each of fhir_servers must be an http(s) URL' }))
      .optional(),
    jku: z.array(z.url({ protocol: /^https?$/, error: 'each jku must be an http(s) URL' })).optional(),
  }),
);

/**
 * Parse env `CDS_TRUSTED_ISSUERS` (JSON array of `{ "iss", "jwks_url" }`).
 * `undefined` or a blank string → `[]` (no client is trusted; every JWT is rejected — fail closed).
 * Throws an Error naming the problem (never echoing secrets — the value holds only public URLs) on
 * invalid JSON, a wrong shape, a non-http(s) `jwks_url`, an empty `iss` or a duplicate `iss`.
 */
export function parseTrustedIssuers(json: string | undefined): TrustedIssuer[] {
  if (json === undefined || json.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(
      'CDS_TRUSTED_ISSUERS is not valid JSON (expected an array of {"iss","jwks_url","fhir_servers"?})',
    );
  }
  const parsed = trustedIssuersSchema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(
      `CDS_TRUSTED_ISSUERS is invalid (expected an array of {"iss","jwks_url","fhir_servers"?}): ${detail}`,
    );
  }
  const seen = new Set<string>();
  const out: TrustedIssuer[] = [];
  for (const [index, entry] of parsed.data.entries()) {
    const key = normaliseIss(entry.iss);
    if (seen.has(key))
      throw new Error(`CDS_TRUSTED_ISSUERS is invalid: ${index}.iss duplicates an earlier issuer`);
    seen.add(key);
    out.push({
      iss: entry.iss,
      jwks_url: entry.jwks_url,
      ...(entry.fhir_servers ? { fhir_servers: entry.fhir_servers } : {}),
      ...(entry.jku ? { jku: entry.jku } : {}),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Verifier
// ---------------------------------------------------------------------------------------------------------

interface IssuerEntry {
  iss: string;
  /** `new URL(…).href` of `jwks_url` and of each announced `jku`, for comparing a header `jku`. */
  jkuHrefs: Set<string>;
  getKey: JWTVerifyGetKey;
  fhirServers?: readonly string[];
}

/** Exact match after trimming ONE trailing slash (`https://x/` ≡ `https://x`, nothing else). */
function normaliseIss(iss: string): string {
  return iss.endsWith('/') ? iss.slice(0, -1) : iss;
}

/** Thrown by our key resolver wrapper when the JWKS cannot be obtained (network, timeout, non-200, bad JSON). */
class JwksUnavailable extends Error {
  constructor() {
    super('jwks unavailable');
    this.name = 'JwksUnavailable';
  }
}

/** Signals a failure whose (constant) reason is already known. */
class Reject extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'Reject';
  }
}

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const algorithms = [...new Set(opts.algorithms ?? DEFAULT_ALGORITHMS)].filter((a) =>
    ASYMMETRIC_ALGORITHMS.has(a),
  );
  if (algorithms.length === 0) {
    throw new Error('createJwtVerifier: no usable algorithm (only asymmetric RS*/PS*/ES*/EdDSA are allowed)');
  }
  const allowedAlgs = new Set(algorithms);
  const tolerance = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  const maxLifetime = opts.maxLifetimeSec ?? DEFAULT_MAX_LIFETIME_SEC;
  const timeoutMs = opts.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
  if (!(Number.isFinite(tolerance) && tolerance >= 0))
    throw new Error('createJwtVerifier: bad clockToleranceSec');
  if (!(Number.isFinite(maxLifetime) && maxLifetime > 0))
    throw new Error('createJwtVerifier: bad maxLifetimeSec');
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw new Error('createJwtVerifier: bad jwksTimeoutMs');
  const now = opts.now ?? Date.now;
  const replay = opts.replayStore ?? new ReplayCache({ now });

  // One remote JWKS per issuer, created up front (jose fetches lazily on first use, dedupes concurrent
  // fetches, caches for JWKS_CACHE_MAX_AGE_MS and refreshes on an unknown kid at most every JWKS_COOLDOWN_MS).
  // Note: jose's cache/cooldown clock is the real Date.now, not `opts.now`.
  const issuers = new Map<string, IssuerEntry>();
  for (const t of opts.trustedIssuers) {
    const key = normaliseIss(t.iss.trim());
    if (key === '') throw new Error('createJwtVerifier: a trusted issuer has an empty iss');
    if (issuers.has(key)) throw new Error('createJwtVerifier: duplicate trusted issuer');
    let url: URL;
    try {
      url = new URL(t.jwks_url);
    } catch {
      throw new Error('createJwtVerifier: a trusted issuer has an invalid jwks_url');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error('createJwtVerifier: jwks_url must be http(s)');
    }
    const remote = createRemoteJWKSet(url, {
      timeoutDuration: timeoutMs,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
    });
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        // Key-selection errors (no/multiple matching key, unsupported alg, invalid JWKS) pass through;
        // transport-level failures become one opaque "unavailable" error.
        if (
          err instanceof errors.JOSEError &&
          err.code !== 'ERR_JOSE_GENERIC' &&
          err.code !== 'ERR_JWKS_TIMEOUT'
        ) {
          throw err;
        }
        throw new JwksUnavailable();
      }
    };
    const jkuHrefs = new Set([url.href]);
    for (const jku of t.jku ?? []) {
      try {
        jkuHrefs.add(new URL(jku).href);
      } catch {
        throw new Error('createJwtVerifier: a trusted issuer has an invalid jku');
      }
    }
    issuers.set(key, {
      iss: t.iss.trim(),
      jkuHrefs,
      getKey,
      ...(t.fhir_servers ? { fhirServers: t.fhir_servers } : {}),
    });
  }

  async function verify(
    authorization: string | undefined,
    audience: string | readonly string[],
  ): Promise<VerifyResult> {
    try {
      return await verifyInner(authorization, audience);
    } catch (err) {
      return fail(mapError(err));
    }
  }

  async function verifyInner(
    authorization: string | undefined,
    audience: string | readonly string[],
  ): Promise<VerifyResult> {
    const audiences = (typeof audience === 'string' ? [audience] : [...audience]).filter(
      (a) => typeof a === 'string' && a !== '',
    );
    if (audiences.length === 0) return fail('no audience');
    if (authorization === undefined || authorization === '') return fail('missing authorization');
    if (authorization.length > MAX_TOKEN_LENGTH + 16) return fail('token too large');
    const m = BEARER_RE.exec(authorization.trim());
    const token = m?.[1];
    if (token === undefined) return fail('not a bearer jwt');

    // --- 2. untrusted decode -------------------------------------------------------------------------
    let header: ProtectedHeaderParameters;
    let claims: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      claims = decodeJwt(token);
    } catch {
      return fail('malformed');
    }
    const alg = header.alg;
    if (typeof alg !== 'string' || !allowedAlgs.has(alg)) return fail('alg not allowed');
    // typ: CDS Hooks 2.0 marks `typ: "JWT"` REQUIRED, but a missing typ carries no confusion risk and some
    // EHR integrations omit it, so absence is tolerated. A PRESENT typ must be "JWT" (or its full media type
    // "application/jwt"), case-insensitively; anything else (`at+jwt`, `dpop+jwt`, `secevent+jwt`…) is a
    // different kind of token and is rejected to prevent cross-protocol token confusion.
    if (header.typ !== undefined) {
      if (typeof header.typ !== 'string') return fail('typ');
      const typ = header.typ.toLowerCase();
      if (typ !== 'jwt' && typ !== 'application/jwt') return fail('typ');
    }
    if (header.kid !== undefined && typeof header.kid !== 'string') return fail('malformed kid');
    if (typeof claims.iss !== 'string' || claims.iss === '') return fail('missing iss');
    const issuer = issuers.get(normaliseIss(claims.iss));
    if (issuer === undefined) return fail('untrusted issuer');
    // jku is only ever compared, never fetched: the JWKS comes from the configured jwks_url only.
    if (header.jku !== undefined) {
      if (typeof header.jku !== 'string') return fail('jku mismatch');
      let jkuHref: string;
      try {
        jkuHref = new URL(header.jku).href;
      } catch {
        return fail('jku mismatch');
      }
      if (!issuer.jkuHrefs.has(jkuHref)) return fail('jku mismatch');
    }

    // --- 3. signature + registered claims (jose) -----------------------------------------------------
    const nowMs = now();
    const verifyOptions: JWTVerifyOptions = {
      issuer: claims.iss, // the exact (signed) string we matched against the allowlist above
      audience: audiences,
      algorithms,
      clockTolerance: tolerance,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'iat', 'jti'],
    };
    const result = await verifyWithIssuerKeys(token, issuer.getKey, verifyOptions);
    const payload = result.payload;

    // --- 4. project rules ----------------------------------------------------------------------------
    const nowSec = Math.floor(nowMs / 1000);
    const { iat, exp, jti } = payload;
    if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('invalid iat');
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return fail('invalid exp');
    if (typeof jti !== 'string' || jti.trim() === '') return fail('missing jti');
    if (jti.length > MAX_JTI_LENGTH) return fail('jti too long');
    if (iat > nowSec + tolerance) return fail('iat in future');
    if (exp < iat) return fail('exp before iat');
    if (exp - iat > maxLifetime) return fail('lifetime too long');

    // --- 5. replay -------------------------------------------------------------------------------------
    let first: boolean;
    try {
      first = await replay.checkAndAdd(JSON.stringify([issuer.iss, jti]), (exp + tolerance) * 1000);
    } catch {
      // Fail closed, and say it is the service's problem: the client may retry (contract: 503).
      return { ok: false, reason: 'replay store unavailable', unavailable: true };
    }
    if (!first) return fail('replayed jti');

    const ok: VerifyResult = {
      ok: true,
      iss: issuer.iss,
      jti,
      alg,
      ...(issuer.fhirServers ? { fhirServers: issuer.fhirServers } : {}),
    };
    if (typeof payload.sub === 'string' && payload.sub !== '') ok.sub = payload.sub;
    if (typeof payload.tenant === 'string' && payload.tenant !== '') ok.tenant = payload.tenant;
    if (header.kid !== undefined && header.kid !== '') ok.kid = header.kid;
    return ok;
  }

  return { verify };
}

/**
 * `jwtVerify` against the issuer's JWKS. If the token has no `kid` and several of the issuer's keys fit
 * the `alg`, try each of them (jose's documented JWKSMultipleMatchingKeys pattern).
 */
async function verifyWithIssuerKeys(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTVerifyResult> {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
        throw inner;
      }
    }
    throw new Reject('signature');
  }
}

const KNOWN_CLAIMS = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sub', 'typ']);

/** Map any error to a short, constant reason. Never uses `err.message` (jose messages are safe today, but
 * a future version or a fetch error could echo request data). */
function mapError(err: unknown): string {
  if (err instanceof Reject) return err.reason;
  if (err instanceof JwksUnavailable) return 'jwks unavailable';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = KNOWN_CLAIMS.has(err.claim) ? err.claim : 'claim';
    if (err.reason === 'missing') return `missing ${claim}`;
    if (claim === 'aud') return 'audience';
    if (claim === 'nbf') return 'not yet valid';
    if (claim === 'iss') return 'issuer';
    return `invalid ${claim}`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown kid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg not allowed';
  if (err instanceof errors.JWKSInvalid || err instanceof errors.JWKInvalid) return 'jwks invalid';
  if (err instanceof errors.JOSENotSupported) return 'unsupported';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed';
  if (err instanceof errors.JWKSTimeout) return 'jwks unavailable';
  return 'verification failed';
}
