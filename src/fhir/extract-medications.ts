/**
 * Therapy history (lines) and active medications from MedicationRequest, MedicationStatement and
 * MedicationAdministration, with `medicationReference` resolved against Medication resources in the
 * record (`Medication/id`, absolute URLs, or contained `#id`).
 *
 * A line is one agent given over consecutive or overlapping episodes, whatever resources record it:
 * Epic renews TKI orders every few months, and an order plus a patient-reported statement are the
 * same treatment. Only anticancer agents the knowledge base knows (TKI, immunotherapy,
 * chemotherapy) form lines; every other drug matters only as an active medication (interactions).
 *
 * Progression: a statusReason that says so, or an mCODE CancerDiseaseStatus observation ("worsened")
 * dated during a line or within PROGRESSION_SLACK_DAYS after it ended.
 */
import type { ActiveMedication, TherapyKind, TherapyLine } from '../core/model.ts';
import { type DrugMatch, type FhirKnowledge, inSet, matchAgent } from './codings.ts';
import {
  type AnyResource,
  asArray,
  conceptLabel,
  conceptText,
  DAY_MS,
  dateMs,
  dateOf,
  effectiveDate,
  isString,
  joinText,
  normaliseReference,
  refOf,
} from './read.ts';

/** Episodes of one agent this close together are one line (order renewals, cycle gaps). */
export const LINE_GAP_DAYS = 60;
/** A progression recorded this soon after a line stopped is attributed to that line. */
export const PROGRESSION_SLACK_DAYS = 45;

export interface MedicationInput {
  kb: FhirKnowledge;
  requests: readonly AnyResource[];
  statements: readonly AnyResource[];
  administrations: readonly AnyResource[];
  observations: readonly AnyResource[];
  /** Resolves a reference (relative to `from` for contained resources). */
  resolve: (ref: string, from?: AnyResource) => AnyResource | undefined;
  /** CNS metastasis Condition refs (progression with that focus is CNS progression). */
  cnsConditionRefs: ReadonlySet<string>;
  notes: string[];
}

export interface MedicationFindings {
  therapies: TherapyLine[];
  activeMedications: ActiveMedication[];
  /** Resources whose drug could not be identified (`MedicationStatement/1 → Medication/9`). */
  unidentified: string[];
}

type EpisodeStatus = 'active' | 'ended' | 'unknown';

interface Episode {
  drug: DrugMatch | null;
  display: string;
  unresolved?: string;
  start?: string;
  end?: string;
  status: EpisodeStatus;
  reasonText: string;
  source: string;
}

export interface IdentifiedMedication {
  drug: DrugMatch | null;
  display: string;
  /** The `medicationReference` that could not be resolved, when nothing else named the drug. */
  unresolved?: string;
}

/**
 * The drug of a MedicationRequest, MedicationStatement or MedicationAdministration, recorded or
 * drafted: its `medicationCodeableConcept`, or the Medication its `medicationReference` points to
 * (contained `#id`, or `Medication/id` found by `resolve`) by code, then ingredient, then the
 * reference's display. RxNorm code, generic or brand name all match (`matchAgent`). The one
 * medication reader: history, active medications and draft orders all go through it.
 */
export function identifyMedication(
  kb: FhirKnowledge,
  r: AnyResource,
  resolve: (ref: string, from?: AnyResource) => AnyResource | undefined,
): IdentifiedMedication {
  if (r.medicationCodeableConcept) {
    return {
      drug: matchAgent(kb, r.medicationCodeableConcept),
      display: conceptLabel(r.medicationCodeableConcept) || 'unnamed medication',
    };
  }
  const ref = r.medicationReference;
  const target = isString(ref?.reference) ? resolve(ref.reference, r) : undefined;
  const byDisplay = isString(ref?.display) ? matchAgent(kb, ref.display) : null;
  if (target?.resourceType === 'Medication') {
    const byCode = matchAgent(kb, target.code);
    const byIngredient = asArray<AnyResource>(target.ingredient)
      .map((i) => (i?.itemCodeableConcept ? matchAgent(kb, i.itemCodeableConcept) : null))
      .find((m) => m !== null);
    return {
      drug: byCode ?? byIngredient ?? byDisplay ?? null,
      display: conceptLabel(target.code) || ref.display || 'unnamed medication',
    };
  }
  const display = isString(ref?.display) ? ref.display : 'unnamed medication';
  // A reference nobody can follow, and no display that names a known drug: the drug is unknown,
  // which is a gap (interactions and history cannot be checked), not a harmless unknown drug.
  if (isString(ref?.reference) && !byDisplay) return { drug: null, display, unresolved: ref.reference };
  return { drug: byDisplay, display };
}

