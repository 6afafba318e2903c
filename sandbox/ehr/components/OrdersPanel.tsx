/**
 * Orders: drugs to order grouped by kind, the draft list, Sign orders, the cards of order-select
 * (one group per selected draft) and of order-sign, and what has been signed.
 */
import { useId, useState } from 'react';
import { type CardOutcome, resourceLabel } from '../hooks.ts';
import type { Orderable, OrderableKind, Resource } from '../types.ts';
import { type CallState, CardList, HookStatus } from './CardList.tsx';
import type { CardHandlers } from './CardView.tsx';

export interface SelectGroup extends CallState {
  /** Selected draft ids joined with commas. */
  id: string;
  draftIds: string[];
  label: string;
  /** Its draft was replaced by one of its suggestions: kept to show the decision, no longer blocking. */
  retired?: boolean;
}

export interface OrderablesState {
  list?: Orderable[];
  loading: boolean;
  error?: string;
}

const KINDS: { kind: OrderableKind; label: string }[] = [
  { kind: 'tki', label: 'Tyrosine kinase inhibitors' },
  { kind: 'immunotherapy', label: 'Immunotherapy' },
  { kind: 'chemotherapy', label: 'Chemotherapy' },
  { kind: 'other', label: 'Other medications' },
];

/** What the display adds to the generic name (the brands), or the display when it does not name it. */
function brandOf(o: Orderable): string {
  const display = (o.display ?? '').trim();
  if (!display || display.toLowerCase() === o.name.toLowerCase()) return '';
  const i = display.toLowerCase().indexOf(o.name.toLowerCase());
  return i < 0 ? display : `${display.slice(0, i)}${display.slice(i + o.name.length)}`.trim();
}

export function OrdersPanel(props: {
  orderables: OrderablesState;
  drafts: readonly Resource[];
  signed: readonly Resource[];
  selectGroups: readonly SelectGroup[];
  sign: CallState;
  signNotice?: { text: string; tone: 'ok' | 'blocked' | 'info' };
  outcomes: Readonly<Record<string, CardOutcome>>;
  /** Keys of the cards signing waits on (the soft stop). */
  mustDecide?: ReadonlySet<string>;
  busy: boolean;
  handlers: CardHandlers;
  onOrder: (o: Orderable) => void;
  onRemove: (id: string) => void;
  onSign: () => void;
  onRetryOrderables: () => void;
  onRetrySelect: (group: SelectGroup) => void;
}) {
  const { orderables, drafts } = props;
  const id = useId();
  const [query, setQuery] = useState('');
  const list = orderables.list ?? [];
  const q = query.trim().toLowerCase();
  const shown = q
    ? list.filter((o) => o.name.toLowerCase().includes(q) || o.display?.toLowerCase().includes(q))
    : list;
  return (
    <div className="orders-layout">
      <section className="orders-catalogue" aria-labelledby="orderables-heading">
        <h2 id="orderables-heading">Order a medication</h2>
        {orderables.loading && <p role="status">Loading the order list…</p>}
        {orderables.error && (
          <div role="alert" className="hook-error">
            <p>The order list could not be loaded. {orderables.error}</p>
            <button type="button" className="button button-secondary" onClick={props.onRetryOrderables}>
              Try again
            </button>
          </div>
        )}
        {list.length > 0 && (
          <div className="field">
            <label htmlFor={`${id}-find`}>Find a medication</label>
            <input
              id={`${id}-find`}
              type="search"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              autoComplete="off"
            />
          </div>
        )}
        {list.length > 0 && shown.length === 0 && <p>No medication matches “{query}”.</p>}
        {KINDS.map(({ kind, label }) => {
          const items = shown.filter(
            (o) => (KINDS.some((k) => k.kind === o.kind) ? o.kind : 'other') === kind,
          );
          if (!items.length) return null;
          return (
            <div key={kind} className="orderable-group">
              <h3>{label}</h3>
              <ul className="orderable-list">
                {items.map((o) => (
                  <li key={o.name}>
                    <button
                      type="button"
                      className="button"
                      data-testid={`order-${o.name}`}
                      onClick={() => props.onOrder(o)}
                    >
                      Order {o.name}
                    </button>
                    {brandOf(o) && <span className="orderable-brand">{brandOf(o)}</span>}
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </section>

      <div className="orders-work">
        <section className="panel" aria-labelledby="drafts-heading">
          <h2 id="drafts-heading">Draft orders</h2>
          <ul className="draft-list" data-testid="draft-orders">
            {drafts.map((d) => {
              const name = resourceLabel(d);
              return (
                <li key={d.id} data-resource-id={d.id}>
                  <span className="draft-name">{name}</span>{' '}
                  <span className="muted">
                    {d.resourceType} · {String(d.status ?? 'draft')}
                  </span>{' '}
                  <button
                    type="button"
                    className="button button-small button-secondary"
                    onClick={() => props.onRemove(d.id as string)}
                    aria-label={`Remove ${name}`}
                  >
                    Remove
                  </button>
                </li>
              );
            })}
          </ul>
          {drafts.length === 0 && <p className="muted">No draft orders.</p>}
          <div className="button-row">
            <button
              type="button"
              className="button button-primary"
              onClick={props.onSign}
              disabled={drafts.length === 0 || props.sign.loading}
            >
              Sign orders
            </button>
          </div>
          {props.signNotice && (
            <p
              className={`sign-notice sign-${props.signNotice.tone}`}
              role={props.signNotice.tone === 'blocked' ? 'alert' : 'status'}
              data-testid="sign-notice"
            >
              {props.signNotice.text}
            </p>
          )}
        </section>

        {props.signed.length > 0 && (
          <section className="panel" aria-labelledby="signed-heading">
            <h2 id="signed-heading">Orders signed</h2>
            <ul data-testid="signed-orders">
              {props.signed.map((d) => (
                <li key={d.id}>
                  {resourceLabel(d)} <span className="muted">({d.resourceType}, signed)</span>
                </li>
              ))}
            </ul>
          </section>
        )}

        <section aria-labelledby="order-checks-heading" className="order-checks">
          <h2 id="order-checks-heading">Order checks</h2>
          {props.selectGroups.length === 0 && !props.sign.run && !props.sign.loading && !props.sign.error && (
            <p className="muted">
              Cards appear here when a drug is ordered (order-select) and at signing (order-sign).
            </p>
          )}
          {(props.sign.run || props.sign.loading || props.sign.error) && (
            <div className="card-group" data-testid="order-sign-cards">
              <h3>At signing (order-sign)</h3>
              <HookStatus serviceId="alk-ros1-order-sign" state={props.sign} onRetry={props.onSign} />
              <CardList
                state={props.sign}
                outcomes={props.outcomes}
                {...(props.mustDecide ? { mustDecide: props.mustDecide } : {})}
                busy={props.busy}
                handlers={props.handlers}
                emptyText="No cards: nothing stands in the way of signing."
              />
            </div>
          )}
          {props.selectGroups.map((g) => (
            <div key={g.id} className="card-group" data-testid="order-select-cards" data-group-id={g.id}>
              <h3>
                Ordered {g.label} (order-select){g.retired ? ': replaced' : ''}
              </h3>
              <HookStatus
                serviceId="alk-ros1-order-select"
                state={g}
                onRetry={() => props.onRetrySelect(g)}
              />
              <CardList
                state={g}
                outcomes={props.outcomes}
                {...(props.mustDecide ? { mustDecide: props.mustDecide } : {})}
                busy={props.busy}
                handlers={props.handlers}
                emptyText="No cards for this order."
              />
            </div>
          ))}
        </section>
      </div>
    </div>
  );
}
