import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dedupeKey, FeedbackStoreError, openFeedbackStore } from '../../../../cds-hooks/feedback/index.ts';
import { SCHEMA_STATEMENTS } from '../../../../cds-hooks/feedback/schema.sql.ts';
import { storeError } from '../../../../cds-hooks/feedback/store.ts';
import { freshDataDir, record, removeTempDirs, SERVICE, tempDir } from './helpers.ts';

const SLOW = 60_000;

afterAll(() => {
  removeTempDirs();
});

describe('dedupe key and helpers (no database)', () => {
  it('ignores suggestion order, receivedAt and display', () => {
    const a = record({ acceptedSuggestions: ['b', 'a'] });
    const b = {
      ...a,
      acceptedSuggestions: ['a', 'b'],
      receivedAt: new Date(0).toISOString(),
    };
    expect(dedupeKey(a)).toBe(dedupeKey(b));
    expect(dedupeKey(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('distinguishes outcome, timestamp, override reason and the issuer', () => {
    const base = record({ outcome: 'overridden', acceptedSuggestions: [] });
    const keys = new Set(
      [
        base,
        { ...base, outcomeTimestamp: '2026-11-21T10:16:00Z' },
        { ...base, overrideReason: { code: 'a' } },
        { ...base, overrideReason: { code: 'b' } },
        { ...base, overrideReason: { userComment: 'x' } },
        { ...base, card: randomUUID() },
        { ...base, serviceId: 'other' },
        { ...base, clientIss: 'https://other.example' },
      ].map(dedupeKey),
    );
    expect(keys.size).toBe(8);
  });

  it('storeError keeps the code and drops the driver message', () => {
    const err = storeError(
      'save',
      Object.assign(new Error('Failing row contains (card-123, secret comment)'), { code: '23514' }),
    );
    expect(err).toBeInstanceOf(FeedbackStoreError);
    expect(err.message).toBe('feedback store: save failed (23514)');
    expect(err.code).toBe('23514');
    expect(storeError('save', { code: 'Failing row contains x' }).message).toBe(
      'feedback store: save failed',
    );
  });

  it('schema DDL is idempotent by construction', () => {
    for (const stmt of SCHEMA_STATEMENTS) expect(stmt).toMatch(/IF NOT EXISTS|ON CONFLICT/);
  });
});

describe('PGlite feedback store', () => {
  it(
    'saves and lists a record (suggestions sorted, receivedAt ISO)',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        expect(store.kind).toBe('pglite');
        const r = record({ acceptedSuggestions: ['s-2', 's-1'], receivedAt: '2026-11-21T10:15:01.123Z' });
        expect(await store.save([r])).toEqual({ inserted: 1, duplicates: 0 });
        const [got, ...rest] = await store.list();
        expect(rest).toHaveLength(0);
        expect(got).toEqual({ ...r, acceptedSuggestions: ['s-1', 's-2'] });
        expect(got?.overrideReason).toBeUndefined();
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'lists the most recent records newest first when asked, the oldest first by default',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const cards = ['c-1', 'c-2', 'c-3'];
        for (const card of cards) await store.save([record({ card })]);
        expect((await store.list({ limit: 2 })).map((r) => r.card)).toEqual(['c-1', 'c-2']);
        expect((await store.list({ limit: 2, newestFirst: true })).map((r) => r.card)).toEqual([
          'c-3',
          'c-2',
        ]);
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'is idempotent: the same feedback twice is one row and one duplicate',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const r = record();
        expect(await store.save([r])).toEqual({ inserted: 1, duplicates: 0 });
        // Resent later, with suggestions in another order: still the same feedback.
        const again = { ...r, receivedAt: new Date(Date.now() + 5000).toISOString() };
        expect(await store.save([again])).toEqual({ inserted: 0, duplicates: 1 });
        expect(await store.count()).toBe(1);
        // Repeats inside one batch, next to a new one.
        const other = record({ outcome: 'overridden', acceptedSuggestions: [] });
        expect(await store.save([other, other, r])).toEqual({ inserted: 1, duplicates: 2 });
        expect(await store.count()).toBe(2);
        expect(await store.save([])).toEqual({ inserted: 0, duplicates: 0 });
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'stores an override reason carrying only a user comment, and a full one',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const onlyComment = record({
          outcome: 'overridden',
          acceptedSuggestions: [],
          overrideReason: { userComment: 'Patient already on lorlatinib per oncology' },
        });
        const full = record({
          outcome: 'overridden',
          acceptedSuggestions: [],
          overrideReason: {
            system: 'http://example.org/cds/override-reason',
            code: 'already-addressed',
            display: 'Already addressed',
          },
        });
        expect(await store.save([onlyComment, full])).toEqual({ inserted: 2, duplicates: 0 });
        const got = await store.list({ card: onlyComment.card });
        expect(got).toHaveLength(1);
        expect(got[0]?.overrideReason).toEqual({ userComment: 'Patient already on lorlatinib per oncology' });
        expect(got[0]?.acceptedSuggestions).toEqual([]);
        expect((await store.list({ card: full.card }))[0]?.overrideReason).toEqual(full.overrideReason);
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'filters list by service and card, honours limit, returns oldest first',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const card = randomUUID();
        const a1 = record({ card, outcomeTimestamp: '2026-11-21T10:00:00Z' });
        const a2 = record({ card, outcomeTimestamp: '2026-11-21T11:00:00Z' });
        const b = record({ serviceId: 'ros1-therapy-select' });
        const c = record();
        await store.save([a1]);
        await store.save([a2, b, c]);
        expect(await store.list()).toHaveLength(4);
        expect((await store.list({ card })).map((r) => r.outcomeTimestamp)).toEqual([
          '2026-11-21T10:00:00Z',
          '2026-11-21T11:00:00Z',
        ]);
        expect((await store.list({ serviceId: 'ros1-therapy-select' })).map((r) => r.card)).toEqual([b.card]);
        expect(await store.list({ serviceId: SERVICE })).toHaveLength(3);
        expect(await store.list({ serviceId: 'ros1-therapy-select', card })).toEqual([]);
        expect((await store.list({ limit: 2 })).map((r) => r.card)).toEqual([card, card]);
        expect(await store.list({ limit: 0 })).toHaveLength(1); // clamped to at least one
        // Values are bound, never spliced into SQL.
        expect(await store.list({ card: "x' OR '1'='1" })).toEqual([]);
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'keeps data across close and reopen (schema creation is idempotent)',
    async () => {
      const dataDir = await freshDataDir();
      const first = await openFeedbackStore({ dataDir });
      const r = record();
      await first.save([r]);
      await first.close();
      await expect(first.save([record()])).rejects.toThrow(FeedbackStoreError);
      expect(await first.health()).toBe(false);

      const second = await openFeedbackStore({ dataDir });
      try {
        expect(await second.health()).toBe(true);
        expect(await second.list()).toEqual([r]);
        expect(await second.save([r])).toEqual({ inserted: 0, duplicates: 1 });
      } finally {
        await second.close();
      }
    },
    SLOW,
  );

  it(
    'serialises 100 concurrent saves',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const unique = Array.from({ length: 80 }, () => record());
        // 20 of the 100 calls resend one of the first 20 records.
        const calls = [...unique, ...unique.slice(0, 20)].map((r) => store.save([r]));
        const results = await Promise.all([...calls, store.health(), store.count()]);
        const saves = results.slice(0, 100) as { inserted: number; duplicates: number }[];
        expect(saves.reduce((n, s) => n + s.inserted, 0)).toBe(80);
        expect(saves.reduce((n, s) => n + s.duplicates, 0)).toBe(20);
        expect(await store.count()).toBe(80);
        expect(new Set((await store.list({ limit: 1000 })).map((r) => r.card)).size).toBe(80);
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'rejects invalid records without echoing their contents',
    async () => {
      const store = await openFeedbackStore({ dataDir: await freshDataDir() });
      try {
        const bad = record({ card: 'secret-card-id', outcome: 'maybe' as 'accepted' });
        const err = await store.save([bad]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(FeedbackStoreError);
        expect((err as Error).message).not.toContain('secret-card-id');
        expect(await store.count()).toBe(0);
      } finally {
        await store.close();
      }
    },
    SLOW,
  );

  it(
    'fails to open a data directory that cannot be created, without throwing raw errors',
    async () => {
      const file = join(tempDir(), 'a-file');
      writeFileSync(file, 'not a directory');
      const err = await openFeedbackStore({ dataDir: join(file, 'db') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FeedbackStoreError);
      expect((err as Error).message).toMatch(/^feedback store: open \(pglite\) failed/);
    },
    SLOW,
  );
});
