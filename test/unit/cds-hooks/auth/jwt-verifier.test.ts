import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createJwtVerifier,
  type JwtVerifier,
  type JwtVerifierOptions,
  type TrustedIssuer,
  type VerifyResult,
} from '../../../../cds-hooks/auth/index.ts';
import { type JwksServer, startJwksServer, unusedLocalUrl } from '../../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../../../fixtures/cds-jwt/keys.ts';
import {
  EPIC_CLIENT_ID,
  EPIC_ISS,
  epicStyleToken,
  hmacToken,
  ORACLE_ISS,
  oracleStyleToken,
  SANDBOX_ISS,
  sandboxStyleToken,
  signToken,
  unsignedToken,
} from '../../../fixtures/cds-jwt/tokens.ts';

const BASE = 'https://cds.example.org';
const SERVICE_URL = `${BASE}/cds-services/alk-ros1-patient-view`;
const DISCOVERY_URL = `${BASE}/cds-services`;
const FEEDBACK_URL = `${SERVICE_URL}/feedback`;

/** Fixed verifier clock (the token clock). jose's JWKS cache/cooldown clock is the real Date.now. */
const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const NOW = NOW_MS / 1000;

const SANDBOX_PATH = '/sandbox/.well-known/jwks.json';
const EPIC_PATH = '/epic/api/epic/2019/Security/Open/PublicKeys/530005/OAuth2';
const ORACLE_PATH = '/oracle/jwk';

let server: JwksServer;
let attacker: JwksServer;
let sandboxKey: TestKey;
let sandboxKey2: TestKey;
let epicKey: TestKey;
let oracleRsKey: TestKey;
let oracleEsKey: TestKey;
let attackerKey: TestKey;
let trusted: TrustedIssuer[];
let sandboxJku: string;
let epicJku: string;

/** Every token minted in a test, to assert no failure reason ever echoes one. */
const tokensSeen: string[] = [];
const reasonsSeen: string[] = [];

function verifier(extra: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  return createJwtVerifier({ trustedIssuers: trusted, now: () => NOW_MS, jwksTimeoutMs: 300, ...extra });
}

async function check(
  v: JwtVerifier,
  token: string,
  aud = SERVICE_URL,
  scheme = 'Bearer ',
): Promise<VerifyResult> {
  tokensSeen.push(token);
  const r = await v.verify(`${scheme}${token}`, aud);
  if (!r.ok) reasonsSeen.push(r.reason);
  return r;
}

function expectReject(r: VerifyResult, reason: string | RegExp, token?: string): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  if (typeof reason === 'string') expect(r.reason).toBe(reason);
  else expect(r.reason).toMatch(reason);
  if (token) {
    expect(r.reason).not.toContain(token);
    for (const part of token.split('.')) if (part.length > 8) expect(r.reason).not.toContain(part);
  }
}

beforeAll(async () => {
  [server, attacker, sandboxKey, sandboxKey2, epicKey, oracleRsKey, oracleEsKey, attackerKey] =
    await Promise.all([
      startJwksServer(),
      startJwksServer(),
      makeKey('ES384'),
      makeKey('ES384'),
      makeKey('RS384'),
      makeKey('RS256'),
      makeKey('ES256'),
      makeKey('ES384'),
    ]);
  sandboxJku = server.url(SANDBOX_PATH);
  epicJku = server.url(EPIC_PATH);
  trusted = [
    { iss: SANDBOX_ISS, jwks_url: sandboxJku },
    { iss: EPIC_ISS, jwks_url: epicJku },
    { iss: `${ORACLE_ISS}/`, jwks_url: server.url(ORACLE_PATH) }, // trailing slash in config on purpose
  ];
  attacker.publish('/.well-known/jwks.json', jwksOf(attackerKey));
});

