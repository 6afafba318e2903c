/**
 * CDS service benchmarks (issue: CDS Hooks service): patient-view with a realistic prefetch
 * (~500 Observations) next to a bare node:http server that reads and JSON.parses the same bodies
 * and answers a fixed card, in the same run; then the prefetch-missing path against a local FHIR
 * server with 50 ms added latency, next to a bare server that makes the same 12 searches in one wave
 * and JSON.parses the answers (the floor of that path on this machine). Servers run in child
 * processes; autocannon drives them.
 *
 * The FHIR server answers each search in one page (as a server whose page size exceeds the record
 * does); a server that pages the 492 laboratory Observations at `_count=200` adds two round trips to
 * that one query.
 *
 * Method: both servers get the same body string and the same Node options; rounds alternate which
 * server goes first and the figures are medians of the rounds. Throughput is completed requests
 * over the time to the last response (autocannon's own req/s averages whole-second buckets, so a run
 * ending early in a second was counted as if it had lasted the whole second: up to ~9 % off, more
 * for the faster server). Each server also reports its own CPU time, so CPU per request (all
 * threads, GC included) is shown too: it moves less than wall-clock figures when other work shares
 * the machine.
 */
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { dataRequirements } from '../src/fhir/queries.ts';
import { getKnowledge } from '../src/knowledge/index.ts';
import { benchRecord, patientViewBody } from './cds-record.ts';
import { SERVE_NODE_OPTIONS, spawnBenchServer } from './spawn-server.ts';
import { median } from './stats.ts';

const ROUNDS = 3;

export interface LoadResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The server's CPU time per request in ms (all its threads), when it reports it. */
  cpuMs?: number;
}

interface Server {
  port: number;
  child: ChildProcess;
  /** CPU time samples (µs) the child printed, newest last. */
  cpu: number[];
}

async function start(args: string[]): Promise<Server> {
  const cpu: number[] = [];
  const { child, port } = await spawnBenchServer(args, { CDS_SERVER_REPORT_CPU: '1' }, (line) => {
    const used = /^CPU (\d+)/.exec(line);
    if (used) cpu.push(Number(used[1]));
  });
  return { port, child, cpu };
}

/** The server's CPU time so far (µs), or undefined if it does not answer SIGUSR2 in time. */
async function cpuNow(s: Server): Promise<number | undefined> {
  const n = s.cpu.length;
  s.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && s.cpu.length === n; i++) await new Promise((r) => setTimeout(r, 10));
  return s.cpu.length > n ? s.cpu.at(-1) : undefined;
}

