import { describe, expect, it } from 'vitest';
import { ReplayCache } from '../../../../cds-hooks/auth/replay-cache.ts';

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
    expect(cache.has('a')).toBe(false);
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(true);
  });

  it('does not store keys that are already expired', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now });
    expect(cache.checkAndAdd('old', c.t - 1)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('evicts expired entries on insert', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now });
    for (let i = 0; i < 50; i++) cache.checkAndAdd(`k${i}`, c.t + 100);
    expect(cache.size).toBe(50);
    c.t += 101;
    cache.checkAndAdd('fresh', c.t + 100);
    expect(cache.size).toBe(1);
  });

  it('sweeps out-of-order expired entries when full before evicting live ones', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 3 });
    cache.checkAndAdd('long', c.t + 10_000);
    cache.checkAndAdd('short1', c.t + 10);
    cache.checkAndAdd('short2', c.t + 10);
    c.t += 11;
    cache.checkAndAdd('new', c.t + 10_000);
    expect(cache.has('long')).toBe(true);
    expect(cache.has('new')).toBe(true);
    expect(cache.size).toBe(2);
  });

  it('is bounded: the oldest live entries are evicted beyond the cap', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 100 });
    for (let i = 0; i < 250; i++) expect(cache.checkAndAdd(`k${i}`, c.t + 60_000)).toBe(true);
    expect(cache.size).toBe(100);
    expect(cache.has('k0')).toBe(false);
    expect(cache.has('k149')).toBe(false);
    expect(cache.has('k150')).toBe(true);
    expect(cache.has('k249')).toBe(true);
  });

  it('stays O(1) amortised per insert at the cap (no full sweep per insert)', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 20_000 });
    const started = performance.now();
    for (let i = 0; i < 60_000; i++) {
      c.t += 1;
      // mixed lifetimes so expiry order differs from insertion order
      cache.checkAndAdd(`jti-${i}`, c.t + (i % 2 === 0 ? 3_600_000 : 30_000));
    }
    expect(cache.size).toBeLessThanOrEqual(20_000);
    expect(cache.has('jti-59999')).toBe(true);
    // quadratic behaviour (a sweep per insert) would take many seconds here
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('rejects a bad cap', () => {
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe('ReplayCache — re-added keys', () => {
  it('a key re-added after expiry is tracked by its new expiry, not the stale record', () => {
    const c = clock();
    const cache = new ReplayCache({ now: c.now, maxEntries: 2 });
    cache.checkAndAdd('a', c.t + 10);
    c.t += 11;
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(true);
    cache.checkAndAdd('b', c.t + 1000);
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(true);
    expect(cache.checkAndAdd('a', c.t + 1000)).toBe(false);
    cache.checkAndAdd('c', c.t + 1000); // at cap: evicts the oldest live entry ('a'), not via its stale record
    expect(cache.has('a')).toBe(false);
    expect(cache.has('b')).toBe(true);
    expect(cache.has('c')).toBe(true);
    expect(cache.size).toBe(2);
  });
});
