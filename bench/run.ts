/**
 * `npm run bench`: runs every registered benchmark and prints a table. Add a benchmark by appending
 * to BENCHMARKS; `ratioTo` names the baseline a row is compared with.
 */
import { benchApp, printApp } from './app.bench.ts';
import { benchCds, printCds } from './cds.bench.ts';
import { benchJwt, printJwt } from './jwt.bench.ts';
import { benchReplicas, printReplicas } from './replicas.bench.ts';
import { type BenchResult, benchParseBaseline, benchSnapshot } from './snapshot.bench.ts';

interface Benchmark {
  name: string;
  run: () => Promise<BenchResult>;
  /** Target median in ms, when the issue sets one. */
  targetMs?: number;
  ratioTo?: string;
}

const BENCHMARKS: Benchmark[] = [
  { name: 'parse-baseline', run: () => benchParseBaseline() },
  { name: 'to-snapshot-10k', run: () => benchSnapshot(), targetMs: 50, ratioTo: 'parse-baseline' },
];

const fmt = (x: number) => x.toFixed(2).padStart(8);

async function main(): Promise<void> {
  const results = new Map<string, BenchResult>();
  for (const b of BENCHMARKS) results.set(b.name, await b.run());
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  console.log(
    `${'benchmark'.padEnd(40)} ${'resources'.padStart(9)} ${'iter'.padStart(5)} ${'median'.padStart(8)} ${'p95'.padStart(8)} ${'min'.padStart(8)}  notes`,
  );
  let failed = false;
  for (const b of BENCHMARKS) {
    const r = results.get(b.name);
    if (!r) continue;
    const notes: string[] = [];
    const base = b.ratioTo ? results.get(b.ratioTo) : undefined;
    if (base) notes.push(`${(r.median / base.median).toFixed(1)}x ${b.ratioTo}`);
    if (b.targetMs !== undefined) {
      const ok = r.median < b.targetMs;
      failed ||= !ok;
      notes.push(`target < ${b.targetMs} ms: ${ok ? 'met' : 'MISSED'}`);
    }
    console.log(
      `${r.name.padEnd(40)} ${String(r.resources).padStart(9)} ${String(r.iterations).padStart(5)} ${fmt(r.median)} ${fmt(r.p95)} ${fmt(r.min)}  ${notes.join('; ')}`,
    );
  }
  console.log('(times in ms)');
  if (failed)
    console.log('Some targets were missed: see the notes above (figures from one run on this machine).');
  printCds(await benchCds());
  printJwt(await benchJwt());
  printApp(await benchApp());
  printReplicas(await benchReplicas());
}

await main();
