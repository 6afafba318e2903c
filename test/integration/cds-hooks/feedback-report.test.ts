/**
 * The governance report over the wire. The real service (`cds-hooks/serve.ts` in its own process,
 * JWTs on, file-backed PGlite, ADMIN_TOKEN set) issues cards for patient-view and order-select;
 * feedback is posted for those cards (accepted, overridden for each kind of reason, with and
 * without comments, across two ISO weeks); then GET /admin/feedback-report answers, in JSON, CSV and
 * a table, exactly the counts computed here from the cards received and the feedback sent. Its
 * access rules: 404 without ADMIN_TOKEN, 401 without the token or with another, 400 for a bad
 * query, 503 with Retry-After when the store cannot be read. Then `npm run feedback-report`
 * (`node --import tsx scripts/feedback-report.ts`) reads the same data directory, and the same data
 * over PostgreSQL's wire protocol (DATABASE_URL), and gives the same report; a bad flag exits 2.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../cds-hooks/app.ts';
import { OVERRIDE_REASONS, OVERRIDE_SYSTEM, stableUuid } from '../../../cds-hooks/cards/card-kit.ts';
import { readCardTag } from '../../../cds-hooks/cards/card-tag.ts';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import type { FeedbackReport, ReportRow } from '../../../cds-hooks/feedback/report.ts';
import { createLogger } from '../../../cds-hooks/log.ts';
import type { Card } from '../../../cds-hooks/schemas.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import {
  alkNaiveRecord,
  draftMedicationRequest,
  medicationRequest,
  ros1BrainMetsRecord,
  ros1NaiveRecord,
  untestedRecord,
} from '../../fixtures/cds/records.ts';
import { type JwksServer, startJwksServer } from '../../fixtures/cds-jwt/jwks-server.ts';
import { jwksOf, makeKey, type TestKey } from '../../fixtures/cds-jwt/keys.ts';
import { SANDBOX_ISS, sandboxStyleToken } from '../../fixtures/cds-jwt/tokens.ts';
import { csvObjects } from '../../support/csv.ts';
import { freePort, ROOT, type ServeProcess, startServe } from '../../support/serve-process.ts';
import { prefetchFor } from './fhir-search.ts';

const TOKEN = 'admin-report-token-0123456789abcdef';
const PV = 'alk-ros1-patient-view';
const OS = 'alk-ros1-order-select';
/** Two ISO weeks: a Tuesday of 2026-W47 (UTC), and one of 2026-W48 written with an offset. */
const WEEKS = [
  { at: '2026-11-17T10:00:00Z', week: '2026-W47' },
  { at: '2026-11-24T15:30:00+02:00', week: '2026-W48' },
] as const;

let key: TestKey;
let jwks: JwksServer;
let tmp = '';
let dataDir = '';
let service: ServeProcess | undefined;

beforeAll(async () => {
  key = await makeKey('ES384');
  jwks = await startJwksServer();
  jwks.publish('/jwks.json', jwksOf(key));
  tmp = mkdtempSync(join(tmpdir(), 'cds-feedback-report-'));
  dataDir = join(tmp, 'db');
  service = await startServe(await freePort(), {
    CDS_TRUSTED_ISSUERS: JSON.stringify([{ iss: SANDBOX_ISS, jwks_url: jwks.url('/jwks.json') }]),
    FEEDBACK_DATA_DIR: dataDir,
    ADMIN_TOKEN: TOKEN,
  });
}, 60_000);

