/**
 * Bad input suite for the CDS Hooks service (issue 6): fast-check properties against the app
 * in-process (`app.request`), fixed seed, bounded runs. Bodies that are not JSON, valid requests with
 * mutated fields, prefetch holding invalid FHIR, and hostile text in display fields. Every answer is
 * a 2xx with conforming cards or a 4xx OperationOutcome; never a 5xx, a hang or a throw; text from the
 * record reaches card markdown only escaped. The number of generated cases is printed at the end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../cds-hooks/app.ts';
import { type FeedbackStore, openFeedbackStore } from '../../cds-hooks/feedback/index.ts';
import { fetchRequirements } from '../../cds-hooks/fhir-fetch.ts';
import { createLogger } from '../../cds-hooks/log.ts';
import { type Card, CdsResponse } from '../../cds-hooks/schemas.ts';
import { type DataRequirement, dataRequirements } from '../../src/fhir/queries.ts';
import { getKnowledge } from '../../src/knowledge/index.ts';
import {
  daysAgo,
  draftMedicationRequest,
  medicationRequest,
  NOW,
  ros1BrainMetsRecord,
} from '../fixtures/cds/records.ts';
import { prefetchFor } from '../integration/cds-hooks/fhir-search.ts';

const SEED = 20261122;
const BASE = 'http://cds.fuzz.test';
const MAX_BODY = 1_000_000;
/** No single answer may take longer than this (in-process, 2 cores, under vitest). */
const MAX_MS = 2_000;
const kb = getKnowledge();
const PID = 'p-fuzz';
const SERVICES = {
  'patient-view': 'alk-ros1-patient-view',
  'order-select': 'alk-ros1-order-select',
  'order-sign': 'alk-ros1-order-sign',
} as const;
type HookName = keyof typeof SERVICES;
const HOOKS = Object.keys(SERVICES) as HookName[];
const PREFETCH_KEYS = dataRequirements(kb).map((r) => r.id);
const KB_URLS = new Set([...kb.evidence.values()].flatMap((e) => (e.url ? [e.url] : [])));

let feedback: FeedbackStore;
let app: ReturnType<typeof createApp>;
const counts: Record<string, number> = {};
const statuses: Record<number, number> = {};
let slowest = 0;

beforeAll(async () => {
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  app = createApp({
    kb,
    config: {
      publicBaseUrl: BASE,
      corsOrigins: [],
      appLaunchUrl: `${BASE}/launch.html`,
      formularyUnavailable: [],
      fhirTimeoutMs: 200,
      fhirDeadlineMs: 400,
      fhirMaxPages: 3,
      maxBodyBytes: MAX_BODY,
    },
    verifier: null,
    feedback,
    logger: createLogger('silent'),
    now: () => new Date(NOW),
    // Loopback only: a fuzzed fhirServer is never contacted; every fallback call fails at once.
    httpGet: async () => {
      throw new TypeError('fuzz: network disabled');
    },
  });
});

afterAll(async () => {
  await feedback?.close();
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `[fuzz] ${total} generated cases (${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}); statuses ${JSON.stringify(statuses)}; slowest answer ${slowest.toFixed(0)} ms`,
  );
});

// --- request and invariants ---------------------------------------------------------------------

interface Answer {
  status: number;
  text: string;
  body: unknown;
}

