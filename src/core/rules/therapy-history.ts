/**
 * Therapy history as lines of treatment: what is current, what the disease progressed on, and the
 * line number the recommendations apply to.
 */
import { byDateDesc, toTime } from '../dates.ts';
import type { DataGap, IsoDate, Notice, TherapyHistorySummary, TherapyLine } from '../model.ts';

/** Lines that end within this many days of each other are one line (e.g. carboplatin + pemetrexed). */
const SAME_LINE_DAYS = 30;

export interface ProgressionEvent {
  agent: string | null;
  kind: TherapyLine['kind'];
  date?: IsoDate;
  pattern: NonNullable<TherapyLine['progressionPattern']>;
  presumed: boolean;
  line: TherapyLine;
}

const isSystemic = (l: TherapyLine) =>
  l.kind === 'tki' || l.kind === 'immunotherapy' || l.kind === 'chemotherapy';

/**
 * A line progressed when the record says so; a line that ended with no reason recorded is presumed
 * to have progressed (a new line usually starts at progression) and the assessment says so. A line
 * that continues after oligoprogression has not failed: local therapy and the same TKI [ros1-first-line-qa-2025, ros1ders-2022].
 */
export function progressionEvents(lines: readonly TherapyLine[]): ProgressionEvent[] {
  const events: ProgressionEvent[] = [];
  for (const line of lines) {
    if (!isSystemic(line)) continue;
    const pattern = line.progressionPattern ?? 'unknown';
    if (line.endReason === 'progression' || (line.progressionDate && line.status !== 'active')) {
      events.push({
        agent: line.agent,
        kind: line.kind,
        date: line.progressionDate ?? line.end,
        pattern,
        presumed: false,
        line,
      });
    } else if (line.progressionDate && line.status === 'active' && pattern !== 'oligo') {
      events.push({
        agent: line.agent,
        kind: line.kind,
        date: line.progressionDate,
        pattern,
        presumed: false,
        line,
      });
    } else if (line.status === 'ended' && (line.endReason === undefined || line.endReason === 'unknown')) {
      events.push({ agent: line.agent, kind: line.kind, date: line.end, pattern, presumed: true, line });
    }
  }
  return events.sort(byDateDesc);
}

/**
 * [local-safety-rules] A failed medication query or an unidentified medication is never silence:
 * history and interactions say "could not check", in plain words, with what failed.
 */
function medicationsCouldNotCheck(gaps: readonly DataGap[]): string | undefined {
  const failed = gaps.filter((g) => g.domains.includes('medications'));
  if (!failed.length) return undefined;
  const what = [...new Set(failed.map((g) => g.detail || g.reason))].join('; ');
  return `Treatment history and drug interactions could not be checked completely (${what}). A drug already given, or one that interacts, may be missing here: review the medication record.`;
}

export function summariseTherapy(
  lines: readonly TherapyLine[],
  gaps: readonly DataGap[] = [],
): {
  summary: TherapyHistorySummary;
  /** Progression events, latest first (testing at progression reads them too). */
  events: ProgressionEvent[];
  notices: Notice[];
} {
  const sorted = [...lines].sort((a, b) => (toTime(a.start) ?? 0) - (toTime(b.start) ?? 0));
  const events = progressionEvents(sorted);
  const notices: Notice[] = [];

  const progressedOn = [...new Set(events.map((e) => e.agent).filter((a): a is string => a !== null))];
  const presumed = [...new Set(events.filter((e) => e.presumed && e.agent).map((e) => e.agent as string))];
  for (const e of events.filter((x) => x.presumed)) {
    notices.push({
      severity: 'warning',
      message: `${e.line.display} ended${e.date ? ` on ${e.date.slice(0, 10)}` : ''} with no reason recorded: treated as progression. Confirm why it was stopped.`,
      sources: e.line.sources,
    });
  }
  for (const line of sorted.filter((l) => l.endReason === 'toxicity')) {
    notices.push({
      severity: 'info',
      message: `${line.display} was stopped for toxicity or intolerance${line.end ? ` on ${line.end.slice(0, 10)}` : ''}.`,
      sources: line.sources,
    });
  }
  for (const line of sorted.filter((l) => l.agent === null && isSystemic(l))) {
    notices.push({
      severity: 'info',
      message: `Unrecognised therapy in the record: "${line.display}".`,
      sources: line.sources,
    });
  }

  // Count distinct progression events: agents of one combination line end together.
  const eventTimes = events
    .map((e) => toTime(e.date))
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  let distinct = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of eventTimes) {
    if (t - last > SAME_LINE_DAYS * 86_400_000) distinct += 1;
    last = t;
  }
  distinct += events.filter((e) => toTime(e.date) === undefined).length;

  const active = sorted.filter((l) => l.status === 'active' && isSystemic(l));
  const current = active.find((l) => l.kind === 'tki') ?? active[active.length - 1];
  const tkiNaive = !events.some((e) => e.kind === 'tki' && e.agent !== null);
  const couldNotCheck = medicationsCouldNotCheck(gaps);

  return {
    summary: {
      lines: sorted,
      ...(current ? { current } : {}),
      lineNumber: distinct + 1,
      tkiNaive,
      progressedOn,
      presumedProgression: presumed,
      ...(couldNotCheck ? { couldNotCheck } : {}),
    },
    events,
    notices,
  };
}
