/**
 * The in-process store of seen CDS client JWTs (`iss` + `jti`), on lru-cache's TTL entries.
 *
 * Contract (cds-contract.md, JWT replay): a `jti` is refused for as long as its token could still be
 * accepted (its `exp` plus the clock-skew tolerance), at any request rate; when the store cannot
 * record one, the request is refused with 503, never accepted unchecked. So a full store never evicts
 * a live entry (that would reopen a replay window): it first drops expired entries, and if still
 * full it throws `ReplayStoreFull`, which the verifier turns into 503.
 *
 * Per process: several replicas must share one `ReplayStore` that records a key atomically across
 * all of them (cds-hooks/shared-state/, PostgreSQL when `DATABASE_URL` is set), otherwise a token
 * can be replayed once on each.
 */
import { LRUCache } from 'lru-cache';

/** Pluggable replay store (in-memory by default; shared store for multi-instance deployments). */
export interface ReplayStore {
  /**
   * Atomically record `key` until `expiresAtMs` (epoch ms). Returns `true` when the key was not
   * present (first use), `false` when it is already present and not yet expired (replay). Throws
   * when it cannot record the key (full, or unreachable): the request must then be refused.
   */
  checkAndAdd(key: string, expiresAtMs: number): boolean | Promise<boolean>;
}

export interface ReplayCacheOptions {
  /** Maximum number of live entries; past it new tokens are refused. Default 100 000. */
  maxEntries?: number;
  /** Current time in epoch ms (tests). Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_REPLAY_CACHE_MAX_ENTRIES = 100_000;

/** The store is full of live entries: the token cannot be recorded, so it is not accepted. */
export class ReplayStoreFull extends Error {
  constructor(max: number) {
    super(`replay store full (${max} live entries)`);
    this.name = 'ReplayStoreFull';
  }
}

/** A full store drops expired entries at most this often (a purge walks every entry). */
const PURGE_INTERVAL_MS = 1000;

export class ReplayCache implements ReplayStore {
  readonly #seen: LRUCache<string, true>;
  readonly #max: number;
  readonly #now: () => number;
  #lastPurge = Number.NEGATIVE_INFINITY;

  constructor(opts: ReplayCacheOptions = {}) {
    const max = opts.maxEntries ?? DEFAULT_REPLAY_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1)
      throw new Error('ReplayCache: maxEntries must be a positive integer');
    this.#max = max;
    this.#now = opts.now ?? Date.now;
    // ttlResolution 0: staleness is read from the clock on every call, never from a cached time.
    this.#seen = new LRUCache<string, true>({ max, ttlResolution: 0, perf: { now: this.#now } });
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#seen.size;
  }

  /** True when `key` is present and not expired. */
  has(key: string): boolean {
    return this.#seen.has(key);
  }

  checkAndAdd(key: string, expiresAtMs: number): boolean {
    if (this.#seen.has(key)) return false;
    const ttl = expiresAtMs - this.#now();
    if (!(ttl > 0)) return true; // already expired: nothing to remember
    if (this.#seen.size >= this.#max) {
      const now = this.#now();
      if (now - this.#lastPurge >= PURGE_INTERVAL_MS) {
        this.#lastPurge = now;
        this.#seen.purgeStale();
      }
      if (this.#seen.size >= this.#max) throw new ReplayStoreFull(this.#max);
    }
    this.#seen.set(key, true, { ttl });
    return true;
  }
}
