/**
 * Every sample patient's expected outcome (`sandbox/patients/catalog.json`), the way a user meets
 * it: the sandbox FHIR server over HTTP, prefetch filled as the sandbox EHR page fills it (its own
 * API client and hook builders), the CDS service called with the JWTs that page signs, and cards
 * back. Each patient twice: with prefetch, and with none (the service queries `fhirServer` itself).
 * Then the medication failure modes: an EHR whose medication searches fail, and prefetch that
 * references Medications the service cannot read.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVIDENCE_EXTENSION } from '../../../cds-hooks/cards/card-kit.ts';
import { createApi } from '../../../sandbox/ehr/api.ts';
import {
  buildHookRequest,
  orderSignContext,
  patientViewContext,
  SERVICE_FOR_HOOK,
} from '../../../sandbox/ehr/hooks.ts';
import type { Card, CdsRequest, Discovery, Session } from '../../../sandbox/ehr/types.ts';
import { SAMPLE_CATALOG, type SampleCatalogEntry } from '../../../sandbox/patients/load.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import { chartOf, openSandboxEhr, type SandboxEhr } from '../../support/sandbox-ehr.ts';

const kb = getKnowledge();
const RANK = { info: 0, warning: 1, critical: 2 } as const;
type Severity = keyof typeof RANK;

let sandbox: Sandbox;
let ehr: SandboxEhr;

/**
 * An EHR in front of the sandbox FHIR server whose requests picked by `fails` answer 500 with an
 * OperationOutcome. Started before the sandbox, whose CDS client may then name it (`fhir_servers`).
 */
function failingEhr(fails: (path: string) => boolean) {
  const state = { base: '', failed: [] as string[] };
  const server = createServer(async (req, res) => {
    const upstream = `${sandbox.base}/fhir`;
    const path = (req.url ?? '/').replace(/^\/fhir/, '');
    if (fails(path)) {
      state.failed.push(path);
      res.writeHead(500, { 'content-type': 'application/fhir+json' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'exception', diagnostics: 'backend down' }],
        }),
      );
      return;
    }
    const answer = await fetch(`${upstream}${path}`, {
      headers: { authorization: String(req.headers.authorization ?? ''), accept: 'application/fhir+json' },
    });
    const text = (await answer.text()).replaceAll(upstream, state.base);
    res.writeHead(answer.status, { 'content-type': 'application/fhir+json' });
    res.end(text);
  });
  const start = async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    return state.base;
  };
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { state, start, stop };
}

const medicationsFail = failingEhr((path) => /^\/Medication/.test(path));
const biomarkersFail = failingEhr(
  (path) => /^\/(DiagnosticReport|Observation)\?/.test(path) && !/category=[^&]*vital/.test(path),
);

beforeAll(async () => {
  const extraFhirServers = [await medicationsFail.start(), await biomarkersFail.start()];
  sandbox = await startSandbox({
    port: 0,
    feedbackDataDir: 'memory://',
    logLevel: 'silent',
    extraFhirServers,
  });
  ehr = await openSandboxEhr(sandbox.base);
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await medicationsFail.stop();
  await biomarkersFail.stop();
});

