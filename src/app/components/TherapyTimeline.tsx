import type {
  BiomarkerResult,
  CnsFinding,
  Regimen,
  TherapyHistorySummary,
  TherapyLine,
} from '../../core/model.ts';
import { formatDate, METHOD_LABEL, plus } from '../format.ts';

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
  /** Line rows: the short row label ("Line 1"), the names drawn above the bar, how it ended. */
  rowLabel?: string;
  caption?: string;
  progressed?: boolean;
  /** Line rows: when maintenance began (some agents stopped while others went on). */
  maintenanceStart?: number;
  /** Line rows, and the progression marks that sit on them. */
  rowKey?: string;
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

/** "Line 1: carboplatin + pemetrexed + pembrolizumab". */
export const regimenLabel = (r: Regimen) => `Line ${r.number}: ${plus(r.displays)}`;

function regimenText(r: Regimen): string {
  // Presumed progression belongs to this regimen's own lines, not to the same drug in another line
  // (carboplatin dropped for maintenance in line 1 is not "treated as progression" by line 2's).
  const agentTexts = r.lines.map((l) =>
    lineText(
      l,
      r.presumedProgression &&
        l.status === 'ended' &&
        (l.endReason === undefined || l.endReason === 'unknown'),
    ),
  );
  if (r.lines.length === 1) return `Line ${r.number}: ${agentTexts[0]}`;
  const when = `${formatDate(r.start)} to ${r.status === 'active' ? 'now' : formatDate(r.end)}`;
  const how =
    r.status === 'active'
      ? 'ongoing'
      : r.progressed
        ? `ended in progression${r.presumedProgression ? ' (presumed: no stop reason recorded)' : ''}`
        : 'ended';
  const maintenance = r.maintenance
    ? `; maintenance ${plus(r.maintenance.displays)}${r.maintenance.since ? ` from ${formatDate(r.maintenance.since)}` : ''}`
    : '';
  return `${regimenLabel(r)}, ${when}, ${how}${maintenance}. ${agentTexts.join('; ')}`;
}

/**
 * Where the patient is in their lines of therapy, for the at-a-glance and the timeline:
 * "On line 1 (pemetrexed + pembrolizumab maintenance) — TKI-naive", "Line 2 next — Progressed on alectinib".
 */
export function lineStatus(therapy: TherapyHistorySummary): string {
  const r = therapy.currentRegimen;
  const where =
    r && !r.progressed
      ? `On line ${r.number} (${r.maintenance ? `${plus(r.maintenance.displays)} maintenance` : plus(r.displays)})`
      : r
        ? `Progression on line ${r.number} (${plus(r.displays)}); line ${therapy.lineNumber} next`
        : `Line ${therapy.lineNumber} next`;
  const tkiGiven = therapy.regimens.some((x) => x.lines.some((l) => l.kind === 'tki'));
  const tki = !therapy.tkiNaive
    ? `Progressed on ${therapy.progressedOn.join(', ') || 'a prior TKI'}`
    : tkiGiven
      ? 'no progression on a TKI recorded'
      : 'TKI-naive';
  return `${where} — ${tki}`;
}

/** Markers closer than this (px) would print their labels over each other. */
const MIN_LABEL_GAP = 36;

/** Consecutive items (sorted by position) less than `gap` apart, as groups. */
export function clusterByX<T>(items: readonly T[], at: (t: T) => number, gap: number): T[][] {
  const groups: T[][] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const item of [...items].sort((a, b) => at(a) - at(b))) {
    const pos = at(item);
    const current = groups[groups.length - 1];
    if (current && pos - last < gap) current.push(item);
    else groups.push([item]);
    last = pos;
  }
  return groups;
}

