/**
 * Throughput through nginx with 1 replica of `npm run serve` vs 3, both with DATABASE_URL on the same
 * PostgreSQL (test/support/replica-cluster.ts), against the baseline of 1 replica that keeps its
 * state in process (no DATABASE_URL: the shared store's overhead is the difference between the two
 * single-replica figures): patient-view with the benchmark prefetch (~500
 * Observations) and a fresh JWT per request, so each request also verifies a signature and records
 * its `jti` in the shared store. One cluster of 3 replicas; nginx is reloaded to balance over
 * replica 0 alone or over all three, so both figures come from the same nginx, database and URL.
 * Rounds alternate which configuration goes first; the figures are medians of the rounds.
 * Throughput is completed requests over the time to the last response (as cds.bench.ts).
 *
 * On a machine with fewer cores than replicas the ratio is bounded by the cores, not the replicas:
 * nginx, PostgreSQL and the load generator share them too. The line says how many there are.
 */
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import {
  findClusterBinaries,
  type ReplicaCluster,
  startReplicaCluster,
} from '../test/support/replica-cluster.ts';
import { benchRecord, patientViewBody } from './cds-record.ts';
import { median } from './stats.ts';

const ROUNDS = 3;
const REQUESTS = 600;
const CONNECTIONS = 10;
const PATH = '/cds-services/alk-ros1-patient-view';

export interface ReplicaRun {
  /** 'local': one replica without DATABASE_URL; 1 or 3: replicas sharing PostgreSQL. */
  replicas: 1 | 3 | 'local';
  round: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Errors, timeouts and non-2xx answers (a refused token included). */
  failed: number;
}

export type ReplicasResult =
  | { skipped: string }
  | { runs: ReplicaRun[]; observations: number; bodyKiB: number; cpus: number; nginxWorkers: number };

const NGINX_WORKERS = 2;

/** `amount` POSTs of `body` through the balancer, each with its own freshly minted token. */
async function load(cluster: ReplicaCluster, body: string, amount: number) {
  // Minted before the clock starts; a few spare, as autocannon may set up a request it does not send.
  const tokens = await Promise.all(
    Array.from({ length: amount + 2 * CONNECTIONS }, () => cluster.token(PATH)),
  );
  const started = performance.now();
  let lastResponse = started;
  // autocannon's return value is also its event emitter (the typings show only the promise).
  const run = autocannon({
    url: cluster.balancer,
    amount,
    connections: CONNECTIONS,
    requests: [
      {
        method: 'POST',
        path: PATH,
        headers: { 'content-type': 'application/json' },
        body,
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, authorization: `Bearer ${tokens.pop() ?? 'exhausted'}` },
        }),
      },
    ],
  }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  run.on('response', () => {
    lastResponse = performance.now();
  });
  const r = await run;
  const seconds = (lastResponse - started) / 1000;
  return {
    requests: r.requests.total,
    rps: seconds > 0 ? r.requests.total / seconds : 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.errors + r.timeouts + r.non2xx,
  };
}

export async function benchReplicas(): Promise<ReplicasResult> {
  const found = findClusterBinaries();
  if (!found.ok) return { skipped: found.reason };
  const { prefetch, observations } = benchRecord();
  const body = patientViewBody(prefetch);
  const cluster = await startReplicaCluster(found.bin, {
    replicas: 3,
    nginxWorkers: NGINX_WORKERS,
    env: { LOG_LEVEL: 'error' },
  });
  let local: ReplicaCluster | undefined;
  try {
    local = await startReplicaCluster(found.bin, {
      replicas: 1,
      shareDatabase: false,
      nginxWorkers: NGINX_WORKERS,
      env: { LOG_LEVEL: 'error' },
    });
    const all = cluster.replicas.map((r) => r.index);
    // Warm every replica (JIT, knowledge base, database pools), then alternate.
    await load(cluster, body, 300);
    await load(local, body, 300);
    const runs: ReplicaRun[] = [];
    const configs: ReplicaRun['replicas'][] = ['local', 1, 3];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? configs : [...configs].reverse();
      for (const replicas of order) {
        if (replicas === 'local') {
          runs.push({ replicas, round, ...(await load(local, body, REQUESTS)) });
          continue;
        }
        await cluster.balanceOver(replicas === 1 ? [0] : all);
        runs.push({ replicas, round, ...(await load(cluster, body, REQUESTS)) });
      }
    }
    return {
      runs,
      observations,
      bodyKiB: Math.round(Buffer.byteLength(body) / 1024),
      cpus: availableParallelism(),
      nginxWorkers: NGINX_WORKERS,
    };
  } finally {
    await Promise.all([cluster.stop(), local?.stop()]);
  }
}

export function printReplicas(r: ReplicasResult): void {
  if ('skipped' in r) {
    console.log(`\nReplicas behind nginx: skipped (${r.skipped}).`);
    return;
  }
  const of = (n: ReplicaRun['replicas']) => r.runs.filter((x) => x.replicas === n);
  const local = median(of('local').map((x) => x.rps));
  const one = median(of(1).map((x) => x.rps));
  const three = median(of(3).map((x) => x.rps));
  const perRound = of(3).map((x) => x.rps / (of(1).find((y) => y.round === x.round)?.rps ?? Number.NaN));
  const failed = r.runs.reduce((n, x) => n + x.failed, 0);
  console.log(
    `\nReplicas behind nginx (${r.nginxWorkers} workers): patient-view, prefetch of ${r.observations} Observations (${r.bodyKiB} KiB), a fresh ES384 JWT per request, DATABASE_URL on one PostgreSQL, ${CONNECTIONS} connections, ${r.cpus} CPUs for everything`,
  );
  const storePerRound = of(1).map(
    (x) => x.rps / (of('local').find((y) => y.round === x.round)?.rps ?? Number.NaN),
  );
  console.log(
    `shared store overhead: 1 replica with state in process ${local.toFixed(0)} req/s (p50 ${median(of('local').map((x) => x.p50)).toFixed(0)} ms), 1 replica on PostgreSQL ${one.toFixed(0)} req/s (p50 ${median(of(1).map((x) => x.p50)).toFixed(0)} ms): ${(one / local).toFixed(2)} (per round ${storePerRound.map((x) => x.toFixed(2)).join(', ')})`,
  );
  console.log(
    `1 replica ${one.toFixed(0)} req/s (p99 ${median(of(1).map((x) => x.p99)).toFixed(0)} ms), 3 replicas ${three.toFixed(0)} req/s (p99 ${median(of(3).map((x) => x.p99)).toFixed(0)} ms): 3 / 1 = ${(three / one).toFixed(2)} (median of ${ROUNDS} alternating rounds of ${REQUESTS}; per round ${perRound.map((x) => x.toFixed(2)).join(', ')}); failed requests ${failed}`,
  );
}
