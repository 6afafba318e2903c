/**
 * SQL shared by the PGlite and PostgreSQL feedback stores. Every value goes through a `$n`
 * parameter; nothing here is built by concatenating values.
 */
import {
  clampBatch,
  dedupeKey,
  type FeedbackRecord,
  FeedbackStoreError,
  normaliseRecord,
  type OverrideReasonRecord,
  type ScanFilter,
} from './store.ts';

/**
 * Keep in step with the INSERT into cds_feedback_schema_version below. Adding an index (created
 * IF NOT EXISTS at every open) does not change the table, so it does not change the version.
 */
export const SCHEMA_VERSION = 1;

/** Arbitrary constant for `pg_advisory_xact_lock`, so concurrent service instances migrate one at a time. */
export const SCHEMA_LOCK_KEY = 734_215_901;

/** Idempotent; run in order inside one transaction. */
export const SCHEMA_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS cds_feedback_schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS cds_feedback (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key text NOT NULL,
    service_id text NOT NULL,
    card text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    accepted_suggestions jsonb NOT NULL DEFAULT '[]'::jsonb,
    override_reason jsonb,
    outcome_timestamp text NOT NULL,
    received_at timestamptz NOT NULL,
    client_iss text,
    CONSTRAINT cds_feedback_dedupe_key_uq UNIQUE (dedupe_key)
  )`,
  'CREATE INDEX IF NOT EXISTS cds_feedback_service_card_idx ON cds_feedback (service_id, card)',
  // Where a scan `since` a day starts (SCAN_BOUNDS_SQL) without reading the older rows.
  'CREATE INDEX IF NOT EXISTS cds_feedback_received_at_idx ON cds_feedback (received_at, id)',
  'INSERT INTO cds_feedback_schema_version (version) VALUES (1) ON CONFLICT (version) DO NOTHING',
];

export const LOCK_SCHEMA_SQL = 'SELECT pg_advisory_xact_lock($1)';

/**
 * One statement for a whole batch (so it is atomic on its own): parallel arrays unnested into rows.
 * Repeats, including repeats inside the same batch, are skipped by the unique dedupe key.
 */
export const INSERT_SQL = `INSERT INTO cds_feedback
  (dedupe_key, service_id, card, outcome, accepted_suggestions, override_reason, outcome_timestamp, received_at, client_iss)
SELECT k, s, c, o, a::jsonb, r::jsonb, t, ra::timestamptz, i
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
  AS u(k, s, c, o, a, r, t, ra, i)
ON CONFLICT (dedupe_key) DO NOTHING`;

export const LIST_SQL = `SELECT service_id, card, outcome, accepted_suggestions, override_reason, outcome_timestamp,
  received_at, client_iss
FROM cds_feedback
WHERE ($1::text IS NULL OR service_id = $1::text) AND ($2::text IS NULL OR card = $2::text)
ORDER BY id
LIMIT $3::integer`;

/** The same rows, the most recent first (a reviewer's "what just came in"). */
export const LIST_NEWEST_SQL = LIST_SQL.replace('ORDER BY id', 'ORDER BY id DESC');

export const listSql = (filter: { newestFirst?: boolean }) =>
  filter.newestFirst ? LIST_NEWEST_SQL : LIST_SQL;

/**
 * A scan's bounds, as text (bigint): just before the first id received since `$1` (every id when
 * `$1` is null), and the last id now, so a scan ends even while feedback keeps arriving.
 */
export const SCAN_BOUNDS_SQL = `SELECT
  (SELECT min(id) - 1 FROM cds_feedback
    WHERE $1::timestamptz IS NULL OR received_at >= $1::timestamptz)::text AS after,
  (SELECT max(id) FROM cds_feedback)::text AS last`;

/**
 * One page of a scan: keyset paging on the primary key (no OFFSET, so each page costs the same).
 * The id goes out as text (a bigint) under another name: `ORDER BY id` would sort by an alias `id`.
 */
export const SCAN_PAGE_SQL = `SELECT id::text AS scan_id, service_id, card, outcome, accepted_suggestions, override_reason,
  outcome_timestamp, received_at, client_iss