/**
 * Therapy history as a picture: one row per line of therapy, i.e. per regimen (drugs started
 * together, labelled "Line 1: carboplatin + pemetrexed + pembrolizumab", its maintenance part drawn
 * lighter with a dashed outline), with why it ended; biomarker tests and CNS events on their own
 * rows, on a shared time axis. The SVG has a title and description; the same
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
  // One row per regimen (line of therapy); a drug that is not systemic therapy gets a row of its own.
  const inRegimen = new Set(therapy.regimens.flatMap((r) => r.lines));
  const rowsOf: { lines: TherapyLine[]; regimen?: Regimen }[] = [
    ...therapy.regimens.map((r) => ({ lines: r.lines, regimen: r })),
    ...therapy.lines.filter((l) => !inRegimen.has(l)).map((l) => ({ lines: [l] })),
  ];
  rowsOf.forEach(({ lines: group, regimen: r }, rowIndex) => {
    const rowKey = `row-${rowIndex}`;
    const only = group[0] as TherapyLine;
    const s = r ? time(r.start) : time(only.start);
    if (Number.isNaN(s)) return;
    const active = r ? r.status === 'active' : only.status === 'active';
    const e = active ? nowT : time(r ? r.end : only.end);
    const name = only.agent ?? only.display;
    const m = time(r?.maintenance?.since);
    events.push({
      kind: 'line',
      start: s,
      end: Number.isNaN(e) ? s + 30 * DAY : e,
      label: r ? regimenLabel(r) : name,
      rowLabel: r ? `Line ${r.number}` : name,
      caption: r
        ? `${plus(r.displays)}${r.maintenance ? `; maintenance ${plus(r.maintenance.displays)}` : ''}`
        : name,
      progressed: r ? r.progressed : only.endReason === 'progression',
      ...(Number.isNaN(m) ? {} : { maintenanceStart: m }),
      rowKey,
      text: r
        ? regimenText(r)
        : lineText(only, only.agent !== null && therapy.presumedProgression.includes(only.agent)),
    });
    // One mark per progression date on the row (agents of a regimen usually progress together).
    const byDate = new Map<number, TherapyLine[]>();
    for (const l of group) {
      const p = time(l.progressionDate);
      if (!Number.isNaN(p)) byDate.set(p, [...(byDate.get(p) ?? []), l]);
    }
    for (const [p, ls] of byDate)
      events.push({
        kind: 'progression',
        start: p,
        label: 'P',
        rowKey,
        text: `Progression on ${ls.map((l) => l.agent ?? l.display).join(', ')}${r ? ` (line ${r.number})` : ''}, ${formatDate(ls[0]?.progressionDate)}`,
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
  // A line row is taller: the regimen's drugs are written above its bar.
  const lineRowH = 42;
  const rows = [...lines.map((l) => l.rowLabel ?? l.label), 'Biomarker tests', 'CNS events'];
  const top = 10;
  const H = top + lines.length * lineRowH + (rows.length - lines.length) * row + 34;
  const x = (t: number) => L + ((t - lo) / span) * (W - L - R);
  /** The centre line of row i (of its bar, for a line row). */
  const yOf = (i: number) =>
    i < lines.length
      ? top + i * lineRowH + lineRowH - 14
      : top + lines.length * lineRowH + (i - lines.length) * row + row / 2;
  /** Text that starts at `at`, or ends at the right edge when it would run off. */
  const captionAt = (at: number, text: string) =>
    at + text.length * 6 > W - R
      ? { x: W - R, textAnchor: 'end' as const }
      : { x: at, textAnchor: 'start' as const };

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

  const lineCount = new Set(therapy.regimens.map((r) => r.number)).size;
  const summary = `${lineCount} line(s) of therapy (${therapy.regimens.length} regimen(s))${therapy.currentRegimen ? `, currently ${regimenLabel(therapy.currentRegimen)}${therapy.currentRegimen.maintenance ? ` (maintenance ${plus(therapy.currentRegimen.maintenance.displays)})` : ''}` : ''}; ${tests.length} dated biomarker result(s); ${cns.length} CNS finding(s).`;

  return (
    <section className="panel" aria-labelledby="timeline-h">
      <h2 id="timeline-h">Therapy history</h2>
      {therapy.couldNotCheck ? (
        <p className="warn">
          <span aria-hidden="true">✕ </span>Could not check: {therapy.couldNotCheck}
        </p>
      ) : null}
      <p className="muted">
        {lineStatus(therapy)}.
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
          // biome-ignore lint/suspicious/noArrayIndexKey: two regimens may share a line number
          <g key={`${i}-${label}`}>
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
        {lines.map((l, i) => {
          const end = x(l.end ?? l.start);
          const m = l.maintenanceStart === undefined ? undefined : x(l.maintenanceStart);
          const barClass = l.progressed ? 'tl-bar tl-bar-progressed' : 'tl-bar';
          const caption = l.caption ?? l.label;
          return (
            <g key={l.rowKey ?? `${l.label}-${l.start}`} data-line={l.label}>
              <text {...captionAt(x(l.start), caption)} y={yOf(i) - 12} className="tl-mark-label">
                {caption}
              </text>
              <rect
                x={x(l.start)}
                y={yOf(i) - 8}
                width={Math.max(4, (m ?? end) - x(l.start))}
                height={16}
                rx={3}
                className={barClass}
              >
                <title>{l.text}</title>
              </rect>
              {m !== undefined ? (
                // The maintenance part: lighter, with a dashed outline, and named in the caption.
                <rect
                  x={m}
                  y={yOf(i) - 8}
                  width={Math.max(4, end - m)}
                  height={16}
                  rx={3}
                  className={`${barClass} tl-bar-maintenance`}
                >
                  <title>{l.text}</title>
                </rect>
              ) : null}
            </g>
          );
        })}
        {events
          .filter((e) => e.kind === 'progression')
          .map((e) => {
            const i = lines.findIndex((l) => l.rowKey === e.rowKey);
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
        {clusterByX(
          events.filter((e) => e.kind === 'test'),
          (e) => x(e.start),
          MIN_LABEL_GAP,
        ).map((group) => {
          // Tests drawn this close together (ALK and ROS1 on one report) share one marker and one
          // label ("ALK · ROS1"), so the labels never print over each other ("RAOS1").
          const cx = x(group[0]?.start ?? 0);
          const cy = yOf(lines.length);
          const label = [...new Set(group.map((e) => e.label))].join(' · ');
          return (
            <g key={`t-${group.map((e) => `${e.start}-${e.text}`).join('|')}`}>
              <path
                d={`M${cx},${cy - 7} L${cx + 7},${cy} L${cx},${cy + 7} L${cx - 7},${cy} Z`}
                className="tl-test"
              />
              <text x={cx} y={cy - 10} textAnchor="middle" className="tl-mark-label">
                {label}
              </text>
              <title>{group.map((e) => e.text).join('; ')}</title>
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
        <span className="lg lg-bar" /> line of therapy <span className="lg lg-bar lg-maintenance" />{' '}
        maintenance <span className="lg lg-prog">✕</span> progression <span className="lg lg-test">◆</span>{' '}
        biomarker test <span className="lg lg-cns">●</span> CNS event
      </p>
    </section>
  );
}