beforeEach(() => {
  server.mode = 'ok';
  server.publish(SANDBOX_PATH, jwksOf(sandboxKey));
  server.publish(EPIC_PATH, jwksOf(epicKey));
  server.publish(ORACLE_PATH, jwksOf(oracleRsKey, oracleEsKey));
  server.resetCounts();
  attacker.resetCounts();
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await Promise.all([server?.close(), attacker?.close()]);
  // Cross-cutting guarantee: no failure reason ever contained a token or a token segment.
  for (const reason of reasonsSeen) {
    expect(reason.length).toBeLessThan(40);
    for (const t of tokensSeen) {
      expect(reason).not.toContain(t);
      for (const part of t.split('.')) if (part.length > 8) expect(reason).not.toContain(part);
    }
  }
});

describe('accepts the three real-world client styles', () => {
  it('CDS Hooks sandbox (ES384, jku, exp = iat + 300)', async () => {
    const v = verifier();
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    const r = await check(v, token);
    expect(r).toMatchObject({ ok: true, iss: SANDBOX_ISS, alg: 'ES384', kid: sandboxKey.kid });
    if (r.ok) expect(r.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.count(SANDBOX_PATH)).toBe(1);
  });

  it('Epic (RS384, sub = client id, nbf = iat − 300, lifetime 900 s, jku)', async () => {
    const v = verifier();
    const token = await epicStyleToken({ key: epicKey, aud: SERVICE_URL, nowSec: NOW, jku: epicJku });
    const r = await check(v, token);
    expect(r).toMatchObject({ ok: true, iss: EPIC_ISS, sub: EPIC_CLIENT_ID, alg: 'RS384', kid: epicKey.kid });
  });

  it.each([
    ['RS256', () => oracleRsKey],
    ['ES256', () => oracleEsKey],
  ])('Oracle Health (%s, kid, no jku, tenant)', async (alg, key) => {
    const v = verifier();
    const token = await oracleStyleToken({ key: key(), aud: SERVICE_URL, nowSec: NOW });
    const r = await check(v, token);
    // configured iss has a trailing slash, the token's has none: one trailing slash is tolerated
    expect(r).toMatchObject({
      ok: true,
      iss: `${ORACLE_ISS}/`,
      alg,
      tenant: 'tenant-oracle-1',
      kid: key().kid,
    });
  });

  it('discovery and feedback audiences are the exact URLs called', async () => {
    const v = verifier();
    const d = await sandboxStyleToken({ key: sandboxKey, aud: DISCOVERY_URL, nowSec: NOW, jku: sandboxJku });
    const f = await sandboxStyleToken({ key: sandboxKey, aud: FEEDBACK_URL, nowSec: NOW, jku: sandboxJku });
    expect((await check(v, d, DISCOVERY_URL)).ok).toBe(true);
    expect((await check(v, f, FEEDBACK_URL)).ok).toBe(true);
    const f2 = await sandboxStyleToken({ key: sandboxKey, aud: FEEDBACK_URL, nowSec: NOW, jku: sandboxJku });
    expectReject(await check(v, f2, SERVICE_URL), 'audience', f2);
  });

  it('accepts a lower-case "bearer" scheme, a missing typ and typ "jwt"', async () => {
    const v = verifier();
    const a = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: sandboxJku });
    const b = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, omit: ['typ'] });
    const c = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      header: { typ: 'jwt' },
    });
    expect((await check(v, a, SERVICE_URL, 'bearer ')).ok).toBe(true);
    expect((await check(v, b)).ok).toBe(true);
    expect((await check(v, c)).ok).toBe(true);
  });

  it('accepts a token without kid by trying each of the issuer keys', async () => {
    server.publish(SANDBOX_PATH, jwksOf(sandboxKey, sandboxKey2));
    const v = verifier();
    const token = await sandboxStyleToken({ key: sandboxKey2, aud: SERVICE_URL, nowSec: NOW, omit: ['kid'] });
    const r = await check(v, token);
    expect(r).toMatchObject({ ok: true, iss: SANDBOX_ISS });
    if (r.ok) expect(r.kid).toBeUndefined();
    const forged = await sandboxStyleToken({
      key: attackerKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      omit: ['kid'],
    });
    expectReject(await check(v, forged), 'signature', forged);
  });
});

