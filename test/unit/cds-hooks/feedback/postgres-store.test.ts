/**
 * The PostgreSQL store, run for real over the wire protocol against PGlite served by
 * @electric-sql/pglite-socket on 127.0.0.1 (ephemeral port). PGlite is a single session, so the
 * pool is limited to one connection here; a real PostgreSQL takes the default pool of 10.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FeedbackStore,
  FeedbackStoreError,
  openFeedbackStore,
} from '../../../../cds-hooks/feedback/index.ts';
import { freshDataDir, record, removeTempDirs } from './helpers.ts';

let db: PGlite | undefined;
let server: PGLiteSocketServer | undefined;
let databaseUrl = '';
let setupError: unknown;

beforeAll(async () => {
  try {
    db = new PGlite(await freshDataDir());
    await db.waitReady;
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    databaseUrl = `postgres://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  } catch (err) {
    setupError = err;
  }
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await db?.close();
  removeTempDirs();
});

function requireServer(): void {
  if (setupError) throw new Error(`pglite-socket server did not start: ${String(setupError)}`);
}

describe('PostgreSQL feedback store over pglite-socket', () => {
  let store: FeedbackStore;

  beforeAll(async () => {
    requireServer();
    store = await openFeedbackStore({ databaseUrl, poolMax: 1 });
  }, 30_000);

  afterAll(async () => {
    await store?.close();
  });

  it('uses the postgres backend and creates the same schema', async () => {
    expect(store.kind).toBe('postgres');
    expect(await store.health()).toBe(true);
    const version = await db?.query<{ version: number }>('SELECT version FROM cds_feedback_schema_version');
    expect(version?.rows).toEqual([{ version: 1 }]);
    // Opening again (another service instance) is harmless.
    const again = await openFeedbackStore({ databaseUrl, poolMax: 1 });
    await again.close();
  });

  it('saves, dedupes and lists', async () => {
    const r = record({ acceptedSuggestions: ['z', 'a'] });
    const comment = record({
      outcome: 'overridden',
      acceptedSuggestions: [],
      overrideReason: { userComment: 'discussed at tumour board' },
    });
    expect(await store.save([r, comment])).toEqual({ inserted: 2, duplicates: 0 });
    expect(await store.save([r])).toEqual({ inserted: 0, duplicates: 1 });
    expect(await store.list({ card: r.card })).toEqual([{ ...r, acceptedSuggestions: ['a', 'z'] }]);
    expect((await store.list({ card: comment.card }))[0]?.overrideReason).toEqual({
      userComment: 'discussed at tumour board',
    });
    expect(await store.list({ serviceId: 'nope' })).toEqual([]);
  });

  it('handles 100 concurrent saves', async () => {
    const before = await store.count();
    const records = Array.from({ length: 100 }, () => record());
    const results = await Promise.all(records.map((r) => store.save([r])));
    expect(results.every((x) => x.inserted === 1)).toBe(true);
    expect(await store.count()).toBe(before + 100);
  }, 30_000);

  it('rejects a failing insert with a message free of record contents', async () => {
    await db?.exec(
      "ALTER TABLE cds_feedback ADD CONSTRAINT test_reject CHECK (card <> 'secret-card-7f3a') NOT VALID",
    );
    try {
      const bad = record({ card: 'secret-card-7f3a', overrideReason: { userComment: 'secret comment' } });
      const err = await store.save([bad]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedbackStoreError);
      expect((err as FeedbackStoreError).code).toBe('23514');
      expect((err as Error).message).toBe('feedback store: save failed (23514)');
      expect(JSON.stringify(err)).not.toContain('secret');
      expect(await store.health()).toBe(true);
    } finally {
      await db?.exec('ALTER TABLE cds_feedback DROP CONSTRAINT test_reject');
    }
  });
});

describe('PostgreSQL feedback store when the database is unreachable', () => {
  it('open rejects with a FeedbackStoreError', async () => {
    // Port 1 on loopback: connection refused.
    const err = await openFeedbackStore({ databaseUrl: 'postgres://u:pw@127.0.0.1:1/db' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FeedbackStoreError);
    expect((err as Error).message).toMatch(/^feedback store: open \(postgres\) failed/);
    expect((err as Error).message).not.toContain('pw');
  });

  it('health() is false, and save rejects, once the server is gone', async () => {
    requireServer();
    const local = new PGLiteSocketServer({ db: db as PGlite, host: '127.0.0.1', port: 0 });
    await local.start();
    const store = await openFeedbackStore({
      databaseUrl: `postgres://postgres@${local.getServerConn()}/postgres`,
      poolMax: 1,
    });
    try {
      expect(await store.health()).toBe(true);
      await local.stop();
      expect(await store.health()).toBe(false);
      const err = await store.save([record({ card: 'secret-card-gone' })]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedbackStoreError);
      expect((err as Error).message).not.toContain('secret');
    } finally {
      await local.stop().catch(() => undefined);
      await store.close();
    }
    expect(await store.health()).toBe(false);
  }, 30_000);
});
