/**
 * The `jti` replay rule over real HTTP (contract: a `jti` is refused for as long as its token could
 * be accepted; a store that cannot record one answers 503, never accepts unchecked): with a replay
 * store of two entries, two fresh tokens pass, a third gets 503 with Retry-After, and the first two
 * are still refused as replays (nothing was evicted to make room).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { type JwtService, startJwtService } from './jwt-service.ts';

let feedback: FeedbackStore;
let service: JwtService;

beforeAll(async () => {
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  service = await startJwtService({ feedback, replayMaxEntries: 2 });
});
afterAll(async () => {
  await service.close();
  await feedback.close();
});

const PATH = '/cds-services/alk-ros1-order-sign/feedback';
const feedbackBody = () => ({
  feedback: [
    {
      card: crypto.randomUUID(),
      outcome: 'overridden',
      overrideReason: { userComment: 'replay test' },
      outcomeTimestamp: '2026-12-05T10:00:00Z',
    },
  ],
});

describe('a replay store that is full', () => {
  it('answers 503 with Retry-After for a new token, and keeps refusing the replays it holds', async () => {
    const first = await service.call('sandbox', PATH, feedbackBody());
    const second = await service.call('epic', PATH, feedbackBody());
    expect([first.status, second.status]).toEqual([200, 200]);

    const third = await service.call('sandbox', PATH, feedbackBody());
    expect(third.status).toBe(503);
    expect(third.body.issue[0].code).toBe('transient');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);

    for (const replay of [first, second])
      expect((await service.call('sandbox', PATH, feedbackBody(), replay.token)).status).toBe(401);
    expect(await feedback.count()).toBe(2);
  });
});
