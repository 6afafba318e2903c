/**
 * `npm run serve` in its own process, as production runs it (`node --import tsx cds-hooks/serve.ts`),
 * for tests that need the real entry point: a process to SIGKILL, its own RSS, its start-up output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ServeProcess {
  child: ChildProcess;
  base: string;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
  /** Resident memory of the process now (VmRSS), in MiB; undefined off Linux. */
  rssMiB: () => number | undefined;
}

/** Starts the service on `port` with `env` added; resolves once it listens. */
export async function startServe(port: number, env: Record<string, string>): Promise<ServeProcess> {
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cds-hooks/serve.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_BASE_URL: base,
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let out = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running behind a rejected start
      reject(new Error(`service did not start:\n${out}`));
    }, 45_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('CDS Hooks discovery:')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    void exited.then((s) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${s}) before listening:\n${out}`));
    });
  });
  const rssMiB = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) / 1024 : undefined;
    } catch {
      return undefined;
    }
  };
  return { child, base, exited, output: () => out, rssMiB };
}
