/**
 * The governance report, pure: rows per service × topic × indicator (from the card uuid), override
 * reasons by system and code with the cards' display, comments counted, ISO weeks by when the
 * clinician acted; filters; and its three renderings (CSV per RFC 4180, an aligned table, JSON).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Topic } from '../../../../cds-hooks/cards/card-kit.ts';
import { OVERRIDE_REASONS, OVERRIDE_SYSTEM, stableUuid } from '../../../../cds-hooks/cards/card-kit.ts';
import { type Indicator, tagCardUuid } from '../../../../cds-hooks/cards/card-tag.ts';
import type { FeedbackRecord } from '../../../../cds-hooks/feedback/index.ts';
import {
  buildReport,
  formatCsv,
  formatJson,
  formatTable,
  isoWeek,
  ReportQuery,
} from '../../../../cds-hooks/feedback/report.ts';
import { csvObjects } from '../../../support/csv.ts';

const PV = 'alk-ros1-patient-view';
const OS = 'alk-ros1-order-select';
const card = (topic: Topic, indicator: Indicator) => tagCardUuid(stableUuid(randomUUID()), topic, indicator);
const reason = (code: string, extra: Partial<FeedbackRecord['overrideReason']> = {}) => ({
  system: OVERRIDE_SYSTEM,
  code,
  ...extra,
});

function fb(over: Partial<FeedbackRecord> & Pick<FeedbackRecord, 'card'>): FeedbackRecord {
  return {
    serviceId: PV,
    outcome: 'accepted',
    acceptedSuggestions: ['s1'],
    outcomeTimestamp: '2026-11-18T10:00:00Z', // Wednesday of 2026-W47
    receivedAt: '2026-11-18T10:00:01Z',
    ...over,
  };
}

const therapy = card('therapy-selection', 'info');
const concordance = card('order-concordance', 'critical');
const records: FeedbackRecord[] = [
  fb({ card: therapy }),
  fb({ card: therapy, outcomeTimestamp: '2026-11-24T08:00:00+01:00' }), // 2026-W48
  fb({
    card: therapy,
    outcome: 'overridden',
    acceptedSuggestions: [],
    overrideReason: reason('patient-preference', { userComment: 'wants to wait' }),
  }),
  fb({
    card: concordance,
    serviceId: OS,
    outcome: 'overridden',
    overrideReason: reason('clinical-judgement'),
  }),
  fb({
    card: concordance,
    serviceId: OS,
    outcome: 'overridden',
    // Not one of ours: shown as its code and system.
    overrideReason: { system: 'urn:other-ehr:reasons', code: 'other', display: 'Other' },
    outcomeTimestamp: '2026-11-25T10:00:00Z',
  }),
  fb({
    card: concordance,
    serviceId: OS,
    outcome: 'overridden',
    // Our code under another system is not our code (system + code, never code alone).
    overrideReason: { system: 'urn:other', code: 'clinical-judgement', userComment: '  ' },
  }),
  fb({
    card: concordance,
    serviceId: OS,
    outcome: 'overridden',
    overrideReason: { userComment: 'see note' },
    outcomeTimestamp: 'yesterday', // does not parse: its week is by receivedAt
    receivedAt: '2026-11-30T09:00:00Z',
  }),
  // A card uuid from before tagging (version 5), and one that is not even a uuid.
  fb({ card: stableUuid('legacy'), outcome: 'overridden', overrideReason: reason('clinical-trial') }),
  fb({ card: 'card-1' }),
];

describe('buildReport', () => {
  const report = buildReport(records, {}, '2026-12-01T00:00:00.000Z');
  const row = (serviceId: string, topic: string, indicator: string) =>
    report.rows.find((r) => r.serviceId === serviceId && r.topic === topic && r.indicator === indicator);

  it('one row per service × topic × indicator, in service, topic-table and severity order', () => {
    expect(report.rows.map((r) => [r.serviceId, r.topic, r.indicator])).toEqual([
      [OS, 'order-concordance', 'critical'],
      [PV, 'therapy-selection', 'info'],
      [PV, 'unknown', 'unknown'],
    ]);
    expect(report.totals).toEqual({
      answered: 9,
      accepted: 3,
      overridden: 6,
      acceptanceRate: 0.3333,
      overrideRate: 0.6667,
      comments: 2,
    });
  });

  it('counts answered, accepted, overridden, rates and comments', () => {
    expect(row(PV, 'therapy-selection', 'info')).toMatchObject({
      answered: 3,
      accepted: 2,
      overridden: 1,
      acceptanceRate: 0.6667,
      overrideRate: 0.3333,
      comments: 1,
    });
    // A comment of spaces is no comment.
    expect(row(OS, 'order-concordance', 'critical')).toMatchObject({
      answered: 4,
      overridden: 4,
      comments: 1,
    });
    expect(row(PV, 'unknown', 'unknown')).toMatchObject({ answered: 2, accepted: 1, overridden: 1 });
  });

  it('override reasons by system and code: ours with the card display, others as code (system)', () => {
    const display = (code: string) => OVERRIDE_REASONS.find((r) => r.code === code)?.display;
    expect(row(OS, 'order-concordance', 'critical')?.overrideReasons).toEqual([
      {
        system: OVERRIDE_SYSTEM,
        code: 'clinical-judgement',
        display: display('clinical-judgement'),
        known: true,
        count: 1,
      },
      {
        system: 'urn:other',
        code: 'clinical-judgement',
        display: 'clinical-judgement (urn:other)',
        known: false,
        count: 1,
      },
      {
        system: 'urn:other-ehr:reasons',
        code: 'other',
        display: 'other (urn:other-ehr:reasons)',
        known: false,
        count: 1,
      },
      { system: null, code: null, display: 'no coded reason (comment or nothing)', known: false, count: 1 },
    ]);
    for (const r of report.rows)
      expect(
        r.overrideReasons.reduce((n, x) => n + x.count, 0),
        r.topic,
      ).toBe(r.overridden);
  });

  it('weekly trend by ISO week of outcomeTimestamp (in UTC), else receivedAt', () => {
    expect(
      row(PV, 'therapy-selection', 'info')?.weeks.map((w) => [w.week, w.answered, w.accepted, w.overridden]),
    ).toEqual([
      ['2026-W47', 2, 1, 1],
      ['2026-W48', 1, 1, 0],
    ]);
    expect(row(OS, 'order-concordance', 'critical')?.weeks.map((w) => [w.week, w.answered])).toEqual([
      ['2026-W47', 2],
      ['2026-W48', 1],
      ['2026-W49', 1],
    ]);
  });

  it('ISO weeks at year boundaries', () => {
    const w = (iso: string) => isoWeek(new Date(iso));
    expect(w('2026-01-01T00:00:00Z')).toBe('2026-W01'); // a Thursday
    expect(w('2025-12-29T00:00:00Z')).toBe('2026-W01'); // its Monday
    expect(w('2027-01-03T23:59:59Z')).toBe('2026-W53'); // 2026 has 53 weeks
    expect(w('2024-12-30T12:00:00Z')).toBe('2025-W01');
    expect(w('2021-01-03T12:00:00Z')).toBe('2020-W53');
    expect(w('2026-11-23T00:00:00Z')).toBe('2026-W48');
    expect(w('2026-11-22T23:59:59Z')).toBe('2026-W47');
  });

  it('filters by service and by the day the service received the feedback (UTC)', () => {
    const os = buildReport(records, { serviceId: OS });
    expect(os.rows.map((r) => r.serviceId)).toEqual([OS]);
    expect(os.filters).toEqual({ since: null, serviceId: OS });
    const late = buildReport(records, { since: '2026-11-30' });
    expect(late.totals.answered).toBe(1);
    expect(late.filters.since).toBe('2026-11-30');
    expect(buildReport(records, { since: '2026-12-01' }).rows).toEqual([]);
  });
});

describe('renderings', () => {
  const report = buildReport(records, {}, '2026-12-01T00:00:00.000Z');

  it('CSV: RFC 4180, a line per row (week "all") and per week, numbers that add up', () => {
    const csv = formatCsv(report);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csvObjects(csv);
    const all = lines.filter((l) => l.week === 'all');
    expect(all).toHaveLength(report.rows.length);
    for (const r of report.rows) {
      const total = all.find(
        (l) => l.service === r.serviceId && l.topic === r.topic && l.indicator === r.indicator,
      );
      expect(total).toMatchObject({
        answered: String(r.answered),
        accepted: String(r.accepted),
        overridden: String(r.overridden),
        acceptance_rate: String(r.acceptanceRate),
        comments: String(r.comments),
      });
      const weeks = lines.filter(
        (l) =>
          l.week !== 'all' && l.service === r.serviceId && l.topic === r.topic && l.indicator === r.indicator,
      );
      expect(weeks.map((l) => l.week)).toEqual(r.weeks.map((w) => w.week));
      expect(weeks.reduce((n, l) => n + Number(l.answered), 0)).toBe(r.answered);
      // The overridden_* columns add up to overridden.
      for (const l of [total ?? {}, ...weeks]) {
        const byReason = Object.entries(l)
          .filter(([k]) => k.startsWith('overridden_'))
          .reduce((n, [, v]) => n + Number(v), 0);
        expect(byReason).toBe(Number(l.overridden));
      }
    }
    const os = all.find((l) => l.service === OS);
    expect(os).toMatchObject({
      'overridden_clinical-judgement': '1',
      'overridden_no-coded-reason': '1',
      'overridden_other-code': '2',
      other_codes: 'clinical-judgement (urn:other): 1; other (urn:other-ehr:reasons): 1',
    });
  });

  it('CSV: quotes commas, quotes and line breaks; text a spreadsheet would run is defused', () => {
    const hostile = buildReport([
      fb({
        card: card('drug-interaction', 'warning'),
        outcome: 'overridden',
        overrideReason: { system: 'urn:x,"y"', code: '=HYPERLINK("http://evil")\r\nnext' },
      }),
    ]);
    const [line] = csvObjects(formatCsv(hostile));
    expect(line?.other_codes).toBe(`'=HYPERLINK("http://evil")\r\nnext (urn:x,"y"): 1`);
  });

  it('table: aligned columns, numbers right-aligned, a total line, no control characters', () => {
    const text = formatTable(report);
    expect(text).toContain('Filters: all time, all services. Generated 2026-12-01T00:00:00.000Z');
    const section = (title: string) => {
      const lines = text.split('\n');
      const start = lines.indexOf(title) + 1;
      const end = lines.indexOf('', start);
      return lines.slice(start, end === -1 ? undefined : end);
    };
    const cards = section('Cards answered');
    expect(cards).toHaveLength(1 + report.rows.length + 1);
    // Right-aligned numbers: every line of the table ends at the same column.
    expect(new Set(cards.map((l) => l.length)).size).toBe(1);
    expect(cards[0]).toMatch(
      /^service\s+topic\s+indicator\s+answered\s+accepted\s+overridden\s+accepted %\s+comments$/,
    );
    expect(cards.at(-1)).toMatch(/^total\s+9\s+3\s+6\s+33%\s+2$/);
    // Each column starts at the same offset on every line.
    const col = cards[0]?.indexOf('indicator') ?? -1;
    for (const l of cards.slice(1, -1)) expect(l.slice(col - 2, col)).toBe('  ');
    expect(
      section('Override reasons').some((l) => /other \(urn:other-ehr:reasons\)\s+other\s+1$/.test(l)),
    ).toBe(true);
    expect(
      section('Weekly trend').some((l) =>
        /^alk-ros1-order-select\s+order-concordance\s+critical\s+2026-W49\s+1\s+0\s+1\s+0%$/.test(l),
      ),
    ).toBe(true);
    const hostile = formatTable(
      buildReport([
        fb({
          card: card('local-therapy', 'info'),
          outcome: 'overridden',
          overrideReason: { system: 'urn:x', code: 'a\u001b[31mred\u202e' },
        }),
      ]),
    );
    expect(hostile.includes('\u001b') || hostile.includes('\u202e')).toBe(false);
    expect(hostile).toContain('a?[31mred?');
  });

  it('table: says so when nothing matches', () => {
    expect(formatTable(buildReport([]))).toMatch(/No feedback matches\.\n$/);
  });

  it('JSON: the report as built, no comment text', () => {
    const json = formatJson(report);
    expect(JSON.parse(json)).toEqual(report);
    expect(json).not.toContain('wants to wait');
    expect(formatCsv(report) + formatTable(report)).not.toContain('wants to wait');
  });
});

describe('ReportQuery', () => {
  it('takes format, since (a real date) and service; refuses anything else', () => {
    expect(ReportQuery.parse({ format: 'csv', since: '2028-02-29', service: OS })).toEqual({
      format: 'csv',
      since: '2028-02-29',
      service: OS,
    });
    for (const bad of [
      { format: 'xml' },
      { since: '2026-02-30' },
      { since: '01/11/2026' },
      { service: '../etc' },
      { servce: OS },
    ])
      expect(ReportQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
