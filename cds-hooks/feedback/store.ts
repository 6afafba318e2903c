/**
 * Durable storage of CDS Hooks 2.0 feedback (§Feedback).
 *
 * The store keeps exactly what the specification's feedback carries (card id, outcome, accepted
 * suggestion ids, override reason, outcome timestamp) plus the service id, the server receive time
 * and the JWT issuer of the client. No user, patient or encounter identifiers are stored.
 *
 * Backends: embedded PGlite (default, file-backed) or PostgreSQL when a `databaseUrl` is given.
 * Both run the SQL in `schema.sql.ts`.
 */
import { createHash } from 'node:crypto';

export interface OverrideReasonRecord {
  system?: string;
  code?: string;
  display?: string;
  userComment?: string;
}

export interface FeedbackRecord {
  serviceId: string;
  card: string;
  outcome: 'accepted' | 'overridden';
  /** Suggestion uuids, sorted for idempotency. */
  acceptedSuggestions: string[];
  overrideReason?: OverrideReasonRecord;
  /** As received (RFC 3339). */
  outcomeTimestamp: string;
  /** Server time, ISO 8601. */
  receivedAt: string;
  /** JWT issuer that sent it (no user or patient ids). */
  clientIss?: string;
}

export interface SaveResult {
  inserted: number;
  duplicates: number;
}

export interface ListFilter {
  serviceId?: string;
  card?: string;
  /** Default 100, capped at 1000. */
  limit?: number;
  /** The most recent `limit` records, newest first (default: the oldest, oldest first). */
  newestFirst?: boolean;
}

/** What `scan` reads: every record, or those of one service, or those received since a time. */
export interface ScanFilter {
  serviceId?: string;
  /** Only records the service received at or after this instant (`receivedAt`, the server's clock). */
  since?: Date;
  /** Records per query, default 500, capped at 1000. */
  batchSize?: number;
}

export interface FeedbackStore {
  readonly kind: 'pglite' | 'postgres';
  /** One transaction; resolves only once the rows are durable. Repeats count as duplicates. */
  save(records: FeedbackRecord[]): Promise<SaveResult>;
  /** Oldest first unless `newestFirst`. */
  list(filter?: ListFilter): Promise<FeedbackRecord[]>;
  count(): Promise<number>;
  /**
   * Every matching record, oldest first, read a batch at a time by keyset paging on the primary key,
   * so no query returns an unbounded list and no connection or lock is held between batches. Records
   * saved after the scan began are not included. Throws FeedbackStoreError from the iteration.
   */
  scan(filter?: ScanFilter): AsyncIterable<FeedbackRecord>;
  /** Never throws. */
  health(): Promise<boolean>;
  close(): Promise<void>;
}

export interface FeedbackStoreOptions {
  /** When set, PostgreSQL is used (e.g. `process.env.DATABASE_URL`). */
  databaseUrl?: string;
  /** PGlite data directory, default `.data/feedback`; `memory://` for tests. */
  dataDir?: string;
  /** PostgreSQL pool size, default 10. */
  poolMax?: number;
}

export const DEFAULT_DATA_DIR = '.data/feedback';