async function send(path: string, body: string, method = 'POST'): Promise<Answer> {
  const started = performance.now();
  const res = await app.request(`${BASE}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  slowest = Math.max(slowest, ms);
  statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  expect(ms, `${path} took ${ms.toFixed(0)} ms`).toBeLessThan(MAX_MS);
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed };
}

const isOutcome = (b: unknown) =>
  typeof b === 'object' &&
  b !== null &&
  (b as { resourceType?: unknown }).resourceType === 'OperationOutcome' &&
  Array.isArray((b as { issue?: unknown }).issue);

/** Markdown and summary text may carry record content only escaped. */
function expectSafeText(text: string, where: string) {
  // No raw angle bracket at all: no HTML tag and no `<javascript:…>` autolink can form.
  const raw = /</.exec(text);
  expect(
    raw,
    `${where}: raw "<" in …${text.slice(Math.max(0, (raw?.index ?? 0) - 60), (raw?.index ?? 0) + 60)}…`,
  ).toBeNull();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that none get through
  expect(text, where).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
  // Unescaped markdown links and images: only the knowledge base's own https sources.
  for (const m of text.matchAll(/(?<!\\)\]\(([^)\s]*)/g)) {
    const before = text.slice(0, m.index);
    expect(before.endsWith('\\'), where).toBe(false);
    expect(KB_URLS.has(m[1] ?? ''), `${where}: link to ${m[1]}`).toBe(true);
  }
  expect(text, where).not.toMatch(/(?<!\\)!\[/);
}

/** The invariants of every answer to a hook call. */
function expectHookAnswer(a: Answer, allowed: readonly number[] = [200, 400, 412, 413]) {
  expect(allowed, a.text.slice(0, 300)).toContain(a.status);
  if (a.status >= 400) {
    expect(isOutcome(a.body), a.text.slice(0, 300)).toBe(true);
    expect(a.text).not.toMatch(/at .*\.ts:\d+|node:internal/);
    return [] as Card[];
  }
  const parsed = CdsResponse.safeParse(a.body);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)?.slice(0, 500)).toBe(true);
  const cards = (a.body as { cards: Card[] }).cards;
  for (const c of cards) {
    expect(c.summary.length).toBeLessThan(140);
    expectSafeText(c.summary, `summary of ${c.source.topic.code}`);
    if (c.detail) expectSafeText(c.detail, `detail of ${c.source.topic.code}`);
    for (const s of c.suggestions ?? []) expectSafeText(s.label, 'suggestion label');
  }
  return cards;
}

// --- building blocks ----------------------------------------------------------------------------

const record = ros1BrainMetsRecord(PID);
const basePrefetch = prefetchFor(record, PID);
const drafts = (...rs: Record<string, unknown>[]) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: rs.map((resource) => ({ resource })),
});
const baseDrafts = [
  draftMedicationRequest(PID, 'd-alec', 'Alecensa 150 mg capsule', '1727455'),
  draftMedicationRequest(PID, 'd-criz', 'crizotinib 250 mg'),
  draftMedicationRequest(PID, 'd-pembro', 'pembrolizumab 200 mg IV'),
];

let instance = 0;
function validRequest(hook: HookName, prefetch: Record<string, unknown> = basePrefetch) {
  const context: Record<string, unknown> = { userId: 'Practitioner/onc-1', patientId: PID };
  if (hook !== 'patient-view') context.draftOrders = drafts(...baseDrafts);
  if (hook === 'order-select') context.selections = ['MedicationRequest/d-alec', 'MedicationRequest/d-criz'];
  return {
    hook,
    hookInstance: `fuzz-${++instance}`,
    context,
    prefetch: structuredClone(prefetch),
  } as Record<string, unknown>;
}

const deep = (levels: number, kind: 'object' | 'array'): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
};

const HOSTILE = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '<iframe src="javascript:alert(1)">',
  '[click me](javascript:alert(1))',
  '[ok](https://evil.example/phish)',
  '![pixel](https://evil.example/track.png)',
  '<a href="javascript:alert(1)">x</a>',
  '**bold** _it_ `code` # heading > quote | table |',
  '\u202Egnp.exe\u202C rifampin',
  'rifampin\u0000\u0007\u001b[31mred\u001b[0m',
  'line1\nline2\r\n- item\n\n<script>',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  '&lt;script&gt; &#60;script&#62;',
  '\\<script\\>',
  '<<script>script>alert(1)<</script>/script>',
  '[a]: javascript:alert(1)\n[b][a]',
  'vbscript:msgbox(1)',
] as const;

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc
    .tuple(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 20 }), fc.constantFrom(...HOSTILE))
    .map(([a, b, c]) => `${a}${b}${c}`),
  fc.constantFrom(...HOSTILE).map((h) => `${h} ${'x'.repeat(10_000)}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const oddDate = fc.oneof(
  fc.constantFrom(
    '2024-13-45',
    '',
    'yesterday',
    '2024',
    '2024-02',
    '2024-02-30T25:61:00Z',
    '0000-00-00',
    '9999-12-31T23:59:59Z',
    '-000001-01-01',
    '2026-11-21T10:00:00+99:00',
    'NaN',
    '1e10',
    daysAgo(3),
    daysAgo(-30),
  ),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.constant(null),
);

const oddNumber = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '', '5,2', '0x1F', ' 4.1 ', '<0.2', '>=1000'),
  fc.constantFrom(1e308, -1e308, 5e-324, -0, Number.MAX_SAFE_INTEGER + 2),
  fc.constant(null),
  fc.boolean(),
);