describe('rejects malformed or missing credentials', () => {
  it('no Authorization header', async () => {
    const v = verifier();
    expectReject(await v.verify(undefined, SERVICE_URL), 'missing authorization');
    expectReject(await v.verify('', SERVICE_URL), 'missing authorization');
    expect(server.count()).toBe(0);
  });

  it('wrong scheme', async () => {
    const v = verifier();
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    for (const scheme of ['Basic ', 'Token ', '', 'Bearer', 'Bearer: ', 'DPoP ']) {
      expectReject(await check(v, token, SERVICE_URL, scheme), 'not a bearer jwt', token);
    }
    expect(server.count()).toBe(0);
  });

  it('garbage tokens', async () => {
    const v = verifier();
    for (const garbage of ['abc', 'a.b', 'not a jwt', 'abc.def.ghi', 'e30.e30.e30.e30.e30', '....']) {
      expectReject(await check(v, garbage), /^(malformed|not a bearer jwt)$/);
    }
    const huge = `${'a'.repeat(20_000)}.${'b'.repeat(10)}.c`;
    expectReject(await check(v, huge), 'token too large');
    expect(server.count()).toBe(0);
  });

  it('tampered payload → signature', async () => {
    const v = verifier();
    const good = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: sandboxJku });
    const evil = await sandboxStyleToken({
      key: sandboxKey,
      aud: DISCOVERY_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    const [h, , s] = good.split('.');
    const [, p] = evil.split('.');
    const spliced = `${h}.${p}.${s}`;
    expectReject(await check(v, spliced, DISCOVERY_URL), 'signature', spliced);
  });
});

describe('algorithm and header rules', () => {
  const claims = () => ({
    iss: SANDBOX_ISS,
    aud: SERVICE_URL,
    iat: NOW,
    exp: NOW + 300,
    jti: crypto.randomUUID(),
  });

  it('alg none (hand-crafted unsigned token) is rejected, even if configured', async () => {
    const token = unsignedToken(claims());
    expectReject(await check(verifier(), token), 'alg not allowed', token);
    const v = verifier({ algorithms: ['none', 'HS256', 'ES384'] });
    expectReject(await check(v, token), 'alg not allowed', token);
    const noneUpper = unsignedToken(claims(), { alg: 'None', typ: 'JWT' });
    expectReject(await check(v, noneUpper), 'alg not allowed', noneUpper);
    expect(server.count()).toBe(0);
  });

  it('HS256/384/512-signed tokens are rejected, even if configured', async () => {
    const v = verifier({ algorithms: ['HS256', 'HS384', 'HS512', 'ES384'] });
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const token = await hmacToken(claims(), alg, sandboxKey.kid);
      expectReject(await check(v, token), 'alg not allowed', token);
    }
    expect(server.count()).toBe(0);
    expect(() => createJwtVerifier({ trustedIssuers: trusted, algorithms: ['HS256', 'none'] })).toThrow(
      /no usable algorithm/,
    );
  });

  it('an asymmetric alg outside the configured allowlist is rejected', async () => {
    const v = verifier({ algorithms: ['ES384'] });
    const token = await epicStyleToken({ key: epicKey, aud: SERVICE_URL, nowSec: NOW, jku: epicJku });
    expectReject(await check(v, token), 'alg not allowed', token);
  });

  it('a present typ other than JWT (e.g. at+jwt) is rejected', async () => {
    const v = verifier();
    for (const typ of ['at+jwt', 'JOSE', 'dpop+jwt']) {
      const token = await sandboxStyleToken({
        key: sandboxKey,
        aud: SERVICE_URL,
        nowSec: NOW,
        header: { typ },
      });
      expectReject(await check(v, token), 'typ', token);
    }
    expect(server.count()).toBe(0);
  });
});

