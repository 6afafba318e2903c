/**
 * The governance report of clinician feedback (https://cds-hooks.hl7.org/2.0/#feedback): per
 * service × card topic × indicator, how many cards were answered, accepted and overridden, why they
 * were overridden, how many overrides carried a comment, and the same per ISO week. Pure: records in,
 * report out, then three renderings (terminal table, JSON, CSV). Comment text is never reported, only
 * counted: it is free text and may name a patient.
 *
 * Feedback holds only the card's uuid; the topic and indicator come from the uuid itself
 * (cards/card-tag.ts). Cards issued before uuids were tagged, and uuids that are not ours, are
 * reported under topic and indicator "unknown".
 */
import { z } from 'zod';
import { OVERRIDE_REASONS, type Topic } from '../cards/card-kit.ts';
import { CARD_TOPICS, INDICATORS, type Indicator, readCardTag } from '../cards/card-tag.ts';
import type { FeedbackRecord, FeedbackStore } from './store.ts';

export type ReportTopic = Topic | 'unknown';
export type ReportIndicator = Indicator | 'unknown';

const REPORT_FORMATS = ['table', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** CDS Hooks service ids are URL path segments. */
const SERVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * What a report may be asked for, as text (the admin route's query, the command's flags). Unknown
 * keys are refused, so a misspelt filter is an error rather than a silently unfiltered report.
 */
export const ReportQuery = z.strictObject({
  format: z.enum(REPORT_FORMATS, { error: 'format must be table, json or csv' }).optional(),
  since: z.iso.date({ error: 'since must be a date, YYYY-MM-DD' }).optional(),
  service: z.string().regex(SERVICE_ID, 'service must be a CDS service id').optional(),
});
export type ReportQuery = z.infer<typeof ReportQuery>;

export interface ReportFilter {
  /** Only this service's feedback. */
  serviceId?: string;
  /** YYYY-MM-DD: only feedback the service received from 00:00 UTC that day on. */
  since?: string;
}

/** The instant a `since` day starts (UTC), as the store's scan takes it. */
function sinceInstant(since: string): Date {
  return new Date(`${since}T00:00:00Z`);
}

export interface OverrideReasonCount {
  /** null: an override with no coded reason (a comment alone, or nothing). */
  system: string | null;
  code: string | null;
  /** The card's display for one of our codes; otherwise the code and its system as sent. */
  display: string;
  /** One of the codes the cards offer (OVERRIDE_REASONS). */
  known: boolean;
  count: number;
}

export interface Counts {
  answered: number;
  accepted: number;
  overridden: number;
  /** accepted / answered, 4 decimals. */
  acceptanceRate: number;
  /** overridden / answered, 4 decimals. */
  overrideRate: number;
  /** Feedback with a non-empty userComment. */
  comments: number;
  /** Most frequent first; they add up to `overridden`. */
  overrideReasons: OverrideReasonCount[];
}

export interface WeekRow extends Counts {
  /** ISO 8601 week, e.g. `2026-W48`; `unknown` when no time in the record parses. */
  week: string;
}

export interface ReportRow extends Counts {
  serviceId: string;
  topic: ReportTopic;
  indicator: ReportIndicator;
  /** Oldest week first. */
  weeks: WeekRow[];
}

export interface FeedbackReport {
  generatedAt: string | null;
  filters: { since: string | null; serviceId: string | null };
  /** How records are put into weeks. */
  weeks: string;
  totals: Omit<Counts, 'overrideReasons'>;
  rows: ReportRow[];
}

const WEEK_BASIS =
  'ISO 8601 weeks in UTC, by outcomeTimestamp (when the clinician acted), else by receivedAt';

// --- Counting --------------------------------------------------------------------------------------

const KNOWN_REASONS = new Map(OVERRIDE_REASONS.map((r) => [`${r.system}\u0000${r.code}`, r.display]));

interface Tally {
  answered: number;
  accepted: number;
  overridden: number;
  comments: number;
  /** By `system \0 code` ('' for no coded reason). */
  reasons: Map<string, { system: string | null; code: string | null; count: number }>;
}

const newTally = (): Tally => ({ answered: 0, accepted: 0, overridden: 0, comments: 0, reasons: new Map() });

function count(t: Tally, r: FeedbackRecord): void {
  t.answered++;
  if (r.outcome === 'accepted') t.accepted++;
  else {
    t.overridden++;
    // Matched by system and code together, never code alone.
    const code = r.overrideReason?.code || null;
    const system = code ? r.overrideReason?.system || null : null;
    const key = code ? `${system ?? ''}\u0000${code}` : '';
    const seen = t.reasons.get(key) ?? { system, code, count: 0 };
    seen.count++;
    t.reasons.set(key, seen);
  }
  if (r.overrideReason?.userComment?.trim()) t.comments++;
}

const rate = (part: number, whole: number) => (whole ? Math.round((part / whole) * 10_000) / 10_000 : 0);

function countsOf(t: Tally): Counts {
  const reasons = [...t.reasons.entries()].map(([key, r]): OverrideReasonCount => {
    const known = KNOWN_REASONS.get(key);
    const display =
      known ?? (r.code ? `${r.code} (${r.system ?? 'no system'})` : 'no coded reason (comment or nothing)');
    return { system: r.system, code: r.code, display, known: known !== undefined, count: r.count };
  });
  reasons.sort((a, b) => b.count - a.count || (a.code ?? '\uffff').localeCompare(b.code ?? '\uffff'));
  return {
    answered: t.answered,
    accepted: t.accepted,
    overridden: t.overridden,
    acceptanceRate: rate(t.accepted, t.answered),
    overrideRate: rate(t.overridden, t.answered),
    comments: t.comments,
    overrideReasons: reasons,
  };
}

const RFC3339 = z.iso.datetime({ offset: true });

/** When the clinician acted: outcomeTimestamp when it is an RFC 3339 time, else when it was received. */
function actedAt(r: FeedbackRecord): Date | undefined {
  if (RFC3339.safeParse(r.outcomeTimestamp).success) return new Date(r.outcomeTimestamp);
  const received = new Date(r.receivedAt);
  return Number.isNaN(received.getTime()) ? undefined : received;
}

/** ISO 8601 week (UTC): the week belongs to the year of its Thursday. */
export function isoWeek(d: Date): string {
  const day = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
  const year = thursday.getUTCFullYear();
  const ordinal = (thursday.getTime() - Date.UTC(year, 0, 1)) / 86_400_000;
  return `${year}-W${String(Math.floor(ordinal / 7) + 1).padStart(2, '0')}`;
}

const topicRank = (t: ReportTopic) => (t === 'unknown' ? CARD_TOPICS.length : CARD_TOPICS.indexOf(t));
const indicatorRank = (i: ReportIndicator) => (i === 'unknown' ? INDICATORS.length : INDICATORS.indexOf(i));

interface Group {
  serviceId: string;
  topic: ReportTopic;
  indicator: ReportIndicator;
  total: Tally;
  weeks: Map<string, Tally>;
}

/**
 * Counts records one at a time, so a report over any number of records holds only its rows (services
 * × topics × indicators × weeks).
 */
class ReportBuilder {
  private readonly groups = new Map<string, Group>();
  private readonly since: number | undefined;

  constructor(private readonly filter: ReportFilter = {}) {
    this.since = filter.since ? sinceInstant(filter.since).getTime() : undefined;
  }

  add(r: FeedbackRecord): void {
    if (this.filter.serviceId !== undefined && r.serviceId !== this.filter.serviceId) return;
    if (this.since !== undefined && !(Date.parse(r.receivedAt) >= this.since)) return;
    const tag = readCardTag(r.card);
    const topic: ReportTopic = tag?.topic ?? 'unknown';
    const indicator: ReportIndicator = tag?.indicator ?? 'unknown';
    const key = `${r.serviceId}\u0000${topic}\u0000${indicator}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { serviceId: r.serviceId, topic, indicator, total: newTally(), weeks: new Map() };
      this.groups.set(key, g);
    }
    count(g.total, r);
    const when = actedAt(r);
    const week = when ? isoWeek(when) : 'unknown';
    let w = g.weeks.get(week);
    if (!w) {
      w = newTally();
      g.weeks.set(week, w);
    }
    count(w, r);
  }

  build(generatedAt?: string): FeedbackReport {
    const groups = [...this.groups.values()].sort(
      (a, b) =>
        (a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0) ||
        topicRank(a.topic) - topicRank(b.topic) ||
        indicatorRank(a.indicator) - indicatorRank(b.indicator),
    );
    const total = newTally();
    for (const g of groups) {
      total.answered += g.total.answered;
      total.accepted += g.total.accepted;
      total.overridden += g.total.overridden;
      total.comments += g.total.comments;
    }
    const { overrideReasons: _none, ...totals } = countsOf(total);
    return {
      generatedAt: generatedAt ?? null,
      filters: { since: this.filter.since ?? null, serviceId: this.filter.serviceId ?? null },
      weeks: WEEK_BASIS,
      totals,
      rows: groups.map((g) => ({
        serviceId: g.serviceId,
        topic: g.topic,
        indicator: g.indicator,
        ...countsOf(g.total),
        // `YYYY-Www` sorts as text; `unknown` after every week.
        weeks: [...g.weeks.entries()]
          .sort(([a], [b]) => (a === b ? 0 : a === 'unknown' ? 1 : b === 'unknown' ? -1 : a < b ? -1 : 1))
          .map(([week, t]) => ({ week, ...countsOf(t) })),
      })),
    };
  }
}

export function buildReport(
  records: Iterable<FeedbackRecord>,
  filter: ReportFilter = {},
  generatedAt?: string,
): FeedbackReport {
  const builder = new ReportBuilder(filter);
  for (const r of records) builder.add(r);
  return builder.build(generatedAt);
}

/** The report over a store, read a page at a time (the store filters too, so it reads less). */
export async function reportFromStore(
  store: Pick<FeedbackStore, 'scan'>,
  filter: ReportFilter = {},
  generatedAt?: string,
): Promise<FeedbackReport> {
  const builder = new ReportBuilder(filter);
  for await (const r of store.scan({
    ...(filter.serviceId !== undefined ? { serviceId: filter.serviceId } : {}),
    ...(filter.since !== undefined ? { since: sinceInstant(filter.since) } : {}),
  }))
    builder.add(r);
  return builder.build(generatedAt);
}

// --- Renderings ------------------------------------------------------------------------------------

export function formatJson(report: FeedbackReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The override reasons the cards offer, one CSV column each, in the cards' order. */
const KNOWN_REASON_COLUMNS = OVERRIDE_REASONS.map((r) => ({
  key: `${r.system}\u0000${r.code}`,
  header: `overridden_${r.code}`,
}));

/**
 * CSV (RFC 4180: https://www.rfc-editor.org/rfc/rfc4180), one flat table, CRLF line ends. One line
 * per service × topic × indicator with `week` = `all` (the totals of that row), followed by one line
 * per ISO week of it. Columns: service, topic, indicator, week, answered, accepted, overridden,
 * acceptance_rate, override_rate, comments; then overrides by reason: one column per code the cards
 * offer (`overridden_<code>`), `overridden_no-coded-reason`, `overridden_other-code` (any other
 * system or code), and `other_codes` naming those (`code (system): n; …`). The `overridden_*` columns
 * add up to `overridden`. Sum only the `all` lines (or only the week lines) to get totals.
 */
export function formatCsv(report: FeedbackReport): string {
  const header = [
    'service',
    'topic',
    'indicator',
    'week',
    'answered',
    'accepted',
    'overridden',
    'acceptance_rate',
    'override_rate',
    'comments',
    ...KNOWN_REASON_COLUMNS.map((c) => c.header),
    'overridden_no-coded-reason',
    'overridden_other-code',
    'other_codes',
  ];
  const line = (row: ReportRow, week: string, c: Counts) => {
    const byKey = new Map(c.overrideReasons.map((r) => [`${r.system ?? ''}\u0000${r.code ?? ''}`, r]));
    const other = c.overrideReasons.filter((r) => r.code !== null && !r.known);
    return [
      row.serviceId,
      row.topic,
      row.indicator,
      week,
      c.answered,
      c.accepted,
      c.overridden,
      c.acceptanceRate,
      c.overrideRate,
      c.comments,
      ...KNOWN_REASON_COLUMNS.map((k) => byKey.get(k.key)?.count ?? 0),
      c.overrideReasons.find((r) => r.code === null)?.count ?? 0,
      other.reduce((n, r) => n + r.count, 0),
      other.map((r) => `${r.display}: ${r.count}`).join('; '),
    ];
  };
  const lines: (string | number)[][] = [header];
  for (const row of report.rows) {
    lines.push(line(row, 'all', row));
    for (const w of row.weeks) lines.push(line(row, w.week, w));
  }
  return lines.map((cells) => `${cells.map(csvCell).join(',')}\r\n`).join('');
}

/**
 * One RFC 4180 field. Text a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a
 * leading apostrophe (https://owasp.org/www-community/attacks/CSV_Injection): codes and systems
 * come from CDS clients.
 */
function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Control and bidirectional characters from a CDS client never reach the terminal. */
function printable(text: string, max = 60): string {
  const clean = text.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, '?');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

const percent = (r: number, answered: number) => (answered ? `${Math.round(r * 100)}%` : '-');

/** Aligned columns, two spaces apart: headers ending in `>` (dropped) are right-aligned. */
function table(headers: string[], rows: (string | number)[][]): string[] {
  const right = headers.map((h) => h.endsWith('>'));
  const cells = [
    headers.map((h) => h.replace(/>$/, '')),
    ...rows.map((r) => r.map((c) => (typeof c === 'number' ? String(c) : printable(c)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** For a terminal: three aligned tables (cards answered, override reasons, weekly trend). */
export function formatTable(report: FeedbackReport): string {
  const filters = [
    report.filters.since ? `received since ${report.filters.since}` : 'all time',
    report.filters.serviceId ? `service ${report.filters.serviceId}` : 'all services',
  ].join(', ');
  const out = [
    'CDS Hooks feedback report',
    `Filters: ${filters}${report.generatedAt ? `. Generated ${report.generatedAt}` : ''}`,
    `Weeks: ${report.weeks}.`,
    '',
  ];
  if (report.rows.length === 0) return `${[...out, 'No feedback matches.'].join('\n')}\n`;
  const key = (r: ReportRow) => [r.serviceId, r.topic, r.indicator];
  const t = report.totals;
  out.push(
    'Cards answered',
    ...table(
      ['service', 'topic', 'indicator', 'answered>', 'accepted>', 'overridden>', 'accepted %>', 'comments>'],
      [
        ...report.rows.map((r) => [
          ...key(r),
          r.answered,
          r.accepted,
          r.overridden,
          percent(r.acceptanceRate, r.answered),
          r.comments,
        ]),
        [
          'total',
          '',
          '',
          t.answered,
          t.accepted,
          t.overridden,
          percent(t.acceptanceRate, t.answered),
          t.comments,
        ],
      ],
    ),
    '',
  );
  const reasons = report.rows.flatMap((r) =>
    r.overrideReasons.map((o) => [...key(r), o.display, o.code ?? '-', o.count]),
  );
  out.push(
    'Override reasons',
    ...(reasons.length
      ? table(['service', 'topic', 'indicator', 'reason', 'code', 'count>'], reasons)
      : ['(no overrides)']),
    '',
  );
  out.push(
    'Weekly trend',
    ...table(
      ['service', 'topic', 'indicator', 'week', 'answered>', 'accepted>', 'overridden>', 'accepted %>'],
      report.rows.flatMap((r) =>
        r.weeks.map((w) => [
          ...key(r),
          w.week,
          w.answered,
          w.accepted,
          w.overridden,
          percent(w.acceptanceRate, w.answered),
        ]),
      ),
    ),
  );
  return `${out.join('\n')}\n`;
}

export function formatReport(report: FeedbackReport, format: ReportFormat): string {
  return format === 'json' ? formatJson(report) : format === 'csv' ? formatCsv(report) : formatTable(report);
}

/** The HTTP content type of each rendering. */
export const REPORT_CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  table: 'text/plain; charset=utf-8',
};
