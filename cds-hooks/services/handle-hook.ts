/**
 * One pipeline for the three hooks: validate → prefetch, else fetch from fhirServer, else 412 →
 * readRecord → evaluate → cards. The services differ only in which findings become cards.
 */
import { evaluate } from '../../src/core/evaluate.ts';
import { type Assessment, type DataGap, type DraftOrder, SEVERITY_RANK } from '../../src/core/model.ts';
import { extractDraftOrders } from '../../src/fhir/extract-draft-orders.ts';
import { type DataRequirement, dataRequirements } from '../../src/fhir/queries.ts';
import { readRecord } from '../../src/fhir/to-snapshot.ts';
import type { Knowledge } from '../../src/knowledge/index.ts';
import { biomarkerTestingCards } from '../cards/biomarker-testing.ts';
import type { CardContext } from '../cards/card-kit.ts';
import { tagCard } from '../cards/card-tag.ts';
import { interactionCards } from '../cards/interactions.ts';
import { localTherapyCards } from '../cards/local-therapy.ts';
import { orderCards } from '../cards/order-findings.ts';
import { mergeChecks, pretherapyCard } from '../cards/pretherapy-checks.ts';
import { therapySelectionCard } from '../cards/therapy-selection.ts';
import { fetchRequirements } from '../fhir-fetch.ts';
import type { FhirServerAccess } from '../fhir-server-policy.ts';
import { fromZodError, HttpError } from '../http-error.ts';
import type { HttpGet } from '../http-get.ts';
import { normalisePrefetch } from '../prefetch.ts';
import { type Card, CdsRequest, CONTEXT_BY_HOOK } from '../schemas.ts';
import type { ShownCardsStore } from '../shown-cards.ts';
import type { ServiceDefinition } from './definitions.ts';

export interface HookConfig {
  appLaunchUrl: string;
  formularyUnavailable: string[];
  fhirTimeoutMs: number;
  fhirDeadlineMs: number;
  fhirMaxPages: number;
  /** Bytes all FHIR pages of one hook call may add up to (`FHIR_MAX_BYTES`). */
  fhirMaxBytes?: number;
}

export interface HookDeps {
  kb: Knowledge;
  config: HookConfig;
  /** Read at order-sign; order-select's findings are returned in `shownKeys` for the caller to record. */
  shownCards: ShownCardsStore;
  /**
   * Which CDS client is calling (its issuer, and tenant when it names one): patient and order ids
   * are only unique within one EHR, so what one EHR was shown never hides a card in another.
   */
  clientScope?: string;
  now: () => Date;
  httpGet?: HttpGet;
  /** Whether this request's CDS client may make the service call its `fhirServer` (fhir-server-policy.ts). */
  fhirAccess?: (fhirServer: string) => FhirServerAccess;
}

export interface HookOutcome {
  cards: Card[];
  hookInstance: string;
  fhirCalls: number;
  gaps: number;
  /** Why each search could not be read (DataGap reasons), for the metrics. */
  gapReasons: string[];
  /** Selections or drafts set aside (not in draftOrders, or for another patient). */
  ignoredDrafts: number;
  /** Why the request's `fhirServer` was not called, when it was refused. */
  fhirServerRefused?: string;
  /** The shown-cards memory could not be read (order-sign answered every finding). */
  shownCardsUnavailable?: true;
  /**
   * Order-select: the findings its cards show, to remember once the answer has been delivered (a
   * card remembered but never seen would be hidden at order-sign).
   */
  shownKeys?: string[];
}

