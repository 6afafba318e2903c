/**
 * `npm run soak`: a fixed number of mixed CDS requests against the service in a child process, with
 * errors, latency and memory (RSS after warm-up vs after the run). SOAK_REQUESTS (default 20,000),
 * SOAK_WARMUP (2,000) and SOAK_CONNECTIONS (10) change the run. Exits 1 on any error or growing memory.
 */
import { formatSoak, runSoak, type SoakOptions } from './soak-run.ts';

const FLAT_BOUND = 1.25;
const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
const opts: SoakOptions = {
  requests: num(process.env.SOAK_REQUESTS, 20_000),
  warmup: num(process.env.SOAK_WARMUP, 2_000),
  connections: num(process.env.SOAK_CONNECTIONS, 10),
  log: (line) => console.error(line),
};

const r = await runSoak(opts);
console.log(`node ${process.version}, ${new Date().toISOString()}`);
for (const line of formatSoak(r, opts, FLAT_BOUND)) console.log(line);
process.exitCode = r.errors + r.timeouts + r.non2xx === 0 && r.rssRatio < FLAT_BOUND ? 0 : 1;
