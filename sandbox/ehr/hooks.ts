/**
 * The EHR side of CDS Hooks 2.0, as pure functions: draft orders, hook requests, applying a
 * suggestion's actions to the draft list, which suggestions may still be applied, feedback bodies,
 * and redaction for the developer panel. No I/O, no clock (callers pass ids and times).
 * {@link https://cds-hooks.hl7.org/2.0/}
 */
import type {
  Action,
  Card,
  CdsRequest,
  Coding,
  FeedbackRequest,
  HookFhirResponse,
  HookName,
  Orderable,
  Resource,
  Suggestion,
} from './types.ts';

export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

export const SERVICE_FOR_HOOK: Record<HookName, string> = {
  'patient-view': 'alk-ros1-patient-view',
  'order-select': 'alk-ros1-order-select',
  'order-sign': 'alk-ros1-order-sign',
};

export interface ChartContext {
  /** `Practitioner/…` */
  userId: string;
  patientId: string;
  encounterId?: string;
}

// --- Draft orders --------------------------------------------------------------------------------

/** A draft MedicationRequest for a drug picked from the order list. */
export function draftFromOrderable(orderable: Orderable, chart: ChartContext, id: string): Resource {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${chart.patientId}` },
    ...(chart.encounterId ? { encounter: { reference: `Encounter/${chart.encounterId}` } } : {}),
    requester: { reference: chart.userId },
    medicationCodeableConcept: {
      ...(orderable.rxnorm
        ? { coding: [{ system: RXNORM, code: orderable.rxnorm, display: orderable.name }] }
        : {}),
      text: orderable.name,
    },
  };
}

/** `context.draftOrders`: every unsigned order of the session. */
export function draftOrdersBundle(drafts: readonly Resource[]): Resource {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: drafts.map((resource) => ({ resource })),
  };
}

export const refOf = (r: Resource): string => `${r.resourceType}/${r.id ?? ''}`;

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

const conceptText = (c: unknown): string | undefined => {
  if (!isObject(c)) return undefined;
  if (typeof c.text === 'string' && c.text) return c.text;
  const coding = Array.isArray(c.coding) ? c.coding.find((x) => isObject(x) && x.display) : undefined;
  return isObject(coding) && typeof coding.display === 'string' ? coding.display : undefined;
};

/** What a clinician reads for an order: the drug, the test, else the resource type. */
export function resourceLabel(r: Resource): string {
  return (
    conceptText(r.medicationCodeableConcept) ??
    (isObject(r.medicationReference) && typeof r.medicationReference.display === 'string'
      ? r.medicationReference.display
      : undefined) ??
    conceptText(r.code) ??
    r.resourceType
  );
}

// --- Hook requests -------------------------------------------------------------------------------

export function baseContext(chart: ChartContext): Record<string, unknown> {
  return {
    userId: chart.userId,
    patientId: chart.patientId,
    ...(chart.encounterId ? { encounterId: chart.encounterId } : {}),
  };
}

export function patientViewContext(chart: ChartContext): Record<string, unknown> {
  return baseContext(chart);
}

/** order-select: the drafts just chosen (`selections`) and every draft of the session. */
export function orderSelectContext(
  chart: ChartContext,
  drafts: readonly Resource[],
  selectedIds: readonly string[],
): Record<string, unknown> {
  const selections = drafts.filter((d) => d.id && selectedIds.includes(d.id)).map(refOf);
  return { ...baseContext(chart), selections, draftOrders: draftOrdersBundle(drafts) };
}

/** order-sign: everything about to be signed. */
export function orderSignContext(chart: ChartContext, drafts: readonly Resource[]): Record<string, unknown> {
  return { ...baseContext(chart), draftOrders: draftOrdersBundle(drafts) };
}

/**
 * The POST body of a hook call. `fhirServer` and `fhirAuthorization` always (so the service can
 * query what prefetch lacks); `prefetch` only when the EHR chose to fill it.
 */
export function buildHookRequest(args: {
  hook: HookName;
  hookInstance: string;
  context: Record<string, unknown>;
  fhir: HookFhirResponse;
  sendPrefetch: boolean;
}): CdsRequest {
  const { fhir } = args;
  const prefetch = args.sendPrefetch && fhir.prefetch ? fhir.prefetch : undefined;
  return {
    hook: args.hook,
    hookInstance: args.hookInstance,
    fhirServer: fhir.fhirServer,
    fhirAuthorization: fhir.fhirAuthorization,
    context: args.context,
    ...(prefetch && Object.keys(prefetch).length > 0 ? { prefetch } : {}),
  };
}

// --- Suggestions and actions ---------------------------------------------------------------------

/** `"MedicationRequest/abc"` or `"abc"` (a bare id matches any resource type). */
export function parseReference(ref: string): { type?: string; id: string } {
  const clean = ref.trim().replace(/^.*\/(?=[^/]+\/[^/]+$)/, '');
  const slash = clean.indexOf('/');
  return slash > 0 ? { type: clean.slice(0, slash), id: clean.slice(slash + 1) } : { id: clean };
}

function targetOf(action: Action): { type?: string; id: string } | undefined {
  if (action.resourceId) return parseReference(action.resourceId);
  // Deprecated in 2.0 but still seen: the resource (with its id) names what to delete.
  if (action.resource?.id) return { type: action.resource.resourceType, id: action.resource.id };
  return undefined;
}

const matches = (r: Resource, t: { type?: string; id: string }) =>
  r.id === t.id && (!t.type || r.resourceType === t.type);

export interface ApplyResult {
  drafts: Resource[];
  created: Resource[];
  deleted: Resource[];
  updated: Resource[];
  /** Actions that named no draft (or carried no resource), in words. */
  skipped: string[];
}

/**
 * Applies a suggestion's actions to the draft list as CDS Hooks processes them (like a FHIR
 * transaction): deletes, then creates, then updates. A created resource without an id gets one.
 */
export function applyActions(
  drafts: readonly Resource[],
  actions: readonly Action[],
  makeId: () => string,
): ApplyResult {
  let next = [...drafts];
  const result: Omit<ApplyResult, 'drafts'> = { created: [], deleted: [], updated: [], skipped: [] };
  const byType = (t: string) => actions.filter((a) => a.type === t);

  for (const a of byType('delete')) {
    const target = targetOf(a);
    const gone = target ? next.filter((r) => matches(r, target)) : [];
    if (!gone.length) {
      result.skipped.push(`delete: no draft ${a.resourceId ?? a.resource?.id ?? '(no resourceId)'}`);
      continue;
    }
    result.deleted.push(...gone);
    next = next.filter((r) => !gone.includes(r));
  }
  for (const a of byType('create')) {
    if (!isObject(a.resource) || typeof a.resource.resourceType !== 'string') {
      result.skipped.push('create: no resource');
      continue;
    }
    const resource: Resource = { ...a.resource, id: a.resource.id || makeId() };
    result.created.push(resource);
    next.push(resource);
  }
  for (const a of byType('update')) {
    const r = a.resource;
    const i = r?.id ? next.findIndex((d) => matches(d, { type: r.resourceType, id: r.id as string })) : -1;
    if (!r || i < 0) {
      result.skipped.push(`update: no draft ${r?.id ?? '(no id)'}`);
      continue;
    }
    next[i] = r;
    result.updated.push(r);
  }
  for (const a of actions) {
    if (!['create', 'update', 'delete'].includes(a.type))
      result.skipped.push(`unknown action type ${a.type}`);
  }
  return { drafts: next, ...result };
}

export type CardOutcome =
  | { kind: 'accepted'; suggestions: string[] }
  | { kind: 'overridden'; reason?: Coding; comment?: string };

/**
 * Why a card cannot be acted upon as sent (CDS Hooks 2.0: suggestions need a `selectionBehavior`
 * the client understands, else the card is an error), or undefined.
 */
export function cardProblem(card: Card): string | undefined {
  if (!card.suggestions?.length) return undefined;
  if (!card.selectionBehavior) return 'The card has suggestions but no selectionBehavior.';
  if (!['at-most-one', 'any'].includes(card.selectionBehavior))
    return `Unknown selectionBehavior "${card.selectionBehavior}".`;
  return undefined;
}

/** Key of a suggestion in a card: its uuid, else its position. */
export const suggestionKey = (s: Suggestion, index: number): string => s.uuid ?? `#${index}`;

/** Whether a suggestion can still be applied, honouring `at-most-one`. */
export function canApply(card: Card, outcome: CardOutcome | undefined, key: string): boolean {
  if (cardProblem(card)) return false;
  if (!outcome) return true;
  if (outcome.kind === 'overridden') return false;
  if (outcome.suggestions.includes(key)) return false;
  return card.selectionBehavior !== 'at-most-one';
}

// --- Feedback ------------------------------------------------------------------------------------

export function acceptedFeedback(cardUuid: string, suggestionUuids: string[], at: Date): FeedbackRequest {
  return {
    feedback: [
      {
        card: cardUuid,
        outcome: 'accepted',
        acceptedSuggestions: suggestionUuids.map((id) => ({ id })),
        outcomeTimestamp: at.toISOString(),
      },
    ],
  };
}

export function overriddenFeedback(
  cardUuid: string,
  reason: Coding | undefined,
  comment: string,
  at: Date,
): FeedbackRequest {
  const userComment = comment.trim();
  return {
    feedback: [
      {
        card: cardUuid,
        outcome: 'overridden',
        ...(reason || userComment
          ? {
              overrideReason: {
                ...(reason ? { reason } : {}),
                ...(userComment ? { userComment } : {}),
              },
            }
          : {}),
        outcomeTimestamp: at.toISOString(),
      },
    ],
  };
}

// --- Links and redaction -------------------------------------------------------------------------

/** The URL if it is absolute http(s), else undefined: nothing else is opened or framed. */
export function safeHttpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** A SMART link's URL with the EHR launch parameters appended. */
export function withLaunchParams(url: string, iss: string, launch: string): string | undefined {
  const safe = safeHttpUrl(url);
  if (!safe) return undefined;
  const u = new URL(safe);
  u.searchParams.set('iss', iss);
  u.searchParams.set('launch', launch);
  return u.href;
}

const SECRET_KEYS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'authorization',
  'client_secret',
]);

/** A deep copy with every token replaced, for showing requests to integrators. */
export function redact<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redact) as T;
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEYS.has(k.toLowerCase()) && typeof v === 'string' ? '[redacted]' : redact(v);
  return out as T;
}
