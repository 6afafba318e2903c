/**
 * Feedback over real HTTP with JWTs, stored in PostgreSQL (PGlite behind its wire-protocol server):
 * text PostgreSQL cannot store is refused with a 400 naming the item and nothing of the batch is
 * stored; the same feedback from two CDS clients is two records; a store outage answers 503 with
 * Retry-After, and the batch sent again once the store is back is stored once.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { EPIC_ISS, SANDBOX_ISS } from '../../fixtures/cds-jwt/tokens.ts';
import { type JwtService, startJwtService } from './jwt-service.ts';

let db: PGlite;
let socket: PGLiteSocketServer;
let port = 0;
let feedback: FeedbackStore;
let service: JwtService;

const startSocket = async (at: number) => {
  const s = new PGLiteSocketServer({ db, host: '127.0.0.1', port: at, maxConnections: 4 });
  await s.start();
  return s;
};

beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
  socket = await startSocket(0);
  port = Number(socket.getServerConn().split(':').pop());
  feedback = await openFeedbackStore({
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    poolMax: 1,
  });
  service = await startJwtService({ feedback });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await feedback?.close();
  await socket?.stop();
  await db?.close();
});

const PATH = '/cds-services/alk-ros1-order-select/feedback';
const item = (over: Record<string, unknown> = {}) => ({
  card: crypto.randomUUID(),
  outcome: 'overridden',
  overrideReason: {
    reason: { system: 'urn:alk-ros1-cds:override-reason', code: 'clinical-judgement' },
    userComment: 'benefit outweighs the risk',
  },
  outcomeTimestamp: '2026-12-05T10:15:00Z',
  ...over,
});

describe('feedback text PostgreSQL cannot store', () => {
  it.each([
    [
      'a NUL in a comment',
      1,
      { overrideReason: { userComment: 'before\u0000after' } },
      'feedback.1.overrideReason.userComment',
    ],
    ['a lone surrogate in a card id', 0, { card: 'card-\ud800' }, 'feedback.0.card'],
    [
      'a NUL in a reason code',
      2,
      { overrideReason: { reason: { system: 'urn:x', code: 'a\u0000' } } },
      'feedback.2.overrideReason.reason.code',
    ],
  ])('%s: 400 naming the item, and nothing of the batch stored', async (_what, at, bad, path) => {
    const kept = await service.call('sandbox', PATH, { feedback: [item()] });
    expect(kept.status).toBe(200);
    const before = await feedback.count();
    const batch = [item(), item(), item()];
    batch[at] = item(bad);
    const res = await service.call('sandbox', PATH, { feedback: batch });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain(path);
    expect(await feedback.count()).toBe(before);
  });
});

describe('feedback from two CDS clients', () => {
  it('is stored once for each client, each row naming its own issuer', async () => {
    const same = item();
    const first = await service.call('epic', PATH, { feedback: [same] });
    const second = await service.call('sandbox', PATH, { feedback: [same] });
    const again = await service.call('sandbox', PATH, { feedback: [same] });
    expect([first.status, second.status, again.status]).toEqual([200, 200, 200]);
    const rows = (await feedback.list({ card: same.card })).map((r) => r.clientIss).sort();
    expect(rows).toEqual([EPIC_ISS, SANDBOX_ISS].sort());
  });
});

describe('a store outage', () => {
  it('answers 503 with Retry-After; the batch resent after recovery is stored exactly once', async () => {
    const batch = [item(), item()];
    const before = await feedback.count();
    await socket.stop();
    const down = await service.call('sandbox', PATH, { feedback: batch });
    expect(down.status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(down.body.issue[0].code).toBe('transient');
    expect(JSON.stringify(down.body)).not.toMatch(/ECONN|stack|at /);

    socket = await startSocket(port);
    let up = await service.call('sandbox', PATH, { feedback: batch });
    // The pool may first hand out the connection the outage broke; a client retries on 503.
    for (let i = 0; up.status === 503 && i < 5; i++)
      up = await service.call('sandbox', PATH, { feedback: batch });
    expect(up.status).toBe(200);
    const resent = await service.call('sandbox', PATH, { feedback: batch });
    expect(resent.status).toBe(200);
    expect(await feedback.count()).toBe(before + 2);
  }, 30_000);
});
