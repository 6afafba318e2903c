/**
 * Shared pieces of every card: stable ids, the source with its topic, markdown that cannot carry
 * HTML from the record, citations of the evidence, and the FHIR resources suggestions create.
 */
import { hash } from 'node:crypto';
import type { CheckOrder } from '../../src/core/model.ts';
import { type Knowledge, labelAsOf } from '../../src/knowledge/index.ts';
import type { Card, Link, Suggestion } from '../schemas.ts';

export const TOPIC_SYSTEM = 'urn:alk-ros1-cds:topic';
export const PREFERENCE_EXTENSION = 'urn:alk-ros1-cds:preference';
export const OVERRIDE_SYSTEM = 'urn:alk-ros1-cds:override-reason';

export type Topic =
  | 'therapy-selection'
  | 'biomarker-testing'
  | 'pretherapy-checks'
  | 'order-concordance'
  | 'drug-interaction'
  | 'local-therapy';

const TOPIC_DISPLAY: Record<Topic, string> = {
  'therapy-selection': 'Therapy selection',
  'biomarker-testing': 'Biomarker testing',
  'pretherapy-checks': 'Pre-therapy checks',
  'order-concordance': 'Order concordance',
  'drug-interaction': 'Drug interaction',
  'local-therapy': 'Local therapy',
};

export interface CardContext {
  kb: Knowledge;
  serviceId: string;
  hookInstance: string;
  patientId: string;
  encounterId?: string;
  /** SMART app launch URL for the `smart` link. */
  appLaunchUrl: string;
}