const oddUnit = fc.oneof(
  fc.constantFrom(
    'mmol//L',
    'mg/dL',
    '%',
    'ms',
    '',
    '{beats}/min',
    'mm[Hg',
    'µmol/L',
    'U/L/L',
    '10*3/uL',
    '   ',
  ),
  fc.string({ maxLength: 12 }),
  fc.integer(),
);

/** Codes the service reads (so garbage lands on the analytes it checks), plus unknown ones. */
const ANALYTE_CODINGS = [...kb.analytes.values()].flatMap((a) => a.codes);
const someCoding = fc.oneof(
  fc.constantFrom(...ANALYTE_CODINGS),
  fc.record(
    { system: fc.string({ maxLength: 10 }), code: fc.string({ maxLength: 10 }) },
    { requiredKeys: [] },
  ),
  fc.constantFrom('3084-1', 42, null, {}, []),
);

const codeableConcept = (text: fc.Arbitrary<unknown>) =>
  fc.oneof(
    fc.record(
      {
        coding: fc.oneof(fc.array(someCoding, { maxLength: 3 }), someCoding, fc.constant('LOINC')),
        text,
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );

const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** Observations that break FHIR in every way a server or interface engine has been seen to. */
const badObservation = (text: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      resourceType: fc.constant('Observation'),
      id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 }), fc.integer()),
      status: fc.constantFrom(
        'final',
        'amended',
        'entered-in-error',
        'cancelled',
        'preliminary',
        '',
        'FINAL',
        7,
      ),
      category: fc.oneof(
        fc.constant([{ coding: [{ system: OBS_CATEGORY, code: 'laboratory' }] }]),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      code: codeableConcept(text),
      subject: fc.oneof(
        fc.constant({ reference: `Patient/${PID}` }),
        fc.constant({ reference: 'Patient/someone-else' }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      effectiveDateTime: oddDate,
      issued: oddDate,
      effectivePeriod: fc.record({ start: oddDate, end: oddDate }, { requiredKeys: [] }),
      valueQuantity: fc.oneof(
        fc.record(
          { value: oddNumber, unit: oddUnit, code: oddUnit, system: fc.string(), comparator: fc.string() },
          { requiredKeys: [] },
        ),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      valueString: text,
      valueCodeableConcept: codeableConcept(text),
      valueBoolean: fc.jsonValue({ maxDepth: 0 }),
      valueInteger: oddNumber,
      valueRange: fc.jsonValue({ maxDepth: 2 }),
      referenceRange: fc.oneof(
        fc.array(
          fc.record({
            low: fc.record({ value: oddNumber, unit: oddUnit }),
            high: fc.record({ value: oddNumber }),
            text,
          }),
          { maxLength: 2 },
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      interpretation: codeableConcept(text),
      dataAbsentReason: codeableConcept(text),
      note: fc.array(fc.record({ text }), { maxLength: 2 }),
      component: fc.array(
        fc.record({
          code: codeableConcept(text),
          valueQuantity: fc.record({ value: oddNumber, unit: oddUnit }),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['resourceType'] },
  );

const badOther = (text: fc.Arbitrary<unknown>) =>
  fc.oneof(
    fc.record(
      {
        resourceType: fc.constant('Condition'),
        id: fc.string({ maxLength: 8 }),
        code: codeableConcept(text),
        clinicalStatus: codeableConcept(text),
        verificationStatus: codeableConcept(text),
        subject: fc.constant({ reference: `Patient/${PID}` }),
        onsetDateTime: oddDate,
        abatementDateTime: oddDate,
        stage: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['resourceType'] },
    ),
    fc.record(
      {
        resourceType: fc.constantFrom('MedicationRequest', 'MedicationStatement', 'MedicationAdministration'),
        id: fc.string({ maxLength: 8 }),
        status: fc.constantFrom('active', 'stopped', 'completed', '', 'draft', 3),
        medicationCodeableConcept: codeableConcept(text),
        medicationReference: fc.jsonValue({ maxDepth: 1 }),
        subject: fc.constant({ reference: `Patient/${PID}` }),
        authoredOn: oddDate,
        effectivePeriod: fc.record({ start: oddDate, end: oddDate }, { requiredKeys: [] }),
        statusReason: codeableConcept(text),
        dosageInstruction: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: ['resourceType'] },
    ),
    fc.record(
      {
        resourceType: fc.constant('DiagnosticReport'),
        id: fc.string({ maxLength: 8 }),
        status: fc.constantFrom('final', 'amended', ''),
        code: codeableConcept(text),
        conclusion: text,
        conclusionCode: fc.array(codeableConcept(text), { maxLength: 2 }),
        result: fc.jsonValue({ maxDepth: 2 }),
        effectiveDateTime: oddDate,
        subject: fc.constant({ reference: `Patient/${PID}` }),
      },
      { requiredKeys: ['resourceType'] },
    ),
    fc.record(
      {
        resourceType: fc.constant('Patient'),
        id: fc.constantFrom(PID, 'other', ''),
        birthDate: oddDate,
        gender: fc.oneof(
          fc.constantFrom('female', 'male', 'other', 'unknown', ''),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      },
      { requiredKeys: ['resourceType'] },
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );

const garbageEntry = (text: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: badObservation(text).map((resource) => ({ resource })) },
    { weight: 2, arbitrary: badOther(text).map((resource) => ({ resource })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, 1, 'entry', [], { resource: 'x' }, { resource: null }) },
  );

/** A prefetch value: a Bundle with garbage entries, a bare garbage resource, or not a resource at all. */
const garbagePrefetchValue = (text: fc.Arbitrary<unknown>) =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.array(garbageEntry(text), { maxLength: 8 }), fc.boolean())
        .map(([entry, keepReal]) => ({ entry, keepReal })),
    },
    { weight: 1, arbitrary: badObservation(text).map((r) => ({ bare: r })) },
    { weight: 1, arbitrary: badOther(text).map((r) => ({ bare: r })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { bare: { resourceType: 'Bundle', entry: 'nope' } },
        { bare: { resourceType: 'Bundle', entry: [null, 1, 'x', { resource: [] }] } },
        { bare: { resourceType: 'Bundle', link: 'x', entry: [{}] } },
        { bare: { resourceType: 'Bundle', link: [{ relation: 'next', url: 42 }] } },
        { bare: { resourceType: 42 } },
        { bare: { resourceType: 'OperationOutcome' } },
        { bare: [] },
        { bare: 'Bundle' },
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 500, max: 3000 }).map((n) => ({ noise: n })) },
  );

type GarbageSpec = { entry: unknown[]; keepReal: boolean } | { bare: unknown } | { noise: number };

function applyGarbage(prefetch: Record<string, unknown>, key: string, spec: GarbageSpec) {
  if ('bare' in spec) {
    prefetch[key] = spec.bare;
    return;
  }
  const current = prefetch[key] as { entry?: unknown[] } | null | undefined;
  const real = current && Array.isArray(current.entry) ? current.entry : [];
  if ('noise' in spec) {
    // Thousands of entries of noise around the real ones.
    const noise = Array.from({ length: spec.noise }, (_, i) =>
      i % 3 === 0
        ? { resource: { resourceType: 'Observation', id: `n${i}` } }
        : i % 3 === 1
          ? null
          : { x: i },
    );
    prefetch[key] = { resourceType: 'Bundle', type: 'searchset', entry: [...noise, ...real] };
    return;
  }
  prefetch[key] = {
    resourceType: 'Bundle',
    type: 'searchset',
    entry: [...(spec.keepReal ? real : []), ...spec.entry],
  };
}

// --- (a) bodies that are not a CDS request --------------------------------------------------------

const paths = fc.constantFrom(
  '/cds-services/alk-ros1-patient-view',
  '/cds-services/alk-ros1-order-select',
  '/cds-services/alk-ros1-order-sign',
  '/cds-services/alk-ros1-order-sign/feedback',
);

describe('bad input: bodies', () => {
  it('arbitrary strings and bytes as the body → 400 OperationOutcome, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.constantFrom(
            '',
            ' ',
            'null',
            '[]',
            '{}',
            '"x"',
            '{"hook":',
            '{"a":1}}',
            '\uFEFF{}',
            'NaN',
            '1e999',
          ),
        ),
        async (path, body) => {
          counts['a: strings'] = (counts['a: strings'] ?? 0) + 1;
          expectHookAnswer(await send(path, body), [200, 400]);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('arbitrary JSON values, and valid requests cut short → 4xx OperationOutcome or 200, never 5xx', async () => {
    const valid = JSON.stringify(validRequest('patient-view'));
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)),
          fc
            .integer({ min: 0, max: valid.length - 1 })
            .map((n) => `${valid.slice(0, n)}\u0000${valid.slice(n)}`),
        ),
        async (path, body) => {
          counts['a: json'] = (counts['a: json'] ?? 0) + 1;
          const a = await send(path, body);
          expectHookAnswer(a, path.endsWith('/feedback') ? [200, 400] : [200, 400, 412]);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('unknown paths and methods → 404 / 405 OperationOutcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 30 }).map((s) => `/cds-services/${encodeURIComponent(s)}`),
          fc.webPath(),
          fc.constantFrom('/cds-services/alk-ros1-patient-view', '/cds-services/x/feedback', '/cds-services'),
        ),
        fc.constantFrom('POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
        async (path, method) => {
          counts['a: paths'] = (counts['a: paths'] ?? 0) + 1;
          const a = await send(path, '{}', method);
          expect(a.status).toBeLessThan(500);
          if (a.status >= 400) expect(isOutcome(a.body), `${method} ${path}: ${a.text}`).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a body over the limit → 413 OperationOutcome, declared or streamed', async () => {
    const huge = JSON.stringify({ ...validRequest('patient-view'), pad: 'x'.repeat(MAX_BODY + 10) });
    const a = await send('/cds-services/alk-ros1-patient-view', huge);
    expect(a.status).toBe(413);
    expect(isOutcome(a.body)).toBe(true);
    const f = await send('/cds-services/alk-ros1-order-sign/feedback', huge);
    expect(f.status).toBe(413);
    counts['a: 413'] = (counts['a: 413'] ?? 0) + 2;
  });

  it('nesting 1,000 to 100,000 levels deep → 400 or 200, never a stack overflow into 500', async () => {
    for (const levels of [1_000, 10_000, 100_000]) {
      for (const kind of ['object', 'array'] as const) {
        const open = kind === 'array' ? '['.repeat(levels) : '{"a":'.repeat(levels);
        const close = kind === 'array' ? ']'.repeat(levels) : '}'.repeat(levels);
        const nested = `${open}1${close}`;
        expectHookAnswer(await send('/cds-services/alk-ros1-patient-view', nested), [400]);
        // The same nesting inside an otherwise valid request, in context and in prefetch.
        const req = JSON.stringify(validRequest('order-sign'));
        const inContext = req.replace('"context":{', `"context":{"deep":${nested},`);
        const inPrefetch = req.replace('"prefetch":{', `"prefetch":{"labs":${nested},`);
        const inDraft = req.replace('"draftOrders":{', `"draftOrders":{"deep":${nested},`);
        for (const body of [inContext, inPrefetch, inDraft]) {
          if (Buffer.byteLength(body) > MAX_BODY) continue;
          expectHookAnswer(await send('/cds-services/alk-ros1-order-sign', body));
        }
        counts['b: deep nesting'] = (counts['b: deep nesting'] ?? 0) + 4;
      }
    }
  });
});

// --- (b) valid requests with mutated fields -------------------------------------------------------

const REMOVE = Symbol('remove');
const MUTABLE_PATHS: string[][] = [
  ['hook'],
  ['hookInstance'],
  ['context'],
  ['context', 'userId'],
  ['context', 'patientId'],
  ['context', 'encounterId'],
  ['context', 'selections'],
  ['context', 'selections', '0'],
  ['context', 'draftOrders'],
  ['context', 'draftOrders', 'entry'],
  ['context', 'draftOrders', 'entry', '0'],
  ['context', 'draftOrders', 'entry', '0', 'resource'],
  ['context', 'draftOrders', 'entry', '0', 'resource', 'subject'],
  ['context', 'draftOrders', 'entry', '0', 'resource', 'medicationCodeableConcept'],
  ['context', 'draftOrders', 'entry', '0', 'resource', 'id'],
  ['fhirServer'],
  ['fhirAuthorization'],
  ['fhirAuthorization', 'access_token'],
  ['prefetch'],
  ['extra'],
  ['context', 'extra'],
  ...PREFETCH_KEYS.map((k) => ['prefetch', k]),
  ...PREFETCH_KEYS.map((k) => ['prefetch', k, 'entry']),
  ['prefetch', 'labs', 'entry', '0', 'resource', 'valueQuantity'],
  ['prefetch', 'labs', 'entry', '0', 'resource', 'code'],
  ['prefetch', 'patient', 'birthDate'],
];

const mutationValue = fc.oneof(
  { weight: 3, arbitrary: fc.constant<typeof REMOVE>(REMOVE) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, '', 0, -1, true, [], {}, 'Patient/', 'https://', 'http://127.0.0.1:1'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 1_000 }).map((n) => deep(n, 'object')) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 1_000 }).map((n) => deep(n, 'array')) },
  {
    weight: 1,
    arbitrary: fc.record({
      access_token: fc.string(),
      token_type: fc.constantFrom('Bearer', 'bearer', 'MAC'),
      expires_in: fc.integer(),
      scope: fc.string(),
      subject: fc.string(),
    }),
  },
);

