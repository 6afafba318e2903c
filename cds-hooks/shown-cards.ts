/**
 * Remembers which order findings were shown at order-select, so order-sign does not repeat them for
 * the same draft. Forgetting only means a card may be shown once more; remembering wrongly would hide
 * a warning, so a key names the patient, the draft, the finding and what it interacts with.
 *
 * Two stores behind one interface: in process (lru-cache with a TTL, for a single instance) and in
 * PostgreSQL when `DATABASE_URL` is set (shared-state/postgres-shared-state.ts), so order-sign on one
 * replica knows what order-select showed on another.
 */
import { LRUCache } from 'lru-cache';

export interface ShownCardsStore {
  /** Records `keys` as shown now. Throws when the store cannot record them. */
  remember(keys: readonly string[]): Promise<void>;
  /** The keys among `keys` that were shown and have not expired. Throws when the store cannot answer. */
  shownAmong(keys: readonly string[]): Promise<Set<string>>;
}

/** How long order-select's cards are remembered: an order is signed within minutes, rarely hours. */
export const SHOWN_CARDS_TTL_MS = 2 * 60 * 60 * 1000;

export class ShownCards implements ShownCardsStore {
  private readonly seen: LRUCache<string, true>;

  constructor(ttlMs = SHOWN_CARDS_TTL_MS, maxEntries = 50_000, now: () => number = Date.now) {
    this.seen = new LRUCache<string, true>({ max: maxEntries, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  async remember(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.seen.set(k, true);
  }

  async shownAmong(keys: readonly string[]): Promise<Set<string>> {
    return new Set(keys.filter((k) => this.seen.has(k)));
  }
}
