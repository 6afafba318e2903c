/**
 * Several `npm run serve` replicas behind nginx, sharing one PostgreSQL, as a production deployment
 * with more than one instance runs: Debian's PostgreSQL (initdb + postgres in a temp dir, on
 * 127.0.0.1 and a free port) and Debian's nginx (a generated config in the same temp dir), real
 * processes a test can SIGKILL. Every replica's PUBLIC_BASE_URL is the balancer's URL (a token's
 * `aud` names the URL the client called); the CDS client is trusted through a local JWKS server.
 *
 * PostgreSQL refuses to run as root: when this process is root, initdb and postgres run as the
 * `postgres` system user (or `nobody`) in a directory chowned to it. nginx runs as root, its
 * workers as that same user.
 *
 * nginx: round robin with a shared zone (so the rotation is the same whichever worker takes a
 * connection), passive health (`max_fails=1 fail_timeout=10s`), `proxy_next_upstream error timeout`
 * and NOT `non_idempotent`. Every CDS call is a POST. nginx passes a POST on to the next replica
 * only while it has not been sent (connection refused: the replica is already dead). A POST that a
 * replica was handling when it died is answered 502 and not retried: by then that replica may have
 * recorded the token's `jti` in the shared replay store, so the same request replayed on another
 * replica would be refused with a 401 that blames the client's credentials, and for feedback
 * whether the write committed is unknown. The client retries with a fresh token instead; feedback
 * is deduplicated by the store (dedupeKey), so that retry is safe. No upstream keep-alive: nginx
 * retries a cached connection that the replica closed only for idempotent requests, so a POST
 * meeting Node's keep-alive timeout would be a 502 that no replica death explains.
 * `X-Upstream` (always, 502 included) names the replica(s) nginx tried for each answer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { type JwksServer, startJwksServer } from '../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey } from '../fixtures/cds-jwt/keys.ts';
import { SANDBOX_ISS, sandboxStyleToken } from '../fixtures/cds-jwt/tokens.ts';
import { freePort, type ServeProcess, startServe } from './serve-process.ts';

export interface ClusterBinaries {
  initdb: string;
  postgres: string;
  nginx: string;
  /** Who runs initdb and postgres when this process is root; undefined otherwise. */
  runAs?: { name: string; uid: number; gid: number };
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const onPath = (name: string) =>
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);

/** Debian's layout (/usr/lib/postgresql/<major>/bin, newest major first), then PATH. */
function postgresBin(name: string): string | undefined {
  let majors: string[] = [];
  try {
    majors = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // not Debian's layout
  }
  for (const major of majors) {
    const path = `/usr/lib/postgresql/${major}/bin/${name}`;
    if (isExecutable(path)) return path;
  }
  return onPath(name);
}