afterAll(async () => {
  service?.child.kill('SIGKILL');
  await jwks?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** POST with a JWT signed for exactly this URL, as a CDS client does. */
async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const url = `${service?.base}${path}`;
  const token = await sandboxStyleToken({ key, aud: url, nowSec: Math.floor(Date.now() / 1000) });
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** `token` null: no Authorization header. */
function report(query = '', token: string | null = TOKEN, base = service?.base) {
  return fetch(`${base}/admin/feedback-report${query}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

// --- The cards, and the feedback sent for them ---------------------------------------------------

interface Issued {
  serviceId: string;
  card: Card;
}

const drafts = (...rs: Record<string, unknown>[]) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: rs.map((resource) => ({ resource })),
});

/** Real cards: patient-view for four charts, order-select for two drafts. */
async function issueCards(): Promise<Issued[]> {
  const views: [string, Record<string, unknown>[]][] = [
    ['rep-alk', alkNaiveRecord('rep-alk')],
    ['rep-ros1', ros1BrainMetsRecord('rep-ros1')],
    ['rep-untested', untestedRecord('rep-untested')],
    [
      'rep-clari',
      [
        ...ros1NaiveRecord('rep-clari'),
        medicationRequest('rep-clari', 'clarithromycin', 'clarithromycin 500 MG Oral Tablet', '21212'),
      ],
    ],
  ];
  const orders: [string, Record<string, unknown>][] = [
    ['rep-os1', draftMedicationRequest('rep-os1', 'draft-alec', 'Alecensa 150 mg capsule', '1727455')],
    ['rep-os2', draftMedicationRequest('rep-os2', 'draft-criz', 'crizotinib')],
  ];
  const issued: Issued[] = [];
  for (const [pid, record] of views) {
    const res = await post(`/cds-services/${PV}`, {
      hook: 'patient-view',
      hookInstance: randomUUID(),
      context: { userId: 'Practitioner/onc-1', patientId: pid },
      prefetch: prefetchFor(record, pid),
    });
    expect(res.status).toBe(200);
    issued.push(...(res.body.cards as Card[]).map((card) => ({ serviceId: PV, card })));
  }
  for (const [pid, draft] of orders) {
    const res = await post(`/cds-services/${OS}`, {
      hook: 'order-select',
      hookInstance: randomUUID(),
      context: {
        userId: 'Practitioner/onc-1',
        patientId: pid,
        selections: [`MedicationRequest/${draft.id}`],
        draftOrders: drafts(draft),
      },
      prefetch: prefetchFor(ros1BrainMetsRecord(pid), pid),
    });
    expect(res.status).toBe(200);
    issued.push(...(res.body.cards as Card[]).map((card) => ({ serviceId: OS, card })));
  }
  return issued;
}

type OverrideReason = { reason?: { system: string; code: string; display?: string }; userComment?: string };

/** Every kind of override: each code the cards offer, a code of another system, a comment alone. */
const OVERRIDES: OverrideReason[] = [
  ...OVERRIDE_REASONS.map((r) => ({ reason: { system: r.system, code: r.code, display: r.display } })),
  { reason: { system: 'urn:other-ehr:override', code: 'other' }, userComment: 'none of the listed reasons' },
  { userComment: 'discussed at tumour board' },
  {
    reason: { system: OVERRIDE_SYSTEM, code: 'clinical-judgement' },
    userComment: 'benefit outweighs the risk',
  },
];

interface Sent {
  serviceId: string;
  topic: string;
  indicator: string;
  item: {
    card: string;
    outcome: 'accepted' | 'overridden';
    acceptedSuggestions?: { id: string }[];
    overrideReason?: OverrideReason;
    outcomeTimestamp: string;
  };
  week: string;
}

/**
 * Two answers per card, one in each week: the first accepts a suggestion when the card has any (every
 * other card), else overrides; the second overrides. Overrides take the kinds in turn.
 */
function planFeedback(issued: Issued[]): Sent[] {
  let k = 0;
  const override = (): Pick<Sent['item'], 'outcome' | 'overrideReason'> => ({
    outcome: 'overridden',
    overrideReason: OVERRIDES[k++ % OVERRIDES.length] as OverrideReason,
  });
  const sent: Sent[] = [];
  issued.forEach(({ serviceId, card }, i) => {
    const first = WEEKS[i % 2] as (typeof WEEKS)[number];
    const second = WEEKS[(i + 1) % 2] as (typeof WEEKS)[number];
    const suggestion = card.suggestions?.[0]?.uuid;
    const base = { serviceId, topic: card.source.topic.code, indicator: card.indicator };
    sent.push({
      ...base,
      week: first.week,
      item: {
        card: card.uuid,
        ...(suggestion && i % 2 === 0
          ? { outcome: 'accepted' as const, acceptedSuggestions: [{ id: suggestion }] }
          : override()),
        outcomeTimestamp: first.at,
      },
    });
    sent.push({
      ...base,
      week: second.week,
      item: { card: card.uuid, ...override(), outcomeTimestamp: second.at },
    });
  });
  // Cards from before uuids carried their tag (version 5), and another service's uuid.
  for (const card of [stableUuid('legacy-hook', PV, 'therapy-selection'), randomUUID()])
    sent.push({
      serviceId: PV,
      topic: 'unknown',
      indicator: 'unknown',
      week: WEEKS[0].week,
      item: { card, ...override(), outcomeTimestamp: WEEKS[0].at },
    });
  return sent;
}

/** What the report must say, from the feedback sent (the cards' own topic and indicator). */
interface Expected {
  answered: number;
  accepted: number;
  overridden: number;
  comments: number;
  reasons: Record<string, number>;
  weeks: Record<string, [number, number, number]>;
}

const rowKey = (serviceId: string, topic: string, indicator: string) => `${serviceId} ${topic} ${indicator}`;
const reasonKey = (system: string | null | undefined, code: string | null | undefined) =>
  code ? `${system}|${code}` : 'no coded reason';

function expectedRows(sent: Sent[]): Record<string, Expected> {
  const rows: Record<string, Expected> = {};
  for (const s of sent) {
    const key = rowKey(s.serviceId, s.topic, s.indicator);
    rows[key] ??= { answered: 0, accepted: 0, overridden: 0, comments: 0, reasons: {}, weeks: {} };
    const row = rows[key];
    const week = row.weeks[s.week] ?? [0, 0, 0];
    row.weeks[s.week] = week;
    row.answered++;
    week[0]++;
    if (s.item.outcome === 'accepted') {
      row.accepted++;
      week[1]++;
    } else {
      row.overridden++;
      week[2]++;
      const r = reasonKey(s.item.overrideReason?.reason?.system, s.item.overrideReason?.reason?.code);
      row.reasons[r] = (row.reasons[r] ?? 0) + 1;
    }
    if (s.item.overrideReason?.userComment) row.comments++;
  }
  return rows;
}

function actualRows(rows: ReportRow[]): Record<string, Expected> {
  return Object.fromEntries(
    rows.map((r) => [
      rowKey(r.serviceId, r.topic, r.indicator),
      {
        answered: r.answered,
        accepted: r.accepted,
        overridden: r.overridden,
        comments: r.comments,
        reasons: Object.fromEntries(r.overrideReasons.map((o) => [reasonKey(o.system, o.code), o.count])),
        weeks: Object.fromEntries(
          r.weeks.map((w) => [w.week, [w.answered, w.accepted, w.overridden] as [number, number, number]]),
        ),
      },
    ]),
  );
}

/** The same figures read back from the CSV's lines. */
function csvRows(csv: string): Record<string, Expected> {
  const rows: Record<string, Expected> = {};
  const lines = csvObjects(csv);
  for (const l of lines.filter((x) => x.week === 'all')) {
    const reasons: Record<string, number> = {};
    for (const r of OVERRIDE_REASONS) {
      const n = Number(l[`overridden_${r.code}`]);
      if (n) reasons[reasonKey(r.system, r.code)] = n;
    }
    if (Number(l['overridden_no-coded-reason']))
      reasons['no coded reason'] = Number(l['overridden_no-coded-reason']);
    // `code (system): n; …` for codes the cards do not offer.
    for (const part of (l.other_codes ?? '').split('; ').filter(Boolean)) {
      const m = /^(.*) \((.*)\): (\d+)$/.exec(part);
      if (m) reasons[reasonKey(m[2], m[1])] = Number(m[3]);
    }
    expect(
      Object.values(reasons).reduce((a, b) => a + b, 0),
      'overridden_other-code names its codes',
    ).toBe(Number(l.overridden));
    rows[rowKey(l.service ?? '', l.topic ?? '', l.indicator ?? '')] = {
      answered: Number(l.answered),
      accepted: Number(l.accepted),
      overridden: Number(l.overridden),
      comments: Number(l.comments),
      reasons,
      weeks: Object.fromEntries(
        lines
          .filter(
            (w) =>
              w.week !== 'all' &&
              w.service === l.service &&
              w.topic === l.topic &&
              w.indicator === l.indicator,
          )
          .map((w) => [w.week, [Number(w.answered), Number(w.accepted), Number(w.overridden)]]),
      ),
    };
  }
  return rows;
}

let issued: Issued[] = [];
let sent: Sent[] = [];
let expected: Record<string, Expected> = {};
let today = '';

describe('GET /admin/feedback-report on the running service', () => {
  beforeAll(async () => {
    today = new Date().toISOString().slice(0, 10);
    issued = await issueCards();
    sent = planFeedback(issued);
    expected = expectedRows(sent);
    for (const serviceId of [PV, OS]) {
      const items = sent.filter((s) => s.serviceId === serviceId).map((s) => s.item);
      for (let i = 0; i < items.length; i += 100) {
        const res = await post(`/cds-services/${serviceId}/feedback`, { feedback: items.slice(i, i + 100) });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }
  }, 60_000);

  it('the cards and feedback cover several topics and indicators and every kind of override', () => {
    const topics = new Set(issued.map((i) => i.card.source.topic.code));
    const indicators = new Set(issued.map((i) => i.card.indicator));
    expect(topics.size).toBeGreaterThanOrEqual(4);
    expect(indicators.size).toBeGreaterThanOrEqual(2);
    const used = new Set(sent.map((s) => JSON.stringify(s.item.overrideReason ?? null)));
    for (const kind of OVERRIDES) expect(used.has(JSON.stringify(kind)), JSON.stringify(kind)).toBe(true);
    expect(sent.some((s) => s.item.outcome === 'accepted')).toBe(true);
    // Every card the service sent carries its own topic and indicator in its uuid.
    for (const { card } of issued)
      expect(readCardTag(card.uuid)).toEqual({ topic: card.source.topic.code, indicator: card.indicator });
  });

  it('JSON (the default): per service, topic and indicator exactly what was sent, by week', async () => {
    const res = await report();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as FeedbackReport;
    expect(actualRows(body.rows)).toEqual(expected);
    expect(body.rows.find((r) => r.topic === 'unknown')).toMatchObject({
      serviceId: PV,
      indicator: 'unknown',
    });
    const sum = (f: (e: Expected) => number) => Object.values(expected).reduce((n, e) => n + f(e), 0);
    expect(body.totals).toMatchObject({
      answered: sent.length,
      accepted: sum((e) => e.accepted),
      overridden: sum((e) => e.overridden),
      comments: sum((e) => e.comments),
    });
    for (const row of body.rows) {
      expect(row.acceptanceRate).toBeCloseTo(row.accepted / row.answered, 4);
      for (const r of row.overrideReasons.filter((o) => o.known))
        expect(r.display).toBe(OVERRIDE_REASONS.find((o) => o.code === r.code)?.display);
    }
    // A code the cards do not offer is shown as its code and system.
    expect(body.rows.flatMap((r) => r.overrideReasons).map((o) => o.display)).toContain(
      'other (urn:other-ehr:override)',
    );
    // Comment text is counted, never reported.
    expect(JSON.stringify(body)).not.toContain('tumour board');
  });

  it('CSV parses back (RFC 4180) to the same numbers', async () => {
    const res = await report('?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csvRows(await res.text())).toEqual(expected);
  });

  it('table: plain text, a line per service, topic and indicator with its counts', async () => {
    const res = await report('?format=table');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const [key, e] of Object.entries(expected)) {
      const [svc, topic, indicator] = key.split(' ');
      const line = new RegExp(
        `^${svc}\\s+${topic}\\s+${indicator}\\s+${e.answered}\\s+${e.accepted}\\s+${e.overridden}\\s+\\d+%\\s+${e.comments}$`,
        'm',
      );
      expect(text).toMatch(line);
    }
  });

  it('filters: ?service= one service only; ?since= by the day received (UTC)', async () => {
    const os = (await (await report(`?service=${OS}`)).json()) as FeedbackReport;
    expect(actualRows(os.rows)).toEqual(
      Object.fromEntries(Object.entries(expected).filter(([k]) => k.startsWith(`${OS} `))),
    );
    const fromToday = (await (await report(`?since=${today}`)).json()) as FeedbackReport;
    expect(actualRows(fromToday.rows)).toEqual(expected);
    const future = (await (await report('?since=2099-01-01&format=json')).json()) as FeedbackReport;
    expect(future.rows).toEqual([]);
    expect(future.filters).toEqual({ since: '2099-01-01', serviceId: null });
  });

  it('401 without the bearer token or with another, and no figures', async () => {
    for (const token of [null, `${TOKEN}x`, TOKEN.slice(0, -1), '']) {
      const res = await report('', token);
      expect(res.status, String(token)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      const text = await res.text();
      expect(text).not.toMatch(/answered|therapy-selection/);
      expect(JSON.parse(text).resourceType).toBe('OperationOutcome');
    }
  });

  it('400 OperationOutcome for a bad query: since not a date, unknown format, unknown parameter', async () => {
    for (const query of [
      '?since=2026-13-01',
      '?since=yesterday',
      '?format=xml',
      '?servce=x',
      '?service=a%20b',
    ]) {
      const res = await report(query);
      expect(res.status, query).toBe(400);
      const body = await res.json();
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0].code).toBe('invalid');
      expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });
});

// --- Off without ADMIN_TOKEN; 503 when the store cannot be read ------------------------------------

async function inProcess(store: FeedbackStore, adminToken?: string) {
  const server = serve({
    fetch: (req) =>
      createApp({
        kb: getKnowledge(),
        config: {
          publicBaseUrl: 'http://127.0.0.1',
          corsOrigins: [],
          appLaunchUrl: 'http://127.0.0.1/app/launch.html',
          formularyUnavailable: [],
          fhirTimeoutMs: 1000,
          fhirDeadlineMs: 2000,
          fhirMaxPages: 5,
          ...(adminToken ? { adminToken } : {}),
        },
        verifier: null,
        feedback: store,
        logger: createLogger('silent'),
      }).fetch(req),
    port: 0,
    hostname: '127.0.0.1',
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('GET /admin/feedback-report: off, and store failures', () => {
  it('is off (404) unless ADMIN_TOKEN is set, whatever the token', async () => {
    const store = await openFeedbackStore({ dataDir: 'memory://' });
    const off = await inProcess(store);
    try {
      for (const token of [TOKEN, null]) {
        const res = await report('', token, off.base);
        expect(res.status).toBe(404);
        expect((await res.json()).resourceType).toBe('OperationOutcome');
      }
    } finally {
      await off.close();
      await store.close();
    }
  }, 30_000);

  it('503 with Retry-After (an OperationOutcome, no stack) when the store cannot be read', async () => {
    const store = await openFeedbackStore({ dataDir: 'memory://' });
    await store.close();
    const down = await inProcess(store, TOKEN);
    try {
      const res = await report('?format=csv', TOKEN, down.base);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const body = await res.json();
      expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
      expect(JSON.stringify(body)).not.toMatch(/stack|\.ts:\d+|FeedbackStoreError/);
    } finally {
      await down.close();
    }
  }, 30_000);
});

// --- npm run feedback-report ---------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  const { DATABASE_URL: _d, FEEDBACK_DATA_DIR: _f, ADMIN_TOKEN: _a, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/feedback-report.ts', ...args], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run feedback-report (scripts/feedback-report.ts) on the same store', () => {
  let viaHttp: FeedbackReport;
  let tableViaHttp = '';

  beforeAll(async () => {
    viaHttp = (await (await report()).json()) as FeedbackReport;
    tableViaHttp = await (await report('?format=table')).text();
    // The service writes its store while it runs: stop it, as an operator would.
    service?.child.kill('SIGTERM');
    await service?.exited;
  }, 30_000);

  it('--format json: the same report as the service gave, from FEEDBACK_DATA_DIR', async () => {
    const run = await runCli(['--format', 'json'], { FEEDBACK_DATA_DIR: dataDir });
    expect(run.stderr).toContain(`reading PGlite at ${dataDir}`);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as FeedbackReport;
    expect(actualRows(body.rows)).toEqual(expected);
    expect({ ...body, generatedAt: null }).toEqual({ ...viaHttp, generatedAt: null });
  }, 60_000);

  it('--format csv parses back to the same numbers; --service filters', async () => {
    const run = await runCli(['--format=csv', '--service', OS], { FEEDBACK_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    expect(csvRows(run.stdout)).toEqual(
      Object.fromEntries(Object.entries(expected).filter(([k]) => k.startsWith(`${OS} `))),
    );
  }, 60_000);

  it('the table by default, as the service renders it; --since a later day finds nothing', async () => {
    const run = await runCli([], { FEEDBACK_DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    // The same text but for the line with the time it was generated.
    const withoutFilters = (t: string) => t.replace(/^Filters:.*$/m, '');
    expect(withoutFilters(run.stdout)).toBe(withoutFilters(tableViaHttp));
    const later = await runCli(['--since', '2099-01-01', '--format', 'table'], {
      FEEDBACK_DATA_DIR: dataDir,
    });
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/No feedback matches\./);
  }, 60_000);

  it('reads PostgreSQL when DATABASE_URL is set (the same data, over the wire protocol)', async () => {
    const copy = join(tmp, 'pg');
    cpSync(dataDir, copy, { recursive: true });
    const db = new PGlite(copy);
    await db.waitReady;
    const socket = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 2 });
    await socket.start();
    try {
      const run = await runCli(['--format', 'json'], {
        DATABASE_URL: `postgres://postgres:postgres@${socket.getServerConn()}/postgres?sslmode=disable`,
        FEEDBACK_DATA_DIR: join(tmp, 'not-read'),
      });
      expect(run.stderr).toContain('reading PostgreSQL');
      expect(run.code).toBe(0);
      expect(actualRows((JSON.parse(run.stdout) as FeedbackReport).rows)).toEqual(expected);
    } finally {
      await socket.stop();
      await db.close();
    }
  }, 60_000);

  it('a bad flag: one line on stderr, nothing on stdout, exit 2', async () => {
    for (const args of [['--format', 'xml'], ['--since', '2026-02-30'], ['--bogus'], ['--since']]) {
      const run = await runCli(args, { FEEDBACK_DATA_DIR: dataDir });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(/^feedback-report: /);
    }
  }, 60_000);

  it('no store at FEEDBACK_DATA_DIR: says so and exits 1 (creates nothing)', async () => {
    const run = await runCli([], { FEEDBACK_DATA_DIR: join(tmp, 'missing') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no feedback store at .*missing/);
    expect(existsSync(join(tmp, 'missing'))).toBe(false);
  }, 30_000);
});