function reasonText(r: AnyResource): string {
  return joinText(
    ...asArray(r.statusReason).map(
      (s) =>
        conceptText(s) ||
        asArray(s?.coding)
          .map((c: AnyResource) => c?.code)
          .join(' '),
    ),
    ...asArray(r.note).map((n: AnyResource) => n?.text),
  );
}

function boundsOf(r: AnyResource): { start?: string; end?: string } {
  let start: string | undefined;
  let end: string | undefined;
  for (const d of asArray<AnyResource>(r.dosageInstruction ?? r.dosage)) {
    const b = d?.timing?.repeat?.boundsPeriod;
    const s = dateOf(b?.start);
    const e = dateOf(b?.end);
    if (s && (!start || dateMs(s) < dateMs(start))) start = s;
    if (e && (!end || dateMs(e) > dateMs(end))) end = e;
  }
  return { ...(start ? { start } : {}), ...(end ? { end } : {}) };
}

function fromRequest(input: MedicationInput, r: AnyResource): Episode | undefined {
  const status = String(r.status ?? 'unknown');
  // Drafts are orders being written (CDS Hooks draftOrders), not therapy given.
  if (status === 'draft') return undefined;
  const intent = String(r.intent ?? 'order');
  if (intent === 'proposal' || intent === 'plan') return undefined;
  const med = identifyMedication(input.kb, r, input.resolve);
  const b = boundsOf(r);
  const start = b.start ?? dateOf(r.authoredOn);
  const end = b.end ?? (status === 'active' ? undefined : dateOf(r.dispenseRequest?.validityPeriod?.end));
  if (status === 'cancelled') {
    // R4: "withdrawn before any administrations occurred": never taken, so never a line. Said in a
    // note in case an EHR uses "cancelled" for a drug that was in fact taken and stopped.
    if (med.drug?.type === 'agent')
      input.notes.push(
        `${refOf(r)} (${med.display}) is a cancelled order (never taken); not counted as a line.`,
      );
    return undefined;
  }
  const epStatus: EpisodeStatus =
    status === 'active' || status === 'on-hold'
      ? 'active'
      : status === 'completed' || status === 'stopped'
        ? 'ended'
        : 'unknown';
  return episode(med, start, end, epStatus, r);
}

/** The episode every medication resource becomes, once its dates and status are read. */
function episode(
  med: IdentifiedMedication,
  start: string | undefined,
  end: string | undefined,
  status: EpisodeStatus,
  r: AnyResource,
): Episode {
  return {
    ...med,
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    status,
    reasonText: reasonText(r),
    source: refOf(r),
  };
}

function fromStatement(input: MedicationInput, r: AnyResource): Episode | undefined {
  const status = String(r.status ?? 'unknown');
  if (status === 'not-taken' || status === 'intended') return undefined;
  const med = identifyMedication(input.kb, r, input.resolve);
  const start = dateOf(r.effectivePeriod?.start) ?? dateOf(r.effectiveDateTime) ?? boundsOf(r).start;
  const end = dateOf(r.effectivePeriod?.end) ?? boundsOf(r).end;
  const epStatus: EpisodeStatus =
    status === 'active' || status === 'on-hold'
      ? 'active'
      : status === 'completed' || status === 'stopped'
        ? 'ended'
        : 'unknown';
  return episode(med, start, end, epStatus, r);
}