describe('issuer and jku allowlist', () => {
  it('untrusted iss → rejected without any JWKS fetch', async () => {
    const v = verifier();
    const token = await signToken(
      attackerKey,
      { alg: 'ES384', typ: 'JWT', kid: attackerKey.kid, jku: attacker.url('/.well-known/jwks.json') },
      { iss: 'https://evil.example.com', aud: SERVICE_URL, iat: NOW, exp: NOW + 300, jti: 'x1' },
    );
    expectReject(await check(v, token), 'untrusted issuer', token);
    const lookalike = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      claims: { iss: 'https://sandbox.cds-hooks.org.evil.com' },
    });
    expectReject(await check(v, lookalike), 'untrusted issuer', lookalike);
    const noIss = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, omit: ['iss'] });
    expectReject(await check(v, noIss), 'missing iss', noIss);
    expect(server.count() + attacker.count()).toBe(0);
  });

  it('jku not matching the configured jwks_url → rejected; the attacker JWKS is never fetched', async () => {
    const v = verifier();
    const attackerJku = attacker.url('/.well-known/jwks.json');
    // trusted iss, attacker key, attacker jku
    const token = await sandboxStyleToken({
      key: attackerKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: attackerJku,
    });
    expectReject(await check(v, token), 'jku mismatch', token);
    // even a correctly signed token is rejected if it points elsewhere
    const signed = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: attackerJku,
    });
    expectReject(await check(v, signed), 'jku mismatch', signed);
    // another issuer's (trusted) JWKS URL is not this issuer's
    const crossed = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: epicJku });
    expectReject(await check(v, crossed), 'jku mismatch', crossed);
    expect(attacker.count()).toBe(0);
    expect(server.count()).toBe(0);
  });

  it('an announced jku (a local copy of a client that names its public JWKS URL) is accepted, and keys still come from jwks_url only', async () => {
    const publicJku = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';
    const v = verifier({
      trustedIssuers: trusted.map((t) => (t.iss === SANDBOX_ISS ? { ...t, jku: [publicJku] } : t)),
    });
    const before = server.count();
    const token = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: publicJku });
    expect((await check(v, token)).ok).toBe(true);
    expect(server.count()).toBeGreaterThan(before);
    // An attacker key announced under that jku is not in the configured JWKS: refused.
    const forged = await sandboxStyleToken({
      key: attackerKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: publicJku,
    });
    expect((await check(v, forged)).ok).toBe(false);
    expect(attacker.count()).toBe(0);
  });

  it('a trailing slash on the token iss is tolerated (one slash only)', async () => {
    const v = verifier();
    const slash = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      claims: { iss: `${SANDBOX_ISS}/` },
    });
    expect(await check(v, slash)).toMatchObject({ ok: true, iss: SANDBOX_ISS });
    const two = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      claims: { iss: `${SANDBOX_ISS}//` },
    });
    expectReject(await check(v, two), 'untrusted issuer', two);
  });
});

describe('audience', () => {
  it('wrong aud → rejected (exact match, no normalisation)', async () => {
    const v = verifier();
    for (const aud of [
      `${BASE}/cds-services/other-service`,
      `${SERVICE_URL}/`,
      SERVICE_URL.toUpperCase(),
      DISCOVERY_URL,
    ]) {
      const token = await sandboxStyleToken({ key: sandboxKey, aud, nowSec: NOW, jku: sandboxJku });
      expectReject(await check(v, token), 'audience', token);
    }
    const none = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, omit: ['aud'] });
    expectReject(await check(v, none), 'missing aud', none);
  });

  it('a set of accepted audiences (feedback URL or service URL): either passes, anything else does not', async () => {
    const v = verifier();
    for (const aud of [FEEDBACK_URL, SERVICE_URL]) {
      const token = await sandboxStyleToken({ key: sandboxKey, aud, nowSec: NOW, jku: sandboxJku });
      expect((await v.verify(`Bearer ${token}`, [FEEDBACK_URL, SERVICE_URL])).ok).toBe(true);
    }
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: DISCOVERY_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    expectReject(await v.verify(`Bearer ${token}`, [FEEDBACK_URL, SERVICE_URL]), 'audience', token);
    expectReject(await v.verify(`Bearer ${token}`, []), 'no audience', token);
  });

  it('aud array containing the URL → ok', async () => {
    const v = verifier();
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: ['https://other.example.org/cds-services', SERVICE_URL],
      nowSec: NOW,
      jku: sandboxJku,
    });
    expect((await check(v, token)).ok).toBe(true);
    const without = await sandboxStyleToken({
      key: sandboxKey,
      aud: [DISCOVERY_URL, FEEDBACK_URL],
      nowSec: NOW,
    });
    expectReject(await check(v, without), 'audience', without);
  });
});

