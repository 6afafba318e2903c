/**
 * The PostgreSQL shared state over the wire protocol, against PGlite served by
 * @electric-sql/pglite-socket (one session, so a pool of one). Several replicas on a real
 * PostgreSQL are tested in test/reliability/multi-replica.test.ts.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedState, type SharedState } from '../../../../cds-hooks/shared-state/index.ts';
import { openPostgresSharedState } from '../../../../cds-hooks/shared-state/postgres-shared-state.ts';
import { SHOWN_CARDS_TTL_MS } from '../../../../cds-hooks/shown-cards.ts';
import { freshDataDir, removeTempDirs } from '../feedback/helpers.ts';

let db: PGlite;
let server: PGLiteSocketServer;
let databaseUrl = '';
let clock = Date.parse('2026-12-06T09:00:00Z');
let state: SharedState;

beforeAll(async () => {
  db = new PGlite(await freshDataDir());
  await db.waitReady;
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  databaseUrl = `postgres://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  state = await openPostgresSharedState({ databaseUrl, poolMax: 1, now: () => clock, purgeIntervalMs: 0 });
}, 60_000);

afterAll(async () => {
  await state?.close();
  await server?.stop();
  await db?.close();
  removeTempDirs();
});

describe('JWT replay set in PostgreSQL', () => {
  it('accepts a key once and refuses it until it expires, then accepts it again', async () => {
    expect(state.kind).toBe('postgres');
    const key = JSON.stringify(['https://ehr.example.org', 'jti-1']);
    expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(true);
    expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(false);
    clock += 59_000;
    expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(false);
    clock += 2_000;
    expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(true);
    expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(false);
  });

  it('keeps the same jti from two issuers apart', async () => {
    const a = JSON.stringify(['https://ehr-a.example.org', 'shared']);
    const b = JSON.stringify(['https://ehr-b.example.org', 'shared']);
    expect(await state.replay.checkAndAdd(a, clock + 60_000)).toBe(true);
    expect(await state.replay.checkAndAdd(b, clock + 60_000)).toBe(true);
  });

  it('is seen by a second instance on the same database (another replica)', async () => {
    const other = await openPostgresSharedState({
      databaseUrl,
      poolMax: 1,
      now: () => clock,
      purgeIntervalMs: 0,
    });
    try {
      const key = JSON.stringify(['https://ehr.example.org', 'jti-cross-replica']);
      expect(await state.replay.checkAndAdd(key, clock + 60_000)).toBe(true);
      expect(await other.replay.checkAndAdd(key, clock + 60_000)).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe('cards shown at order-select, in PostgreSQL', () => {
  it('answers which of the given keys were shown, for the TTL', async () => {
    const shown = 'Patient/p1|MedicationRequest/d1|order-concordance|not-preferred|';
    const other = 'Patient/p1|MedicationRequest/d2|order-concordance|not-preferred|';
    await state.shownCards.remember([shown]);
    expect(await state.shownCards.shownAmong([shown, other])).toEqual(new Set([shown]));
    clock += SHOWN_CARDS_TTL_MS + 1;
    expect(await state.shownCards.shownAmong([shown, other])).toEqual(new Set());
  });

  it('stores digests only: no patient id or draft reference in the table', async () => {
    await state.shownCards.remember(['Patient/identifiable-123|MedicationRequest/x|t|c|']);
    const rows = await db.query<{ key: Uint8Array }>('SELECT key FROM cds_shown_card');
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const r of rows.rows) {
      expect(r.key.length).toBe(32);
      expect(Buffer.from(r.key).toString('latin1')).not.toContain('identifiable-123');
    }
  });
});

describe('without a database, or when it cannot be reached', () => {
  it('keeps the state in process when no DATABASE_URL is given', async () => {
    const local = await openSharedState({});
    expect(local.kind).toBe('in-process');
    expect(await local.replay.checkAndAdd('k', Date.now() + 1000)).toBe(true);
    expect(await local.replay.checkAndAdd('k', Date.now() + 1000)).toBe(false);
  });

  it('throws on a check once the database is gone, so the verifier refuses the token (503), never accepts it', async () => {
    const lost = await openPostgresSharedState({
      databaseUrl,
      poolMax: 1,
      now: () => clock,
      purgeIntervalMs: 0,
    });
    await lost.close();
    await expect(lost.replay.checkAndAdd('["i","j"]', clock + 60_000)).rejects.toThrow();
    await expect(lost.shownCards.shownAmong(['k'])).rejects.toThrow();
    expect(await lost.health()).toBe(false);
  });

  it('refuses to open on an address where no database answers, with a message and no secret in it', async () => {
    const err = await openPostgresSharedState({
      databaseUrl: 'postgres://user:s3cret-pass@127.0.0.1:1/none',
      statementTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toContain('s3cret-pass');
  });
});