FROM cds_feedback
WHERE id > $1::bigint AND id <= $2::bigint
  AND ($3::text IS NULL OR service_id = $3::text)
  AND ($4::timestamptz IS NULL OR received_at >= $4::timestamptz)
ORDER BY id
LIMIT $5::integer`;

export const COUNT_SQL = 'SELECT count(*)::integer AS n FROM cds_feedback';

export const HEALTH_SQL = 'SELECT 1 AS ok';

/** The nine parallel arrays for INSERT_SQL. */
export function insertParams(records: readonly FeedbackRecord[]): (string | null)[][] {
  const cols: (string | null)[][] = [[], [], [], [], [], [], [], [], []];
  for (const rec of records) {
    const n = normaliseRecord(rec);
    const row: (string | null)[] = [
      dedupeKey(n),
      n.serviceId,
      n.card,
      n.outcome,
      JSON.stringify(n.acceptedSuggestions),
      n.overrideReason ? JSON.stringify(n.overrideReason) : null,
      n.outcomeTimestamp,
      new Date(n.receivedAt).toISOString(),
      n.clientIss ?? null,
    ];
    row.forEach((v, i) => {
      cols[i]?.push(v);
    });
  }
  return cols;
}

export function listParams(filter: { serviceId?: string; card?: string }, limit: number): unknown[] {
  return [filter.serviceId ?? null, filter.card ?? null, limit];
}

export interface FeedbackRow {
  service_id: string;
  card: string;
  outcome: string;
  accepted_suggestions: unknown;
  override_reason: unknown;
  outcome_timestamp: string;
  received_at: unknown;
  client_iss: string | null;
}

function parseJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

function toIso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(String(v)).toISOString();
}

export function rowToRecord(row: FeedbackRow): FeedbackRecord {
  const suggestions = parseJson(row.accepted_suggestions);
  const reason = parseJson(row.override_reason);
  const rec: FeedbackRecord = {
    serviceId: row.service_id,
    card: row.card,
    outcome: row.outcome === 'accepted' ? 'accepted' : 'overridden',
    acceptedSuggestions: Array.isArray(suggestions) ? suggestions.map(String) : [],
    outcomeTimestamp: row.outcome_timestamp,
    receivedAt: toIso(row.received_at),
  };
  if (reason && typeof reason === 'object') rec.overrideReason = reason as OverrideReasonRecord;
  if (row.client_iss !== null) rec.clientIss = row.client_iss;
  return rec;
}

/** Runs one query for a store, mapping its failures to FeedbackStoreError. */
type RunQuery = <R>(operation: string, sql: string, params: unknown[]) => Promise<R[]>;

/**
 * `FeedbackStore.scan` for both stores: a page at a time, each page its own query (PGlite queues
 * other work between pages; PostgreSQL holds no connection between them).
 */
export async function* scanRecords(run: RunQuery, filter: ScanFilter = {}): AsyncGenerator<FeedbackRecord> {
  if (filter.since && Number.isNaN(filter.since.getTime()))
    throw new FeedbackStoreError('scan (invalid since)');
  const since = filter.since ? filter.since.toISOString() : null;
  const batch = clampBatch(filter.batchSize);
  const [bounds] = await run<{ after: string | null; last: string | null }>('scan', SCAN_BOUNDS_SQL, [since]);
  if (!bounds?.after || !bounds.last) return;
  let after = bounds.after;
  for (;;) {
    const rows = await run<FeedbackRow & { scan_id: string }>('scan', SCAN_PAGE_SQL, [
      after,
      bounds.last,
      filter.serviceId ?? null,
      since,
      batch,
    ]);
    for (const row of rows) yield rowToRecord(row);
    const last = rows.at(-1);
    if (!last || rows.length < batch) return;
    after = last.scan_id;
  }
}