function mutate(target: Record<string, unknown>, path: string[], value: unknown) {
  let node: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    const next = (node as Record<string, unknown>)[key];
    if (typeof next !== 'object' || next === null) {
      if (value === REMOVE) return;
      (node as Record<string, unknown>)[key] = {};
    }
    node = (node as Record<string, unknown>)[key];
  }
  const last = path.at(-1) as string;
  if (typeof node !== 'object' || node === null) return;
  if (value === REMOVE) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

describe('bad input: valid requests with mutated fields', () => {
  it('wrong types, missing fields, extra fields, huge strings, deep nesting → 2xx cards or 4xx OperationOutcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...HOOKS),
        fc.array(fc.tuple(fc.constantFrom(...MUTABLE_PATHS), mutationValue), { minLength: 1, maxLength: 3 }),
        async (hook, mutations) => {
          counts['b: mutations'] = (counts['b: mutations'] ?? 0) + 1;
          const req = validRequest(hook);
          for (const [path, value] of mutations) mutate(req, path, value);
          const body = JSON.stringify(req);
          expectHookAnswer(await send(`/cds-services/${SERVICES[hook]}`, body));
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('feedback with mutated fields → 200 or 400 OperationOutcome', async () => {
    const item = {
      card: 'c1',
      outcome: 'overridden',
      overrideReason: { reason: { system: 'urn:x', code: 'clinical-judgement' }, userComment: 'ok' },
      outcomeTimestamp: '2026-11-22T09:00:00Z',
    };
    const paths: string[][] = [
      ['feedback'],
      ['feedback', '0'],
      ['feedback', '0', 'card'],
      ['feedback', '0', 'outcome'],
      ['feedback', '0', 'acceptedSuggestions'],
      ['feedback', '0', 'overrideReason'],
      ['feedback', '0', 'overrideReason', 'userComment'],
      ['feedback', '0', 'outcomeTimestamp'],
      ['extra'],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...paths), mutationValue), { minLength: 1, maxLength: 2 }),
        async (mutations) => {
          counts['b: feedback'] = (counts['b: feedback'] ?? 0) + 1;
          const body = { feedback: [structuredClone(item)] } as Record<string, unknown>;
          for (const [path, value] of mutations) mutate(body, path, value);
          const a = await send('/cds-services/alk-ros1-order-sign/feedback', JSON.stringify(body));
          expect([200, 400, 413]).toContain(a.status);
          if (a.status !== 200) expect(isOutcome(a.body)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// --- (c) prefetch holding invalid FHIR, (d) hostile strings ------------------------------------------

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('rifampin', 'alectinib', 'ROS1 fusion detected'),
);

describe('bad input: invalid FHIR in prefetch', () => {
  it('observations without code, wrong value types, odd dates and units, noise, garbage Bundles → cards that conform', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...HOOKS),
        fc.array(fc.tuple(fc.constantFrom(...PREFETCH_KEYS), garbagePrefetchValue(anyText)), {
          minLength: 1,
          maxLength: 4,
        }),
        async (hook, garbage) => {
          counts['c: invalid FHIR'] = (counts['c: invalid FHIR'] ?? 0) + 1;
          const req = validRequest(hook);
          for (const [key, spec] of garbage) applyGarbage(req.prefetch as Record<string, unknown>, key, spec);
          const a = await send(`/cds-services/${SERVICES[hook]}`, JSON.stringify(req));
          // 412 only when a required key holds something that is not a resource (treated as absent).
          expectHookAnswer(a, [200, 412]);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });
});

describe('bad input: hostile strings in display fields', () => {
  it('script tags, markdown links and images, control characters, RTL overrides, 10k strings → escaped in every card', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...HOOKS),
        hostileString,
        fc.array(
          fc.tuple(
            fc.constantFrom(
              'labs',
              'cardiac-studies',
              'conditions',
              'reports',
              'biomarker-observations',
              'medication-requests',
            ),
            garbagePrefetchValue(hostileString),
          ),
          { maxLength: 2 },
        ),
        async (hook, text, garbage) => {
          counts['d: hostile'] = (counts['d: hostile'] ?? 0) + 1;
          // Hostile text where a clinician would read it: an unreadable lab value, a drug name of a
          // current medication (interaction cards) and of the draft order, a report conclusion.
          const prefetch = structuredClone(basePrefetch) as Record<string, any>;
          prefetch.labs.entry.push({
            resource: {
              resourceType: 'Observation',
              id: 'hostile-urate',
              status: 'final',
              category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory' }] }],
              code: { coding: [{ system: 'http://loinc.org', code: '3084-1', display: text }], text },
              subject: { reference: `Patient/${PID}` },
              effectiveDateTime: daysAgo(2),
              valueString: text,
            },
          });
          prefetch['medication-requests'].entry.push({
            resource: medicationRequest(PID, 'hostile-med', `rifampin ${text}`, undefined),
          });
          const req = validRequest(hook, prefetch);
          for (const [key, spec] of garbage) applyGarbage(req.prefetch as Record<string, unknown>, key, spec);
          if (hook !== 'patient-view') {
            const draft = draftMedicationRequest(PID, 'd-hostile', `${text} lorlatinib`);
            (req.context as any).draftOrders.entry.push({ resource: draft });
            if (hook === 'order-select') (req.context as any).selections.push('MedicationRequest/d-hostile');
          }
          const body = JSON.stringify(req);
          expectHookAnswer(await send(`/cds-services/${SERVICES[hook]}`, body), [200, 412, 413]);
        },
      ),
      { seed: SEED, numRuns: 600 },
    );
  });
});