describe('time claims (60 s skew)', () => {
  const mk = (claims: Record<string, unknown>, omit?: string[]) =>
    sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: sandboxJku, claims, omit });

  it('expired → rejected; expired within skew → ok', async () => {
    const v = verifier();
    const expired = await mk({ iat: NOW - 420, exp: NOW - 120 });
    expectReject(await check(v, expired), 'expired', expired);
    const withinSkew = await mk({ iat: NOW - 330, exp: NOW - 30 });
    expect((await check(v, withinSkew)).ok).toBe(true);
  });

  it('nbf in the future beyond skew → rejected; within skew or Epic-style past nbf → ok', async () => {
    const v = verifier();
    const future = await mk({ nbf: NOW + 120 });
    expectReject(await check(v, future), 'not yet valid', future);
    expect((await check(v, await mk({ nbf: NOW + 30 }))).ok).toBe(true);
    expect((await check(v, await mk({ nbf: NOW - 300 }))).ok).toBe(true);
  });

  it('iat in the future beyond skew → rejected; within skew → ok', async () => {
    const v = verifier();
    const future = await mk({ iat: NOW + 120, exp: NOW + 420 });
    expectReject(await check(v, future), 'iat in future', future);
    expect((await check(v, await mk({ iat: NOW + 30, exp: NOW + 330 }))).ok).toBe(true);
  });

  it('exp, iat and jti are required; jti must be a non-empty string', async () => {
    const v = verifier();
    for (const claim of ['exp', 'iat', 'jti']) {
      const token = await mk({}, [claim]);
      expectReject(await check(v, token), `missing ${claim}`, token);
    }
    const empty = await mk({ jti: '' });
    expectReject(await check(v, empty), 'missing jti', empty);
    const numeric = await mk({ jti: 42 });
    expectReject(await check(v, numeric), 'missing jti', numeric);
    const badExp = await mk({ exp: 'tomorrow' });
    expectReject(await check(v, badExp), 'invalid exp', badExp);
  });

  it('lifetime (exp − iat) above maxLifetimeSec → rejected', async () => {
    const v = verifier();
    const long = await mk({ exp: NOW + 3601 });
    expectReject(await check(v, long), 'lifetime too long', long);
    expect((await check(v, await mk({ exp: NOW + 3600 }))).ok).toBe(true);
    const strict = verifier({ maxLifetimeSec: 600 });
    const epic = await epicStyleToken({ key: epicKey, aud: SERVICE_URL, nowSec: NOW, jku: epicJku });
    expectReject(await check(strict, epic), 'lifetime too long', epic);
  });
});

