/**
 * State that every replica of the service must see the same: the JWT replay set (`iss` + `jti`;
 * a token is refused for as long as it could be accepted, on every replica: README, Security) and the
 * memory of cards shown at order-select.
 *
 * - No `DATABASE_URL`: in process (one instance; a second replica would accept a replayed token).
 * - `DATABASE_URL`: in PostgreSQL, beside the feedback tables, so any number of replicas behind a
 *   load balancer refuse a token replayed to another one and do not repeat another one's cards.
 */
import { ReplayCache, type ReplayStore } from '../auth/replay-cache.ts';
import { ShownCards, type ShownCardsStore } from '../shown-cards.ts';

export interface SharedState {
  readonly kind: 'in-process' | 'postgres';
  readonly replay: ReplayStore;
  readonly shownCards: ShownCardsStore;
  /** Never throws. */
  health(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SharedStateOptions {
  databaseUrl?: string;
  /** PostgreSQL pool size, default 5. */
  poolMax?: number;
}

export function inProcessSharedState(): SharedState {
  return {
    kind: 'in-process',
    replay: new ReplayCache(),
    shownCards: new ShownCards(),
    health: async () => true,
    close: async () => undefined,
  };
}

export async function openSharedState(opts: SharedStateOptions = {}): Promise<SharedState> {
  if (!opts.databaseUrl) return inProcessSharedState();
  const { openPostgresSharedState } = await import('./postgres-shared-state.ts');
  return openPostgresSharedState({
    databaseUrl: opts.databaseUrl,
    ...(opts.poolMax === undefined ? {} : { poolMax: opts.poolMax }),
  });
}