function systemUser(name: string): { name: string; uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    return uid && gid ? { name, uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

/** The binaries a cluster needs, or why it cannot start on this machine. */
export function findClusterBinaries(): { ok: true; bin: ClusterBinaries } | { ok: false; reason: string } {
  const initdb = postgresBin('initdb');
  const postgres = postgresBin('postgres');
  const nginx = ['/usr/sbin/nginx'].find(isExecutable) ?? onPath('nginx');
  const missing = [
    ...(initdb && postgres ? [] : ['PostgreSQL server (initdb, postgres: Debian package postgresql)']),
    ...(nginx ? [] : ['nginx (Debian package nginx)']),
  ];
  if (!initdb || !postgres || !nginx) return { ok: false, reason: `not installed: ${missing.join('; ')}` };
  if (process.getuid?.() !== 0) return { ok: true, bin: { initdb, postgres, nginx } };
  const runAs = systemUser('postgres') ?? systemUser('nobody');
  if (!runAs)
    return {
      ok: false,
      reason: 'running as root and no unprivileged user (postgres, nobody) to run PostgreSQL',
    };
  return { ok: true, bin: { initdb, postgres, nginx, runAs } };
}

export interface Replica {
  readonly index: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the replica itself, bypassing nginx. */
  readonly base: string;
  /** `127.0.0.1:<port>`, as nginx names it in `X-Upstream`. */
  readonly address: string;
  /** The running process; undefined once killed or stopped. */
  process: ServeProcess | undefined;
}

export interface ReplicaCluster {
  /** nginx: `http://127.0.0.1:<port>`, every replica's PUBLIC_BASE_URL. */
  readonly balancer: string;
  readonly databaseUrl: string;
  readonly replicas: readonly Replica[];
  /** Replicas given DATABASE_URL (false: each keeps its state in process). */
  readonly shareDatabase: boolean;
  /** A fresh sandbox-style JWT (new `jti`) whose `aud` is `{balancer}{path}`. */
  token(path: string): Promise<string>;
  /** SIGKILLs a replica; resolves once it is dead, with when (performance.now()) the kill was sent and done. */
  kill(index: number): Promise<{ sent: number; done: number }>;
  /** Starts a stopped or killed replica again on its port. */
  restart(index: number): Promise<void>;
  /** Points nginx at these replicas only (reload), and waits until it routes to exactly them. */
  balanceOver(indices: readonly number[]): Promise<void>;
  /** nginx's error log so far (for failure messages). */
  nginxErrors(): string;
  /** Stops every process and removes the temp dir; never throws, safe to call twice. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  replicas: number;
  /** Give the replicas DATABASE_URL (default true). */
  shareDatabase?: boolean;
  /** nginx worker processes (default 2). */
  nginxWorkers?: number;
  /** Added to every replica's environment. */
  env?: Record<string, string>;
}

// Everything started here, killed on process exit too (a crashed test run leaves nothing behind).
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHook = false;
function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return child;
}

function exitOf(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

const capped = (sink: { text: string }) => (d: Buffer) => {
  sink.text = (sink.text + d.toString()).slice(-20_000);
};

/** Runs a command to completion (as `runAs` when given); rejects with its output on failure. */
function run(cmd: string, args: string[], opts: { cwd: string; runAs?: ClusterBinaries['runAs'] }) {
  return new Promise<void>((resolve, reject) => {
    const out = { text: '' };
    const child = track(
      spawn(cmd, args, {
        cwd: opts.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
        ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
      }),
    );
    child.stdout?.on('data', capped(out));
    child.stderr?.on('data', capped(out));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}:\n${out.text}`)),
    );
  });
}

interface Postgres {
  child: ChildProcess;
  port: number;
  output: { text: string };
}

async function startPostgres(bin: ClusterBinaries, dir: string): Promise<Postgres> {
  mkdirSync(dir, { mode: 0o700 });
  if (bin.runAs) chownSync(dir, bin.runAs.uid, bin.runAs.gid);
  const data = join(dir, 'data');
  const ctx = { cwd: dir, ...(bin.runAs ? { runAs: bin.runAs } : {}) };
  await run(
    bin.initdb,
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    ctx,
  );
  const port = await freePort();
  const output = { text: '' };
  const child = track(
    spawn(
      bin.postgres,
      [
        ...['-D', data, '-p', String(port), '-k', dir],
        ...['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
        ...(bin.runAs ? { uid: bin.runAs.uid, gid: bin.runAs.gid } : {}),
      },
    ),
  );
  child.stdout?.on('data', capped(output));
  child.stderr?.on('data', capped(output));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`postgres exited at start:\n${output.text}`);
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.query('CREATE DATABASE cds');
      await client.end();
      return { child, port, output };
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections:\n${output.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function nginxConfig(o: {
  prefix: string;
  port: number;
  workers: number;
  upstreams: readonly string[];
  user?: string;
}): string {
  const p = o.prefix;
  return `# generated by test/support/replica-cluster.ts
${o.user ? `user ${o.user};` : ''}
worker_processes ${o.workers};
daemon off;
pid ${p}/nginx.pid;
error_log ${p}/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstream '$msec $status $request_time "$request" upstream=$upstream_addr upstream_status=$upstream_status';
  access_log ${p}/access.log upstream;
  client_body_temp_path ${p}/client_body;
  proxy_temp_path ${p}/proxy;
  fastcgi_temp_path ${p}/fastcgi;
  uwsgi_temp_path ${p}/uwsgi;
  scgi_temp_path ${p}/scgi;
  # Bodies up to the service's own limit, kept in memory (a realistic prefetch is a few hundred KiB).
  client_max_body_size 16m;
  client_body_buffer_size 16m;
  upstream cds {
    # Shared by the workers: one rotation, and a replica marked failed is failed for every worker.
    zone cds_upstreams 64k;
${o.upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=10s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://cds;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # Retry on another replica only what was not sent (no non_idempotent: see the file header).
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts PostgreSQL, `replicas` × `npm run serve` and nginx; on any failure stops what it started. */
export async function startReplicaCluster(
  bin: ClusterBinaries,
  opts: ClusterOptions,
): Promise<ReplicaCluster> {
  const root = mkdtempSync(join(tmpdir(), 'cds-replicas-'));
  tempDirs.add(root);
  chmodSync(root, 0o711); // the unprivileged user reaches its own subdirectory, reads nothing else
  const shareDatabase = opts.shareDatabase ?? true;
  const replicaChildren = new Set<ChildProcess>();
  let postgres: Postgres | undefined;
  let nginx: ChildProcess | undefined;
  let jwks: JwksServer | undefined;
  const nginxErr = { text: '' };
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const steps: Promise<unknown>[] = [];
    if (nginx) steps.push(terminate(nginx, 'SIGTERM', 3_000));
    for (const c of replicaChildren) steps.push(terminate(c, 'SIGTERM', 3_000));
    await Promise.allSettled(steps);
    await jwks?.close().catch(() => undefined);
    // Fast shutdown: disconnects what is left and exits without waiting for clients.
    if (postgres) await terminate(postgres.child, 'SIGINT', 10_000).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    tempDirs.delete(root);
  };

  try {
    const [pgStarted, key, jwksServer] = await Promise.all([
      startPostgres(bin, join(root, 'pg')),
      makeKey('ES384'),
      startJwksServer(),
    ]);
    postgres = pgStarted;
    jwks = jwksServer;
    jwks.publish('/jwks.json', jwksOf(key));
    const databaseUrl = `postgres://postgres@127.0.0.1:${postgres.port}/cds`;
    const nginxPort = await freePort();
    const balancer = `http://127.0.0.1:${nginxPort}`;

    const ports = await Promise.all(Array.from({ length: opts.replicas }, () => freePort()));
    const replicas: Replica[] = ports.map((port, index) => ({
      index,
      port,
      base: `http://127.0.0.1:${port}`,
      address: `127.0.0.1:${port}`,
      process: undefined,
    }));
    const replicaEnv = (index: number): Record<string, string> => ({
      PUBLIC_BASE_URL: balancer,
      CDS_TRUSTED_ISSUERS: JSON.stringify([{ iss: SANDBOX_ISS, jwks_url: jwks?.url('/jwks.json') }]),
      ...(shareDatabase
        ? { DATABASE_URL: databaseUrl }
        : { FEEDBACK_DATA_DIR: join(root, `replica-${index}-feedback`) }),
      ...opts.env,
    });
    const startReplica = async (r: Replica) => {
      const p = await startServe(r.port, replicaEnv(r.index));
      track(p.child);
      replicaChildren.add(p.child);
      void p.exited.then(() => replicaChildren.delete(p.child));
      r.process = p;
    };
    // Settled, not all: a replica that fails must not leave its siblings starting unobserved.
    const starts = await Promise.allSettled(replicas.map(startReplica));
    const failed = starts.find((x) => x.status === 'rejected');
    if (failed) throw failed.reason;

    const prefix = join(root, 'nginx');
    mkdirSync(prefix, { mode: 0o755 });
    const conf = join(prefix, 'nginx.conf');
    const workerUser = bin.runAs
      ? `${bin.runAs.name} ${groupName(bin.runAs.gid) ?? bin.runAs.name}`
      : undefined;
    const writeConf = (indices: readonly number[]) =>
      writeFileSync(
        conf,
        nginxConfig({
          prefix,
          port: nginxPort,
          workers: opts.nginxWorkers ?? 2,
          upstreams: indices.map((i) => replicas[i]?.address ?? ''),
          ...(workerUser ? { user: workerUser } : {}),
        }),
      );
    writeConf(replicas.map((r) => r.index));
    nginx = track(
      spawn(bin.nginx, ['-p', `${prefix}/`, '-c', conf, '-e', join(prefix, 'error.log')], {
        cwd: prefix,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    nginx.stdout?.on('data', capped(nginxErr));
    nginx.stderr?.on('data', capped(nginxErr));
    const nginxChild = nginx;
    const errorLog = () => {
      try {
        return nginxErr.text + readFileSync(join(prefix, 'error.log'), 'utf8').slice(-20_000);
      } catch {
        return nginxErr.text;
      }
    };
    await waitFor(async () => {
      if (nginxChild.exitCode !== null) throw new Error(`nginx exited at start:\n${errorLog()}`);
      return (await fetch(`${balancer}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
    }, 'nginx to answer').catch((e) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${errorLog()}`);
    });

    const upstreamsSeen = async (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const res = await fetch(`${balancer}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        seen.add(res.headers.get('x-upstream') ?? '');
      }
      return seen;
    };

    return {
      balancer,
      databaseUrl,
      replicas,
      shareDatabase,
      token: (path) =>
        sandboxStyleToken({ key, aud: `${balancer}${path}`, nowSec: Math.floor(Date.now() / 1000) }),
      async kill(index) {
        const r = replicas[index];
        const p = r?.process;
        if (!r || !p) throw new Error(`replica ${index} is not running`);
        const sent = performance.now();
        p.child.kill('SIGKILL');
        await p.exited;
        r.process = undefined;
        return { sent, done: performance.now() };
      },
      async restart(index) {
        const r = replicas[index];
        if (!r) throw new Error(`no replica ${index}`);
        if (r.process) await terminate(r.process.child, 'SIGTERM', 3_000);
        r.process = undefined;
        await startReplica(r);
      },
      async balanceOver(indices) {
        writeConf(indices);
        nginxChild.kill('SIGHUP');
        const want = new Set(indices.map((i) => replicas[i]?.address));
        // Old workers finish what they hold; wait until a full rotation names exactly these replicas.
        await waitFor(
          async () => {
            const seen = await upstreamsSeen(indices.length * 3);
            return seen.size === want.size && [...seen].every((a) => want.has(a));
          },
          `nginx to balance over replicas ${indices.join(', ')}`,
        );
      },
      nginxErrors: errorLog,
      stop,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    await stop();
    throw new Error(`replica cluster did not start: ${why}`);
  }
}

function groupName(gid: number): string | undefined {
  try {
    return readFileSync('/etc/group', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === String(gid))?.[0];
  } catch {
    return undefined;
  }
}
