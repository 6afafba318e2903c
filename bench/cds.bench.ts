/**
 * CDS service benchmarks (issue: CDS Hooks service): patient-view with a realistic prefetch
 * (~500 Observations) next to a bare node:http server that reads and JSON.parses the same bodies
 * and answers a fixed card, in the same run; then the prefetch-missing path against a local FHIR
 * server with 50 ms added latency. Servers run in child processes; autocannon drives them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchRecord, patientViewBody } from './cds-record.ts';

const here = import.meta.dirname;
const TSX = join(here, '..', 'node_modules', '.bin', 'tsx');
export const SERVE_NODE_OPTIONS = '--max-semi-space-size=32';

export interface LoadResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function start(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  // The same Node options as `npm run serve` (a larger young generation: each request allocates a
  // few MB of short-lived JSON, which otherwise gets promoted and collected in long pauses).
  const child = spawn(TSX, [join(here, 'cds-servers.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: SERVE_NODE_OPTIONS },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} server did not start`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      const m = /READY (\d+)/.exec(String(d));
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} server exited (${code})`)));
  });
  return { port, child };
}

async function load(
  name: string,
  port: number,
  body: string,
  opts: { amount: number; connections: number },
): Promise<LoadResult> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/cds-services/alk-ros1-patient-view`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    amount: opts.amount,
    connections: opts.connections,
  });
  return {
    name,
    requests: r.requests.total,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

export async function benchCds(): Promise<{
  results: LoadResult[];
  observations: number;
  bodyKiB: number;
  fhirRequestsPerCall: number;
}> {
  const { prefetch, observations } = benchRecord();
  const body = patientViewBody(prefetch);
  const children: ChildProcess[] = [];
  try {
    const service = await start(['service']);
    const bare = await start(['bare']);
    const fhir = await start(['fhir', '50']);
    children.push(service.child, bare.child, fhir.child);

    // Warm up both (JIT, knowledge-base load), then measure in alternation so drift hits both.
    await load('warm-up', service.port, body, { amount: 300, connections: 4 });
    await load('warm-up', bare.port, body, { amount: 300, connections: 4 });
    const results: LoadResult[] = [];
    for (let round = 1; round <= 2; round++) {
      results.push(
        await load(`bare node:http, prefetch (round ${round})`, bare.port, body, {
          amount: 3000,
          connections: 10,
        }),
      );
      results.push(
        await load(`service patient-view, prefetch (round ${round})`, service.port, body, {
          amount: 3000,
          connections: 10,
        }),
      );
    }
    // Latency without queueing: one request at a time.
    results.push(
      await load('bare node:http, prefetch, 1 connection', bare.port, body, { amount: 1000, connections: 1 }),
    );
    results.push(
      await load('service patient-view, prefetch, 1 connection', service.port, body, {
        amount: 1000,
        connections: 1,
      }),
    );

    const missing = patientViewBody(undefined, `http://127.0.0.1:${fhir.port}/fhir`);
    await load('warm-up', service.port, missing, { amount: 20, connections: 1 });
    results.push(
      await load('service patient-view, no prefetch, FHIR +50 ms', service.port, missing, {
        amount: 200,
        connections: 1,
      }),
    );
    return {
      results,
      observations,
      bodyKiB: Math.round(Buffer.byteLength(body) / 1024),
      fhirRequestsPerCall: 12,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

export function printCds(r: Awaited<ReturnType<typeof benchCds>>): void {
  console.log(
    `\nCDS patient-view: prefetch of ${r.observations} Observations (${r.bodyKiB} KiB), 10 connections, JWT off, loopback`,
  );
  console.log(
    `${'run'.padEnd(52)} ${'requests'.padStart(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(6)}`,
  );
  for (const x of r.results) {
    console.log(
      `${x.name.padEnd(52)} ${String(x.requests).padStart(8)} ${x.rps.toFixed(0).padStart(8)} ${x.p50.toFixed(1).padStart(7)} ${x.p99.toFixed(1).padStart(7)} ${String(x.errors + x.non2xx).padStart(6)}`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const svc = r.results.filter((x) => x.name.startsWith('service patient-view, prefetch (round'));
  const bare = r.results.filter((x) => x.name.startsWith('bare node:http, prefetch (round'));
  const ratio = median(svc.map((x) => x.rps)) / median(bare.map((x) => x.rps));
  const single = r.results.find((x) => x.name === 'service patient-view, prefetch, 1 connection');
  const p99 = single?.p99 ?? Number.NaN;
  const prefetchP50 = single?.p50 ?? Number.NaN;
  const missing = r.results.find((x) => x.name.includes('no prefetch'));
  console.log(
    `service / bare throughput at 10 connections (median of rounds): ${ratio.toFixed(2)} (goal ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'MISSED'})`,
  );
  console.log(
    `service latency at 1 connection: p50 ${prefetchP50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (goal p99 < 20 ms: ${p99 < 20 ? 'met' : 'MISSED'})`,
  );
  if (missing) {
    const goal = 1.3 * 50 + prefetchP50;
    console.log(
      `no-prefetch path: ${r.fhirRequestsPerCall} FHIR searches in one parallel wave; p50 ${missing.p50.toFixed(1)} ms (goal < 1.3 × 50 + ${prefetchP50.toFixed(1)} = ${goal.toFixed(1)} ms: ${missing.p50 < goal ? 'met' : 'MISSED'})`,
    );
  }
}
