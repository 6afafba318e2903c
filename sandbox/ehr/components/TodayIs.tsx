/**
 * "Today is": replay every chart as it stood at a past day (the FHIR server hides what came later,
 * the CDS service and the SMART app evaluate at that day), or go back to today.
 */
import { useEffect, useId, useState } from 'react';
import type { createApi } from '../api.ts';

export function TodayIs({ api, onChange }: { api: ReturnType<typeof createApi>; onChange: () => void }) {
  const id = useId();
  const [day, setDay] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string>();

  useEffect(() => {
    api
      .today()
      .then((t) => setDay(t.today))
      .catch(() => undefined);
  }, [api]);

  const apply = async (next: string | null) => {
    setError(undefined);
    try {
      const t = await api.setToday(next);
      setDay(t.today);
      onChange();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <form
      className="today-is"
      data-testid="today-is"
      onSubmit={(e) => {
        e.preventDefault();
        if (draft) void apply(draft);
      }}
    >
      <label htmlFor={`${id}-day`}>Today is</label>{' '}
      <input
        id={`${id}-day`}
        type="date"
        value={draft || day || ''}
        max={new Date().toISOString().slice(0, 10)}
        onChange={(e) => setDraft(e.target.value)}
      />{' '}
      <button type="submit" className="button button-secondary" disabled={!draft}>
        Replay
      </button>
      {day && (
        <>
          {' '}
          <button type="button" className="button button-secondary" onClick={() => void apply(null)}>
            Back to today
          </button>
          <p role="status" className="replay-banner" data-testid="replay-banner">
            Replaying every chart as it stood on {day}: later results are hidden, and the cards and the SMART
            app evaluate at that day.
          </p>
        </>
      )}
      {error && (
        <p role="alert" className="hook-error">
          {error}
        </p>
      )}
    </form>
  );
}
