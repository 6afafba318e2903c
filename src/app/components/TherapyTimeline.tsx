import type { BiomarkerResult, CnsFinding, TherapyHistorySummary, TherapyLine } from '../../core/model.ts';
import { formatDate, METHOD_LABEL } from '../format.ts';

const END_REASON: Record<NonNullable<TherapyLine['endReason']>, string> = {
  progression: 'stopped for progression',
  toxicity: 'stopped for toxicity',
  completed: 'completed',
  other: 'stopped (other reason)',
  unknown: 'stopped, reason not recorded',
};

interface Event {
  kind: 'line' | 'test' | 'cns' | 'progression';
  start: number;
  end?: number;
  label: string;
  text: string;
}

const DAY = 86_400_000;
const time = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

function lineText(l: TherapyLine, presumed: boolean): string {
  const when = `${formatDate(l.start)} to ${l.status === 'active' ? 'now' : formatDate(l.end)}`;
  const why = l.status === 'active' ? 'ongoing' : l.endReason ? END_REASON[l.endReason] : 'ended';
  const prog = l.progressionDate
    ? `; progression ${formatDate(l.progressionDate)}${l.progressionPattern && l.progressionPattern !== 'unknown' ? ` (${l.progressionPattern})` : ''}`
    : '';
  return `${l.display}: ${when}, ${why}${presumed ? ' (treated as progression)' : ''}${prog}`;
}

/**
 * Therapy history as a picture: one bar per line of therapy (with why it ended), biomarker tests and
 * CNS events on their own rows, on a shared time axis. The SVG has a title and description; the same
 * content is in a visually hidden list for screen readers.
 */
