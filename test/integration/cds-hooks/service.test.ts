/**
 * The CDS Hooks service in-process (`app.request`): discovery, the three hooks on realistic records,
 * each prefetch shape and the fallback to fhirServer (msw), 412, validation errors, feedback, and
 * the card rules of the contract. Authentication is covered in auth.test.ts.
 */
import { Writable } from 'node:stream';
import { Fhir, ParseConformance, Versions } from 'fhir';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../cds-hooks/app.ts';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../../cds-hooks/log.ts';
import { type Card, CdsResponse } from '../../../cds-hooks/schemas.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import {
  alkG1202rRecord,
  alkNaiveRecord,
  draftMedicationRequest,
  kidneyProblem,
  medicationRequest as medicationRequestFixture,
  NOW,
  ros1AfterTkiRecord,
  ros1BrainMetsRecord,
  ros1NaiveRecord,
  untestedRecord,
} from '../../fixtures/cds/records.ts';
import { type FhirServerLog, fhirServer, prefetchFor } from './fhir-search.ts';

const kb = getKnowledge();
const BASE = 'https://cds.example.test';
const EHR = 'https://ehr.example.test/fhir';
const fhirValidator = new Fhir(new ParseConformance(true, Versions.R4));
const msw = setupServer();
const logLines: string[] = [];
let feedback: FeedbackStore;

beforeAll(async () => {
  msw.listen({ onUnhandledRequest: 'error' });
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
});
afterEach(() => msw.resetHandlers());
afterAll(async () => {
  msw.close();
  await feedback.close();
});

function makeApp(overrides: { formularyUnavailable?: string[] } = {}) {
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return createApp({
    kb,
    config: {
      publicBaseUrl: BASE,
      corsOrigins: ['https://ehr.example.test'],
      appLaunchUrl: `${BASE}/launch.html`,
      formularyUnavailable: overrides.formularyUnavailable ?? [],
      fhirTimeoutMs: 1000,
      fhirDeadlineMs: 2000,
      fhirMaxPages: 5,
      maxBodyBytes: 200_000,
    },
    verifier: null,
    feedback,
    logger: createLogger('info', sink),
    now: () => new Date(NOW),
  });
}

let instance = 0;
function hookBody(
  hook: string,
  patientId: string,
  extra: Record<string, unknown> = {},
  context: Record<string, unknown> = {},
) {
  return {
    hook,
    hookInstance: `d1577c69-dfbe-44ad-ba6d-3e05e953b2${String(++instance).padStart(2, '0')}`,
    context: { userId: 'Practitioner/onc-1', patientId, ...context },
    ...extra,
  };
}

