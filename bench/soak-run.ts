/**
 * The load run behind `npm run soak` and test/reliability/load.test.ts: the CDS service in a child
 * process (bench/cds-servers.ts service, file-backed feedback store, memory reported on stdout), driven
 * by autocannon with a fixed number of mixed requests: patient-view with a ~500-Observation prefetch,
 * patient-view fetching everything from a local FHIR server, order-select with drafted alectinib and
 * crizotinib, order-sign with pembrolizumab and lorlatinib, and feedback posts with unique card ids.
 * Memory is sampled after a warm-up (start) and after the run (end).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { draftMedicationRequest, ros1BrainMetsRecord } from '../test/fixtures/cds/records.ts';
import { prefetchFor } from '../test/integration/cds-hooks/fhir-search.ts';
import { BENCH_PATIENT, benchRecord, patientViewBody } from './cds-record.ts';
import { spawnBenchServer } from './spawn-server.ts';

export interface SoakOptions {
  /** Requests in the measured run. */
  requests: number;
  /** Requests before the start sample (JIT, knowledge base, PGlite caches). */
  warmup: number;
  connections: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
  rps: number;
  p50: number;
  p99: number;
  rssStart: number;
  rssEnd: number;
  rssMax: number;
  heapStart: number;
  heapEnd: number;
  /** rssEnd / rssStart */
  rssRatio: number;
  feedbackPosted: number;
}

interface Child {
  child: ChildProcess;
  port: number;
  samples: { rss: number; heap: number }[];
}

async function start(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const samples: Child['samples'] = [];
  const { child, port } = await spawnBenchServer(args, env, (line) => {
    const rss = /^RSS (\d+) (\d+)/.exec(line);
    if (rss) samples.push({ rss: Number(rss[1]), heap: Number(rss[2]) });
  });
  return { child, port, samples };
}

/** A fresh memory sample from the child (SIGUSR2 → one `RSS` line). */
async function sample(c: Child): Promise<{ rss: number; heap: number }> {
  const n = c.samples.length;
  c.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && c.samples.length === n; i++) await new Promise((r) => setTimeout(r, 20));
  const last = c.samples.at(-1);
  if (!last) throw new Error('the service reported no memory sample');
  return last;
}

const json = { 'content-type': 'application/json' };

/** The request mix, in the order each connection cycles through it. */
function mixedRequests(fhirBase: string, counter: { feedback: number }): autocannon.Request[] {
  const small = ros1BrainMetsRecord(BENCH_PATIENT);
  const smallPrefetch = prefetchFor(small, BENCH_PATIENT);
  const drafts = (...rs: Record<string, unknown>[]) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: rs.map((resource) => ({ resource })),
  });
  const alectinib = draftMedicationRequest(BENCH_PATIENT, 'd-alec', 'Alecensa 150 mg capsule', '1727455');
  const crizotinib = draftMedicationRequest(BENCH_PATIENT, 'd-criz', 'crizotinib 250 mg capsule');
  const pembro = draftMedicationRequest(BENCH_PATIENT, 'd-pem', 'pembrolizumab 200 mg IV');
  const lorlatinib = draftMedicationRequest(BENCH_PATIENT, 'd-lor', 'lorlatinib 100 mg tablet', '2103164');
  const ctx = (extra: Record<string, unknown>) => ({
    userId: 'Practitioner/soak',
    patientId: BENCH_PATIENT,
    ...extra,
  });
  const hook = (h: string, context: Record<string, unknown>) =>
    JSON.stringify({ hook: h, hookInstance: `soak-${h}`, context, prefetch: smallPrefetch });
  return [
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-patient-view',
      headers: json,
      body: patientViewBody(benchRecord().prefetch),
    },
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-order-select',
      headers: json,
      body: hook(
        'order-select',
        ctx({ selections: ['MedicationRequest/d-alec'], draftOrders: drafts(alectinib, crizotinib) }),
      ),
    },
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-order-select',
      headers: json,
      body: hook(
        'order-select',
        ctx({ selections: ['MedicationRequest/d-criz'], draftOrders: drafts(alectinib, crizotinib) }),
      ),
    },
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-order-sign',
      headers: json,
      body: hook('order-sign', ctx({ draftOrders: drafts(pembro, lorlatinib) })),
    },
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-patient-view',
      headers: json,
      body: patientViewBody(undefined, fhirBase),
    },
    {
      method: 'POST',
      path: '/cds-services/alk-ros1-order-select/feedback',
      headers: json,
      setupRequest: (req) => {
        const n = ++counter.feedback;
        return {
          ...req,
          body: JSON.stringify({
            feedback: [
              {
                card: `soak-card-${n}`,
                outcome: n % 2 ? 'accepted' : 'overridden',
                ...(n % 2
                  ? { acceptedSuggestions: [{ id: `soak-suggestion-${n}` }] }
                  : {
                      overrideReason: {
                        reason: { system: 'urn:alk-ros1-cds:override-reason', code: 'clinical-judgement' },
                      },
                    }),
                outcomeTimestamp: new Date().toISOString(),
              },
            ],
          }),
        };
      },
    },
  ];
}