// --- (e) feedback text, (f) URLs the fallback client is given ----------------------------------------

/** Any UTF-16 text: lone surrogates, NULs and other controls included. */
const anyUtf16 = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
  fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`),
);

describe('bad input: feedback text', () => {
  it('any text in any field → 200 with the text stored exactly, or 400 naming the field; never a 5xx', async () => {
    const fields = ['card', 'comment', 'code', 'suggestion'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), anyUtf16, async (field, text) => {
        counts['e: feedback text'] = (counts['e: feedback text'] ?? 0) + 1;
        const card = field === 'card' ? text : crypto.randomUUID();
        const accepted = field === 'suggestion';
        const item = {
          card,
          outcome: accepted ? 'accepted' : 'overridden',
          ...(accepted
            ? { acceptedSuggestions: [{ id: text }] }
            : {
                overrideReason: {
                  reason: { system: 'urn:x', code: field === 'code' ? text : 'clinical-judgement' },
                  userComment: field === 'comment' ? text : 'ok',
                },
              }),
          outcomeTimestamp: '2026-11-22T09:00:00Z',
        };
        const a = await send(
          '/cds-services/alk-ros1-order-sign/feedback',
          JSON.stringify({ feedback: [item] }),
        );
        expect([200, 400]).toContain(a.status);
        if (a.status === 400) {
          expect(isOutcome(a.body)).toBe(true);
          const paths = (a.body as { issue: { expression?: string[] }[] }).issue.flatMap(
            (i) => i.expression ?? [],
          );
          expect(paths.every((p) => p.startsWith('feedback.0.'))).toBe(true);
          return;
        }
        // Stored as sent: the text the clinician typed is what a reviewer reads.
        const stored = await feedback.list({ card, newestFirst: true, limit: 1 });
        const got = stored[0];
        // An empty comment is no comment.
        if (field === 'comment')
          expect(got?.overrideReason?.userComment).toBe(text === '' ? undefined : text);
        if (field === 'code') expect(got?.overrideReason?.code).toBe(text);
        if (field === 'suggestion') expect(got?.acceptedSuggestions).toEqual([text]);
        if (field === 'card') expect(got?.card).toBe(text);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('bad input: next links and fhirServer URLs (real loopback sockets)', () => {
  let ehr: Server;
  let foreign: Server;
  let ehrPort = 0;
  let foreignPort = 0;
  const ehrPaths: string[] = [];
  const foreignPaths: string[] = [];
  let nextLink = '';

  beforeAll(async () => {
    ehr = createServer((req, res) => {
      ehrPaths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'Bundle',
          type: 'searchset',
          entry: [],
          link: [{ relation: 'next', url: nextLink }],
        }),
      );
    });
    foreign = createServer((req, res) => {
      foreignPaths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
    });
    for (const s of [ehr, foreign]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    ehrPort = (ehr.address() as AddressInfo).port;
    foreignPort = (foreign.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of [ehr, foreign]) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  const labs = dataRequirements(kb).find((r) => r.id === 'labs') as DataRequirement;
  const fetchLabs = (fhirServer: string, publicTargetsOnly: boolean) =>
    fetchRequirements([labs], {
      fhirServer,
      accessToken: 'fuzz-token',
      patientId: PID,
      timeoutMs: 300,
      deadline: Date.now() + 600,
      maxPages: 3,
      ...(publicTargetsOnly ? { publicTargetsOnly: true } : {}),
    });

  /** Ways to spell "somewhere else" in a next link, from plain to disguised. */
  const elsewhere = (p: number) =>
    fc.oneof(
      fc.constantFrom(
        `http://127.0.0.1:${p}/fhir/Observation?page=2`,
        `//127.0.0.1:${p}/fhir/Observation`,
        `http://localhost:${p}/fhir/Observation`,
        `http://127.0.0.1:${ehrPort}@127.0.0.1:${p}/fhir/Observation`,
        `http:\\\\127.0.0.1:${p}\\fhir\\Observation`,
        `http://127.0.0.1:${ehrPort}/fhir/../admin?x=1`,
        `http://127.0.0.1:${ehrPort}/fhir/%2e%2e/admin`,
        `http://127.0.0.1:${ehrPort}/fhirx/Observation`,
        `/admin/export`,
        `../../admin`,
        'javascript:alert(1)',
        'file:///etc/passwd',
        `http://[::ffff:127.0.0.1]:${p}/fhir/Observation`,
        `http://0x7f.1:${p}/fhir/Observation`,
      ),
      fc
        .webUrl({ withQueryParameters: true })
        .map((u) => u.replace(/^(https?:\/\/)[^/?#]+/, `$1127.0.0.1:${p}`)),
      fc.string({ maxLength: 40 }),
    );

  it('a next link anywhere outside the FHIR base is never requested', async () => {
    await fc.assert(
      fc.asyncProperty(elsewhere(foreignPort), async (link) => {
        counts['f: next links'] = (counts['f: next links'] ?? 0) + 1;
        nextLink = link;
        ehrPaths.length = 0;
        const r = await fetchLabs(`http://127.0.0.1:${ehrPort}/fhir`, false);
        expect(foreignPaths).toEqual([]);
        for (const p of ehrPaths) expect(p.startsWith('/fhir/')).toBe(true);
        expect(r.gaps.length).toBeLessThanOrEqual(1);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('a fhirServer on loopback, however it is spelled, gets no request from an issuer without fhir_servers', async () => {
    const loopback = fc.constantFrom(
      `http://127.0.0.1:${foreignPort}/fhir`,
      `http://127.1:${foreignPort}/fhir`,
      `http://2130706433:${foreignPort}/fhir`,
      `http://0x7f000001:${foreignPort}/fhir`,
      `http://0177.0.0.1:${foreignPort}/fhir`,
      `http://localhost:${foreignPort}/fhir`,
      `http://LOCALHOST.:${foreignPort}/fhir`,
      `http://a.localhost:${foreignPort}/fhir`,
      `http://[::1]:${foreignPort}/fhir`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${foreignPort}/fhir`,
      `http://${hostname()}:${foreignPort}/fhir`,
    );
    await fc.assert(
      fc.asyncProperty(loopback, fc.webPath(), async (base, path) => {
        counts['f: fhirServer'] = (counts['f: fhirServer'] ?? 0) + 1;
        const r = await fetchLabs(`${base}${path}`, true);
        expect(foreignPaths).toEqual([]);
        expect(r.gaps.every((g) => g.reason === 'forbidden' || g.reason === 'error')).toBe(true);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