async function post(app: ReturnType<typeof makeApp>, path: string, body: unknown) {
  const res = await app.request(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const topic = (c: Card) => c.source.topic.code;

/** fhirAuthorization as an EHR sends it when the service is to read the record itself. */
const fhirAuthorization = (patient: string, token: string) => ({
  access_token: token,
  token_type: 'Bearer',
  expires_in: 300,
  scope: 'patient/*.read',
  subject: 'cds-service',
  patient,
});

/**
 * The detail lines a card gives one agent (`- **Lorlatinib**: …`, `- **Lorlatinib** \(class\): …`),
 * also where agents avoided for one reason share a line (`- **Brigatinib …**, **Ensartinib …**: …`).
 */
const agentLines = (card: Card | undefined, agent: string) =>
  (card?.detail ?? '')
    .split('\n')
    .filter((l) => l.startsWith('- **') && (l.split(': ')[0] ?? '').includes(`**${agent}`));

/** The therapy card's suggestions: the agent each would order, and its tier. */
const tiers = (card: Card | undefined) =>
  card?.suggestions?.map((s) => [
    (s.actions[0]?.resource as any)?.medicationCodeableConcept.text,
    s.extension?.['urn:alk-ros1-cds:preference'],
  ]);

/** Paths of null, "", [] or {} values: CDS Hooks 2.0 forbids them (except `cards: []`). */
function emptyValues(value: unknown, path: string): string[] {
  if (value === null || value === '') return [path];
  if (Array.isArray(value))
    return value.length === 0 && path !== 'cards'
      ? [path]
      : value.flatMap((v, i) => emptyValues(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.length === 0 ? [path] : entries.flatMap(([k, v]) => emptyValues(v, `${path}.${k}`));
  }
  return [];
}

/** Contract and CDS Hooks invariants every response must meet. */
function expectConformingCards(body: unknown, patientId: string) {
  const parsed = CdsResponse.safeParse(body);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  expect(emptyValues((body as { cards: unknown[] }).cards, 'cards')).toEqual([]);
  for (const card of (body as { cards: Card[] }).cards) {
    expect(card.summary.length).toBeLessThan(140);
    expect(card.source.topic.system).toBe('urn:alk-ros1-cds:topic');
    for (const s of card.suggestions ?? []) {
      for (const a of s.actions) {
        if (a.type === 'delete') continue;
        const resource = a.resource as Record<string, any>;
        const result = fhirValidator.validate(resource, { errorOnUnexpected: true });
        expect(
          result.messages.filter((m) => String(m.severity) === 'error'),
          JSON.stringify(resource),
        ).toEqual([]);
        expect(resource.subject).toEqual({ reference: `Patient/${patientId}` });
        expect(resource.status).toBe('draft');
        expect(resource.intent).toBe('order');
      }
    }
  }
}

describe('discovery', () => {
  it('lists the three contract services with CDS Hooks 2.0 prefetch templates', async () => {
    const res = await makeApp().request(`${BASE}/cds-services`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      services: {
        id: string;
        hook: string;
        title: string;
        description: string;
        prefetch: Record<string, string>;
      }[];
    };
    expect(doc.services.map((s) => [s.id, s.hook])).toEqual([
      ['alk-ros1-patient-view', 'patient-view'],
      ['alk-ros1-order-select', 'order-select'],
      ['alk-ros1-order-sign', 'order-sign'],
    ]);
    for (const s of doc.services) {
      expect(s.title.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(0);
      for (const template of Object.values(s.prefetch)) {
        const tokens = template.match(/\{\{[^}]*\}\}/g) ?? [];
        expect(
          tokens.every((t) => t === '{{context.patientId}}'),
          template,
        ).toBe(true);
        expect(template).not.toMatch(/_include|_revinclude|:contains|context\.draftOrders/);
      }
    }
  });
});

describe('patient-view', () => {
  it('ROS1+ with brain metastases → therapy-selection card (entrectinib, repotrectinib preferred), pre-therapy card, local-therapy card', async () => {
    const record = ros1BrainMetsRecord('p-ros1');
    const { status, body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'p-ros1', { prefetch: prefetchFor(record, 'p-ros1') }),
    );
    expect(status).toBe(200);
    expectConformingCards(body, 'p-ros1');
    const cards = body.cards as Card[];
    expect(cards.map(topic)).toEqual(['therapy-selection', 'pretherapy-checks', 'local-therapy']);

    const therapy = cards[0] as Card;
    expect(therapy.selectionBehavior).toBe('at-most-one');
    expect(
      therapy.suggestions?.map((s) => [
        (s.actions[0]?.resource as any)?.medicationCodeableConcept.text,
        s.extension?.['urn:alk-ros1-cds:preference'],
      ]),
    ).toEqual([
      ['entrectinib', 'preferred'],
      ['repotrectinib', 'preferred'],
      ['lorlatinib', 'other'],
      ['taletrectinib', 'other'],
    ]);
    // Two preferred agents: CDS Hooks allows at most one isRecommended, so none is set.
    expect(therapy.suggestions?.some((s) => s.isRecommended)).toBe(false);
    expect(therapy.detail).toMatch(/Crizotinib \(Xalkori\)\*\*: Crizotinib does not treat the brain/);
    expect(therapy.detail).toMatch(/Alectinib \(Alecensa\)\*\*: Alectinib does not work in ROS1/);
    expect(therapy.links?.[0]).toMatchObject({ type: 'smart', url: `${BASE}/launch.html` });

    const checks = cards[1] as Card;
    expect(checks.summary).toMatch(/^Before Entrectinib, Repotrectinib: missing: LVEF, Uric acid/);
    const orders = checks.suggestions?.flatMap((s) =>
      s.actions.map((a) => (a.resource as any).code.coding[0].code),
    );
    expect(orders).toEqual(['40701008', '3084-1']);
  });

  it('ALK+ with G1202R after alectinib → lorlatinib the single preferred agent, marked isRecommended', async () => {
    const record = alkG1202rRecord('p-alk');
    const { body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'p-alk', { prefetch: prefetchFor(record, 'p-alk') }),
    );
    expectConformingCards(body, 'p-alk');
    const therapy = (body.cards as Card[]).find((c) => topic(c) === 'therapy-selection');
    expect(
      therapy?.suggestions?.map((s) => [
        (s.actions[0]?.resource as any)?.medicationCodeableConcept.text,
        s.isRecommended ?? false,
      ]),
    ).toEqual([['lorlatinib', true]]);
    expect(
      (therapy?.suggestions?.[0]?.actions[0]?.resource as any)?.medicationCodeableConcept.coding,
    ).toEqual([
      { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '2103164', display: 'lorlatinib' },
    ]);
    expect(therapy?.summary).toMatch(/G1202R.*lorlatinib preferred/);
  });

  it('ROS1+ after progression on crizotinib, no resistance mutation on repeat NGS → repotrectinib and taletrectinib preferred; lorlatinib other with its "not with G2032R" note; crizotinib avoided', async () => {
    const pid = 'p-ros1-2l';
    const record = ros1AfterTkiRecord(pid, 'crizotinib');
    const { status, body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch: prefetchFor(record, pid) }),
    );
    expect(status).toBe(200);
    expectConformingCards(body, pid);
    const therapy = (body.cards as Card[]).find((c) => topic(c) === 'therapy-selection');
    expect(therapy?.summary).toMatch(/progression on crizotinib.*repotrectinib, taletrectinib preferred/);
    expect(tiers(therapy)).toEqual([
      ['repotrectinib', 'preferred'],
      ['taletrectinib', 'preferred'],
      ['lorlatinib', 'other'],
      ['entrectinib', 'other'],
    ]);
    expect(therapy?.suggestions?.some((s) => s.isRecommended)).toBe(false);
    // G2032R is not on file, so lorlatinib stays an option, with the warning to test for it first.
    expect(agentLines(therapy, 'Lorlatinib')).toEqual([
      expect.stringMatching(/Not with G2032R .*: test for resistance mutations first/),
    ]);
    expect(agentLines(therapy, 'Taletrectinib')).toEqual([expect.stringMatching(/active against G2032R/)]);
    expect(agentLines(therapy, 'Crizotinib')).toEqual([
      expect.stringMatching(/^- \*\*Crizotinib \(Xalkori\)\*\*: The disease progressed on this agent/),
    ]);
  });

  it('ROS1+ after progression on repotrectinib → taletrectinib the single preferred agent (isRecommended), lorlatinib other; repotrectinib not offered again', async () => {
    const pid = 'p-ros1-3l';
    const record = ros1AfterTkiRecord(pid, 'repotrectinib');
    const { status, body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch: prefetchFor(record, pid) }),
    );
    expect(status).toBe(200);
    expectConformingCards(body, pid);
    const therapy = (body.cards as Card[]).find((c) => topic(c) === 'therapy-selection');
    expect(therapy?.summary).toMatch(/progression on entrectinib or repotrectinib: taletrectinib preferred/);
    expect(tiers(therapy)).toEqual([
      ['taletrectinib', 'preferred'],
      ['lorlatinib', 'other'],
    ]);
    expect(therapy?.suggestions?.map((s) => s.isRecommended ?? false)).toEqual([true, false]);
    expect(agentLines(therapy, 'Repotrectinib')).toEqual([
      expect.stringMatching(/^- \*\*Repotrectinib \(Augtyro\)\*\*: The disease progressed on this agent/),
    ]);
  });

  it('untested stage IV adenocarcinoma → a biomarker-testing card creating an NGS ServiceRequest, and no drug suggested', async () => {
    const record = untestedRecord('p-new');
    const { body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'p-new', { prefetch: prefetchFor(record, 'p-new') }),
    );
    expectConformingCards(body, 'p-new');
    const cards = body.cards as Card[];
    expect(cards.map(topic)).toEqual(['biomarker-testing']);
    const sr = cards[0]?.suggestions?.[0]?.actions[0]?.resource as any;
    expect(sr.resourceType).toBe('ServiceRequest');
    expect(sr.code.text).toMatch(/NGS panel including ALK and ROS1/);
    expect(JSON.stringify(body)).not.toMatch(/MedicationRequest/);
  });

  it('a formulary without repotrectinib drops it and the card says why', async () => {
    const record = ros1BrainMetsRecord('p-form');
    const app = makeApp({ formularyUnavailable: ['repotrectinib'] });
    const { body } = await post(
      app,
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'p-form', { prefetch: prefetchFor(record, 'p-form') }),
    );
    const therapy = (body.cards as Card[])[0] as Card;
    expect(
      therapy.suggestions?.map((s) => (s.actions[0]?.resource as any)?.medicationCodeableConcept.text),
    ).toEqual(['entrectinib', 'lorlatinib', 'taletrectinib']);
    expect(therapy.suggestions?.[0]?.isRecommended).toBe(true);
    expect(therapy.detail).toMatch(/Repotrectinib \(Augtyro\) is not available at this site/);
  });

  it('the same hookInstance gives the same card and suggestion uuids; another hookInstance gives new ones', async () => {
    const record = ros1BrainMetsRecord('p-uuid');
    const app = makeApp();
    const req = hookBody('patient-view', 'p-uuid', { prefetch: prefetchFor(record, 'p-uuid') });
    const a = (await post(app, '/cds-services/alk-ros1-patient-view', req)).body.cards as Card[];
    const b = (await post(app, '/cds-services/alk-ros1-patient-view', req)).body.cards as Card[];
    const c = (
      await post(app, '/cds-services/alk-ros1-patient-view', {
        ...req,
        hookInstance: 'another-instance-0001',
      })
    ).body.cards as Card[];
    expect(b.map((x) => x.uuid)).toEqual(a.map((x) => x.uuid));
    expect(b[0]?.suggestions?.map((s) => s.uuid)).toEqual(a[0]?.suggestions?.map((s) => s.uuid));
    expect(c.map((x) => x.uuid).some((u) => a.map((x) => x.uuid).includes(u))).toBe(false);
  });
});

