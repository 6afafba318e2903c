/**
 * One CDS Hooks card as an EHR shows it: indicator (text and colour), summary, detail (safe
 * markdown), source, suggestions (`Apply: <label>`, the recommended one marked, `at-most-one`
 * honoured), links, and Dismiss with one of the card's override reasons and an optional comment.
 */
import { type Ref, useEffect, useId, useRef, useState } from 'react';
import { type CardOutcome, canApply, cardProblem, safeHttpUrl, suggestionKey } from '../hooks.ts';
import type { Card, Coding, Link, Suggestion } from '../types.ts';
import { Markdown } from './Markdown.tsx';

export interface CardHandlers {
  onApply: (card: Card, cardKey: string, suggestion: Suggestion, key: string) => void;
  onDismiss: (card: Card, cardKey: string, reason: Coding | undefined, comment: string) => void;
  onSmartLink: (link: Link) => void;
}

const INDICATORS: Record<string, string> = { critical: 'Critical', warning: 'Warning', info: 'Info' };

export function indicatorOf(card: Card): 'critical' | 'warning' | 'info' {
  return card.indicator === 'critical' || card.indicator === 'warning' ? card.indicator : 'info';
}

function OutcomeNote({
  card,
  outcome,
  ref,
}: {
  card: Card;
  outcome: CardOutcome;
  ref: Ref<HTMLParagraphElement>;
}) {
  if (outcome.kind === 'overridden') {
    return (
      <p className="card-outcome" data-testid="card-outcome" tabIndex={-1} ref={ref}>
        Dismissed{outcome.reason?.display ? `: ${outcome.reason.display}` : ''}
        {outcome.comment ? ` (“${outcome.comment}”)` : ''}
      </p>
    );
  }
  const labels = (card.suggestions ?? [])
    .map((s, i) => (outcome.suggestions.includes(suggestionKey(s, i)) ? s.label : undefined))
    .filter(Boolean);
  return (
    <p className="card-outcome" data-testid="card-outcome" tabIndex={-1} ref={ref}>
      Accepted: {labels.join('; ')}
    </p>
  );
}

