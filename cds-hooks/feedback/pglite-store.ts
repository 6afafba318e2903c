/**
 * Embedded feedback store: PGlite (WASM Postgres) persisted to a directory through its NodeFS.
 *
 * Durability (PGlite 0.5.16 on Node, checked in node_modules and by the SIGKILL test):
 * - NodeFS mounts the data directory with Emscripten's NODEFS, whose writes are `fs.writeSync`
 *   calls: nothing is buffered in JS or WASM memory once Postgres has written a page.
 * - Postgres commits synchronously (`synchronous_commit=on`): the WAL record of the commit is
 *   written before the query returns. PGlite then runs `syncToFs`, which we make awaited with
 *   `relaxedDurability: false` (a no-op for NodeFS, meaningful for other filesystems).
 * - So a resolved `save` is in the kernel's page cache and survives the process being SIGKILLed.
 * - Not survived: an OS crash or power loss. PGlite starts Postgres with `-F` (fsync off) and
 *   NODEFS has no fsync operation, so nothing is ever flushed to the disk by fsync.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import {
  COUNT_SQL,
  type FeedbackRow,
  HEALTH_SQL,
  INSERT_SQL,
  insertParams,
  listParams,
  listSql,
  rowToRecord,
  SCHEMA_STATEMENTS,
  scanRecords,
} from './schema.sql.ts';
import {
  assertRecord,
  clampLimit,
  dataDirPath,
  type FeedbackRecord,
  type FeedbackStore,
  FeedbackStoreError,
  type ListFilter,
  type SaveResult,
  type ScanFilter,
  storeError,
} from './store.ts';

export interface PgliteFeedbackStoreOptions {
  /** Directory, or `memory://` (tests only: nothing is persisted). */
  dataDir: string;
}

/** Runs tasks one after another; a failed task does not stop the queue. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
  drain(): Promise<unknown> {
    return this.tail;
  }
}

export async function openPgliteFeedbackStore(opts: PgliteFeedbackStoreOptions): Promise<FeedbackStore> {
  const dataDir = opts.dataDir;
  let db: PGlite;
  try {
    // PGlite's NodeFS creates only the last path segment.
    const onDisk = dataDirPath(dataDir);
    if (onDisk) mkdirSync(onDisk, { recursive: true });
    db = new PGlite(dataDir, { relaxedDurability: false });
    await db.waitReady;
    await db.transaction(async (tx) => {
      for (const stmt of SCHEMA_STATEMENTS) await tx.query(stmt);
    });
  } catch (err) {
    throw storeError('open (pglite)', err);
  }
  return new PgliteFeedbackStore(db);
}

class PgliteFeedbackStore implements FeedbackStore {
  readonly kind = 'pglite' as const;
  private readonly queue = new SerialQueue();
  private closed = false;

  constructor(private readonly db: PGlite) {}

  private exclusive<T>(operation: string, task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new FeedbackStoreError(`${operation} (store closed)`));
    // Work queued before close() still runs: close() waits for the queue to drain.
    return this.queue.run(async () => {
      try {
        return await task();
      } catch (err) {
        throw storeError(operation, err);
      }
    });
  }

  save(records: FeedbackRecord[]): Promise<SaveResult> {
    try {
      for (const r of records) assertRecord(r);
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    return this.exclusive('save', async () => {
      // A single INSERT ... SELECT FROM unnest(...) is its own transaction.
      const res = await this.db.query(INSERT_SQL, insertParams(records));
      const inserted = res.affectedRows ?? 0;
      return { inserted, duplicates: records.length - inserted };
    });
  }

  list(filter: ListFilter = {}): Promise<FeedbackRecord[]> {
    return this.exclusive('list', async () => {
      const res = await this.db.query<FeedbackRow>(
        listSql(filter),
        listParams(filter, clampLimit(filter.limit)),
      );
      return res.rows.map(rowToRecord);
    });
  }

  scan(filter: ScanFilter = {}): AsyncIterable<FeedbackRecord> {
    return scanRecords(
      <R>(operation: string, sql: string, params: unknown[]) =>
        this.exclusive(operation, async () => (await this.db.query<R>(sql, params)).rows),
      filter,
    );
  }

  count(): Promise<number> {
    return this.exclusive('count', async () => {
      const res = await this.db.query<{ n: number }>(COUNT_SQL);
      return Number(res.rows[0]?.n ?? 0);
    });
  }

  async health(): Promise<boolean> {
    try {
      return await this.exclusive('health', async () => {
        const res = await this.db.query<{ ok: number }>(HEALTH_SQL);
        return res.rows[0]?.ok === 1;
      });
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    try {
      await this.db.close();
    } catch (err) {
      throw storeError('close (pglite)', err);
    }
  }
}