describe('current medications at patient-view: one interaction card per drug', () => {
  it('ALK+ TKI-naive patient on tacrolimus (named in text only, no RxNorm), no prefetch → one card: crizotinib and ceritinib raise its level, brigatinib and lorlatinib lower it; unverified label wording flagged where the label wording is not yet confirmed', async () => {
    const pid = 'p-tac-view';
    const record = [
      ...alkNaiveRecord(pid),
      medicationRequestFixture(pid, 'tacrolimus', 'tacrolimus 1 MG Oral Capsule', undefined, { start: 400 }),
    ];
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const { status, body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, {
        fhirServer: EHR,
        fhirAuthorization: fhirAuthorization(pid, 'tok-tac-view'),
      }),
    );
    expect(status).toBe(200);
    expectConformingCards(body, pid);
    expect(log.requests.length).toBeGreaterThan(0);

    const ix = (body.cards as Card[]).filter((c) => topic(c) === 'drug-interaction');
    expect(ix).toHaveLength(1);
    const card = ix[0];
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toMatch(/^tacrolimus 1 MG Oral Capsule: caution with /);
    // Every candidate TKI whose label acts on CYP3A substrates, each once; alectinib and ensartinib do not.
    expect(
      card?.summary
        .replace(/^.*caution with /, '')
        .split(', ')
        .sort(),
    ).toEqual(['Brigatinib', 'Ceritinib', 'Crizotinib', 'Lorlatinib']);
    expect(agentLines(card, 'Crizotinib')).toEqual([
      expect.stringMatching(/moderate CYP3A inhibitor .*: the level of this drug rises\.[^*]*$/),
    ]);
    // Confirmed against the label (avoid, or lower the substrate's dose): no longer flagged.
    expect(agentLines(card, 'Ceritinib')).toEqual([
      expect.stringMatching(/strong CYP3A inhibitor: the level of this drug rises[^*]*$/),
    ]);
    expect(agentLines(card, 'Brigatinib')).toEqual([
      expect.stringMatching(/induces CYP3A: the level of this drug may fall.*label wording not verified/),
    ]);
    expect(agentLines(card, 'Lorlatinib')).toEqual([
      expect.stringMatching(/moderate CYP3A inducer: the level of this drug falls[^*]*$/),
    ]);
    expect(agentLines(card, 'Alectinib')).toEqual([]);
    expect(agentLines(card, 'Ensartinib')).toEqual([]);
  });

  it("ROS1+ TKI-naive patient on efavirenz (reported), clarithromycin and diltiazem → three cards, each with every candidate TKI's label action for that drug", async () => {
    const pid = 'p-ros1-meds';
    const record = [
      ...ros1NaiveRecord(pid),
      // Reported by the patient (HIV clinic elsewhere): a MedicationStatement, brand name only.
      {
        resourceType: 'MedicationStatement',
        id: `${pid}-efavirenz`,
        status: 'active',
        medicationCodeableConcept: { text: 'Sustiva 600 MG Oral Tablet' },
        subject: { reference: `Patient/${pid}` },
        effectivePeriod: { start: new Date(Date.parse(NOW) - 900 * 86_400_000).toISOString() },
        dateAsserted: new Date(Date.parse(NOW) - 14 * 86_400_000).toISOString(),
        informationSource: { reference: `Patient/${pid}` },
      },
      medicationRequestFixture(pid, 'clarithromycin', 'clarithromycin 500 MG Oral Tablet', '21212', {
        start: 3,
      }),
      medicationRequestFixture(
        pid,
        'diltiazem',
        'Cardizem LA 120 MG 24HR Extended Release Oral Tablet',
        undefined,
        { start: 200 },
      ),
    ];
    const { status, body } = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch: prefetchFor(record, pid) }),
    );
    expect(status).toBe(200);
    expectConformingCards(body, pid);
    const ix = (body.cards as Card[]).filter((c) => topic(c) === 'drug-interaction');
    expect(ix).toHaveLength(3);
    const cardFor = (drug: RegExp) => ix.find((c) => drug.test(c.summary));

    const efavirenz = cardFor(/^Sustiva 600 MG/);
    expect(efavirenz?.indicator).toBe('warning');
    expect(agentLines(efavirenz, 'Entrectinib')).toEqual([
      expect.stringMatching(
        /moderate CYP3A inducer lowers the entrectinib level .*Avoid the combination.*label wording not verified/,
      ),
    ]);
    expect(agentLines(efavirenz, 'Taletrectinib')).toEqual([
      expect.stringMatching(
        /moderate CYP3A inducer lowers the taletrectinib level .*Avoid the combination.*label wording not verified/,
      ),
    ]);
    expect(agentLines(efavirenz, 'Lorlatinib')).toEqual([
      expect.stringMatching(/increase lorlatinib to 125 mg once daily .* and monitor liver tests/),
    ]);
    expect(agentLines(efavirenz, 'Repotrectinib')).toEqual([
      expect.stringMatching(/Avoid moderate CYP3A inducers/),
    ]);
    // The crizotinib and ceritinib labels give no action for moderate inducers.
    expect(agentLines(efavirenz, 'Crizotinib')).toEqual([]);
    expect(agentLines(efavirenz, 'Ceritinib')).toEqual([]);

    // Clarithromycin is a strong CYP3A inhibitor and QT-prolonging: a line for each where the label acts.
    const clarithromycin = cardFor(/^clarithromycin 500 MG/);
    expect(clarithromycin?.indicator).toBe('warning');
    expect(agentLines(clarithromycin, 'Lorlatinib')).toEqual([
      expect.stringMatching(
        /100 mg to 75 mg once daily.*return to the previous dose after 3 to 5 of its half-lives/,
      ),
    ]);
    expect(agentLines(clarithromycin, 'Taletrectinib')).toEqual([
      expect.stringMatching(/strong CYP3A inhibitor\\\): .*raises its level/),
      expect.stringMatching(/QT-prolonging drug\\\): Taletrectinib prolongs QTc/),
    ]);
    // Two findings for one TKI (two classes) name it once in the headline, and every TKI fits.
    const named = (clarithromycin?.summary ?? '').replace(/^[^:]*: caution with /, '').split(', ');
    expect(named).toEqual([...new Set(named)]);
    expect(clarithromycin?.summary).toMatch(/Taletrectinib/);

    const diltiazem = cardFor(/^Cardizem LA 120 MG/);
    expect(diltiazem?.indicator).toBe('warning');
    expect(agentLines(diltiazem, 'Entrectinib')).toEqual([
      expect.stringMatching(/reduce entrectinib to 200 mg once daily/),
    ]);
    expect(agentLines(diltiazem, 'Crizotinib')).toEqual([expect.stringMatching(/causes bradycardia/)]);
    // Lorlatinib is neither raised by a moderate inhibitor per its label nor bradycardic.
    expect(agentLines(diltiazem, 'Lorlatinib')).toEqual([]);
  });
});

