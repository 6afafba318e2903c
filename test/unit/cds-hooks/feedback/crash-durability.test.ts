import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFeedbackStore } from '../../../../cds-hooks/feedback/index.ts';
import { freshDataDir, percentile, removeTempDirs } from './helpers.ts';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const KILL_AFTER_ACKS = 150;
/** From the first acknowledged save: on a loaded machine the first saves can take a while to come. */
const KILL_AFTER_MS = 1500;

interface CrashRun {
  acked: string[];
  latencies: number[];
  openMs: number;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Starts the writer, SIGKILLs it after KILL_AFTER_ACKS acks or KILL_AFTER_MS after the first ack. */
function runAndKill(dataDir: string, prefix: string): Promise<CrashRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: CrashRun = { acked: [], latencies: [], openMs: Number.NaN, signal: null, stderr: '' };
    let buffer = '';
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const guard = setTimeout(kill, 15_000);
    child.stderr.on('data', (d: Buffer) => {
      run.stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [tag, a, b] = line.split(' ');
        if (tag === 'READY') {
          run.openMs = Number(a);
        } else if (tag === 'ACK' && a && b) {
          // Every ACK the writer printed counts, also those read after the kill was sent: the
          // writer acknowledged them before it died (a loaded machine delivers them in one chunk).
          if (run.acked.length === 0) setTimeout(kill, KILL_AFTER_MS);
          run.acked.push(a);
          run.latencies.push(Number(b));
          if (run.acked.length >= KILL_AFTER_ACKS) kill();
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      run.signal = signal;
      resolve(run);
    });
  });
}

afterAll(() => {
  removeTempDirs();
});

describe('crash durability (SIGKILL while saving)', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await freshDataDir(); // initdb happens here, outside the timed test
  }, 60_000);

  it('every acknowledged save is present after the writer is SIGKILLed, twice in a row', async () => {
    const all: string[] = [];
    for (const prefix of ['run1', 'run2']) {
      const run = await runAndKill(dataDir, prefix);
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.acked.length, run.stderr).toBeGreaterThan(10);
      all.push(...run.acked);

      const store = await openFeedbackStore({ dataDir });
      try {
        const present = new Set((await store.list({ limit: 1000 })).map((r) => r.card));
        const missing = all.filter((card) => !present.has(card));
        expect(missing).toEqual([]);
        // At most one save can have committed without its ACK being printed.
        expect(present.size - all.length).toBeGreaterThanOrEqual(0);
        expect(present.size - all.length).toBeLessThanOrEqual(2);
        all.splice(0, all.length, ...present);
      } finally {
        await store.close();
      }

      const sorted = [...run.latencies].sort((x, y) => x - y);
      console.info(
        `[feedback crash test ${prefix}] open ${run.openMs.toFixed(0)} ms; ${run.acked.length} acked saves before SIGKILL; ` +
          `save latency median ${percentile(sorted, 50).toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, ` +
          `max ${(sorted.at(-1) ?? Number.NaN).toFixed(2)} ms`,
      );
    }
  }, 45_000);
});