async function load(
  name: string,
  server: Server,
  body: string,
  opts: { amount: number; connections: number },
): Promise<LoadResult> {
  const cpuBefore = await cpuNow(server);
  const started = performance.now();
  let lastResponse = started;
  // autocannon's return value is also its event emitter (the typings show only the promise).
  const run = autocannon({
    url: `http://127.0.0.1:${server.port}/cds-services/alk-ros1-patient-view`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    amount: opts.amount,
    connections: opts.connections,
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  run.on('response', () => {
    lastResponse = performance.now();
  });
  const r = await run;
  const cpuAfter = await cpuNow(server);
  const seconds = (lastResponse - started) / 1000;
  return {
    name,
    requests: r.requests.total,
    rps: seconds > 0 ? r.requests.total / seconds : 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && r.requests.total > 0
      ? { cpuMs: (cpuAfter - cpuBefore) / 1000 / r.requests.total }
      : {}),
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
    const bareFallback = await start(['bare-fallback']);
    const fhir = await start(['fhir', '50']);
    children.push(service.child, bare.child, bareFallback.child, fhir.child);

    // Warm up (JIT, knowledge-base load), then measure each pair in alternation so drift hits both,
    // each round starting with the other server.
    await load('warm-up', service, body, { amount: 300, connections: 4 });
    await load('warm-up', bare, body, { amount: 300, connections: 4 });
    const results: LoadResult[] = [];
    type Named = readonly [name: string, server: Server];
    const rounds = async (
      servers: { bare: Named; service: Named },
      requestBody: string,
      connections: number,
      amount: number,
      label: (round: number) => string,
    ) => {
      for (let round = 1; round <= ROUNDS; round++) {
        const pair = [servers.bare, servers.service];
        if (round % 2 === 0) pair.reverse();
        for (const [name, server] of pair)
          results.push(await load(`${name}${label(round)}`, server, requestBody, { amount, connections }));
      }
    };
    const withPrefetch: { bare: Named; service: Named } = {
      bare: ['bare node:http, prefetch', bare],
      service: ['service patient-view, prefetch', service],
    };
    await rounds(withPrefetch, body, 10, 3000, (round) => ` (round ${round})`);
    // Latency without queueing: one request at a time.
    await rounds(withPrefetch, body, 1, 1000, (round) => `, 1 connection (round ${round})`);

    const missing = patientViewBody(undefined, `http://127.0.0.1:${fhir.port}/fhir`);
    await load('warm-up', service, missing, { amount: 20, connections: 1 });
    await load('warm-up', bareFallback, missing, { amount: 20, connections: 1 });
    await rounds(
      {
        bare: [`bare wave, no prefetch, FHIR +50 ms`, bareFallback],
        service: [`service patient-view, no prefetch, FHIR +50 ms`, service],
      },
      missing,
      1,
      100,
      (round) => ` (round ${round})`,
    );
    return {
      results,
      observations,
      bodyKiB: Math.round(Buffer.byteLength(body) / 1024),
      fhirRequestsPerCall: dataRequirements(getKnowledge()).length,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

export function printCds(r: Awaited<ReturnType<typeof benchCds>>): void {
  console.log(
    `\nCDS patient-view: prefetch of ${r.observations} Observations (${r.bodyKiB} KiB), JWT off, loopback; both servers run with NODE_OPTIONS=${SERVE_NODE_OPTIONS} (as npm run serve)`,
  );
  console.log(
    `${'run'.padEnd(58)} ${'requests'.padStart(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'CPU ms/req'.padStart(10)} ${'errors'.padStart(6)}`,
  );
  for (const x of r.results) {
    console.log(
      `${x.name.padEnd(58)} ${String(x.requests).padStart(8)} ${x.rps.toFixed(0).padStart(8)} ${x.p50.toFixed(1).padStart(7)} ${x.p99.toFixed(1).padStart(7)} ${(x.cpuMs?.toFixed(2) ?? '-').padStart(10)} ${String(x.errors + x.non2xx).padStart(6)}`,
    );
  }
  const rows = (prefix: string, oneConnection: boolean) =>
    r.results.filter((x) => x.name.startsWith(prefix) && x.name.includes('1 connection') === oneConnection);
  const svc = rows('service patient-view, prefetch', false);
  const bare = rows('bare node:http, prefetch', false);
  const ratio = median(svc.map((x) => x.rps)) / median(bare.map((x) => x.rps));
  const perRound = svc.map((s, i) => s.rps / (bare[i]?.rps ?? Number.NaN));
  const cpuRatio =
    median(bare.flatMap((x) => (x.cpuMs === undefined ? [] : [x.cpuMs]))) /
    median(svc.flatMap((x) => (x.cpuMs === undefined ? [] : [x.cpuMs])));
  const single = rows('service patient-view, prefetch', true);
  const bareSingle = rows('bare node:http, prefetch', true);
  const p99 = median(single.map((x) => x.p99));
  const prefetchP50 = median(single.map((x) => x.p50));
  const missing = rows('service patient-view, no prefetch', false);
  const floor = rows('bare wave, no prefetch', false);
  console.log(
    `service / bare throughput at 10 connections (median of ${svc.length} rounds): ${ratio.toFixed(2)} (goal ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'MISSED'}); per round ${perRound.map((x) => x.toFixed(2)).join(', ')}; bare / service CPU per request ${cpuRatio.toFixed(2)}`,
  );
  console.log(
    `service latency at 1 connection (median of ${single.length} rounds): p50 ${prefetchP50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (goal p99 < 20 ms: ${p99 < 20 ? 'met' : 'MISSED'}); p99 per round ${single.map((x) => x.p99.toFixed(0)).join(', ')} ms; bare p99 ${median(bareSingle.map((x) => x.p99)).toFixed(1)} ms`,
  );
  if (missing.length > 0) {
    const goal = 1.3 * 50 + prefetchP50;
    const p50 = median(missing.map((x) => x.p50));
    const floorP50 = median(floor.map((x) => x.p50));
    console.log(
      `no-prefetch path (median of ${missing.length} rounds): ${r.fhirRequestsPerCall} FHIR searches in one parallel wave; p50 ${p50.toFixed(1)} ms (goal < 1.3 × 50 + ${prefetchP50.toFixed(1)} = ${goal.toFixed(1)} ms: ${p50 < goal ? 'met' : 'MISSED'}); p50 per round ${missing.map((x) => x.p50.toFixed(0)).join(', ')} ms; bare wave p50 ${floorP50.toFixed(1)} ms (service − bare: ${(p50 - floorP50).toFixed(1)} ms)`,
    );
  }
}
