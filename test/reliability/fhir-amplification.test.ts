/**
 * Memory amplification through the fallback FHIR client: the real service (`cds-hooks/serve.ts`,
 * JWT on) takes 16 concurrent hooks without prefetch against a FHIR server that answers every search
 * with a 30 MiB page. Each hook's searches share a byte budget (`FHIR_MAX_BYTES`, 16 MiB by default),
 * so the process holds a bounded amount whatever the server sends, and every hook is answered within
 * the deadline. Before the budget (12 searches × a 32 MiB page cap) the same load took RSS from
 * about 157 MB to 974 MB and answers took twice the deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JwksServer, startJwksServer } from '../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../fixtures/cds-jwt/keys.ts';
import { SANDBOX_ISS, sandboxStyleToken } from '../fixtures/cds-jwt/tokens.ts';
import { freePort, type ServeProcess, startServe } from '../support/serve-process.ts';

const HOOKS = 16;
const PAGE_MIB = 30;
const DEADLINE_MS = 3000;
/**
 * The bound this test holds the service to: growth of resident memory over the load, in MiB (the
 * idle process's own size depends on the feedback store's WebAssembly heap, not on this load).
 */
const GROWTH_BOUND_MIB = 300;

let jwks: JwksServer;
let key: TestKey;
let fhir: Server;
let fhirBase = '';
let service: ServeProcess;
let pagesStarted = 0;

beforeAll(async () => {
  key = await makeKey('ES384');
  jwks = await startJwksServer();
  jwks.publish('/jwks.json', jwksOf(key));
  // One 30 MiB searchset, built once, sent to every search as fast as the socket takes it.
  const page = Buffer.from(
    JSON.stringify({
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [],
      padding: 'x'.repeat(PAGE_MIB * 1024 * 1024),
    }),
  );
  fhir = createServer((_req, res) => {
    pagesStarted++;
    res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': page.length });
    res.end(page);
  });
  await new Promise<void>((resolve) => fhir.listen(0, '127.0.0.1', resolve));
  fhirBase = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
  service = await startServe(await freePort(), {
    CDS_TRUSTED_ISSUERS: JSON.stringify([
      { iss: SANDBOX_ISS, jwks_url: jwks.url('/jwks.json'), fhir_servers: [fhirBase] },
    ]),
    FEEDBACK_DATA_DIR: 'memory://',
    FHIR_DEADLINE_MS: String(DEADLINE_MS),
  });
}, 60_000);

afterAll(async () => {
  service?.child.kill('SIGKILL');
  await new Promise<void>((resolve) => fhir.close(() => resolve()));
  fhir.closeAllConnections();
  await jwks.close();
});

async function hook(): Promise<{ status: number; ms: number; gaps: string }> {
  const url = `${service.base}/cds-services/alk-ros1-patient-view`;
  const token = await sandboxStyleToken({ key, aud: url, nowSec: Math.floor(Date.now() / 1000) });
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: fhirBase,
      context: { userId: 'Practitioner/1', patientId: 'p1' },
    }),
  });
  const text = await res.text();
  return { status: res.status, ms: performance.now() - started, gaps: text };
}

describe('a FHIR server sending huge pages to many concurrent hooks', () => {
  it(`keeps the service's memory growth under ${GROWTH_BOUND_MIB} MiB and every answer within the deadline`, async () => {
    const before = service.rssMiB();
    // Resident memory sampled every 10 ms while the hooks run; the highest sample is the peak.
    let peak = before;
    const sampler = setInterval(() => {
      const now = service.rssMiB();
      if (now !== undefined && (peak === undefined || now > peak)) peak = now;
    }, 10);
    const answers = await Promise.all(Array.from({ length: HOOKS }, hook));
    clearInterval(sampler);
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(
      `[amplification] ${HOOKS} hooks × 12 searches against ${PAGE_MIB} MiB pages (${pagesStarted} pages started): ` +
        `statuses ${[...new Set(answers.map((a) => a.status))].join(',')}, slowest ${Math.round(slowest)} ms ` +
        `(deadline ${DEADLINE_MS} ms), RSS ${before?.toFixed(0)} MiB before, peak ${peak?.toFixed(0)} MiB (growth bound ${GROWTH_BOUND_MIB} MiB)`,
    );
    // Nothing usable came back, so the service says the data could not be had (412), never a 5xx.
    for (const a of answers) expect(a.status).toBe(412);
    expect(slowest).toBeLessThan(DEADLINE_MS + 1500);
    if (peak !== undefined && before !== undefined) expect(peak - before).toBeLessThan(GROWTH_BOUND_MIB);
  }, 60_000);
});