describe('prefetch shapes and the fallback to fhirServer', () => {
  const pid = 'p-fb';
  const record = ros1BrainMetsRecord(pid);
  const summaries = (cards: Card[]) => cards.map((c) => [topic(c), c.summary, c.indicator]);

  it('full prefetch and no prefetch (fetched from fhirServer with the bearer token) give the same cards', async () => {
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const app = makeApp();
    const viaPrefetch = await post(
      app,
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch: prefetchFor(record, pid) }),
    );
    expect(log.requests).toHaveLength(0);
    const auth = {
      access_token: 'secret-token-abc',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'patient/*.read',
      subject: 'cds-service',
      patient: pid,
    };
    const viaFetch = await post(
      app,
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { fhirServer: EHR, fhirAuthorization: auth }),
    );
    expect(viaFetch.status).toBe(200);
    expect(summaries(viaFetch.body.cards)).toEqual(summaries(viaPrefetch.body.cards));
    expect(log.requests.length).toBe(12);
    expect(new Set(log.requests.map((r) => r.authorization))).toEqual(new Set(['Bearer secret-token-abc']));
    expect(logLines.join('')).not.toMatch(/secret-token-abc|p-fb/);
  });

  it('a key that is null means "no data": nothing is fetched for it', async () => {
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const prefetch = {
      ...prefetchFor(record, pid),
      'medication-statements': null,
      'medication-administrations': null,
    };
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch, fhirServer: EHR }),
    );
    expect(res.status).toBe(200);
    expect(log.requests).toHaveLength(0);
  });

  it('an absent key and an OperationOutcome key are fetched; the rest comes from prefetch', async () => {
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const prefetch: Record<string, unknown> = prefetchFor(record, pid);
    delete prefetch.labs;
    prefetch['cardiac-studies'] = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'timeout' }],
    };
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch, fhirServer: EHR }),
    );
    expect(res.status).toBe(200);
    expect(log.requests.map((r) => new URL(r.url).searchParams.get('code')?.split(',')[0])).toEqual(
      expect.arrayContaining(['http://loinc.org|3084-1', 'http://loinc.org|10230-1']),
    );
    expect(log.requests).toHaveLength(2);
  });

  it('a paged prefetch Bundle is fetched in full from fhirServer', async () => {
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const prefetch: Record<string, any> = prefetchFor(record, pid);
    prefetch.labs = { ...prefetch.labs, link: [{ relation: 'next', url: `${EHR}/Observation?page=2` }] };
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch, fhirServer: EHR }),
    );
    expect(res.status).toBe(200);
    expect(log.requests).toHaveLength(1);
  });

  it('no prefetch and no fhirServer → 412 with an OperationOutcome', async () => {
    const res = await post(makeApp(), '/cds-services/alk-ros1-patient-view', hookBody('patient-view', pid));
    expect(res.status).toBe(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].diagnostics).toMatch(/no fhirServer/);
  });

  it('fhirServer fails for every query → 412', async () => {
    msw.use(
      ...fhirServer(
        EHR,
        record,
        { requests: [] },
        {
          Patient: 500,
          Condition: 500,
          Observation: 500,
          DiagnosticReport: 500,
          MedicationRequest: 500,
          MedicationStatement: 500,
          MedicationAdministration: 500,
        },
      ),
    );
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'nobody', { fhirServer: EHR }),
    );
    expect(res.status).toBe(412);
  });

  it('Observation searches forbidden (403) → cards say "could not be checked", never missing or done', async () => {
    msw.use(...fhirServer(EHR, record, { requests: [] }, { Observation: 403 }));
    const prefetch: Record<string, unknown> = prefetchFor(record, pid);
    for (const key of [
      'labs',
      'vital-signs',
      'cardiac-studies',
      'biomarker-lab-observations',
      'disease-status',
    ])
      delete prefetch[key];
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch, fhirServer: EHR }),
    );
    expect(res.status).toBe(200);
    const checks = (res.body.cards as Card[]).find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.summary).toMatch(/could not be checked/);
    expect(checks?.summary).not.toMatch(/missing/);
  });
});

describe('results written as text', () => {
  it('an echo that says "30-35% (visual estimate)" is a reduced LVEF on the card, not an unreadable one', async () => {
    const pid = 'p-text-lvef';
    const record = [
      ...ros1BrainMetsRecord(pid),
      {
        resourceType: 'Observation',
        id: 'echo-text',
        status: 'final',
        category: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'imaging' },
            ],
          },
        ],
        code: {
          coding: [
            { system: 'http://loinc.org', code: '10230-1', display: 'Left ventricular Ejection fraction' },
          ],
        },
        subject: { reference: `Patient/${pid}` },
        effectiveDateTime: new Date(Date.parse(NOW) - 10 * 86_400_000).toISOString(),
        valueString: '30-35% (visual estimate)',
      },
    ];
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { prefetch: prefetchFor(record, pid) }),
    );
    expect(res.status).toBe(200);
    const checks = (res.body.cards as Card[]).find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.detail).toMatch(/LVEF[^.]*30 ?%/);
    expect(checks?.detail).not.toMatch(/could not be interpreted/);
    expect(checks?.indicator).not.toBe('info');
  });

  /** An echo or ECG result whose value is free text, as echo and ECG reports often arrive. */
  const textResult = (
    pid: string,
    id: string,
    coding: { code: string; display: string },
    category: string,
    status: string,
    valueString: string,
  ) => ({
    resourceType: 'Observation',
    id: `${pid}-${id}`,
    status,
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', ...coding }], text: coding.display },
    subject: { reference: `Patient/${pid}` },
    effectiveDateTime: new Date(Date.parse(NOW) - 6 * 86_400_000).toISOString(),
    valueString,
  });
  const echo = { code: '8806-2', display: 'Left ventricular Ejection fraction by 2D echo' };
  const qtc = { code: '8636-3', display: 'Q-T interval corrected' };

  it.each([
    {
      text: 'mildly reduced',
      outcome: 'LVEF needs review (no number to read), the echo offered again, never read as normal',
      record: (pid: string) => [
        ...ros1BrainMetsRecord(pid),
        textResult(pid, 'echo', echo, 'imaging', 'final', 'mildly reduced'),
      ],
      draft: undefined,
      summary: /^Before Entrectinib, Repotrectinib: could not be checked: LVEF; missing: Uric acid$/,
      line: /\*\*LVEF \(echocardiogram\): could not be checked\.\*\* LVEF on [\d-]+: the value could not be interpreted \\\("mildly reduced" has no number: needs review\\\)/,
      indicator: undefined,
      orders: ['40701008', '3084-1'],
    },
    {
      text: 'EF 35 to 40 %',
      outcome: 'LVEF read as 35 % (a range by its worse bound): abnormal, warning',
      record: (pid: string) => [
        ...ros1BrainMetsRecord(pid),
        textResult(pid, 'echo', echo, 'imaging', 'amended', 'EF 35 to 40 %'),
      ],
      draft: undefined,
      summary: /^Before Entrectinib, Repotrectinib: abnormal: LVEF; missing: Uric acid$/,
      line: /\*\*LVEF \(echocardiogram\): abnormal\.\*\* LVEF 35 % on [\d-]+ \\\(&lt; 50 %\\\)/,
      indicator: 'warning',
      orders: ['3084-1'],
    },
    {
      text: '470-510 ms',
      outcome: 'QTc read as 510 ms before crizotinib: abnormal, critical',
      record: (pid: string) => [
        ...alkNaiveRecord(pid, { omit: ['qtc'] }),
        textResult(pid, 'ecg-qtc', qtc, 'procedure', 'final', '470-510 ms'),
      ],
      draft: { name: 'crizotinib 250 MG Oral Capsule', rxnorm: '1148495' },
      summary: /^Before Crizotinib: abnormal: ECG: QTc$/,
      line: /\*\*ECG: QTc: abnormal\.\*\* QTc 510 ms on [\d-]+ \\\(≥ 500 ms\\\)/,
      indicator: 'critical',
      orders: [],
    },
  ])('a result written $text → $outcome', async (row) => {
    const pid = `p-text-${row.text.replace(/\W+/g, '-')}`;
    const record = row.record(pid);
    const draft = row.draft && draftMedicationRequest(pid, 'draft-text', row.draft.name, row.draft.rxnorm);
    const hook = draft ? 'order-select' : 'patient-view';
    const res = await post(
      makeApp(),
      `/cds-services/alk-ros1-${hook}`,
      hookBody(
        hook,
        pid,
        { prefetch: prefetchFor(record, pid) },
        draft
          ? {
              selections: [`MedicationRequest/${draft.id}`],
              draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
            }
          : {},
      ),
    );
    expect(res.status).toBe(200);
    expectConformingCards(res.body, pid);
    const checks = (res.body.cards as Card[]).find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.summary).toMatch(row.summary);
    expect(checks?.detail).toMatch(row.line);
    if (row.indicator) expect(checks?.indicator).toBe(row.indicator);
    // Only what is missing or unreadable is ordered; an abnormal result is not.
    expect(
      (checks?.suggestions ?? []).flatMap((s) =>
        s.actions.map((a) => (a.resource as any).code.coding[0].code),
      ),
    ).toEqual(row.orders);
  });
});