export const KINDS = [
  'patient-view (prefetch, ~500 Observations)',
  'order-select (alectinib selected)',
  'order-select (crizotinib selected)',
  'order-sign (pembrolizumab + lorlatinib)',
  'patient-view (no prefetch: 12 FHIR searches)',
  'feedback',
];

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'cds-soak-'));
  const children: ChildProcess[] = [];
  try {
    const fhir = await start(['fhir', '5']);
    children.push(fhir.child);
    const service = await start(['service'], { CDS_SERVER_REPORT_RSS: '1', CDS_FEEDBACK_DIR: dataDir });
    children.push(service.child);
    const counter = { feedback: 0 };
    const requests = mixedRequests(`http://127.0.0.1:${fhir.port}/fhir`, counter);
    const run = (amount: number) =>
      autocannon({
        url: `http://127.0.0.1:${service.port}`,
        requests,
        amount,
        connections: opts.connections,
        timeout: 10,
      });

    log(`warm-up: ${opts.warmup} requests…`);
    await run(opts.warmup);
    await new Promise((r) => setTimeout(r, 1500));
    const begin = await sample(service);
    log(`start RSS ${(begin.rss / 2 ** 20).toFixed(1)} MiB; run: ${opts.requests} requests…`);
    const firstSample = service.samples.length;
    const feedbackBefore = counter.feedback;
    const started = performance.now();
    const r = await run(opts.requests);
    const durationS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1500));
    const end = await sample(service);
    const during = service.samples.slice(firstSample);
    return {
      requests: r.requests.total,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      durationS,
      rps: r.requests.total / durationS,
      p50: r.latency.p50,
      p99: r.latency.p99,
      rssStart: begin.rss,
      rssEnd: end.rss,
      rssMax: Math.max(...during.map((s) => s.rss), end.rss),
      heapStart: begin.heap,
      heapEnd: end.heap,
      rssRatio: end.rss / begin.rss,
      feedbackPosted: counter.feedback - feedbackBefore,
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function formatSoak(r: SoakResult, opts: SoakOptions, flatBound: number): string[] {
  return [
    `CDS soak: ${r.requests} requests (after ${opts.warmup} warm-up), ${opts.connections} connections, loopback, JWT off, file-backed feedback store`,
    `mix (cycled per connection): ${KINDS.join('; ')}`,
    `duration ${r.durationS.toFixed(1)} s, ${r.rps.toFixed(0)} req/s, latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
    `errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx} (goal 0: ${r.errors + r.timeouts + r.non2xx === 0 ? 'met' : 'MISSED'}); feedback posts ${r.feedbackPosted}`,
    `RSS start ${MiB(r.rssStart)}, end ${MiB(r.rssEnd)}, max ${MiB(r.rssMax)}; heap used start ${MiB(r.heapStart)}, end ${MiB(r.heapEnd)}`,
    `memory: end/start RSS ${r.rssRatio.toFixed(2)} (flat if < ${flatBound}: ${r.rssRatio < flatBound ? 'flat' : 'GROWING'})`,
  ];
}
