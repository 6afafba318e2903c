/**
 * Remembers which order findings were shown at order-select, so order-sign does not repeat them for
 * the same draft. In memory with a TTL: a restart only means a card may be shown once more.
 */
export class ShownCards {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 2 * 60 * 60 * 1000,
    private readonly maxEntries = 50_000,
  ) {}

  private evict(now: number) {
    for (const [k, exp] of this.seen) {
      if (exp > now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(k);
    }
  }

  remember(keys: readonly string[], now = Date.now()) {
    for (const k of keys) {
      this.seen.delete(k);
      this.seen.set(k, now + this.ttlMs);
    }
    this.evict(now);
  }

  has(key: string, now = Date.now()): boolean {
    const exp = this.seen.get(key);
    return exp !== undefined && exp > now;
  }
}