describe('heart rate from any source', () => {
  it('an ECG-reported rate of 48/min (category procedure, no vital sign) makes the heart-rate check abnormal, fetched from fhirServer', async () => {
    const pid = 'p-ecg-hr';
    const record = [
      ...alkNaiveRecord(pid, { omit: ['heart-rate'] }),
      {
        resourceType: 'Observation',
        id: `${pid}-ecg-rate`,
        status: 'final',
        category: [
          {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'procedure' },
            ],
          },
        ],
        code: {
          coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }],
          text: 'Ventricular rate (ECG)',
        },
        subject: { reference: `Patient/${pid}` },
        effectiveDateTime: new Date(Date.parse(NOW) - 3 * 86_400_000).toISOString(),
        valueQuantity: { value: 48, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
    ];
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const res = await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', pid, { fhirServer: EHR }),
    );
    expect(res.status).toBe(200);
    expect(log.requests.length).toBeGreaterThanOrEqual(12);
    const checks = (res.body.cards as Card[]).find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.detail).toMatch(/\*\*Heart rate: abnormal\.\*\* Heart rate 48 \/min/);
    expect(checks?.indicator).toBe('warning');
  });
});

describe('order-select and order-sign', () => {
  const pid = 'p-ord';
  const record = ros1BrainMetsRecord(pid);
  const drafts = (...rs: Record<string, unknown>[]) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: rs.map((resource) => ({ resource })),
  });

  /**
   * One draft order through the order hook: with prefetch, or (`viaFhirServer`) with none, the
   * service reading `record` from fhirServer (msw) with a bearer token. Checks the response
   * conforms and returns its cards.
   */
  async function selectDraft(
    pid: string,
    record: Record<string, unknown>[],
    draft: Record<string, unknown>,
    hook: 'order-select' | 'order-sign' = 'order-select',
    opts: { viaFhirServer?: boolean; fail?: Record<string, number> } = {},
  ): Promise<Card[]> {
    const log: FhirServerLog = { requests: [] };
    if (opts.viaFhirServer) msw.use(...fhirServer(EHR, record, log, opts.fail));
    const data = opts.viaFhirServer
      ? { fhirServer: EHR, fhirAuthorization: fhirAuthorization(pid, `tok-${pid}`) }
      : { prefetch: prefetchFor(record, pid) };
    const context =
      hook === 'order-select'
        ? { selections: [`MedicationRequest/${draft.id}`], draftOrders: drafts(draft) }
        : { draftOrders: drafts(draft) };
    const res = await post(makeApp(), `/cds-services/alk-ros1-${hook}`, hookBody(hook, pid, data, context));
    expect(res.status).toBe(200);
    expectConformingCards(res.body, pid);
    // Without prefetch the record can only have come from fhirServer.
    if (opts.viaFhirServer) expect(log.requests.length).toBeGreaterThan(0);
    return res.body.cards as Card[];
  }

  it('alectinib selected for a ROS1+ patient → critical order-concordance card that offers to replace the draft', async () => {
    const draft = draftMedicationRequest(pid, 'draft-1', 'Alecensa 150 mg capsule', '1727455');
    const body = hookBody(
      'order-select',
      pid,
      { prefetch: prefetchFor(record, pid) },
      { selections: ['MedicationRequest/draft-1'], draftOrders: drafts(draft) },
    );
    const res = await post(makeApp(), '/cds-services/alk-ros1-order-select', body);
    expect(res.status).toBe(200);
    expectConformingCards(res.body, pid);
    const card = (res.body.cards as Card[]).find((c) => topic(c) === 'order-concordance');
    expect(card?.indicator).toBe('critical');
    expect(card?.summary).toMatch(/Alectinib does not work in ROS1\+ NSCLC/);
    expect(card?.selectionBehavior).toBe('at-most-one');
    // create first: a client that stops at the first action it can apply still swaps the draft.
    expect(card?.suggestions?.[0]?.actions).toEqual([
      expect.objectContaining({
        type: 'create',
        resource: expect.objectContaining({ medicationCodeableConcept: { text: 'entrectinib' } }),
      }),
      expect.objectContaining({ type: 'delete', resourceId: 'MedicationRequest/draft-1' }),
    ]);
    expect(card?.overrideReasons?.every((r) => r.display.length > 0)).toBe(true);
  });

  it('only selected drafts get new-order cards; a selection missing from draftOrders is ignored', async () => {
    const a = draftMedicationRequest(pid, 'draft-a', 'alectinib');
    const b = draftMedicationRequest(pid, 'draft-b', 'crizotinib');
    const body = hookBody(
      'order-select',
      pid,
      { prefetch: prefetchFor(record, pid) },
      { selections: ['MedicationRequest/draft-b', 'MedicationRequest/ghost'], draftOrders: drafts(a, b) },
    );
    const res = await post(makeApp(), '/cds-services/alk-ros1-order-select', body);
    expect(res.status).toBe(200);
    const summariesText = (res.body.cards as Card[]).map((c) => c.summary).join(' | ');
    expect(summariesText).toMatch(/Crizotinib has poor CNS penetration/);
    expect(summariesText).not.toMatch(/Alectinib/);
  });

  it('order-sign does not repeat a card shown at order-select for the same draft, but shows new ones', async () => {
    const app = makeApp();
    const draft = draftMedicationRequest(pid, 'draft-s', 'crizotinib');
    const select = hookBody(
      'order-select',
      pid,
      { prefetch: prefetchFor(record, pid) },
      { selections: ['MedicationRequest/draft-s'], draftOrders: drafts(draft) },
    );
    const first = await post(app, '/cds-services/alk-ros1-order-select', select);
    expect((first.body.cards as Card[]).some((c) => topic(c) === 'order-concordance')).toBe(true);
    const extra = draftMedicationRequest(pid, 'draft-p', 'pembrolizumab 200 mg IV');
    const sign = hookBody(
      'order-sign',
      pid,
      { prefetch: prefetchFor(record, pid) },
      { draftOrders: drafts(draft, extra) },
    );
    const second = await post(app, '/cds-services/alk-ros1-order-sign', sign);
    expect(second.status).toBe(200);
    const signed = second.body.cards as Card[];
    expect(signed.some((c) => /Crizotinib has poor CNS/.test(c.summary))).toBe(false);
    expect(signed.some((c) => /Immunotherapy is not recommended in ROS1\+/.test(c.summary))).toBe(true);
  });

  it('lorlatinib drafted for a patient on rifampin → critical drug-interaction card (contraindicated)', async () => {
    const alk = alkG1202rRecord('p-ix');
    alk.push(medicationRequestFixture('p-ix', 'rifampin', 'rifampin 600 MG Oral Capsule', undefined));
    const draft = draftMedicationRequest('p-ix', 'draft-l', 'lorlatinib 100 mg tablet', '2103164');
    const cards = await selectDraft('p-ix', alk, draft);
    const card = cards.find((c) => topic(c) === 'drug-interaction');
    expect(card?.indicator).toBe('critical');
    expect(card?.summary).toMatch(/Lorlatinib: interaction with rifampin/);
    expect(card?.detail).toMatch(/Contraindicated with strong CYP3A inducers/);
  });

  it('lorlatinib drafted for a patient on tacrolimus → warning: lorlatinib lowers the tacrolimus level', async () => {
    const alk = alkG1202rRecord('p-tac');
    alk.push(medicationRequestFixture('p-tac', 'tacrolimus', 'Prograf (tacrolimus) 1 mg capsule', undefined));
    const draft = draftMedicationRequest('p-tac', 'draft-t', 'lorlatinib 100 mg tablet', '2103164');
    const cards = await selectDraft('p-tac', alk, draft);
    const card = cards.find((c) => topic(c) === 'drug-interaction');
    expect(card?.indicator).toBe('warning');
    expect(card?.summary).toMatch(/Lorlatinib: interaction with Prograf \(tacrolimus\)/);
    expect(card?.detail).toMatch(/moderate CYP3A inducer: the level of this drug falls/);
  });

  it('taletrectinib drafted, no prefetch, omeprazole arriving as a medicationReference (Epic shape) → warning: acid reducers lower its absorption', async () => {
    const pid = 'p-ppi';
    const record = [
      ...ros1BrainMetsRecord(pid),
      {
        resourceType: 'Medication',
        id: `${pid}-med-omeprazole`,
        code: {
          coding: [
            { system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7646', display: 'omeprazole' },
          ],
          text: 'Omeprazole 20 MG Delayed Release Oral Capsule',
        },
      },
      {
        resourceType: 'MedicationRequest',
        id: `${pid}-mr-omeprazole`,
        status: 'active',
        intent: 'order',
        subject: { reference: `Patient/${pid}` },
        medicationReference: { reference: `Medication/${pid}-med-omeprazole` },
        authoredOn: new Date(Date.now() - 60 * 86_400_000).toISOString(),
      },
    ];
    const log: FhirServerLog = { requests: [] };
    msw.use(...fhirServer(EHR, record, log));
    const draft = draftMedicationRequest(
      pid,
      'draft-tal',
      'Ibtrozi (taletrectinib) 200 mg capsule',
      undefined,
    );
    const body = hookBody(
      'order-select',
      pid,
      {
        fhirServer: EHR,
        fhirAuthorization: {
          access_token: 'tok-ppi',
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'patient/*.read',
          subject: 'cds-service',
          patient: pid,
        },
      },
      { selections: ['MedicationRequest/draft-tal'], draftOrders: drafts(draft) },
    );
    const res = await post(makeApp(), '/cds-services/alk-ros1-order-select', body);
    expectConformingCards(res.body, pid);
    const card = (res.body.cards as Card[]).find((c) => topic(c) === 'drug-interaction');
    expect(card?.indicator).toBe('warning');
    expect(card?.detail).toMatch(/acid-reducing agent.*lower taletrectinib absorption/);
    expect(card?.detail).toMatch(/label wording not verified/);
    // The MedicationRequest names no drug itself: the warning proves the Medication was resolved.
    expect(card?.summary).toMatch(/Taletrectinib: interaction with Omeprazole 20 MG/);
  });

  it('brigatinib drafted for a patient on diltiazem → one interaction card with both problems: its level rises (dose about 40 % lower) and the heart slows', async () => {
    const alk = alkG1202rRecord('p-dil');
    alk.push(
      medicationRequestFixture(
        'p-dil',
        'diltiazem',
        'diltiazem HCl 120 MG 24HR Extended Release Oral Capsule',
        undefined,
      ),
    );
    const draft = draftMedicationRequest(
      'p-dil',
      'draft-b',
      'Alunbrig (brigatinib) 180 mg tablet',
      undefined,
    );
    const cards = await selectDraft('p-dil', alk, draft);
    const card = cards.find((c) => topic(c) === 'drug-interaction');
    expect(card?.indicator).toBe('warning');
    expect(card?.detail).toMatch(/moderate CYP3A inhibitor.*about 40 %/);
    expect(card?.detail).toMatch(/causes bradycardia/);
  });

  it('QTc exactly 500 ms, crizotinib (QT-prolonging) drafted for an ALK+ TKI-naive patient → critical pre-therapy card naming the QTc; alectinib drafted instead → the same QTc only a warning', async () => {
    const pid = 'p-qtc500';
    const record = alkNaiveRecord(pid, { qtc: 500 });
    const criz = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495'),
    );
    const checks = criz.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.indicator).toBe('critical');
    expect(checks?.summary).toBe('Before Crizotinib: abnormal: ECG: QTc');
    expect(checks?.detail).toMatch(/\*\*ECG: QTc: abnormal\.\*\* QTc 500 ms on [\d-]+ \\\(≥ 500 ms\\\)/);

    // Alectinib does not prolong QT: 500 ms is above the 470 ms warning bound, never critical.
    const alec = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-alec', 'Alecensa 150 MG Oral Capsule', undefined),
    );
    const alecChecks = alec.find((c) => topic(c) === 'pretherapy-checks');
    expect(alecChecks?.indicator).toBe('warning');
    expect(alecChecks?.summary).toBe('Before Alectinib: abnormal: ECG: QTc');
    expect(alecChecks?.detail).toMatch(/QTc 500 ms on [\d-]+ \\\(\\> 470 ms\\\)/);
    expect(alec.filter((c) => c.indicator === 'critical')).toEqual([]);
  });

  it('creatinine 380 µmol/L, 61 kg, woman of 65, CKD 4 on the problem list, crizotinib drafted → warning pre-therapy card: CrCl 13 mL/min by Cockcroft-Gault with its inputs, the CKD hint and the label dose (250 mg once daily)', async () => {
    const pid = 'p-renal';
    const record = [
      ...alkNaiveRecord(pid, { creatinineUmolL: 380, weightKg: 61 }),
      kidneyProblem(pid, 'ckd4'),
    ];
    const cards = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495'),
    );
    const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.indicator).toBe('warning');
    expect(checks?.summary).toBe('Before Crizotinib: abnormal: Renal function');
    expect(checks?.detail).toMatch(
      /Creatinine clearance \\\(Cockcroft-Gault\\\) 13 mL\/min \\\(Cockcroft-Gault: creatinine 4\.3 mg\/dL on [\d-]+, age 65, female, weight 61 kg on [\d-]+\\\)/,
    );
    expect(checks?.detail).toMatch(/Problem list: CKD stage 4 \\\(a hint/);
    // Markdown escapes "<" as "&lt;", which renders as "<".
    expect(checks?.detail).toMatch(
      /Dose per label \(Crizotinib\): CrCl &lt; 30 mL\/min \(Cockcroft-Gault\) not requiring dialysis: 250 mg orally once daily/,
    );
    expect(checks?.detail).not.toMatch(/eGFR: no result on file/);
    // The card cites crizotinib's own label only.
    expect(checks?.detail).toMatch(/XALKORI/);
    expect(checks?.detail).not.toMatch(/ZYKADIA|LORBRENA|ALECENSA/);
  });

  it('no prefetch, the Condition search answers 500: CrCl 13 mL/min, crizotinib drafted → the renal check says the problem list could not be read (dialysis not known)', async () => {
    const pid = 'p-conditions-down';
    const record = alkNaiveRecord(pid, { creatinineUmolL: 380, weightKg: 61 });
    const cards = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495'),
      'order-select',
      { viaFhirServer: true, fail: { Condition: 500 } },
    );
    const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.summary).toMatch(/Renal function/);
    expect(checks?.detail).toMatch(
      /Problem list could not be read .*dialysis or severe kidney disease is not known/,
    );
  });

  it('with prefetch: CrCl 13 mL/min and "Haemodialysis via tunnelled catheter" (text only) on the problem list, crizotinib drafted → on dialysis: the label\'s dose for patients not on dialysis is not given as applying', async () => {
    const pid = 'p-hd-catheter';
    const onDialysis = kidneyProblem(pid, 'dialysis');
    onDialysis.code = { text: 'Haemodialysis via tunnelled catheter' };
    const record = [...alkNaiveRecord(pid, { creatinineUmolL: 380, weightKg: 61 }), onDialysis];
    const cards = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495'),
    );
    const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.summary).toBe('Before Crizotinib: abnormal: Renal function');
    expect(checks?.detail).toMatch(
      /On dialysis per the problem list \\\(Haemodialysis via tunnelled catheter\\\)/,
    );
    expect(checks?.detail).not.toMatch(/not requiring dialysis: 250 mg orally once daily/);
  });

  it('no prefetch: eGFR 22 (CKD-EPI 2021, "mL/min/1.73m2") and dialysis as ICD-10-CM Z99.2, lorlatinib signed → abnormal renal function, the dialysis statement, and the 75 mg dose note (eGFR in place of CrCl) flagged as not yet verified', async () => {
    const pid = 'p-egfr';
    const egfr = {
      resourceType: 'Observation',
      id: `${pid}-egfr`,
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
          ],
        },
      ],
      code: {
        coding: [
          {
            system: 'http://loinc.org',
            code: '98979-8',
            display:
              'Glomerular filtration rate [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)/1.73 sq M',
          },
        ],
        text: 'eGFR',
      },
      subject: { reference: `Patient/${pid}` },
      effectiveDateTime: new Date(Date.parse(NOW) - 4 * 86_400_000).toISOString(),
      valueQuantity: { value: 22, unit: 'mL/min/1.73m2' },
    };
    const record = [...alkNaiveRecord(pid, { omit: ['creatinine'] }), egfr, kidneyProblem(pid, 'dialysis')];
    const cards = await selectDraft(
      pid,
      record,
      draftMedicationRequest(pid, 'draft-lor', 'lorlatinib 100 MG Oral Tablet [Lorbrena]', undefined),
      'order-sign',
      { viaFhirServer: true },
    );
    const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.indicator).toBe('warning');
    expect(checks?.summary).toBe('Before Lorlatinib: abnormal: Renal function');
    expect(checks?.detail).toMatch(/eGFR 22 mL\/min\/1\.73 m² on [\d-]+ \\\(&lt; 30 mL\/min\/1\.73 m²\\\)/);
    expect(checks?.detail).toMatch(
      /On dialysis per the problem list \\\(Haemodialysis three times weekly\\\)/,
    );
    expect(checks?.detail).toMatch(
      /Dose per label \(Lorlatinib\): Severe renal impairment .*75 mg orally once daily.*\(eGFR used in place of creatinine clearance\).*\(label wording not yet verified\)/,
    );
  });

  it.each([
    ['no prefetch', true],
    ['with prefetch (the reports template carries the cardiology categories)', false],
  ])(
    '%s: echo and ECG results only in report conclusions ("LVEF 30-35% (visual estimate)", "Sinus bradycardia at 48 bpm. QTc 512 ms"), ROS1+, crizotinib drafted → critical pre-therapy card with LVEF 30 %, QTc 512 ms and heart rate 48/min, each from its report',
    async (_how, viaFhirServer) => {
      const pid = viaFhirServer ? 'p-reports' : 'p-reports-prefetch';
      const report = (
        id: string,
        category: Record<string, string>,
        code: Record<string, unknown>,
        conclusion: string,
        days: number,
      ) => ({
        resourceType: 'DiagnosticReport',
        id: `${pid}-${id}`,
        status: 'final',
        category: [{ coding: [category] }],
        code,
        subject: { reference: `Patient/${pid}` },
        effectiveDateTime: new Date(Date.parse(NOW) - days * 86_400_000).toISOString(),
        conclusion,
      });
      const record = [
        ...ros1NaiveRecord(pid, { omit: ['lvef', 'qtc', 'heart-rate'] }),
        report(
          'echo',
          { system: 'http://loinc.org', code: 'LP29708-2', display: 'Cardiology' },
          {
            coding: [{ system: 'http://loinc.org', code: '34552-0', display: 'Cardiac 2D echo panel' }],
            text: 'Echocardiogram complete',
          },
          'Moderately reduced LV systolic function, LVEF 30-35% (visual estimate).',
          12,
        ),
        report(
          'ecg',
          { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'EC', display: 'Electrocardiac' },
          { text: '12 Lead ECG' },
          'Sinus bradycardia at 48 bpm. QTc 512 ms. Abnormal ECG.',
          3,
        ),
      ];
      const cards = await selectDraft(
        pid,
        record,
        draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495'),
        'order-select',
        { viaFhirServer },
      );
      const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
      expect(checks?.indicator).toBe('critical');
      expect(checks?.summary).toMatch(/^Before Crizotinib: abnormal: /);
      for (const name of ['LVEF', 'ECG: QTc', 'Heart rate']) expect(checks?.summary).toContain(name);
      expect(checks?.detail).toMatch(/LVEF 30 % on [\d-]+ \\\(&lt; 50 %\\\)/);
      expect(checks?.detail).toMatch(/QTc 512 ms on [\d-]+ \\\(≥ 500 ms\\\)/);
      expect(checks?.detail).toMatch(/Heart rate 48 \/min on [\d-]+ \\\(&lt; 50 \/min\\\)/);
    },
  );

  it('no prefetch: total bilirubin 4.1 mg/dL, alectinib drafted → the liver check is abnormal and carries the Child-Pugh C dose; an ALT rise alone carries no hepatic dose rule', async () => {
    const pid = 'p-hepatic';
    const draft = draftMedicationRequest(
      pid,
      'draft-alec',
      'alectinib 150 MG Oral Capsule [Alecensa]',
      '1727455',
    );
    const bili = await selectDraft(pid, alkNaiveRecord(pid, { bilirubinMgDl: 4.1 }), draft, 'order-select', {
      viaFhirServer: true,
    });
    const card = bili.find((c) => topic(c) === 'pretherapy-checks');
    expect(card?.indicator).toBe('warning');
    expect(card?.detail).toMatch(
      /Dose per label \(Alectinib\): If this is severe hepatic impairment \(Child-Pugh C\): 450 mg orally twice daily/,
    );

    const altOnly = await selectDraft(pid, alkNaiveRecord(pid, { altUL: 250 }), draft, 'order-select', {
      viaFhirServer: true,
    });
    const liver = altOnly.find((c) => topic(c) === 'pretherapy-checks');
    expect(liver?.detail).toMatch(/Liver tests.*abnormal/);
    expect(liver?.detail).not.toMatch(/Dose per label/);

    // Crizotinib's label doses by bilirubin band (moderate and severe), with prefetch this time.
    const crizotinib = draftMedicationRequest(pid, 'draft-criz', 'crizotinib 250 MG Oral Capsule', '1148495');
    const criz = await selectDraft(pid, alkNaiveRecord(pid, { bilirubinMgDl: 4.1 }), crizotinib);
    expect(criz.find((c) => topic(c) === 'pretherapy-checks')?.detail).toMatch(
      /Dose per label \(Crizotinib\): If this is hepatic impairment: moderate .*200 mg twice daily; severe .*250 mg once daily/,
    );
  });

  it('alectinib signed, no prefetch, heart rate and blood pressure never recorded → pre-therapy card: heart rate missing, blood pressure missing; the 12-lead ECG the heart-rate check orders is offered', async () => {
    const pid = 'p-vitals';
    const record = alkNaiveRecord(pid, { omit: ['heart-rate', 'systolic-bp', 'diastolic-bp'] });
    const draft = draftMedicationRequest(
      pid,
      'draft-alc',
      'alectinib 150 MG Oral Capsule [Alecensa]',
      '1727455',
    );
    const cards = await selectDraft(pid, record, draft, 'order-sign', { viaFhirServer: true });
    const checks = cards.find((c) => topic(c) === 'pretherapy-checks');
    expect(checks?.summary).toBe('Before Alectinib: missing: Heart rate, Blood pressure');
    expect(checks?.detail).toMatch(/\*\*Heart rate: missing\.\*\* Heart rate: no result on file/);
    expect(checks?.detail).toMatch(
      /\*\*Blood pressure: missing\.\*\* Systolic blood pressure: no result on file\. Diastolic blood pressure: no result on file/,
    );
    expect(checks?.indicator).toBe('info');
    // checks.json: the heart-rate check orders a 12-lead ECG; blood pressure has no order to draft.
    expect(checks?.suggestions?.map((s) => s.actions.map((a) => (a.resource as any).code.coding[0]))).toEqual(
      [[{ system: 'http://loinc.org', code: '34534-8', display: '12 lead EKG panel' }]],
    );
  });

  it('fhirAuthorization scopes in SMART v1 and v2 syntax are both accepted', async () => {
    msw.use(...fhirServer(EHR, record, { requests: [] }));
    for (const scope of [
      'patient/*.read launch',
      'patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs',
    ]) {
      const auth = {
        access_token: 't',
        token_type: 'bearer',
        expires_in: 30,
        scope,
        subject: 'cds',
        patient: pid,
      };
      const res = await post(
        makeApp(),
        '/cds-services/alk-ros1-order-sign',
        hookBody('order-sign', pid, { fhirServer: EHR, fhirAuthorization: auth }, { draftOrders: drafts() }),
      );
      expect(res.status).toBe(200);
    }
  });

  it('a draft for another patient is ignored', async () => {
    const other = { ...draftMedicationRequest('someone-else', 'draft-x', 'alectinib') };
    const body = hookBody(
      'order-sign',
      pid,
      { prefetch: prefetchFor(record, pid) },
      { draftOrders: drafts(other) },
    );
    const res = await post(makeApp(), '/cds-services/alk-ros1-order-sign', body);
    expect(res.status).toBe(200);
    expect(res.body.cards).toEqual([]);
  });
});