const topicOf = (c: Card) => c.source.topic?.code;
/** Words a clinician must never read on a card: internal document names and the engine's rule ids. */
const INTERNAL_WORDS = /\bseeds?\b|\bspec\b|specification|\.txt\b|\bS00\d\b|\(rule `/i;
const cardText = (cards: readonly Card[]) => cards.map((c) => `${c.summary}\n${c.detail ?? ''}`).join('\n');
const sorted = (xs: Iterable<string>) => [...xs].sort();

/**
 * Label sections a card cites for a drug the card does not name (its summary and text above the
 * sources): a lorlatinib check citing the crizotinib QT label would be one.
 */
function offTopicCitations(cards: readonly Card[]): string[] {
  const off: string[] = [];
  for (const c of cards) {
    const [body = ''] = (c.detail ?? '').split('**Sources**');
    const about = `${c.summary}\n${body}`.toLowerCase();
    // The evidence ids a card cites are in its extension; the text shows short titles only.
    const cited = (c as Card & { extension?: Record<string, unknown> }).extension?.[EVIDENCE_EXTENSION];
    for (const id of Array.isArray(cited) ? (cited as string[]) : []) {
      const drug = id ? kb.evidence.get(id)?.drug : undefined;
      const agent = drug ? kb.agents.get(drug) : undefined;
      if (!agent) continue;
      const names = [agent.id, ...agent.brands].map((n) => n.toLowerCase());
      if (!names.some((n) => about.includes(n))) off.push(`${c.summary} cites ${id}`);
    }
  }
  return off;
}

/** The card a drafted TKI gets when history and interactions could not be checked. */
const couldNotCheckCard = (cards: readonly Card[]) =>
  cards.find((c) => topicOf(c) === 'drug-interaction' && /could not be checked/i.test(c.summary));

/** The agent a therapy-selection suggestion would order, and its tier. */
function optionsOf(card: Card | undefined): { preferred: string[]; other: string[] } {
  const out = { preferred: [] as string[], other: [] as string[] };
  for (const s of card?.suggestions ?? []) {
    const tier = s.extension?.['urn:alk-ros1-cds:preference'];
    const drug = s.actions?.[0]?.resource?.medicationCodeableConcept as { text?: string } | undefined;
    if (drug?.text && (tier === 'preferred' || tier === 'other')) out[tier].push(drug.text);
  }
  return out;
}

/** The card topic a finding code shows under (an order without a biomarker is also a testing concern). */
const ORDER_TOPIC: Record<string, string> = {
  interaction: 'drug-interaction',
  'pretherapy-check': 'pretherapy-checks',
  'no-confirmed-biomarker': 'order-concordance|biomarker-testing',
};

const modes = [
  ['with prefetch', true],
  ['without prefetch (fallback through fhirServer)', false],
] as const;

describe.each(modes)('every sample patient over HTTP, %s', (_mode, withPrefetch) => {
  it.each(SAMPLE_CATALOG.map((e) => [e.id, e] as const))('%s', async (_id, entry) => {
    const exp = entry.expect;
    const chart = chartOf(entry);

    const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), withPrefetch);
    // A clean read: nothing on any card says part of the record could not be read.
    expect(cardText(view)).not.toMatch(/could not (be )?check/i);
    expect(cardText(view)).not.toMatch(INTERNAL_WORDS);
    expect(offTopicCitations(view)).toEqual([]);

    const therapy = view.find((c) => topicOf(c) === 'therapy-selection');
    if (exp.situation === null) {
      expect(therapy).toBeUndefined();
    } else {
      const agents = (ids: readonly string[]) => ids.filter((id) => kb.agents.has(id));
      const options = optionsOf(therapy);
      expect(sorted(options.preferred)).toEqual(sorted(agents(exp.preferred)));
      if (exp.other) expect(sorted(options.other)).toEqual(sorted(agents(exp.other)));
      for (const avoided of exp.avoid ?? []) {
        expect(options.preferred).not.toContain(avoided);
        expect(options.other).not.toContain(avoided);
      }
    }

    // Interactions with current medications: one card per interacting drug, at its worst severity.
    const interacting = new Map<string, Severity>();
    for (const i of exp.interactions) {
      if (i.severity === 'info') continue;
      const was = interacting.get(i.with);
      if (!was || RANK[i.severity] > RANK[was]) interacting.set(i.with, i.severity);
    }
    const ixCards = view.filter((c) => topicOf(c) === 'drug-interaction');
    expect(ixCards).toHaveLength(interacting.size);
    for (const [drug, severity] of interacting) {
      const card = ixCards.find((c) => c.summary.toLowerCase().includes(drug));
      expect(card?.indicator, `${drug}: ${cardText(ixCards)}`).toBe(severity);
    }
    // Said once: a warning or critical interaction is on its own card, not repeated on the therapy card.
    const therapyDetail = view.find((c) => topicOf(c) === 'therapy-selection')?.detail ?? '';
    const ixMessages = ixCards.flatMap((c) =>
      (c.detail ?? '').split('\n').flatMap((l) => /^- \*\*[^*]+\*\* (.+)$/.exec(l)?.[1] ?? []),
    );
    expect(ixMessages.length).toBeGreaterThanOrEqual(interacting.size);
    for (const message of ixMessages) expect(therapyDetail).not.toContain(message);

    // Order-select with each drug the catalog names, drafted as the EHR page drafts it.
    for (const [drug, findings] of Object.entries(exp.orders ?? {})) {
      const cards = await ehr.selectDrug(chart, drug, withPrefetch);
      expect(cardText(cards)).not.toMatch(INTERNAL_WORDS);
      expect(offTopicCitations(cards)).toEqual([]);
      if (findings.length === 0) {
        expect(cards.map((c) => c.summary)).toEqual([]);
        continue;
      }
      const worst = new Map<string, Severity>();
      for (const f of findings) {
        const topic = ORDER_TOPIC[f.code] ?? 'order-concordance';
        const was = worst.get(topic);
        if (!was || RANK[f.severity] > RANK[was]) worst.set(topic, f.severity);
      }
      for (const [topic, severity] of worst) {
        const card = cards.find((c) => topic.split('|').includes(topicOf(c) ?? ''));
        expect(card?.indicator, `${drug} → ${topic}: ${cards.map((c) => c.summary).join(' | ')}`).toBe(
          severity,
        );
      }
    }
  });
});

describe('carbamazepine (a strong CYP3A inducer named by medicationReference only)', () => {
  const entry = SAMPLE_CATALOG.find((e) => e.id === 'alk-carbamazepine') as SampleCatalogEntry;
  const chart = chartOf(entry);
  const lorlatinibCritical = (cards: readonly Card[]) =>
    cards.find(
      (c) =>
        topicOf(c) === 'drug-interaction' &&
        c.indicator === 'critical' &&
        /carbamazepine/i.test(c.summary) &&
        /lorlatinib/i.test(`${c.summary} ${c.detail}`),
    );

  it.each(modes)(
    'is a critical lorlatinib card at patient-view, order-select and order-sign, %s',
    async (_m, withPrefetch) => {
      const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), withPrefetch);
      expect(lorlatinibCritical(view), cardText(view)).toBeDefined();

      const select = await ehr.selectDrug(chart, 'lorlatinib', withPrefetch);
      expect(lorlatinibCritical(select), cardText(select)).toBeDefined();

      const signed = ehr.draftOf('lorlatinib', chart, `sign-${crypto.randomUUID().slice(0, 8)}`);
      const sign = await ehr.callHook('order-sign', chart, orderSignContext(chart, [signed]), withPrefetch);
      expect(lorlatinibCritical(sign), cardText(sign)).toBeDefined();
    },
  );

  it('with prefetch but no fhirServer to read the Medication from: says interactions could not be checked, at warning when lorlatinib is drafted', async () => {
    const withoutServer = (req: CdsRequest): CdsRequest => {
      const { fhirServer: _s, fhirAuthorization: _a, ...rest } = req;
      return rest as CdsRequest;
    };
    const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), true, withoutServer);
    const therapy = view.find((c) => topicOf(c) === 'therapy-selection');
    expect(therapy?.indicator).toBe('warning');
    expect(`${therapy?.summary} ${therapy?.detail}`).toMatch(/could not be checked|not fully checked/i);

    const select = await ehr.selectDrug(chart, 'lorlatinib', true, withoutServer);
    const warning = couldNotCheckCard(select);
    expect(warning?.indicator, cardText(select)).toBe('warning');
  });
});

describe('alk-renal-impairment (CrCl 21 mL/min by Cockcroft-Gault, CKD 4)', () => {
  const entry = SAMPLE_CATALOG.find((e) => e.id === 'alk-renal-impairment') as SampleCatalogEntry;

  it.each(modes)(
    'patient-view: one pre-therapy card carries the brigatinib and the lorlatinib label dose rules, each citing its own label, %s',
    async (_m, withPrefetch) => {
      const chart = chartOf(entry);
      const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), withPrefetch);
      const card = view.find((c) => topicOf(c) === 'pretherapy-checks');
      expect(card?.indicator).toBe('warning');
      expect(card?.detail).toMatch(/Creatinine clearance \\\(Cockcroft-Gault\\\) 21 mL\/min/);
      expect(card?.detail).toMatch(
        /Dose per label \(Brigatinib\): CrCl 15 to 29 mL\/min: reduce the once-daily dose by about 50%/,
      );
      expect(card?.detail).toMatch(
        /Dose per label \(Lorlatinib\): Severe renal impairment \(CrCl 15 to &lt; 30 mL\/min\): 75 mg/,
      );
      const cited =
        (card as Card & { extension?: Record<string, string[]> }).extension?.[EVIDENCE_EXTENSION] ?? [];
      expect(cited).toEqual(expect.arrayContaining(['label-brigatinib-dosing', 'label-lorlatinib-dosing']));
    },
  );
});

describe('the reason on the card, not only its severity', () => {
  const chartFor = (id: string) => chartOf(SAMPLE_CATALOG.find((e) => e.id === id) as SampleCatalogEntry);
  const replacements = (card: Card | undefined) =>
    (card?.suggestions ?? []).map(
      (s) => (s.actions?.[0]?.resource?.medicationCodeableConcept as { text?: string } | undefined)?.text,
    );

  it.each(modes)(
    'alk-after-crizotinib: ensartinib drafted → order-concordance warning that it is indicated only without a prior ALK inhibitor, naming crizotinib; alectinib or lorlatinib offered, %s',
    async (_m, withPrefetch) => {
      const cards = await ehr.selectDrug(chartFor('alk-after-crizotinib'), 'ensartinib', withPrefetch);
      const card = cards.find((c) => topicOf(c) === 'order-concordance');
      expect(card?.indicator, cardText(cards)).toBe('warning');
      // The label's restriction heads the card, before the situation it is not listed for.
      expect(card?.summary).toMatch(/^Ensartinib is indicated only without a prior ALK inhibitor/);
      // The situation is named as the knowledge base spells it (ALK, TKI, CNS in capitals).
      expect(card?.detail).toMatch(/not among the options for ALK-positive/);
      expect(card?.detail).toMatch(
        /Ensartinib is indicated only for ALK-positive NSCLC that has not received an ALK inhibitor .*This patient has had Crizotinib \\\(Xalkori\\\)\./,
      );
      expect(replacements(card)).toEqual(['alectinib', 'lorlatinib']);
    },
  );

  it.each(modes)(
    'ros1-g2032r: the therapy card avoids lorlatinib for G2032R, and lorlatinib drafted → resistance-mutation warning with repotrectinib or taletrectinib offered, %s',
    async (_m, withPrefetch) => {
      const chart = chartFor('ros1-g2032r');
      const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), withPrefetch);
      const therapy = view.find((c) => topicOf(c) === 'therapy-selection');
      // Agents avoided for the same reason share its line.
      expect(therapy?.detail).toMatch(
        /\*\*Avoid\*\*[\s\S]*\n- (\*\*[^*\n]+\*\*, )*\*\*Lorlatinib \(Lorbrena\)\*\*(, \*\*[^*\n]+\*\*)*: No activity against ROS1 G2032R\./,
      );
      const { preferred, other } = optionsOf(therapy);
      expect([...preferred, ...other]).not.toContain('lorlatinib');

      const cards = await ehr.selectDrug(chart, 'lorlatinib', withPrefetch);
      const card = cards.find((c) => topicOf(c) === 'order-concordance');
      expect(card?.indicator, cardText(cards)).toBe('warning');
      expect(card?.summary).toMatch(/^Resistance mutation on file: Lorlatinib unlikely to work/);
      expect(card?.detail).toMatch(
        /Lorlatinib \\\(Lorbrena\\\) in ROS1-positive NSCLC: No activity against ROS1 G2032R\./,
      );
      expect(replacements(card)).toEqual(['repotrectinib', 'taletrectinib']);
    },
  );
});

describe('an EHR whose medication searches fail', () => {
  const failing = medicationsFail.state;
  const throughProxy = (req: CdsRequest): CdsRequest => ({ ...req, fhirServer: failing.base });

  it('makes every card that depends on medications say so, and never reads the patient as TKI-naive silently', async () => {
    const entry = SAMPLE_CATALOG.find((e) => e.id === 'alk-after-alectinib') as SampleCatalogEntry;
    const chart = chartOf(entry);
    const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), false, throughProxy);
    expect(failing.failed.length).toBeGreaterThanOrEqual(3);
    const therapy = view.find((c) => topicOf(c) === 'therapy-selection');
    expect(therapy?.indicator).toBe('warning');
    expect(`${therapy?.summary}\n${therapy?.detail}`).toMatch(
      /treatment history and drug interactions could not be checked/i,
    );
    expect(therapy?.detail).toMatch(/HTTP 500/);

    const select = await ehr.selectDrug(chart, 'alectinib', false, throughProxy);
    const warning = couldNotCheckCard(select);
    expect(warning?.indicator, cardText(select)).toBe('warning');
    expect(warning?.detail).toMatch(/review the medication record/i);
  });
});

describe('an EHR whose biomarker searches fail', () => {
  const failing = biomarkersFail.state;
  const throughProxy = (req: CdsRequest): CdsRequest => ({ ...req, fhirServer: failing.base });

  it('says the results could not be read, and suggests no test order on that ground', async () => {
    const entry = SAMPLE_CATALOG.find((e) => e.id === 'ros1-brain-mets') as SampleCatalogEntry;
    const chart = chartOf(entry);
    const view = await ehr.callHook('patient-view', chart, patientViewContext(chart), false, throughProxy);
    expect(failing.failed.length).toBeGreaterThan(0);
    const testing = view.filter((c) => topicOf(c) === 'biomarker-testing');
    expect(testing.map((c) => c.summary)).toEqual([
      expect.stringMatching(/results could not be read from the EHR/),
    ]);
    expect(testing[0]?.suggestions ?? []).toEqual([]);
    expect(view.find((c) => topicOf(c) === 'therapy-selection')).toBeUndefined();

    const select = await ehr.selectDrug(chart, 'entrectinib', false, throughProxy);
    const concordance = select.find((c) => topicOf(c) === 'order-concordance');
    expect(concordance?.detail).toMatch(/ROS1 results could not be read from the EHR/);
    expect(concordance?.detail).not.toMatch(/ROS1 unknown/);
  });
});

describe('medication prefetch templates with _include (CDS_PREFETCH_INCLUDE_MEDICATIONS)', () => {
  let withInclude: Sandbox;
  let includeApi: ReturnType<typeof createApi>;
  let includeSession: Session;
  let includeDiscovery: Discovery;

  beforeAll(async () => {
    withInclude = await startSandbox({
      port: 0,
      feedbackDataDir: 'memory://',
      logLevel: 'silent',
      prefetchIncludeMedications: true,
    });
    includeApi = createApi({ origin: withInclude.base });
    includeSession = await includeApi.session();
    includeDiscovery = await includeApi.discovery(includeSession);
  }, 60_000);

  afterAll(async () => {
    await withInclude?.close();
  });

  it('carry the Medications in prefetch, so the carbamazepine card needs no FHIR server at all', async () => {
    const service = includeDiscovery.services.find((s) => s.id === SERVICE_FOR_HOOK['patient-view']);
    const templates = Object.entries(service?.prefetch ?? {}).filter(([, t]) => t.includes('_include='));
    expect(templates.map(([key]) => key).sort()).toEqual([
      'medication-administrations',
      'medication-requests',
      'medication-statements',
    ]);
    const entry = SAMPLE_CATALOG.find((e) => e.id === 'alk-carbamazepine') as SampleCatalogEntry;
    const chart = chartOf(entry);
    const fhir = await includeApi.hookFhir({
      ...chart,
      prefetch: service?.prefetch as Record<string, string>,
    });
    const body = buildHookRequest({
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      context: patientViewContext(chart),
      fhir,
      sendPrefetch: true,
    });
    const { fhirServer: _s, fhirAuthorization: _a, ...prefetchOnly } = body;
    const { cards } = await includeApi.callService(
      includeSession,
      SERVICE_FOR_HOOK['patient-view'],
      prefetchOnly as CdsRequest,
    );
    expect(cardText(cards)).not.toMatch(/could not (be )?check/i);
    const critical = cards.find((c) => topicOf(c) === 'drug-interaction' && c.indicator === 'critical');
    expect(critical?.summary).toMatch(/carbamazepine/i);
  });
});