/** Name-based UUID (SHA-1, version 5 layout): the same hookInstance and key give the same id. */
export function stableUuid(...parts: string[]): string {
  // One-shot hash: no Hash object per card and suggestion.
  const h = hash('sha1', parts.join('\u0000'), 'buffer');
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Bidirectional embedding, override and isolate controls: they can make text read in another order. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;

/**
 * Escapes text from the record so it renders literally in GitHub-flavoured markdown, with no HTML.
 * Also for core messages that quote the record (a value, a drug name): those are plain text too.
 */
export function md(text: string): string {
  return printable(text)
    .replace(/[\\`*_{}[\]()#+!|~>]/g, '\\$&')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

/** Text without control or bidirectional-override characters (which can disguise what a clinician reads). */
function printable(text: string): string {
  return [...text]
    .filter((ch) => {
      const code = ch.charCodeAt(0);
      if (BIDI_CONTROLS.test(ch)) return false;
      return code >= 0x20 ? code !== 0x7f : ch === '\n' || ch === '\r' || ch === '\t';
    })
    .join('');
}

/**
 * Record text for a summary. Summaries are plain text, so markdown is not escaped (no stray
 * backslashes); in case an EHR renders them as HTML or markdown anyway, angle brackets become
 * look-alikes and link or image syntax is broken apart.
 */
export function plain(text: string): string {
  return printable(text)
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(/!\[/g, '! [')
    .replace(/\]\(/g, '] (')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Knowledge-base prose: trusted, but angle brackets still never become HTML. */
export function kbText(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** CDS Hooks summaries are under 140 characters. */
export function summary(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length <= 139 ? clean : `${clean.slice(0, 138).trimEnd()}…`;
}

export function generic(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** Each evidence record's citation line, made once per knowledge base (knowledge text only). */
const citationLines = new WeakMap<Knowledge, Map<string, string>>();

function citationLine(kb: Knowledge, id: string): string | undefined {
  let lines = citationLines.get(kb);
  if (!lines) {
    lines = new Map();
    citationLines.set(kb, lines);
  }
  const hit = lines.get(id);
  if (hit !== undefined) return hit;
  const e = kb.evidence.get(id);
  if (!e) return undefined;
  const where = [e.section, e.citation, labelAsOf(kb, id)].filter(Boolean).join('; ');
  const title = e.url ? `[${kbText(e.title)}](${e.url})` : kbText(e.title);
  const summaryText = e.summary ? ` ${kbText(e.summary)}` : '';
  const flag = e.verified ? '' : ' *(not verified against the primary source)*';
  const line = `- **${id}**: ${title}${where ? ` (${kbText(where)})` : ''}.${summaryText}${flag}`;
  lines.set(id, line);
  return line;
}

/** A markdown list of sources, with the figures a clinician needs. */
export function citations(kb: Knowledge, ids: readonly string[]): string {
  const lines = [...new Set(ids)].flatMap((id) => {
    const line = citationLine(kb, id);
    return line === undefined ? [] : [line];
  });
  return lines.length ? `**Sources**\n\n${lines.join('\n')}` : '';
}

/** Absolute https links to the cited sources, plus the SMART app. */
export function links(ctx: CardContext, evidenceIds: readonly string[], max = 3): Link[] {
  const out: Link[] = [{ label: 'Open the ALK/ROS1 summary', url: ctx.appLaunchUrl, type: 'smart' }];
  const seen = new Set<string>();
  for (const id of evidenceIds) {
    const e = ctx.kb.evidence.get(id);
    if (!e?.url?.startsWith('https://') || seen.has(e.url)) continue;
    seen.add(e.url);
    out.push({ label: summary(e.title).slice(0, 80), url: e.url, type: 'absolute' });
    if (out.length > max) break;
  }
  return out;
}

export function source(ctx: CardContext, topic: Topic, evidenceIds: readonly string[]): Card['source'] {
  const url = evidenceIds.map((id) => ctx.kb.evidence.get(id)?.url).find((u) => u?.startsWith('https://'));
  return {
    label: `ALK/ROS1 NSCLC decision support (knowledge base ${ctx.kb.version})`,
    ...(url ? { url } : {}),
    topic: { system: TOPIC_SYSTEM, code: topic, display: TOPIC_DISPLAY[topic] },
  };
}

export const OVERRIDE_REASONS: NonNullable<Card['overrideReasons']> = [
  {
    system: OVERRIDE_SYSTEM,
    code: 'clinical-judgement',
    display: 'Clinical judgement: benefit outweighs the concern',
  },
  { system: OVERRIDE_SYSTEM, code: 'patient-preference', display: 'Patient preference or shared decision' },
  { system: OVERRIDE_SYSTEM, code: 'clinical-trial', display: 'Part of a clinical trial' },
  { system: OVERRIDE_SYSTEM, code: 'record-incomplete', display: 'The record is incomplete or out of date' },
  { system: OVERRIDE_SYSTEM, code: 'already-arranged', display: 'Already done or arranged elsewhere' },
];

export function medicationRequest(ctx: CardContext, agentId: string, note?: string): Record<string, unknown> {
  const agent = ctx.kb.agents.get(agentId);
  const rx = agent?.rxnorm?.verified
    ? [{ system: ctx.kb.codes.systems.rxnorm, code: agent.rxnorm.code, display: agentId }]
    : [];
  return {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${ctx.patientId}` },
    ...(ctx.encounterId ? { encounter: { reference: `Encounter/${ctx.encounterId}` } } : {}),
    medicationCodeableConcept: { ...(rx.length ? { coding: rx } : {}), text: agentId },
    reasonCode: [{ coding: [withoutKbFields(ctx.kb.codes.orders.nsclcReason)] }],
    ...(note ? { note: [{ text: note }] } : {}),
  };
}

/** A knowledge-base coding as FHIR writes it (without the review fields). */
function withoutKbFields(c: { system: string; code: string; display: string }) {
  return { system: c.system, code: c.code, display: c.display };
}

export function serviceRequest(
  ctx: CardContext,
  code: { coding?: CheckOrder; text: string },
  category: CheckOrder['category'],
  reason: string,
): Record<string, unknown> {
  const cat = ctx.kb.codes.orders.serviceRequestCategory[category];
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${ctx.patientId}` },
    ...(ctx.encounterId ? { encounter: { reference: `Encounter/${ctx.encounterId}` } } : {}),
    category: [{ coding: [withoutKbFields(cat)] }],
    code: {
      ...(code.coding
        ? { coding: [{ system: code.coding.system, code: code.coding.code, display: code.coding.display }] }
        : {}),
      text: code.text,
    },
    reasonCode: [{ text: reason }],
  };
}

export function suggestion(cardUuid: string, key: string, s: Omit<Suggestion, 'uuid'>): Suggestion {
  return { uuid: stableUuid(cardUuid, key), ...s };
}