describe('bad input gets a 4xx OperationOutcome, never a 500', () => {
  const app = makeApp();
  const url = '/cds-services/alk-ros1-patient-view';
  it.each([
    [
      'missing hookInstance',
      { hook: 'patient-view', context: { userId: 'Practitioner/1', patientId: 'p' } },
      400,
    ],
    ['hook does not match the service', hookBody('order-sign', 'p'), 400],
    [
      'fhirAuthorization without fhirServer',
      hookBody('patient-view', 'p', {
        fhirAuthorization: {
          access_token: 't',
          token_type: 'Bearer',
          expires_in: 1,
          scope: 's',
          subject: 'x',
        },
      }),
      400,
    ],
    [
      'userId not a reference',
      { ...hookBody('patient-view', 'p'), context: { userId: 'dr smith', patientId: 'p' } },
      400,
    ],
    [
      'order-select without selections',
      hookBody('order-select', 'p', {}, { draftOrders: { resourceType: 'Bundle' } }),
      400,
    ],
    ['context is a string', { ...hookBody('patient-view', 'p'), context: 'nope' }, 400],
  ])('%s → %s', async (_name, body, status) => {
    const res = await post(app, url, body);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('malformed JSON → 400', async () => {
    const res = await app.request(`${BASE}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hook": ',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).resourceType).toBe('OperationOutcome');
  });

  it('a body over the size limit → 413', async () => {
    const res = await app.request(`${BASE}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(300_000) }),
    });
    expect(res.status).toBe(413);
  });

  it('unknown service → 404; GET on a service → 405 with Allow', async () => {
    expect((await post(app, '/cds-services/nope', hookBody('patient-view', 'p'))).status).toBe(404);
    const res = await app.request(`${BASE}${url}`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('CORS preflight answers allowed origins only, never "*"', async () => {
    const ok = await app.request(`${BASE}${url}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://ehr.example.test', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://ehr.example.test');
    const bad = await app.request(`${BASE}${url}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('feedback', () => {
  const url = '/cds-services/alk-ros1-order-select/feedback';
  const at = '2026-11-22T09:05:00Z';
  it('stores accepted and overridden feedback, idempotently', async () => {
    const app = makeApp();
    const before = await feedback.count();
    const body = {
      feedback: [
        {
          card: 'c6a2b9b2-aaaa-4bbb-8ccc-000000000001',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 's-1' }],
          outcomeTimestamp: at,
        },
        {
          card: 'c6a2b9b2-aaaa-4bbb-8ccc-000000000002',
          outcome: 'overridden',
          overrideReason: {
            reason: {
              system: 'urn:alk-ros1-cds:override-reason',
              code: 'patient-preference',
              display: 'Patient preference',
            },
          },
          outcomeTimestamp: at,
        },
      ],
    };
    expect((await post(app, url, body)).status).toBe(200);
    expect((await post(app, url, body)).status).toBe(200);
    expect((await feedback.count()) - before).toBe(2);
    const stored = await feedback.list({ card: 'c6a2b9b2-aaaa-4bbb-8ccc-000000000002' });
    expect(stored[0]).toMatchObject({
      serviceId: 'alk-ros1-order-select',
      outcome: 'overridden',
      overrideReason: { code: 'patient-preference' },
    });
  });

  it.each([
    [
      'accepted without acceptedSuggestions',
      { feedback: [{ card: 'c1', outcome: 'accepted', outcomeTimestamp: at }] },
    ],
    ['no outcomeTimestamp', { feedback: [{ card: 'c1', outcome: 'overridden' }] }],
    [
      'empty overrideReason',
      { feedback: [{ card: 'c1', outcome: 'overridden', overrideReason: {}, outcomeTimestamp: at }] },
    ],
    ['not an array', { feedback: { card: 'c1' } }],
  ])('%s → 400', async (_name, body) => {
    const res = await post(makeApp(), url, body);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('logs', () => {
  it('one structured line per request with hook, service, hookInstance, duration, cards and outcome; no patient id', async () => {
    logLines.length = 0;
    const record = ros1BrainMetsRecord('p-log');
    await post(
      makeApp(),
      '/cds-services/alk-ros1-patient-view',
      hookBody('patient-view', 'p-log', { prefetch: prefetchFor(record, 'p-log') }),
    );
    const entries = logLines.map((l) => JSON.parse(l)).filter((e) => e.route === 'service');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      service: 'alk-ros1-patient-view',
      hook: 'patient-view',
      status: 200,
      cards: 3,
      outcome: 'ok',
    });
    expect(typeof entries[0].durationMs).toBe('number');
    expect(entries[0].hookInstance).toMatch(/^d1577c69/);
    expect(logLines.join('')).not.toMatch(/p-log/);
  });
});