/** The folder a PGlite data dir is on disk (`file://` stripped), or undefined for `memory://` and the like. */
export function dataDirPath(dataDir: string): string | undefined {
  if (/^[a-z]+:\/\//i.test(dataDir) && !dataDir.startsWith('file://')) return undefined;
  return dataDir.replace(/^file:\/\//, '');
}
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
const DEFAULT_SCAN_BATCH = 500;

/**
 * Error raised by a store on PostgreSQL or PGlite. The message names the store, the operation and,
 * when known, the error code; it never contains record contents (the driver's message, which may
 * quote values, is dropped).
 */
export class StoreError extends Error {
  readonly operation: string;
  /** SQLSTATE (e.g. `23502`) or Node error code (e.g. `ECONNREFUSED`), when known. */
  readonly code: string | undefined;
  constructor(store: string, operation: string, code?: string) {
    super(`${store}: ${operation} failed${code ? ` (${code})` : ''}`);
    this.name = 'StoreError';
    this.operation = operation;
    this.code = code;
  }
}

export class FeedbackStoreError extends StoreError {
  constructor(operation: string, code?: string) {
    super('feedback store', operation, code);
    this.name = 'FeedbackStoreError';
  }
}

/** A driver error's bare code: a SQLSTATE such as 23502 or a Node code such as ECONNREFUSED. */
export function driverErrorCode(err: unknown): string | undefined {
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
      ? err.code
      : undefined;
  return code && /^[0-9A-Z_]{2,32}$/.test(code) ? code : undefined;
}

/** Maps any driver error to a FeedbackStoreError without copying its message. */
export function storeError(operation: string, err: unknown): FeedbackStoreError {
  if (err instanceof FeedbackStoreError) return err;
  return new FeedbackStoreError(operation, driverErrorCode(err));
}

/** Canonical form: suggestions sorted and de-duplicated; empty override reason fields dropped. */
export function normaliseRecord(r: FeedbackRecord): FeedbackRecord {
  const out: FeedbackRecord = {
    serviceId: r.serviceId,
    card: r.card,
    outcome: r.outcome,
    acceptedSuggestions: [...new Set(r.acceptedSuggestions)].sort(),
    outcomeTimestamp: r.outcomeTimestamp,
    receivedAt: r.receivedAt,
  };
  if (r.overrideReason) {
    const o: OverrideReasonRecord = {};
    if (r.overrideReason.system !== undefined) o.system = r.overrideReason.system;
    if (r.overrideReason.code !== undefined) o.code = r.overrideReason.code;
    if (r.overrideReason.display !== undefined) o.display = r.overrideReason.display;
    if (r.overrideReason.userComment !== undefined) o.userComment = r.overrideReason.userComment;
    if (Object.keys(o).length > 0) out.overrideReason = o;
  }
  if (r.clientIss !== undefined) out.clientIss = r.clientIss;
  return out;
}

/**
 * sha-256 over service id, card, outcome, outcome timestamp, sorted suggestions, the override
 * reason (system, code, comment) and the client's issuer. `receivedAt` and `display` are not part
 * of the key: a resent feedback is the same feedback. The issuer is: the same feedback sent by two
 * CDS clients is two records, and one client can never suppress another's.
 */
export function dedupeKey(r: FeedbackRecord): string {
  const n = normaliseRecord(r);
  const parts = [
    n.serviceId,
    n.card,
    n.outcome,
    n.outcomeTimestamp,
    n.acceptedSuggestions,
    n.overrideReason?.system ?? null,
    n.overrideReason?.code ?? null,
    n.overrideReason?.userComment ?? null,
    n.clientIss ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Cheap structural checks so that bad input fails before reaching SQL. */
export function assertRecord(r: FeedbackRecord): void {
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.serviceId === 'string' &&
    r.serviceId.length > 0 &&
    typeof r.card === 'string' &&
    r.card.length > 0 &&
    (r.outcome === 'accepted' || r.outcome === 'overridden') &&
    Array.isArray(r.acceptedSuggestions) &&
    r.acceptedSuggestions.every((s) => typeof s === 'string') &&
    typeof r.outcomeTimestamp === 'string' &&
    typeof r.receivedAt === 'string' &&
    !Number.isNaN(Date.parse(r.receivedAt));
  if (!ok) throw new FeedbackStoreError('save (invalid record)');
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.trunc(limit)));
}

export function clampBatch(size: number | undefined): number {
  if (size === undefined || !Number.isFinite(size)) return DEFAULT_SCAN_BATCH;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.trunc(size)));
}

/** Opens PostgreSQL when `databaseUrl` is set, otherwise file-backed PGlite in `dataDir`. */
export async function openFeedbackStore(opts: FeedbackStoreOptions = {}): Promise<FeedbackStore> {
  if (opts.databaseUrl) {
    const { openPostgresFeedbackStore } = await import('./postgres-store.ts');
    return openPostgresFeedbackStore(
      opts.poolMax === undefined
        ? { databaseUrl: opts.databaseUrl }
        : { databaseUrl: opts.databaseUrl, poolMax: opts.poolMax },
    );
  }
  const { openPgliteFeedbackStore } = await import('./pglite-store.ts');
  return openPgliteFeedbackStore({ dataDir: opts.dataDir ?? DEFAULT_DATA_DIR });
}
