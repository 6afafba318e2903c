/**
 * Starts one of the bench servers (`bench/cds-servers.ts <mode> …`) in a child process and hands
 * each line it prints to `onLine`, so the CDS bench and the soak read their own reports (CPU, RSS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const here = import.meta.dirname;

/**
 * The Node options of `npm run serve`, given to every bench server (a larger young generation: each
 * request allocates a few MB of short-lived JSON, which otherwise gets promoted and collected in long
 * pauses).
 */
export const SERVE_NODE_OPTIONS = '--max-semi-space-size=32';

export async function spawnBenchServer(
  args: string[],
  env: Record<string, string>,
  onLine: (line: string) => void,
): Promise<{ child: ChildProcess; port: number }> {
  // Node itself with the tsx loader, not the tsx launcher: the launcher does not pass SIGUSR2 (the
  // servers' report signal) on; it died of it and left the server running on its own.
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'cds-servers.ts'), ...args], {
    cwd: join(here, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: SERVE_NODE_OPTIONS, ...env },
  });
  let buffer = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} server did not start`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      buffer += String(d);
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const ready = /^READY (\d+)/.exec(line);
        if (ready) {
          clearTimeout(timer);
          resolve(Number(ready[1]));
        }
        onLine(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} server exited (${code})`)));
  });
  return { child, port };
}