function fromAdministration(input: MedicationInput, r: AnyResource): Episode | undefined {
  const status = String(r.status ?? 'unknown');
  if (status === 'not-done') return undefined;
  const med = identifyMedication(input.kb, r, input.resolve);
  const start = dateOf(r.effectivePeriod?.start) ?? dateOf(r.effectiveDateTime);
  const end = dateOf(r.effectivePeriod?.end) ?? start;
  // One administration is an event in the past; "in-progress" means the infusion is running now.
  const epStatus: EpisodeStatus = status === 'in-progress' || status === 'on-hold' ? 'active' : 'ended';
  return episode(med, start, end, epStatus, r);
}

type EndReason = NonNullable<TherapyLine['endReason']>;

export function endReasonFromText(text: string): EndReason | undefined {
  if (!text.trim()) return undefined;
  if (/progress|\bPD\b|relapse|recurren|refractory|resistan|treatment failure|disease worsen/i.test(text))
    return 'progression';
  if (
    /adverse|toxicit|intoleran|side[- ]effect|pneumonitis|hepatotox|allerg|reaction|not tolerated/i.test(text)
  )
    return 'toxicity';
  if (/\bcomplete(d)?\b|course (finished|done)|finished/i.test(text)) return 'completed';
  return 'other';
}

/** mCODE CancerDiseaseStatus "worsened" (or a text "progression") observations. */
function progressionEvents(
  input: MedicationInput,
): { date: string; ms: number; cns: boolean; pattern?: TherapyLine['progressionPattern']; ref: string }[] {
  const out: {
    date: string;
    ms: number;
    cns: boolean;
    pattern?: TherapyLine['progressionPattern'];
    ref: string;
  }[] = [];
  for (const o of input.observations) {
    if (!inSet(input.kb, o.code, 'diseaseStatus')) continue;
    if (o.status === 'entered-in-error' || o.status === 'cancelled') continue;
    const valueText = joinText(
      conceptText(o.valueCodeableConcept),
      typeof o.valueString === 'string' ? o.valueString : undefined,
    );
    const worsened =
      inSet(input.kb, o.valueCodeableConcept, 'diseaseWorsened') || /worse|progress/i.test(valueText);
    if (!worsened) continue;
    const date = effectiveDate(o);
    if (!date) continue;
    const focusCns = asArray(o.focus).some((f) => {
      const ref = normaliseReference(f);
      return ref !== undefined && input.cnsConditionRefs.has(ref);
    });
    const words = joinText(valueText, ...asArray(o.note).map((n: AnyResource) => n?.text));
    const pattern: TherapyLine['progressionPattern'] =
      focusCns || /\b(CNS|brain|intracranial|leptomening)/i.test(words)
        ? 'cns'
        : /oligo/i.test(words)
          ? 'oligo'
          : /systemic|extracranial/i.test(words)
            ? 'systemic'
            : 'unknown';
    out.push({ date, ms: dateMs(date), cns: pattern === 'cns', pattern, ref: refOf(o) });
  }
  return out.sort((a, b) => a.ms - b.ms);
}

export function extractMedications(input: MedicationInput): MedicationFindings {
  const episodes: Episode[] = [];
  const sources: [readonly AnyResource[], typeof fromRequest][] = [
    [input.requests, fromRequest],
    [input.statements, fromStatement],
    [input.administrations, fromAdministration],
  ];
  for (const [resources, toEpisode] of sources) {
    for (const r of resources) {
      // Entered in error: never therapy, whichever resource says it.
      if (r.status === 'entered-in-error') {
        input.notes.push(`${refOf(r)} is entered-in-error and was not used.`);
        continue;
      }
      const e = toEpisode(input, r);
      if (e) episodes.push(e);
    }
  }

  const activeMedications = buildActive(episodes);
  const therapies = buildLines(input, episodes);
  const unidentified = episodes.flatMap((e) => (e.unresolved ? [`${e.source} → ${e.unresolved}`] : []));
  return { therapies, activeMedications, unidentified };
}

function buildActive(episodes: Episode[]): ActiveMedication[] {
  const out: ActiveMedication[] = [];
  for (const e of episodes) {
    if (e.status !== 'active') continue;
    const id = e.drug?.id ?? null;
    const twin = out.find((o) => (id ? o.drug === id : o.drug === null && o.display === e.display));
    if (twin) {
      if (!twin.sources.includes(e.source)) twin.sources.push(e.source);
      continue;
    }
    out.push({ drug: id, display: e.display, sources: [e.source] });
  }
  return out;
}

