import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FeedbackRecord } from '../../../../cds-hooks/feedback/index.ts';
import { openFeedbackStore } from '../../../../cds-hooks/feedback/index.ts';

export const SERVICE = 'alk-ros1-order-select';

export function record(overrides: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    serviceId: SERVICE,
    card: randomUUID(),
    outcome: 'accepted',
    acceptedSuggestions: [randomUUID()],
    outcomeTimestamp: '2026-11-21T10:15:00Z',
    receivedAt: new Date().toISOString(),
    clientIss: 'https://ehr.example.org',
    ...overrides,
  };
}

const dirs: string[] = [];

export function tempDir(prefix = 'cds-feedback-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * PGlite's first open of a directory runs initdb (several seconds). Do it once per test file and
 * hand each test a copy of the initialised, closed directory (reopening takes well under a second).
 */
let template: Promise<string> | undefined;
export async function freshDataDir(): Promise<string> {
  template ??= (async () => {
    const dir = join(tempDir('cds-feedback-template-'), 'db');
    const store = await openFeedbackStore({ dataDir: dir });
    await store.close();
    return dir;
  })();
  const source = await template;
  const target = join(tempDir(), 'db');
  cpSync(source, target, { recursive: true });
  return target;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}
