/**
 * Bounded in-memory TTL set used to reject replayed CDS client JWTs (`iss` + `jti`).
 *
 * CDS Hooks best practice: remember each `jti` for the lifetime of its token (at most an hour) and
 * reject a second use. Entries live until the token's `exp` plus the clock-skew tolerance.
 *
 * LIMITATIONS — read before scaling out:
 * - This store is per process. A deployment with more than one instance (or a cluster of workers)
 *   MUST plug in a shared store (e.g. Redis `SET key 1 NX PX ttl`, or a Postgres unique index with a
 *   TTL sweep) through the {@link ReplayStore} interface, otherwise a token can be replayed once
 *   against every instance.
 * - When the cap is reached the oldest entries are evicted, which re-opens a replay window for those
 *   tokens. Only tokens that already passed signature verification from a trusted issuer are ever
 *   inserted, so filling the cap needs a trusted client to mint ~`maxEntries` tokens within one token
 *   lifetime; size the cap above the expected peak volume.
 */

/** Pluggable replay store (in-memory by default; shared store for multi-instance deployments). */
export interface ReplayStore {
  /**
   * Atomically record `key` until `expiresAtMs` (epoch ms). Returns `true` when the key was not
   * present (first use), `false` when it is already present and not yet expired (replay).
   */
  checkAndAdd(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

export interface ReplayCacheOptions {
  /** Maximum number of remembered entries; the oldest are evicted beyond it. Default 100 000. */
  maxEntries?: number;
  /** Current time in epoch ms (tests). Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

interface QueueRecord {
  key: string;
  exp: number;
}

export class ReplayCache implements ReplayStore {
  /** key → expiry (epoch ms): the authoritative set. */
  readonly #entries = new Map<string, number>();
  /**
   * Insertion-order queue (array + head index). A `Map` would also iterate in insertion order, but V8
   * keeps deleted slots until a rehash, so repeatedly taking "the first entry" after FIFO deletions is
   * O(deleted) — quadratic under load. Records whose key was since removed or re-added are stale and
   * skipped (a record is live iff `#entries.get(key) === exp`).
   */
  #queue: QueueRecord[] = [];
  #head = 0;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Lower bound of the earliest expiry among stored entries (may be stale-low after evictions). */
  #minExpiry = Number.POSITIVE_INFINITY;
  /** Inserts since the last full sweep (a sweep costs O(size), so it is allowed every size/8 inserts). */
  #insertsSinceSweep = 0;

  constructor(opts: ReplayCacheOptions = {}) {
    const max = opts.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1)
      throw new Error('ReplayCache: maxEntries must be a positive integer');
    this.#maxEntries = max;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** True when `key` is present and not expired. */
  has(key: string): boolean {
    const exp = this.#entries.get(key);
    return exp !== undefined && exp > this.#now();
  }

  checkAndAdd(key: string, expiresAtMs: number): boolean {
    const now = this.#now();
    const existing = this.#entries.get(key);
    if (existing !== undefined && existing > now) return false;
    if (existing !== undefined) this.#entries.delete(key);
    if (!(expiresAtMs > now)) return true; // already expired: nothing to remember

    this.#evictFromHead(now, false);
    if (this.#entries.size >= this.#maxEntries) {
      // Prefer dropping expired out-of-order stragglers over live entries. A full O(n) sweep runs only
      // when something can have expired and at most once per maxEntries/8 inserts, so a flood at the cap
      // stays O(1) amortised per insert.
      if (now >= this.#minExpiry && this.#insertsSinceSweep >= this.#maxEntries / 8) this.#sweepExpired(now);
      if (this.#entries.size >= this.#maxEntries) this.#evictFromHead(now, true);
    }
    this.#entries.set(key, expiresAtMs);
    this.#queue.push({ key, exp: expiresAtMs });
    this.#insertsSinceSweep++;
    if (expiresAtMs < this.#minExpiry) this.#minExpiry = expiresAtMs;
    this.#compact();
    return true;
  }

  /**
   * Pop records from the oldest end: stale records always; live ones when expired, or — with `overCap` —
   * until there is room for one more entry. Entries are inserted in roughly expiry order (lifetimes are
   * bounded), so this reclaims almost everything in amortised O(1); out-of-order stragglers are handled
   * by {@link ReplayCache.#sweepExpired}, and lookups ignore expired entries anyway.
   */
  #evictFromHead(now: number, overCap: boolean): void {
    while (this.#head < this.#queue.length) {
      const rec = this.#queue[this.#head];
      if (rec === undefined) break;
      const live = this.#entries.get(rec.key) === rec.exp;
      if (live) {
        const mustEvict = rec.exp <= now || (overCap && this.#entries.size >= this.#maxEntries);
        if (!mustEvict) return;
        this.#entries.delete(rec.key);
      }
      this.#head++;
    }
  }

  #sweepExpired(now: number): void {
    let min = Number.POSITIVE_INFINITY;
    for (const [key, exp] of this.#entries) {
      if (exp <= now) this.#entries.delete(key);
      else if (exp < min) min = exp;
    }
    this.#minExpiry = min;
    this.#insertsSinceSweep = 0;
  }

  /** Drop consumed and stale queue records so the queue stays O(maxEntries). */
  #compact(): void {
    const pending = this.#queue.length - this.#head;
    if (this.#head > 1024 && this.#head > pending) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#queue.length - this.#head > 2 * this.#maxEntries + 1024) {
      this.#queue = this.#queue.slice(this.#head).filter((r) => this.#entries.get(r.key) === r.exp);
      this.#head = 0;
    }
  }
}