function DismissForm({
  card,
  onCancel,
  onConfirm,
}: {
  card: Card;
  onCancel: () => void;
  onConfirm: (reason: Coding | undefined, comment: string) => void;
}) {
  const id = useId();
  const reasons = (card.overrideReasons ?? []).filter((r) => r.display || r.code);
  const [choice, setChoice] = useState('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string>();
  const first = useRef<HTMLSelectElement & HTMLTextAreaElement>(null);
  // Keyboard and screen-reader users land in the form they just opened.
  useEffect(() => first.current?.focus(), []);
  return (
    <form
      className="dismiss-form"
      aria-label={`Dismiss: ${card.summary}`}
      onSubmit={(e) => {
        e.preventDefault();
        const reason = choice === '' ? undefined : reasons[Number(choice)];
        if (reasons.length > 0 && !reason) {
          setError('Choose a reason for dismissing this card.');
          return;
        }
        onConfirm(reason, comment);
      }}
    >
      {reasons.length > 0 && (
        <div className="field">
          <label htmlFor={`${id}-reason`}>Reason for dismissing</label>
          <select
            ref={first}
            id={`${id}-reason`}
            value={choice}
            aria-required="true"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            onChange={(e) => {
              setChoice(e.target.value);
              setError(undefined);
            }}
          >
            <option value="">Choose a reason…</option>
            {reasons.map((r, i) => (
              <option key={`${r.system ?? ''}|${r.code ?? i}`} value={String(i)}>
                {r.display ?? r.code}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-comment`}>Comment (optional)</label>
        <textarea
          ref={reasons.length > 0 ? undefined : first}
          id={`${id}-comment`}
          rows={2}
          maxLength={2000}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
      </div>
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="button-row">
        <button type="submit" className="button">
          Confirm dismissal
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function LinkItem({ link, onSmartLink }: { link: Link; onSmartLink: (link: Link) => void }) {
  if (link.type === 'smart') {
    return (
      <li>
        <button type="button" className="link-button" onClick={() => onSmartLink(link)}>
          {link.label}
        </button>{' '}
        <span className="muted">(SMART app)</span>
      </li>
    );
  }
  const href = link.type === 'absolute' ? safeHttpUrl(link.url) : undefined;
  if (!href) return <li>{link.label} (link not opened: not an http(s) address)</li>;
  return (
    <li>
      <a href={href} target="_blank" rel="noopener noreferrer">
        {link.label}
        <span className="visually-hidden"> (opens in a new tab)</span>
      </a>
    </li>
  );
}

export function CardView({
  card,
  cardKey,
  outcome,
  mustDecide = false,
  busy,
  handlers,
}: {
  card: Card;
  cardKey: string;
  outcome: CardOutcome | undefined;
  /** Signing waits on this card: accept a suggestion or override it with a reason. */
  mustDecide?: boolean;
  busy: boolean;
  handlers: CardHandlers;
}) {
  const id = useId();
  const [dismissing, setDismissing] = useState(false);
  const articleRef = useRef<HTMLElement>(null);
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  const dismissRef = useRef<HTMLButtonElement>(null);
  const focusDismiss = useRef(false);
  const decided = outcome !== undefined;
  // Once decided, the control just used is gone or disabled: focus moves to the decision.
  useEffect(() => {
    if (!decided) return;
    const active = document.activeElement;
    if (!active || active === document.body || articleRef.current?.contains(active))
      outcomeRef.current?.focus();
  }, [decided]);
  useEffect(() => {
    if (!dismissing && focusDismiss.current) {
      focusDismiss.current = false;
      dismissRef.current?.focus();
    }
  }, [dismissing]);
  const indicator = indicatorOf(card);
  const problem = cardProblem(card);
  const topic = card.source.topic;
  const sourceUrl = safeHttpUrl(card.source.url);
  const suggestions = card.suggestions ?? [];
  const atMostOne = card.selectionBehavior === 'at-most-one';
  return (
    <article
      className={`card card-${indicator}${outcome ? ' card-resolved' : ''}`}
      data-testid="card"
      data-indicator={indicator}
      data-topic={topic?.code ?? ''}
      data-card-uuid={card.uuid ?? ''}
      data-must-decide={mustDecide && !outcome ? 'true' : undefined}
      aria-labelledby={`${id}-summary`}
      ref={articleRef}
    >
      <header className="card-header">
        <span className={`indicator indicator-${indicator}`}>{INDICATORS[indicator]}</span>
        <h3 id={`${id}-summary`} className="card-summary">
          {card.summary}
        </h3>
      </header>
      {mustDecide && !outcome && (
        <p className="soft-stop" data-testid="soft-stop">
          <strong>Signing waits on this card.</strong>{' '}
          {suggestions.length > 0 && !problem
            ? 'Apply a suggestion, or dismiss it with a reason to sign anyway.'
            : 'Dismiss it with a reason to sign anyway.'}
        </p>
      )}
      {card.detail && <Markdown source={card.detail} className="markdown card-detail" />}
      <p className="card-source">
        Source:{' '}
        {sourceUrl ? (
          <a href={sourceUrl} target="_blank" rel="noopener noreferrer">
            {card.source.label}
            <span className="visually-hidden"> (opens in a new tab)</span>
          </a>
        ) : (
          card.source.label
        )}
        {topic && (
          <>
            {' · '}Topic: <span data-testid="card-topic">{topic.display ?? topic.code}</span>
          </>
        )}
      </p>
      {problem && (
        <p className="card-problem" role="note">
          This card cannot be acted on: {problem}
        </p>
      )}
      {outcome && <OutcomeNote card={card} outcome={outcome} ref={outcomeRef} />}
      {suggestions.length > 0 && !problem && (
        <div className="card-suggestions">
          <p className="muted">{atMostOne ? 'Choose at most one:' : 'Suggestions:'}</p>
          <ul>
            {suggestions.map((s, i) => {
              const key = suggestionKey(s, i);
              const enabled = canApply(card, outcome, key) && !busy;
              const accepted = outcome?.kind === 'accepted' && outcome.suggestions.includes(key);
              const describedBy = `${id}-s${i}`;
              return (
                <li key={key} className={accepted ? 'suggestion accepted' : 'suggestion'}>
                  <button
                    type="button"
                    className={s.isRecommended ? 'button button-primary' : 'button'}
                    disabled={!enabled}
                    aria-describedby={describedBy}
                    data-testid="apply-suggestion"
                    onClick={() => handlers.onApply(card, cardKey, s, key)}
                  >
                    Apply: {s.label}
                  </button>
                  <span id={describedBy} className="suggestion-note">
                    {s.isRecommended && <span className="badge-recommended">Recommended</span>}
                    {accepted && <span className="badge-accepted">Applied</span>}{' '}
                    {(s.actions ?? [])
                      .map((a) => a.description ?? a.type)
                      .filter(Boolean)
                      .join('; ')}
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {(card.links?.length ?? 0) > 0 && (
        <ul className="card-links" aria-label="Links">
          {card.links?.map((l) => (
            <LinkItem key={`${l.type}|${l.url}|${l.label}`} link={l} onSmartLink={handlers.onSmartLink} />
          ))}
        </ul>
      )}
      {!outcome && !dismissing && (
        <div className="button-row">
          <button
            ref={dismissRef}
            type="button"
            className="button button-secondary"
            disabled={busy}
            onClick={() => setDismissing(true)}
            aria-label={`Dismiss: ${card.summary}`}
          >
            Dismiss
          </button>
        </div>
      )}
      {!outcome && dismissing && (
        <DismissForm
          card={card}
          onCancel={() => {
            focusDismiss.current = true;
            setDismissing(false);
          }}
          onConfirm={(reason, comment) => {
            setDismissing(false);
            handlers.onDismiss(card, cardKey, reason, comment);
          }}
        />
      )}
    </article>
  );
}
