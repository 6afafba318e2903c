/**
 * PostgreSQL feedback store (`DATABASE_URL`), same SQL as the PGlite store.
 *
 * Durability is the server's: a single INSERT commits on its own and, with the default
 * `synchronous_commit=on`, is flushed to the WAL before the server acknowledges it.
 */
import type pg from 'pg';
import { openPostgresPool, type PostgresPoolOptions, poolAnswers } from './postgres-pool.ts';
import {
  COUNT_SQL,
  type FeedbackRow,
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
  type FeedbackRecord,
  type FeedbackStore,
  FeedbackStoreError,
  type ListFilter,
  type SaveResult,
  type ScanFilter,
  storeError,
} from './store.ts';

export type PostgresFeedbackStoreOptions = Omit<PostgresPoolOptions, 'statementTimeoutMillis'>;

export async function openPostgresFeedbackStore(opts: PostgresFeedbackStoreOptions): Promise<FeedbackStore> {
  return new PostgresFeedbackStore(
    await openPostgresPool(opts, SCHEMA_STATEMENTS, (err) => storeError('open (postgres)', err)),
  );
}

class PostgresFeedbackStore implements FeedbackStore {
  readonly kind = 'postgres' as const;
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  private async run<T>(operation: string, task: () => Promise<T>): Promise<T> {
    if (this.closed) throw new FeedbackStoreError(`${operation} (store closed)`);
    try {
      return await task();
    } catch (err) {
      throw storeError(operation, err);
    }
  }

  async save(records: FeedbackRecord[]): Promise<SaveResult> {
    for (const r of records) assertRecord(r);
    if (records.length === 0) return { inserted: 0, duplicates: 0 };
    return this.run('save', async () => {
      // One statement, hence one transaction; no client is held across awaits.
      const res = await this.pool.query(INSERT_SQL, insertParams(records));
      const inserted = res.rowCount ?? 0;
      return { inserted, duplicates: records.length - inserted };
    });
  }

  list(filter: ListFilter = {}): Promise<FeedbackRecord[]> {
    return this.run('list', async () => {
      const res = await this.pool.query<FeedbackRow>(
        listSql(filter),
        listParams(filter, clampLimit(filter.limit)),
      );
      return res.rows.map(rowToRecord);
    });
  }

  scan(filter: ScanFilter = {}): AsyncIterable<FeedbackRecord> {
    return scanRecords(
      <R>(operation: string, sql: string, params: unknown[]) =>
        this.run(operation, async () => (await this.pool.query(sql, params)).rows as R[]),
      filter,
    );
  }

  count(): Promise<number> {
    return this.run('count', async () => {
      const res = await this.pool.query<{ n: number }>(COUNT_SQL);
      return Number(res.rows[0]?.n ?? 0);
    });
  }

  async health(): Promise<boolean> {
    return !this.closed && poolAnswers(this.pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.end();
    } catch (err) {
      throw storeError('close (postgres)', err);
    }
  }
}