interface RawDraft {
  ref: string;
  subject?: string;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function rawDrafts(bundle: unknown): RawDraft[] {
  if (!isObject(bundle) || !Array.isArray(bundle.entry)) return [];
  return bundle.entry.flatMap((e) => {
    const r = isObject(e) ? e.resource : undefined;
    if (!isObject(r) || typeof r.resourceType !== 'string' || typeof r.id !== 'string') return [];
    const subject =
      isObject(r.subject) && typeof r.subject.reference === 'string' ? r.subject.reference : undefined;
    return [{ ref: `${r.resourceType}/${r.id}`, ...(subject ? { subject } : {}) }];
  });
}

/** Resources and gaps: prefetch first, then fhirServer; 412 when required data can be had neither way. */
async function gatherData(req: CdsRequest, patientId: string, deps: HookDeps) {
  const reqs = dataRequirements(deps.kb);
  const pre = normalisePrefetch(req.prefetch, reqs);
  const resources = [...pre.resources];
  let gaps: DataGap[] = [];
  let fhirCalls = 0;
  const access = req.fhirServer
    ? (deps.fhirAccess?.(req.fhirServer) ?? { allowed: true as const, publicTargetsOnly: false })
    : undefined;
  const refused = access && !access.allowed ? access.reason : undefined;

  if (req.fhirServer && access?.allowed) {
    // What prefetch lacks, and the Medications that prefetch references but does not carry (Epic
    // sends medicationReference by default), in one wave each; nothing is requested when nothing
    // is missing.
    const fetched = await fetchRequirements(
      pre.toFetch,
      {
        fhirServer: req.fhirServer,
        ...(req.fhirAuthorization ? { accessToken: req.fhirAuthorization.access_token } : {}),
        patientId,
        timeoutMs: deps.config.fhirTimeoutMs,
        deadline: Date.now() + deps.config.fhirDeadlineMs,
        maxPages: deps.config.fhirMaxPages,
        ...(deps.config.fhirMaxBytes ? { maxTotalBytes: deps.config.fhirMaxBytes } : {}),
        ...(access.publicTargetsOnly ? { publicTargetsOnly: true } : {}),
        ...(deps.httpGet ? { httpGet: deps.httpGet } : {}),
      },
      pre.resources,
    );
    fhirCalls = fetched.calls;
    resources.push(...fetched.resources);
    gaps = fetched.gaps;
    // A paged prefetch whose full search failed still contributes its first page (marked truncated).
    for (const g of fetched.gaps) {
      const page = pre.partial.get(g.query);
      if (page) resources.push(page);
    }
    const failed = new Set(fetched.gaps.map((g) => g.query));
    if (reqs.every((r) => failed.has(r.id)))
      throw new HttpError(
        412,
        'incomplete',
        'No patient data could be obtained from prefetch or from fhirServer.',
      );
  } else if (pre.toFetch.length > 0) {
    const missingRequired = pre.toFetch.filter((r: DataRequirement) => r.required && !pre.partial.has(r.id));
    if (missingRequired.length > 0) {
      throw new HttpError(
        412,
        'incomplete',
        `Prefetch lacks ${missingRequired.map((r) => r.id).join(', ')} and ${refused ? 'the fhirServer given may not be called for this CDS client' : 'no fhirServer was given'} to fetch it.`,
      );
    }
    resources.push(...pre.partial.values());
    gaps = pre.toFetch
      .filter((r) => !pre.partial.has(r.id))
      .map((r) => ({
        domains: r.domains,
        query: r.id,
        reason: 'not-requested' as const,
        detail: refused
          ? 'not prefetched, and fhirServer may not be called'
          : 'not prefetched and no fhirServer',
      }));
  }
  return { resources, gaps, fhirCalls, ...(refused ? { refused } : {}) };
}

function validate(body: unknown, service: ServiceDefinition) {
  const parsed = CdsRequest.safeParse(body);
  if (!parsed.success)
    throw new HttpError(400, 'invalid', 'invalid CDS Hooks request', undefined, fromZodError(parsed.error));
  const req = parsed.data;
  if (req.hook !== service.hook) {
    throw new HttpError(400, 'invalid', `service ${service.id} answers ${service.hook}, not ${req.hook}`, [
      'hook',
    ]);
  }
  const context = CONTEXT_BY_HOOK[service.hook].safeParse(req.context);
  if (!context.success)
    throw new HttpError(400, 'invalid', 'invalid context', undefined, fromZodError(context.error, 'context'));
  return {
    req,
    context: context.data as Record<string, unknown> & { patientId: string; encounterId?: string },
  };
}

function patientViewCards(a: Assessment, ctx: CardContext): Card[] {
  const cards: Card[] = [];
  const therapy = therapySelectionCard(a, ctx);
  if (therapy) cards.push(therapy);
  cards.push(...interactionCards(a, ctx));
  cards.push(...biomarkerTestingCards(a, ctx));
  const onTki = a.therapy.current?.kind === 'tki';
  const preferred = (a.recommendation?.preferred ?? []).filter((o) => o.kind === 'drug').map((o) => o.id);
  if (!onTki && preferred.length > 0) {
    const lists = a.checks.filter((c) => preferred.includes(c.agent)).map((c) => c.checks);
    const card = pretherapyCard(preferred, mergeChecks(lists), ctx, 'preferred');
    if (card) cards.push(card);
  }
  cards.push(...localTherapyCards(a, ctx));
  return cards;
}

/** Critical first, then warning, then info; cards of one severity keep their order (sort is stable). */
function bySeverity(cards: readonly Card[]): Card[] {
  return [...cards].sort((a, b) => SEVERITY_RANK[b.indicator] - SEVERITY_RANK[a.indicator]);
}

export async function handleHook(
  service: ServiceDefinition,
  body: unknown,
  deps: HookDeps,
): Promise<HookOutcome> {
  const { req, context } = validate(body, service);
  const patientId = context.patientId;
  const { resources, gaps, fhirCalls, refused } = await gatherData(req, patientId, deps);
  const { snapshot, resolve } = readRecord(resources, gaps, { patientId, knowledge: deps.kb });

  let drafts: DraftOrder[] = [];
  let ignoredDrafts = 0;
  if (service.hook !== 'patient-view') {
    const raw = rawDrafts(context.draftOrders);
    const forPatient = new Set(
      raw.filter((d) => !d.subject || d.subject.endsWith(`Patient/${patientId}`)).map((d) => d.ref),
    );
    ignoredDrafts = raw.length - forPatient.size;
    drafts = extractDraftOrders(deps.kb, context.draftOrders, resolve).filter((d) => forPatient.has(d.ref));
  }

  const assessment = evaluate(snapshot, deps.kb, {
    now: deps.now().toISOString(),
    config: { formularyUnavailable: deps.config.formularyUnavailable },
    draftOrders: drafts,
  });
  const ctx: CardContext = {
    kb: deps.kb,
    serviceId: service.id,
    hookInstance: req.hookInstance,
    patientId,
    ...(typeof context.encounterId === 'string' ? { encounterId: context.encounterId } : {}),
    appLaunchUrl: deps.config.appLaunchUrl,
  };

  let cards: Card[];
  let shownCardsUnavailable = false;
  let shownKeys: string[] | undefined;
  if (service.hook === 'patient-view') {
    cards = patientViewCards(assessment, ctx);
  } else {
    let findings = assessment.orderFindings;
    // What the clinician was shown, exactly: the drug and the finding's own words are part of it,
    // so a draft changed to another drug, or a check that went from missing to abnormal, is new.
    const keyOf = (f: (typeof findings)[number]) =>
      JSON.stringify([
        deps.clientScope ?? '',
        req.fhirServer ?? '',
        patientId,
        f.draft,
        f.drug ?? '',
        f.topic,
        f.code,
        f.severity,
        f.interaction?.with.drug ?? '',
        f.message,
      ]);
    if (service.hook === 'order-select') {
      // New-order cards for the selected drafts only; interactions still see every draft.
      const selections = new Set(
        (context.selections as string[]).filter((s) => drafts.some((d) => d.ref === s)),
      );
      ignoredDrafts += (context.selections as string[]).length - selections.size;
      findings = findings.filter((f) => selections.has(f.draft));
      shownKeys = findings.map(keyOf);
    } else {
      const keys = findings.map(keyOf);
      // Unreadable memory: every finding is shown again rather than one hidden.
      const shown = await deps.shownCards.shownAmong(keys).catch(() => {
        shownCardsUnavailable = true;
        return new Set<string>();
      });
      // A critical finding (a contraindication) is shown again at signing even if order-select showed it.
      findings = findings.filter((f, i) => f.severity === 'critical' || !shown.has(keys[i] as string));
    }
    cards = orderCards(findings, drafts, assessment.driver, ctx);
  }
  return {
    // Every card leaves here, and only here, with its topic and indicator in its uuid (card-tag.ts).
    cards: bySeverity(cards).map(tagCard),
    hookInstance: req.hookInstance,
    fhirCalls,
    gaps: gaps.length,
    gapReasons: gaps.map((g) => g.reason),
    ignoredDrafts,
    ...(refused ? { fhirServerRefused: refused } : {}),
    ...(shownCardsUnavailable ? { shownCardsUnavailable: true as const } : {}),
    ...(shownKeys?.length ? { shownKeys } : {}),
  };
}
