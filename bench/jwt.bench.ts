/**
 * What JWT verification adds to each CDS request, which the load figures leave out (their servers run
 * with JWT off, to measure the clinical path). Epic-style RS384 and CDS-Hooks-sandbox-style ES384
 * tokens, each with its own jti (the replay check is part of the cost), verified in sequence by the
 * service's own verifier against a JWKS on loopback; the JWKS is fetched once, before timing. The
 * baseline, in the same run, is JSON.parse of the benchmark prefetch body: the work the bare server does
 * for each request.
 */

import { createJwtVerifier } from '../cds-hooks/auth/index.ts';
import { startJwksServer } from '../test/fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestAlg } from '../test/fixtures/cds-jwt/keys.ts';
import { EPIC_ISS, epicStyleToken, SANDBOX_ISS, sandboxStyleToken } from '../test/fixtures/cds-jwt/tokens.ts';
import { benchRecord, patientViewBody } from './cds-record.ts';
import { summariseTimes, type TimingSummary } from './stats.ts';

const TOKENS = 400;
const AUDIENCE = 'http://127.0.0.1/cds-services/alk-ros1-patient-view';

export interface JwtResult extends TimingSummary {
  name: string;
}

export async function benchJwt(): Promise<JwtResult[]> {
  const server = await startJwksServer();
  try {
    const styles: { alg: TestAlg; iss: string; path: string; token: typeof epicStyleToken }[] = [
      { alg: 'RS384', iss: EPIC_ISS, path: '/epic/jwks.json', token: epicStyleToken },
      { alg: 'ES384', iss: SANDBOX_ISS, path: '/sandbox/jwks.json', token: sandboxStyleToken },
    ];
    const issuers = await Promise.all(styles.map(async (s) => ({ ...s, key: await makeKey(s.alg) })));
    for (const s of issuers) server.publish(s.path, jwksOf(s.key));
    const verifier = createJwtVerifier({
      trustedIssuers: issuers.map((s) => ({ iss: s.iss, jwks_url: server.url(s.path) })),
    });
    const nowSec = Math.floor(Date.now() / 1000);
    const results: JwtResult[] = [];

    const body = patientViewBody(benchRecord().prefetch);
    const parse: number[] = [];
    for (let i = 0; i < TOKENS; i++) {
      const t = performance.now();
      JSON.parse(body);
      parse.push(performance.now() - t);
    }
    results.push({ name: 'baseline: JSON.parse of the prefetch body', ...summariseTimes(parse) });

    for (const style of issuers) {
      const key = style.key;
      // One more token than timed: the first verification fetches the JWKS.
      const tokens = await Promise.all(
        Array.from({ length: TOKENS + 1 }, () => style.token({ key, aud: AUDIENCE, nowSec })),
      );
      const first = await verifier.verify(`Bearer ${tokens[0]}`, AUDIENCE);
      if (!first.ok) throw new Error(`bench token refused: ${first.reason}`);
      const times: number[] = [];
      for (const token of tokens.slice(1)) {
        const t = performance.now();
        const r = await verifier.verify(`Bearer ${token}`, AUDIENCE);
        times.push(performance.now() - t);
        if (!r.ok) throw new Error(`bench token refused: ${r.reason}`);
      }
      results.push({
        name: `verify ${style.alg} (${style.iss === EPIC_ISS ? 'Epic' : 'sandbox'} style)`,
        ...summariseTimes(times),
      });
    }
    return results;
  } finally {
    await server.close();
  }
}

export function printJwt(results: JwtResult[]): void {
  const baseline = results[0];
  console.log(`\nJWT verification per CDS request (${TOKENS} tokens each, in sequence, JWKS cached)`);
  console.log(`${'run'.padEnd(44)} ${'median ms'.padStart(9)} ${'p95 ms'.padStart(7)}  notes`);
  for (const r of results) {
    const note = baseline && r !== baseline ? `${(r.median / baseline.median).toFixed(2)} × baseline` : '';
    console.log(
      `${r.name.padEnd(44)} ${r.median.toFixed(3).padStart(9)} ${r.p95.toFixed(3).padStart(7)}  ${note}`,
    );
  }
}
