/**
 * `FeedbackStore.scan`: every record, oldest first, a batch per query (keyset paging on the id),
 * filtered by service and by receive time, in PGlite and in PostgreSQL (over pglite-socket). A scan
 * sees the records that existed when it began, lets writes through between pages, and fails with a
 * FeedbackStoreError. An existing store gains the new index on open and keeps its data.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FeedbackRecord,
  type FeedbackStore,
  FeedbackStoreError,
  openFeedbackStore,
  type ScanFilter,
} from '../../../../cds-hooks/feedback/index.ts';
import { freshDataDir, record, removeTempDirs } from './helpers.ts';

async function collect(store: FeedbackStore, filter?: ScanFilter): Promise<FeedbackRecord[]> {
  const out: FeedbackRecord[] = [];
  for await (const r of store.scan(filter)) out.push(r);
  return out;
}

const day = (d: number) => new Date(Date.UTC(2026, 10, d, 12)).toISOString();

/** 250 records over three services, received on days 1–25 of November 2026, saved in batches. */
function corpus(): FeedbackRecord[] {
  return Array.from({ length: 250 }, (_, i) =>
    record({
      serviceId: ['alk-ros1-patient-view', 'alk-ros1-order-select', 'alk-ros1-order-sign'][i % 3] as string,
      card: `card-${String(i).padStart(4, '0')}`,
      receivedAt: day(1 + Math.floor(i / 10)),
      outcomeTimestamp: day(1 + Math.floor(i / 10)),
    }),
  );
}

function scanBehaviour(name: string, open: () => Promise<FeedbackStore>) {
  describe(name, () => {
    let store: FeedbackStore;
    let saved: FeedbackRecord[];

    beforeAll(async () => {
      store = await open();
      expect(await collect(store)).toEqual([]);
      saved = corpus();
      for (let i = 0; i < saved.length; i += 40) await store.save(saved.slice(i, i + 40));
    }, 60_000);
    afterAll(async () => {
      await store?.close();
    });

    it('gives every record once, oldest first, whatever the batch size', async () => {
      const expected = saved.map((r) => r.card);
      for (const batchSize of [1, 7, 50, 250, 1000, undefined]) {
        const got = await collect(store, batchSize === undefined ? {} : { batchSize });
        expect(got.map((r) => r.card)).toEqual(expected);
      }
      expect((await collect(store))[0]).toEqual(saved[0]);
    }, 60_000);

    it('filters by service and by receive time (from that instant on), together or alone', async () => {
      const since = new Date(day(20));
      const byService = (r: FeedbackRecord) => r.serviceId === 'alk-ros1-order-select';
      const bySince = (r: FeedbackRecord) => Date.parse(r.receivedAt) >= since.getTime();
      const cards = (rs: FeedbackRecord[]) => rs.map((r) => r.card);
      expect(cards(await collect(store, { serviceId: 'alk-ros1-order-select', batchSize: 9 }))).toEqual(
        cards(saved.filter(byService)),
      );
      expect(cards(await collect(store, { since, batchSize: 9 }))).toEqual(cards(saved.filter(bySince)));
      expect(cards(await collect(store, { since, serviceId: 'alk-ros1-order-select' }))).toEqual(
        cards(saved.filter((r) => byService(r) && bySince(r))),
      );
      expect(await collect(store, { serviceId: 'no-such-service' })).toEqual([]);
      expect(await collect(store, { since: new Date('2030-01-01T00:00:00Z') })).toEqual([]);
    });

    it('stops at the records that existed when it began; writes go through between pages', async () => {
      const scan = store.scan({ batchSize: 10 })[Symbol.asyncIterator]();
      const first = await scan.next();
      expect(first.done).toBe(false);
      // The scan holds nothing between pages: a save completes while it is under way.
      const late = record({ card: 'card-late' });
      expect(await store.save([late])).toEqual({ inserted: 1, duplicates: 0 });
      const rest: string[] = [];
      for (let n = await scan.next(); !n.done; n = await scan.next()) rest.push(n.value.card);
      expect(rest).toHaveLength(saved.length - 1);
      expect(rest).not.toContain('card-late');
      expect((await collect(store)).at(-1)?.card).toBe('card-late');
    });

    it('an invalid `since` is a FeedbackStoreError, not a query', async () => {
      await expect(collect(store, { since: new Date('nope') })).rejects.toBeInstanceOf(FeedbackStoreError);
    });
  });
}

let db: PGlite | undefined;
let server: PGLiteSocketServer | undefined;
beforeAll(async () => {
  db = new PGlite(await freshDataDir());
  await db.waitReady;
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await db?.close();
  removeTempDirs();
});

scanBehaviour('PGlite store', async () => openFeedbackStore({ dataDir: await freshDataDir() }));
scanBehaviour('PostgreSQL store (over pglite-socket)', () =>
  openFeedbackStore({
    databaseUrl: `postgres://postgres:postgres@${server?.getServerConn()}/postgres?sslmode=disable`,
    poolMax: 1,
  }),
);

describe('scan failures and existing stores', () => {
  it('a closed store fails the scan with a FeedbackStoreError', async () => {
    const store = await openFeedbackStore({ dataDir: 'memory://' });
    await store.save([record()]);
    await store.close();
    const err = await collect(store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FeedbackStoreError);
    expect((err as Error).message).toMatch(/^feedback store: scan/);
  }, 30_000);

  it('PostgreSQL gone mid-scan: the iteration throws a FeedbackStoreError', async () => {
    const local = new PGLiteSocketServer({ db: db as PGlite, host: '127.0.0.1', port: 0 });
    await local.start();
    const store = await openFeedbackStore({
      databaseUrl: `postgres://postgres@${local.getServerConn()}/postgres`,
      poolMax: 1,
    });
    try {
      await store.save(Array.from({ length: 5 }, () => record()));
      const scan = store.scan({ batchSize: 1 })[Symbol.asyncIterator]();
      expect((await scan.next()).done).toBe(false);
      await local.stop();
      const err = await scan.next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedbackStoreError);
    } finally {
      await local.stop().catch(() => undefined);
      await store.close();
    }
  }, 30_000);

  it('a store made before the scan index gains it on open, with its records intact', async () => {
    const dir = await freshDataDir();
    const before = await openFeedbackStore({ dataDir: dir });
    const r = record();
    await before.save([r]);
    await before.close();
    const raw = new PGlite(dir);
    await raw.exec('DROP INDEX cds_feedback_received_at_idx');
    await raw.close();

    const after = await openFeedbackStore({ dataDir: dir });
    try {
      expect(await collect(after)).toEqual([r]);
    } finally {
      await after.close();
    }
    const check = new PGlite(dir);
    const idx = await check.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'cds_feedback' ORDER BY indexname",
    );
    await check.close();
    expect(idx.rows.map((x) => x.indexname)).toContain('cds_feedback_received_at_idx');
  }, 60_000);
});
