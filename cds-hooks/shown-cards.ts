/**
 * Remembers which order findings were shown at order-select, so order-sign does not repeat them for
 * the same draft. In memory with a TTL (lru-cache): a restart, or an entry pushed out past the cap,
 * only means a card may be shown once more.
 */
import { LRUCache } from 'lru-cache';

export class ShownCards {
  private readonly seen: LRUCache<string, true>;

  constructor(ttlMs = 2 * 60 * 60 * 1000, maxEntries = 50_000, now: () => number = Date.now) {
    this.seen = new LRUCache<string, true>({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  remember(keys: readonly string[]) {
    for (const k of keys) this.seen.set(k, true);
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }
}