function kindOf(drug: DrugMatch | null): TherapyKind {
  const k = drug?.agent?.kind;
  return k === 'tki' || k === 'immunotherapy' || k === 'chemotherapy' ? k : 'other';
}

function buildLines(input: MedicationInput, episodes: Episode[]): TherapyLine[] {
  const byAgent = new Map<string, Episode[]>();
  for (const e of episodes) {
    const drug = e.drug;
    if (drug?.type !== 'agent') continue;
    const list = byAgent.get(drug.id) ?? [];
    list.push(e);
    byAgent.set(drug.id, list);
  }
  const events = progressionEvents(input);
  const lines: TherapyLine[] = [];
  for (const [agent, list] of byAgent) {
    list.sort((a, b) => (dateMs(a.start) || 0) - (dateMs(b.start) || 0));
    let group: Episode[] = [];
    let groupEnd = Number.NEGATIVE_INFINITY;
    const flush = () => {
      if (group.length) lines.push(toLine(agent, group, events));
      group = [];
      groupEnd = Number.NEGATIVE_INFINITY;
    };
    for (const e of list) {
      const s = dateMs(e.start);
      const openEnded = group.some((g) => g.status === 'active' || (!g.end && g.status !== 'ended'));
      if (group.length && Number.isFinite(s) && !openEnded && s > groupEnd + LINE_GAP_DAYS * DAY_MS) flush();
      group.push(e);
      const end = dateMs(e.end ?? e.start);
      if (Number.isFinite(end)) groupEnd = Math.max(groupEnd, end);
    }
    flush();
  }
  return lines.sort((a, b) => (dateMs(a.start) || 0) - (dateMs(b.start) || 0));
}

function toLine(
  agent: string,
  group: Episode[],
  events: {
    date: string;
    ms: number;
    cns: boolean;
    pattern?: TherapyLine['progressionPattern'];
    ref: string;
  }[],
): TherapyLine {
  const first = group[0] as Episode;
  let start: string | undefined;
  let end: string | undefined;
  for (const e of group) {
    if (e.start && (!start || dateMs(e.start) < dateMs(start))) start = e.start;
    const eEnd = e.end ?? (e.status === 'ended' ? e.start : undefined);
    if (eEnd && (!end || dateMs(eEnd) > dateMs(end))) end = eEnd;
  }
  const anyActive = group.some((e) => e.status === 'active');
  const status: TherapyLine['status'] = anyActive
    ? 'active'
    : group.some((e) => e.status === 'ended')
      ? 'ended'
      : 'unknown';
  const reasons = group
    .map((e) => endReasonFromText(e.reasonText))
    .filter((r): r is EndReason => r !== undefined);
  const line: TherapyLine = {
    agent,
    kind: kindOf(first.drug),
    display: first.display,
    status,
    sources: [...new Set(group.map((e) => e.source))],
  };
  if (start) line.start = start;
  if (status !== 'active' && end) line.end = end;
  if (status === 'ended') {
    line.endReason = reasons.includes('progression')
      ? 'progression'
      : (reasons[reasons.length - 1] ?? 'unknown');
    if (line.endReason === 'progression' && end) line.progressionDate = end;
  }
  // A disease-status "worsened" during the line (or shortly after it stopped) is progression on it.
  const s = dateMs(start);
  const endMs = dateMs(end);
  // An ended line without an end date cannot own a later progression: it might have stopped long before.
  const upper =
    status !== 'ended'
      ? Number.POSITIVE_INFINITY
      : Number.isFinite(endMs)
        ? endMs + PROGRESSION_SLACK_DAYS * DAY_MS
        : Number.NEGATIVE_INFINITY;
  const ev = Number.isFinite(s) ? events.find((x) => x.ms >= s && x.ms <= upper) : undefined;
  if (ev) {
    line.progressionDate = ev.date;
    line.progressionPattern = ev.pattern ?? 'unknown';
    if (!line.sources.includes(ev.ref)) line.sources.push(ev.ref);
    if (status === 'ended' && (line.endReason === 'unknown' || line.endReason === 'other'))
      line.endReason = 'progression';
  }
  return line;
}
