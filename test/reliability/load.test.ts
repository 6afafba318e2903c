/**
 * Load (issue 6), bounded for `npm test`: the service in a child process takes a fixed number of mixed
 * requests (the `npm run soak` mix: three hooks with prefetch, one without, feedback posts) with no
 * error and no non-2xx answer, and its memory stays flat after warm-up. `npm run soak` is the long run.
 */
import { describe, expect, it } from 'vitest';
import { formatSoak, runSoak, type SoakOptions } from '../../bench/soak-run.ts';

const REQUESTS = 2_000;
/** Generous for a short run: the long soak holds itself to 1.25. */
const FLAT_BOUND = 1.5;

describe('load: mixed hooks and feedback', () => {
  it(`${REQUESTS} requests → 0 errors, 0 non-2xx, RSS end/start < ${FLAT_BOUND}`, async () => {
    const opts: SoakOptions = { requests: REQUESTS, warmup: 500, connections: 8 };
    const r = await runSoak(opts);
    console.log(
      formatSoak(r, opts, FLAT_BOUND)
        .map((l) => `[load] ${l}`)
        .join('\n'),
    );
    expect(r.requests).toBe(REQUESTS);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.non2xx).toBe(0);
    expect(r.rssRatio).toBeLessThan(FLAT_BOUND);
  }, 120_000);
});
