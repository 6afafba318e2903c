/**
 * The replay set and the shown-cards memory in PostgreSQL (`DATABASE_URL`), the database the
 * feedback store uses, with the same driver, schema lock and error mapping.
 *
 * Each check is one statement, hence one round trip and one transaction:
 * - replay: an INSERT that succeeds only for a key not seen, or seen but expired; concurrent
 *   replicas inserting the same key are serialised by the primary key, so exactly one wins;
 * - shown cards: one INSERT of all keys at order-select, one SELECT at order-sign.
 * Keys are stored as SHA-256 digests, so the table holds no identifier in clear and has keys of one
 * size. A digest of a short patient id can still be found by trying every id: treat the table as
 * holding the ids; its rows live 2 hours at most. Expired rows are deleted about once a minute by
 * every replica (concurrent deletes are harmless), only once expired for 10 minutes by that
 * replica's clock, so a replica whose clock runs a little fast never deletes a live `jti`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ReplayStore } from '../auth/replay-cache.ts';
import { openPostgresPool, poolAnswers } from '../feedback/postgres-pool.ts';
import { driverErrorCode, StoreError } from '../feedback/store.ts';
import { SHOWN_CARDS_TTL_MS, type ShownCardsStore } from '../shown-cards.ts';
import type { SharedState } from './index.ts';

export interface PostgresSharedStateOptions {
  databaseUrl: string;
  poolMax?: number;
  /** A statement slower than this fails (and the request is answered 503 or without the memory). */
  statementTimeoutMs?: number;
  /** Current time in epoch ms for shown-card expiry (tests). */
  now?: () => number;
  /** How often expired rows are deleted; 0 turns it off (tests). */
  purgeIntervalMs?: number;
}

const SHARED_STATE_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS cds_jti_seen (
    key bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS cds_jti_seen_expires_idx ON cds_jti_seen (expires_at)',
  `CREATE TABLE IF NOT EXISTS cds_shown_card (
    key bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS cds_shown_card_expires_idx ON cds_shown_card (expires_at)',
];

/** First use, or a use after the earlier one expired: one row back. A live replay: none. */
const REPLAY_SQL = `INSERT INTO cds_jti_seen AS seen (key, expires_at)
VALUES ($1::bytea, to_timestamp($2::double precision / 1000))
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
  WHERE seen.expires_at <= to_timestamp($3::double precision / 1000)
RETURNING 1`;

const REMEMBER_SQL = `INSERT INTO cds_shown_card (key, expires_at)
SELECT k, to_timestamp($2::double precision / 1000) FROM unnest($1::bytea[]) AS u(k)
ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at`;

const SHOWN_SQL = `SELECT key FROM cds_shown_card
WHERE key = ANY($1::bytea[]) AND expires_at > to_timestamp($2::double precision / 1000)`;

const PURGE_SQL = [
  'DELETE FROM cds_jti_seen WHERE expires_at < to_timestamp($1::double precision / 1000)',
  'DELETE FROM cds_shown_card WHERE expires_at < to_timestamp($1::double precision / 1000)',
];

/** Its own migration lock: never waits behind a long feedback-table migration of another replica. */
const SHARED_STATE_LOCK_KEY = 734_215_902;
const PURGE_MARGIN_MS = 10 * 60 * 1000;

const sharedStateError = (operation: string, err: unknown) =>
  new StoreError('shared state (PostgreSQL)', operation, driverErrorCode(err));

const digest = (key: string) => createHash('sha256').update(key).digest();

export async function openPostgresSharedState(
  opts: PostgresSharedStateOptions,
): Promise<PostgresSharedState> {
  const statementTimeout = opts.statementTimeoutMs ?? 2000;
  // On the request path: a stuck database must fail the check, not hold the request.
  const pool = await openPostgresPool(
    {
      databaseUrl: opts.databaseUrl,
      // One short statement per request: 5 connections carry thousands a second, and keep each
      // replica's share of max_connections small (10 more are the feedback store's).
      poolMax: opts.poolMax ?? 5,
      connectionTimeoutMillis: statementTimeout,
      statementTimeoutMillis: statementTimeout,
    },
    SHARED_STATE_STATEMENTS,
    (err) => sharedStateError('open', err),
    SHARED_STATE_LOCK_KEY,
  );
  return new PostgresSharedState(pool, opts);
}

export class PostgresSharedState implements SharedState {
  readonly kind = 'postgres' as const;
  readonly replay: ReplayStore;
  readonly shownCards: ShownCardsStore;
  /** Statements sent to the database since start (a test counts round trips per request with it). */
  statements = 0;
  private closed = false;
  private readonly purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    opts: PostgresSharedStateOptions,
  ) {
    const now = opts.now ?? Date.now;
    const query = async <R extends pg.QueryResultRow>(operation: string, sql: string, params: unknown[]) => {
      if (this.closed) throw sharedStateError(`${operation} (closed)`, undefined);
      this.statements++;
      try {
        return await this.pool.query<R>(sql, params);
      } catch (err) {
        throw sharedStateError(operation, err);
      }
    };
    this.replay = {
      checkAndAdd: async (key, expiresAtMs) => {
        const at = now();
        if (!(expiresAtMs > at)) return true; // already expired: nothing to remember
        const res = await query('replay check', REPLAY_SQL, [digest(key), expiresAtMs, at]);
        return res.rowCount === 1;
      },
    };
    this.shownCards = {
      remember: async (keys) => {
        if (keys.length === 0) return;
        await query('remember shown cards', REMEMBER_SQL, [keys.map(digest), now() + SHOWN_CARDS_TTL_MS]);
      },
      shownAmong: async (keys) => {
        if (keys.length === 0) return new Set();
        const digests = keys.map(digest);
        const byDigest = new Map(digests.map((d, i) => [d.toString('hex'), keys[i] as string]));
        const res = await query<{ key: Buffer }>('read shown cards', SHOWN_SQL, [digests, now()]);
        return new Set(res.rows.map((r) => byDigest.get(r.key.toString('hex')) as string));
      },
    };
    const every = opts.purgeIntervalMs ?? 60_000;
    if (every > 0) {
      this.purgeTimer = setInterval(() => {
        for (const sql of PURGE_SQL)
          void this.pool.query(sql, [now() - PURGE_MARGIN_MS]).catch(() => undefined);
      }, every);
      this.purgeTimer.unref();
    }
  }

  async health(): Promise<boolean> {
    return !this.closed && poolAnswers(this.pool);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.purgeTimer);
    await this.pool.end().catch(() => undefined);
  }
}
