/**
 * One way to open PostgreSQL for every store on it (feedback, shared state): a pg pool whose idle
 * connection errors cannot crash the process, and the store's tables created in one transaction
 * under an advisory lock, so replicas starting together migrate one at a time.
 */
import pg from 'pg';
import { HEALTH_SQL, LOCK_SCHEMA_SQL, SCHEMA_LOCK_KEY } from './schema.sql.ts';

export interface PostgresPoolOptions {
  databaseUrl: string;
  /** Pool size, default 10. */
  poolMax?: number;
  /** Connection timeout, default 5000 ms. */
  connectionTimeoutMillis?: number;
  /**
   * Limit on any one statement after the tables exist: the server cancels it (`statement_timeout`,
   * `lock_timeout`), so a statement the caller gave up on is rolled back, never committed later; the
   * client gives up a second after that in case the server cannot be reached at all. None by default.
   */
  statementTimeoutMillis?: number;
}

/** Opens the pool and runs `statements` (idempotent DDL); a failure is thrown as `asError(err)`. */
export async function openPostgresPool(
  opts: PostgresPoolOptions,
  statements: readonly string[],
  asError: (err: unknown) => Error,
  lockKey: number = SCHEMA_LOCK_KEY,
): Promise<pg.Pool> {
  const limit = opts.statementTimeoutMillis;
  // Tables first, on a connection of its own with no statement limits: waiting for another
  // replica's migration is not a request, and a client-side timeout would leave the server waiting.
  const client = new pg.Client({
    connectionString: opts.databaseUrl,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(LOCK_SCHEMA_SQL, [lockKey]);
      for (const stmt of statements) await client.query(stmt);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } catch (err) {
    throw asError(err);
  } finally {
    await client.end().catch(() => undefined);
  }
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30_000,
    ...(limit ? { statement_timeout: limit, lock_timeout: limit, query_timeout: limit + 1000 } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

const HEALTH_TIMEOUT_MS = 3000;

/** The database answers `SELECT 1` within 3 s; never throws (for `/health`). */
export async function poolAnswers(pool: pg.Pool): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
  });
  const probe = pool.query<{ ok: number }>(HEALTH_SQL).then(
    (res) => res.rows[0]?.ok === 1,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
