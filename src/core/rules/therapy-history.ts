/**
 * Therapy history as lines of treatment: what is current, what the disease progressed on, and the
 * line number the recommendations apply to.
 */
import { byDateDesc, toTime } from '../dates.ts';
import {
  type DataGap,
  DEFAULT_CONFIG,
  type EvaluateConfig,
  type IsoDate,
  type Notice,
  type Regimen,
  type TherapyHistorySummary,
  type TherapyLine,
} from '../model.ts';

const DAY_MS = 86_400_000;

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

const nameOf = (l: TherapyLine) => l.agent ?? l.display;

/**
 * Regimens (lines of therapy) from per-agent lines: systemic agents whose starts fall within
 * `windowDays` of the regimen's first start are one regimen (carboplatin + pemetrexed + pembrolizumab
 * given together). A TKI is always a regimen of its own (ALK/ROS1 TKIs are given alone, and a TKI
 * switched for toxicity within days is a second regimen, not a combination). A line with no start
 * date cannot be placed in time: it is a regimen of its own. Non-systemic drugs never form regimens.
 * Returns each regimen's lines with the agents dropped while others continued (maintenance).
 */
function groupRegimens(
  sorted: readonly TherapyLine[],
  windowDays: number,
): { lines: TherapyLine[]; dropped: TherapyLine[]; maintenance?: Regimen['maintenance'] }[] {
  const groups: TherapyLine[][] = [];
  let open: { lines: TherapyLine[]; anchor: number } | undefined;
  for (const line of sorted) {
    if (!isSystemic(line)) continue;
    const s = toTime(line.start);
    const joins =
      open !== undefined &&
      s !== undefined &&
      line.kind !== 'tki' &&
      !open.lines.some((l) => l.kind === 'tki') &&
      s - open.anchor <= windowDays * DAY_MS;
    if (joins && open) {
      open.lines.push(line);
      continue;
    }
    const lines = [line];
    groups.push(lines);
    open = s === undefined ? undefined : { lines, anchor: s };
  }
  return groups.map((lines) => {
    const anyActive = lines.some((l) => l.status === 'active');
    const ends = lines.map((l) => toTime(l.end)).filter((t): t is number => t !== undefined);
    const lastEnd = ends.length ? Math.max(...ends) : undefined;
    // Dropped: stopped while another agent of the regimen went on (for an ended regimen: stopped more
    // than the start window before the last agent stopped; cycles end a few days apart).
    const dropped =
      lines.length < 2
        ? []
        : anyActive
          ? lines.filter((l) => l.status === 'ended')
          : lines.filter((l) => {
              const e = toTime(l.end);
              return e !== undefined && lastEnd !== undefined && e < lastEnd - windowDays * DAY_MS;
            });
    if (!dropped.length) return { lines, dropped };
    const droppedEnds = dropped
      .map((l) => l.end)
      .filter((e): e is IsoDate => e !== undefined)
      .sort((a, b) => (toTime(a) ?? 0) - (toTime(b) ?? 0));
    const since = droppedEnds[0];
    return {
      lines,
      dropped,
      maintenance: {
        ...(since ? { since } : {}),
        displays: lines.filter((l) => !dropped.includes(l)).map(nameOf),
      },
    };
  });
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
  config: Pick<EvaluateConfig, 'regimenStartWindowDays'> = DEFAULT_CONFIG,
): {
  summary: TherapyHistorySummary;
  /** Progression events, latest first (testing at progression reads them too). */
  events: ProgressionEvent[];
  notices: Notice[];
} {
  const sorted = [...lines].sort((a, b) => (toTime(a.start) ?? 0) - (toTime(b.start) ?? 0));
  const groups = groupRegimens(sorted, config.regimenStartWindowDays);
  const notices: Notice[] = [];
  // An agent stopped with no reason recorded while the rest of its regimen went on is the end of
  // induction (carboplatin after 4 cycles, pemetrexed + pembrolizumab continuing), not progression
  // [kb-regimen-lines].
  const maintenanceOnly = new Set<TherapyLine>();
  for (const g of groups) {
    for (const l of g.dropped) {
      if (l.endReason !== undefined && l.endReason !== 'unknown') continue;
      if (l.progressionDate) continue;
      maintenanceOnly.add(l);
      notices.push({
        severity: 'info',
        message: `${l.display} stopped${l.end ? ` on ${l.end.slice(0, 10)}` : ''} with no reason recorded while ${g.maintenance?.displays.join(' + ')} continued: read as maintenance, not progression.`,
        sources: l.sources,
      });
    }
  }
  const events = progressionEvents(sorted).filter((e) => !maintenanceOnly.has(e.line));

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

  // Line numbers. A regimen progressed when any of its agents did (recorded or presumed). Each
  // regimen's number is 1 + the regimens before it that progressed; `lineNumber` (the line the
  // recommendation applies to) is 1 + all regimens that progressed. So a patient on a regimen that
  // has not progressed (maintenance included) is on that regimen's line ("on line 1"); once it
  // progresses the next line is lineNumber, and a TKI started then carries that number (line 2). A
  // regimen switched without progression (toxicity) keeps the same number as the one it replaced.
  let progressedSoFar = 0;
  const regimens: Regimen[] = groups.map((g) => {
    const own = events.filter((e) => g.lines.includes(e.line));
    const active = g.lines.some((l) => l.status === 'active');
    const ends = g.lines.map((l) => l.end).filter((e): e is IsoDate => e !== undefined);
    const end = ends.sort((a, b) => (toTime(b) ?? 0) - (toTime(a) ?? 0))[0];
    const dated = own
      .map((e) => e.date)
      .filter((d): d is IsoDate => d !== undefined)
      .sort((a, b) => (toTime(a) ?? 0) - (toTime(b) ?? 0));
    const regimen: Regimen = {
      number: progressedSoFar + 1,
      agents: g.lines.map((l) => l.agent).filter((a): a is string => a !== null),
      displays: g.lines.map(nameOf),
      ...(g.lines[0]?.start ? { start: g.lines[0].start } : {}),
      ...(!active && end ? { end } : {}),
      status: active ? 'active' : g.lines.some((l) => l.status === 'ended') ? 'ended' : 'unknown',
      ...(g.maintenance ? { maintenance: g.maintenance } : {}),
      progressed: own.length > 0,
      presumedProgression: own.length > 0 && own.every((e) => e.presumed),
      ...(dated[0] ? { progressionDate: dated[0] } : {}),
      lines: g.lines,
    };
    if (regimen.progressed) progressedSoFar += 1;
    return regimen;
  });

  const active = sorted.filter((l) => l.status === 'active' && isSystemic(l));
  const current = active.find((l) => l.kind === 'tki') ?? active[active.length - 1];
  const currentRegimen = current ? regimens.find((r) => r.lines.includes(current)) : undefined;
  const tkiNaive = !events.some((e) => e.kind === 'tki' && e.agent !== null);
  const couldNotCheck = medicationsCouldNotCheck(gaps);

  return {
    summary: {
      lines: sorted,
      regimens,
      ...(current ? { current } : {}),
      ...(currentRegimen ? { currentRegimen } : {}),
      lineNumber: progressedSoFar + 1,
      tkiNaive,
      progressedOn,
      presumedProgression: presumed,
      ...(couldNotCheck ? { couldNotCheck } : {}),
    },
    events,
    notices,
  };
}