export function TherapyTimeline({
  therapy,
  tests,
  cns,
  now,
}: {
  therapy: TherapyHistorySummary;
  tests: readonly BiomarkerResult[];
  cns: readonly CnsFinding[];
  now: string;
}) {
  const nowT = Date.parse(now);
  const events: Event[] = [];
  therapy.lines.forEach((l, i) => {
    const s = time(l.start);
    if (Number.isNaN(s)) return;
    const e = l.status === 'active' ? nowT : time(l.end);
    const presumed = l.agent !== null && therapy.presumedProgression.includes(l.agent);
    events.push({
      kind: 'line',
      start: s,
      end: Number.isNaN(e) ? s + 30 * DAY : e,
      label: `${i + 1}. ${l.agent ?? l.display}`,
      text: lineText(l, presumed),
    });
    const p = time(l.progressionDate);
    if (!Number.isNaN(p))
      events.push({
        kind: 'progression',
        start: p,
        label: 'P',
        text: `Progression on ${l.agent ?? l.display}, ${formatDate(l.progressionDate)}`,
      });
  });
  for (const t of tests) {
    const s = time(t.date);
    if (Number.isNaN(s)) continue;
    const muts = t.resistanceMutations.length ? ` ${t.resistanceMutations.join(', ')}` : '';
    events.push({
      kind: 'test',
      start: s,
      label: `${t.gene}${muts}`,
      text: `${t.gene} ${t.kind === 'mutation' ? 'mutation test' : 'test'} (${METHOD_LABEL[t.method]}): ${t.call}${muts}, ${formatDate(t.date)}`,
    });
  }
  for (const c of cns) {
    const s = time(c.date);
    if (Number.isNaN(s)) continue;
    events.push({
      kind: 'cns',
      start: s,
      label: c.site === 'brain' ? 'Brain' : 'LM',
      text: `${c.display} (${c.clinicalStatus}), ${formatDate(c.date)}`,
    });
  }
  events.sort((a, b) => a.start - b.start);

  if (!events.length)
    return (
      <section className="panel" aria-labelledby="timeline-h">
        <h2 id="timeline-h">Therapy history</h2>
        <p>No therapy lines, dated biomarker tests or CNS events in the record.</p>
      </section>
    );

  const lines = events.filter((e) => e.kind === 'line');
  const lo = Math.min(...events.map((e) => e.start));
  const hi = Math.max(nowT, ...events.map((e) => e.end ?? e.start));
  const span = Math.max(hi - lo, 60 * DAY);
  const W = 760;
  const L = 150;
  const R = 16;
  const row = 30;
  const rows = [...lines.map((l) => l.label), 'Biomarker tests', 'CNS events'];
  const top = 10;
  const H = top + rows.length * row + 34;
  const x = (t: number) => L + ((t - lo) / span) * (W - L - R);
  const yOf = (i: number) => top + i * row + row / 2;

  // Year ticks (or quarter ticks for short histories).
  const ticks: { t: number; label: string }[] = [];
  const startYear = new Date(lo).getUTCFullYear();
  const short = span < 2 * 365 * DAY;
  for (let y = startYear; y <= new Date(hi).getUTCFullYear() + 1; y++) {
    for (const m of short ? [0, 3, 6, 9] : [0]) {
      const t = Date.UTC(y, m, 1);
      if (t >= lo && t <= lo + span)
        ticks.push({ t, label: m === 0 ? String(y) : `${y}-${String(m + 1).padStart(2, '0')}` });
    }
  }

  const summary = `${therapy.lines.length} line(s) of therapy${therapy.current ? `, currently ${therapy.current.display}` : ''}; ${tests.length} dated biomarker result(s); ${cns.length} CNS finding(s).`;

  return (
    <section className="panel" aria-labelledby="timeline-h">
      <h2 id="timeline-h">Therapy history</h2>
      {therapy.couldNotCheck ? (
        <p className="warn">
          <span aria-hidden="true">✕ </span>Could not check: {therapy.couldNotCheck}
        </p>
      ) : null}
      <p className="muted">
        Line {therapy.lineNumber} of therapy next;{' '}
        {therapy.tkiNaive ? 'TKI-naive' : `progressed on ${therapy.progressedOn.join(', ') || 'a prior TKI'}`}
        .
        {therapy.presumedProgression.length
          ? ` No stop reason recorded for ${therapy.presumedProgression.join(', ')}: treated as progression.`
          : ''}
      </p>
      <svg
        className="timeline"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="timeline-title timeline-desc"
        preserveAspectRatio="xMinYMin meet"
      >
        <title id="timeline-title">Therapy timeline</title>
        <desc id="timeline-desc">{summary}</desc>
        {rows.map((label, i) => (
          <g key={label}>
            <line x1={L} x2={W - R} y1={yOf(i)} y2={yOf(i)} className="tl-guide" />
            <text x={L - 8} y={yOf(i) + 4} textAnchor="end" className="tl-label">
              {label.length > 20 ? `${label.slice(0, 19)}…` : label}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <g key={t.t}>
            <line x1={x(t.t)} x2={x(t.t)} y1={top} y2={H - 26} className="tl-tick" />
            <text x={x(t.t)} y={H - 10} textAnchor="middle" className="tl-axis">
              {t.label}
            </text>
          </g>
        ))}
        <line x1={x(nowT)} x2={x(nowT)} y1={top} y2={H - 26} className="tl-now" />
        <text
          x={Math.min(x(nowT), W - R - 14)}
          y={H - 10}
          textAnchor="middle"
          className="tl-axis tl-now-label"
        >
          now
        </text>
        {lines.map((l, i) => (
          <g key={`${l.label}-${l.start}`}>
            <rect
              x={x(l.start)}
              y={yOf(i) - 8}
              width={Math.max(4, x(l.end ?? l.start) - x(l.start))}
              height={16}
              rx={3}
              className={/progression/.test(l.text) ? 'tl-bar tl-bar-progressed' : 'tl-bar'}
            >
              <title>{l.text}</title>
            </rect>
          </g>
        ))}
        {events
          .filter((e) => e.kind === 'progression')
          .map((e) => {
            const i = lines.findIndex((l) => e.text.includes(l.label.replace(/^\d+\. /, '')));
            const y = yOf(Math.max(0, i));
            return (
              <g key={`p-${e.start}-${e.text}`} className="tl-prog">
                <path
                  d={`M${x(e.start) - 6},${y - 6} L${x(e.start) + 6},${y + 6} M${x(e.start) + 6},${y - 6} L${x(e.start) - 6},${y + 6}`}
                />
                <title>{e.text}</title>
              </g>
            );
          })}
        {events
          .filter((e) => e.kind === 'test')
          .map((e) => {
            const cx = x(e.start);
            const cy = yOf(lines.length);
            return (
              <g key={`t-${e.start}-${e.text}`}>
                <path
                  d={`M${cx},${cy - 7} L${cx + 7},${cy} L${cx},${cy + 7} L${cx - 7},${cy} Z`}
                  className="tl-test"
                />
                <text x={cx} y={cy - 10} textAnchor="middle" className="tl-mark-label">
                  {e.label}
                </text>
                <title>{e.text}</title>
              </g>
            );
          })}
        {events
          .filter((e) => e.kind === 'cns')
          .map((e) => {
            const cx = x(e.start);
            const cy = yOf(lines.length + 1);
            return (
              <g key={`c-${e.start}-${e.text}`}>
                <circle cx={cx} cy={cy} r={6} className="tl-cns" />
                <text x={cx + 9} y={cy + 4} className="tl-mark-label">
                  {e.label}
                </text>
                <title>{e.text}</title>
              </g>
            );
          })}
      </svg>
      <ol className="visually-hidden" aria-label="Therapy timeline as a list">
        {events.map((e) => (
          <li key={`${e.kind}-${e.start}-${e.text}`}>{e.text}</li>
        ))}
      </ol>
      <p className="legend" aria-hidden="true">
        <span className="lg lg-bar" /> therapy line <span className="lg lg-prog">✕</span> progression{' '}
        <span className="lg lg-test">◆</span> biomarker test <span className="lg lg-cns">●</span> CNS event
      </p>
    </section>
  );
}
