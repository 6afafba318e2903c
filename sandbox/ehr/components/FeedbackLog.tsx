/**
 * What the CDS service stored as feedback (`/sandbox/api/feedback`, newest first): time, service,
 * card, outcome, and the accepted suggestion or the override reason. Cards and suggestions this page
 * has shown are named by their summary and label next to the uuid.
 */
import type { FeedbackEntry } from '../types.ts';

export interface FeedbackLogState {
  entries?: FeedbackEntry[];
  loading: boolean;
  error?: string;
}

function when(entry: FeedbackEntry): string {
  const iso = entry.outcomeTimestamp ?? entry.receivedAt;
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function detail(entry: FeedbackEntry, names: ReadonlyMap<string, string>): string {
  if (entry.outcome === 'accepted') {
    const ids = entry.acceptedSuggestions ?? [];
    return ids.length
      ? `Accepted: ${ids.map((id) => (names.has(id) ? `${names.get(id)} (${id})` : id)).join('; ')}`
      : 'Accepted';
  }
  const o = entry.overrideReason;
  if (!o) return 'Overridden (no reason given)';
  const reason = o.reason ?? o;
  const text = reason.display ?? reason.code ?? '';
  return [`Override reason: ${text || '(none)'}`, o.userComment ? `comment: “${o.userComment}”` : '']
    .filter(Boolean)
    .join('; ');
}

export function FeedbackLog({
  state,
  names,
  onRefresh,
}: {
  state: FeedbackLogState;
  /** uuid → summary (cards) or label (suggestions) for what this page has shown. */
  names: ReadonlyMap<string, string>;
  onRefresh: () => void;
}) {
  const entries = state.entries ?? [];
  return (
    <section className="panel" data-testid="feedback-log" aria-labelledby="feedback-log-heading">
      <div className="panel-heading">
        <h2 id="feedback-log-heading">Feedback log</h2>
        <button
          type="button"
          className="button button-secondary"
          onClick={onRefresh}
          disabled={state.loading}
        >
          Refresh feedback log
        </button>
      </div>
      <p className="muted">What the CDS service stored from this EHR's feedback calls, newest first.</p>
      {state.loading && <p role="status">Loading the feedback log…</p>}
      {state.error && (
        <p role="alert" className="hook-error">
          The feedback log could not be loaded. {state.error}
        </p>
      )}
      {!state.loading && !state.error && entries.length === 0 && <p>No feedback stored yet.</p>}
      {entries.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Stored feedback</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Service</th>
                <th scope="col">Card</th>
                <th scope="col">Outcome</th>
                <th scope="col">Suggestion or reason</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr
                  key={`${e.serviceId}|${e.card}|${e.outcome}|${e.outcomeTimestamp ?? ''}|${e.receivedAt ?? ''}|${(e.acceptedSuggestions ?? []).join(',')}`}
                  data-testid="feedback-entry"
                  data-outcome={e.outcome}
                >
                  <td>{when(e)}</td>
                  <td>{e.serviceId}</td>
                  <td>
                    {names.has(e.card) && <span className="feedback-card-summary">{names.get(e.card)} </span>}
                    <code>{e.card}</code>
                  </td>
                  <td>{e.outcome}</td>
                  <td>{detail(e, names)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
