/**
 * What the CDS service stored as feedback for the open patient (`/sandbox/api/feedback?patient=`,
 * newest first), joined with the sandbox's notes: time (ISO 8601, UTC), patient, the card's summary,
 * outcome, the accepted suggestion's label or the override reason, service. Feedback without a note
 * (sent before notes were kept) falls back to what this page has shown, and to the card uuid.
 */
import type { FeedbackEntry } from '../types.ts';

export interface FeedbackLogState {
  entries?: FeedbackEntry[];
  loading: boolean;
  error?: string;
}

/** ISO 8601 in UTC to the second (`2026-03-14T09:26:53Z`): one reading whatever the browser's locale. */
export function isoDateTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function detail(entry: FeedbackEntry, names: ReadonlyMap<string, string>): string {
  if (entry.outcome === 'accepted') {
    if (entry.suggestionLabels?.length) return `Accepted: ${entry.suggestionLabels.join('; ')}`;
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

function CardCell({ entry, names }: { entry: FeedbackEntry; names: ReadonlyMap<string, string> }) {
  if (entry.summary) return <span className="feedback-card-summary">{entry.summary}</span>;
  return (
    <>
      {names.has(entry.card) && <span className="feedback-card-summary">{names.get(entry.card)} </span>}
      <code>{entry.card}</code>
    </>
  );
}

export function FeedbackLog({
  state,
  names,
  patientName,
  onRefresh,
}: {
  state: FeedbackLogState;
  /** uuid → summary (cards) or label (suggestions) for what this page has shown. */
  names: ReadonlyMap<string, string>;
  /** The open patient: the log shows only the feedback about them. */
  patientName?: string;
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
      <p className="muted">
        What the CDS service stored from this EHR's feedback calls
        {patientName ? ` about ${patientName}` : ''}, newest first. Times are UTC.
      </p>
      {state.loading && <p role="status">Loading the feedback log…</p>}
      {state.error && (
        <p role="alert" className="hook-error">
          The feedback log could not be loaded. {state.error}
        </p>
      )}
      {!state.loading && !state.error && entries.length === 0 && <p>No feedback stored yet.</p>}
      {entries.length > 0 && (
        <div className="table-scroll">
          <table className="feedback-table">
            <caption className="visually-hidden">Stored feedback</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Patient</th>
                <th scope="col">Card</th>
                <th scope="col">Outcome</th>
                <th scope="col">Suggestion or reason</th>
                <th scope="col">Service</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => {
                const at = e.outcomeTimestamp ?? e.receivedAt;
                return (
                  <tr
                    key={`${e.serviceId}|${e.card}|${e.outcome}|${e.outcomeTimestamp ?? ''}|${e.receivedAt ?? ''}|${(e.acceptedSuggestions ?? []).join(',')}`}
                    data-testid="feedback-entry"
                    data-outcome={e.outcome}
                  >
                    <td data-label="Time (UTC)">
                      {at && (
                        <time dateTime={isoDateTime(at)} data-testid="feedback-time">
                          {isoDateTime(at)}
                        </time>
                      )}
                    </td>
                    <td data-label="Patient" data-testid="feedback-patient">
                      {e.patient?.name ?? ''}
                    </td>
                    <td data-label="Card" data-testid="feedback-card">
                      <CardCell entry={e} names={names} />
                    </td>
                    <td data-label="Outcome">{e.outcome}</td>
                    <td data-label="Suggestion or reason" data-testid="feedback-detail">
                      {detail(e, names)}
                    </td>
                    <td data-label="Service">{e.serviceId}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
