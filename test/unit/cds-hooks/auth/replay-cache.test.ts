import { describe, expect, it } from 'vitest';
import { ReplayCache, ReplayStoreFull } from '../../../../cds-hooks/auth/replay-cache.ts';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('ReplayCache', () => {
  it('remembers a key until its expiry, then forgets it', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now });
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(true);
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(false);
    expect(cache.has('a')).toBe(true);
    c.t += 1000;
    // Through the expiry instant itself (erring on the side of refusing).
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(false);
    c.t += 1;
    expect(cache.has('a')).toBe(false);
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(true);
  });

  it('does not store keys that are already expired', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now });
    expect(cache.checkAndAdd('old', c.t - 1)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('when full, drops expired entries to make room, never live ones', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 3 });
    cache.checkAndAdd('long', c.t + 10_000);
    cache.checkAndAdd('short1', c.t + 10);
    cache.checkAndAdd('short2', c.t + 10);
    c.t += 11;
    expect(cache.checkAndAdd('new', c.t + 10_000)).toBe(true);
    expect(cache.has('long')).toBe(true);
    expect(cache.has('new')).toBe(true);
  });

  it('full of live entries: refuses to record a new token (the request is refused), and still refuses every replay', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 100 });
    for (let i = 0; i < 100; i++) expect(cache.checkAndAdd(`k${i}`, c.t + 60_000)).toBe(true);
    expect(() => cache.checkAndAdd('k100', c.t + 60_000)).toThrow(ReplayStoreFull);
    // No live entry was pushed out to make room: the oldest token is still a replay.
    for (const k of ['k0', 'k50', 'k99']) expect(cache.checkAndAdd(k, c.t + 60_000)).toBe(false);
    // Once lifetimes end there is room again.
    c.t += 60_001;
    expect(cache.checkAndAdd('k100', c.t + 60_000)).toBe(true);
  });

  it('rejects a bad cap', () => {
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});