describe('replay', () => {
  it('a second use of the same jti is rejected', async () => {
    const v = verifier();
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    const first = await check(v, token);
    expect(first.ok).toBe(true);
    expectReject(await check(v, token), 'replayed jti', token);
    // same jti, freshly signed (different iat) — still a replay
    const jti = first.ok ? first.jti : 'unreachable';
    const again = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW - 5,
      claims: { jti },
    });
    expectReject(await check(v, again), 'replayed jti', again);
  });

  it('jti is scoped per issuer, and parallel replays let exactly one through', async () => {
    const v = verifier();
    const jti = 'shared-jti-123';
    const s = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, claims: { jti } });
    const e = await epicStyleToken({ key: epicKey, aud: SERVICE_URL, nowSec: NOW, claims: { jti } });
    expect((await check(v, s)).ok).toBe(true);
    expect((await check(v, e)).ok).toBe(true);

    const t = await oracleStyleToken({ key: oracleRsKey, aud: SERVICE_URL, nowSec: NOW });
    const results = await Promise.all(Array.from({ length: 8 }, () => check(v, t)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) expectReject(r, 'replayed jti', t);
  });

  it('a rejected (forged) token does not burn its jti', async () => {
    const v = verifier();
    const jti = 'victim-jti';
    const forged = await sandboxStyleToken({
      key: attackerKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      claims: { jti },
      header: { kid: sandboxKey.kid },
    });
    expectReject(await check(v, forged), 'signature', forged);
    const real = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, claims: { jti } });
    expect((await check(v, real)).ok).toBe(true);
  });
});

describe('pluggable replay store (multi-instance)', () => {
  it('uses the injected store, keyed by configured iss + jti, until exp + skew', async () => {
    const calls: Array<[string, number]> = [];
    const v = verifier({
      replayStore: {
        checkAndAdd: async (key, exp) => {
          calls.push([key, exp]);
          return calls.length === 1;
        },
      },
    });
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      claims: { jti: 'j-1' },
    });
    expect((await check(v, token)).ok).toBe(true);
    expectReject(await check(v, token), 'replayed jti', token);
    expect(calls[0]).toEqual([JSON.stringify([SANDBOX_ISS, 'j-1']), (NOW + 300 + 60) * 1000]);
  });

  it('fails closed when the store is unavailable', async () => {
    const v = verifier({
      replayStore: {
        checkAndAdd: () => {
          throw new Error('redis down');
        },
      },
    });
    const token = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expectReject(await check(v, token), 'replay store unavailable', token);
  });
});

describe('JWKS fetching, caching and rotation', () => {
  it('caches the JWKS: many sequential and parallel verifications share one fetch', async () => {
    const v = verifier();
    const tokens = await Promise.all(
      Array.from({ length: 25 }, () => sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW })),
    );
    const results = await Promise.all(tokens.map((t) => check(v, t)));
    expect(results.every((r) => r.ok)).toBe(true);
    const more = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expect((await check(v, more)).ok).toBe(true);
    expect(server.count(SANDBOX_PATH)).toBe(1);
    expect(server.count()).toBe(1);
  });

  it('unknown kid → one (rate-limited) refresh, then rejected', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const v = verifier();
    const ok = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expect((await check(v, ok)).ok).toBe(true);
    expect(server.count(SANDBOX_PATH)).toBe(1);

    // Within the 30 s cooldown an unknown kid does not refetch.
    const unknown = () =>
      sandboxStyleToken({ key: sandboxKey2, aud: SERVICE_URL, nowSec: NOW, header: { kid: 'no-such-kid' } });
    const u1 = await unknown();
    expectReject(await check(v, u1), 'unknown kid', u1);
    expect(server.count(SANDBOX_PATH)).toBe(1);

    // After the cooldown: exactly one refresh, still unknown → rejected; a burst does not refetch again.
    vi.setSystemTime(Date.now() + 31_000);
    const burst = await Promise.all(Array.from({ length: 5 }, unknown));
    for (const [i, r] of (await Promise.all(burst.map((t) => check(v, t)))).entries()) {
      expectReject(r, 'unknown kid', burst[i]);
    }
    expect(server.count(SANDBOX_PATH)).toBe(2);
    const u2 = await unknown();
    expectReject(await check(v, u2), 'unknown kid', u2);
    expect(server.count(SANDBOX_PATH)).toBe(2);
  });

  it('unknown kid on a fresh verifier → a single fetch, then rejected', async () => {
    const v = verifier();
    const t = await sandboxStyleToken({ key: sandboxKey2, aud: SERVICE_URL, nowSec: NOW });
    expectReject(await check(v, t), 'unknown kid', t);
    expect(server.count(SANDBOX_PATH)).toBe(1);
  });

  it('key rotation: a new kid published later is accepted after refresh, same verifier', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const v = verifier();
    const before = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    expect((await check(v, before)).ok).toBe(true);

    server.publish(SANDBOX_PATH, jwksOf(sandboxKey2)); // rotate: old key retired, new key published
    vi.setSystemTime(Date.now() + 31_000);
    const after = await sandboxStyleToken({
      key: sandboxKey2,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    expect(await check(v, after)).toMatchObject({ ok: true, kid: sandboxKey2.kid });
    expect(server.count(SANDBOX_PATH)).toBe(2);
  });

  it('JWKS older than the cache max age is refetched before use', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const v = verifier();
    expect(
      (await check(v, await oracleStyleToken({ key: oracleRsKey, aud: SERVICE_URL, nowSec: NOW }))).ok,
    ).toBe(true);
    vi.setSystemTime(Date.now() + 601_000);
    expect(
      (await check(v, await oracleStyleToken({ key: oracleEsKey, aud: SERVICE_URL, nowSec: NOW }))).ok,
    ).toBe(true);
    expect(server.count(ORACLE_PATH)).toBe(2);
  });
});

