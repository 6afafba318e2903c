/**
 * The cards of one hook call, with its state: calling, failed (the server's words), no cards, or
 * the cards. Never an empty pane.
 */
import type { HookRun } from '../cds-client.ts';
import type { CardOutcome } from '../hooks.ts';
import { type CardHandlers, CardView } from './CardView.tsx';

export interface CallState {
  run?: HookRun;
  loading: boolean;
  error?: string;
}

export const cardKeyOf = (run: HookRun, index: number): string =>
  run.cards[index]?.uuid ?? `${run.hookInstance}#${index}`;

export function HookStatus({
  serviceId,
  state,
  onRetry,
}: {
  serviceId: string;
  state: CallState;
  onRetry?: () => void;
}) {
  if (state.loading) {
    return (
      <p className="hook-status" role="status" data-testid="hook-loading">
        <span className="spinner" aria-hidden="true" /> Calling {serviceId}…
      </p>
    );
  }
  if (state.error) {
    return (
      <div className="hook-error" role="alert" data-testid="hook-error">
        <p>
          <strong>{serviceId} failed.</strong> {state.error}
        </p>
        {onRetry && (
          <button type="button" className="button button-secondary" onClick={onRetry}>
            Try again
          </button>
        )}
      </div>
    );
  }
  return null;
}

export function CardList({
  state,
  outcomes,
  mustDecide,
  busy,
  handlers,
  emptyText,
}: {
  state: CallState;
  outcomes: Readonly<Record<string, CardOutcome>>;
  /** Keys of the cards signing waits on. */
  mustDecide?: ReadonlySet<string>;
  busy: boolean;
  handlers: CardHandlers;
  emptyText: string;
}) {
  const run = state.run;
  if (!run) return null;
  return (
    <div className="card-list">
      {run.cards.length === 0 && <p className="muted">{emptyText}</p>}
      {run.malformed > 0 && (
        <p className="card-problem" role="note">
          {run.malformed} card(s) could not be shown: no summary, indicator or source.
        </p>
      )}
      {run.cards.map((card, i) => {
        const key = cardKeyOf(run, i);
        return (
          <CardView
            key={key}
            card={card}
            cardKey={key}
            outcome={outcomes[key]}
            mustDecide={mustDecide?.has(key) === true}
            busy={busy}
            handlers={handlers}
          />
        );
      })}
    </div>
  );
}
