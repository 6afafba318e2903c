/**
 * The sandbox EHR's own signing key (ES384, made at start, never written to disk). It signs the JWTs
 * the sandbox presents to the CDS service (CDS Hooks 2.0 §Trusting CDS Clients) and the OpenID
 * Connect id_tokens of its SMART authorization server; the public half is served as a JWKS.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

const ALG = 'ES384';

export interface SandboxKeys {
  /** `{ keys: [public JWK] }`, for `jwks_url` / `jwks_uri`. */
  jwks(): { keys: JWK[] };
  /** A signed JWT with a fresh `jti`, `iat` now and `exp` after `lifetimeSec`. */
  sign(claims: JWTPayload & { iss: string; aud: string | string[] }, lifetimeSec: number): Promise<string>;
}

export async function createSandboxKeys(): Promise<SandboxKeys> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  return {
    jwks: () => ({ keys: [publicJwk] }),
    sign: (claims, lifetimeSec) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime(`${lifetimeSec}s`)
        .setJti(randomUUID())
        .sign(privateKey),
  };
}