describe('JWKS unavailable', () => {
  it('connection refused → rejected quickly', async () => {
    const dead = await unusedLocalUrl('/.well-known/jwks.json');
    const v = createJwtVerifier({
      trustedIssuers: [{ iss: SANDBOX_ISS, jwks_url: dead }],
      now: () => NOW_MS,
    });
    const token = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW, jku: dead });
    expectReject(await check(v, token), 'jwks unavailable', token);
  });

  it('hanging server → rejected within the timeout (no hang)', async () => {
    server.mode = 'hang';
    const v = verifier({ jwksTimeoutMs: 100 });
    const token = await sandboxStyleToken({
      key: sandboxKey,
      aud: SERVICE_URL,
      nowSec: NOW,
      jku: sandboxJku,
    });
    const started = performance.now();
    expectReject(await check(v, token), 'jwks unavailable', token);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(server.count(SANDBOX_PATH)).toBe(1);
  });

  it('HTTP 500, then recovery without a new verifier', async () => {
    server.mode = 'error';
    const v = verifier();
    const t1 = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expectReject(await check(v, t1), 'jwks unavailable', t1);
    server.mode = 'ok';
    const t2 = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expect((await check(v, t2)).ok).toBe(true);
  });

  it('a JWKS document that is not a key set → rejected', async () => {
    server.publish(SANDBOX_PATH, { keys: 'nope' } as never);
    const v = verifier();
    const t = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expectReject(await check(v, t), 'jwks invalid', t);
  });
});

describe('configuration', () => {
  it('rejects bad verifier options up front', () => {
    expect(() => createJwtVerifier({ trustedIssuers: [{ iss: 'x', jwks_url: 'not a url' }] })).toThrow(
      /jwks_url/,
    );
    expect(() => createJwtVerifier({ trustedIssuers: [{ iss: 'x', jwks_url: 'ftp://x/jwks' }] })).toThrow(
      /http\(s\)/,
    );
    expect(() =>
      createJwtVerifier({
        trustedIssuers: [
          { iss: 'https://a', jwks_url: 'https://a/jwks' },
          { iss: 'https://a/', jwks_url: 'https://b/jwks' },
        ],
      }),
    ).toThrow(/duplicate/);
  });

  it('an empty allowlist rejects everything', async () => {
    const v = createJwtVerifier({ trustedIssuers: [], now: () => NOW_MS });
    const t = await sandboxStyleToken({ key: sandboxKey, aud: SERVICE_URL, nowSec: NOW });
    expectReject(await check(v, t), 'untrusted issuer', t);
  });
});
