/**
 * Shared pieces of every card: stable ids, the source with its topic, markdown that cannot carry
 * HTML from the record, citations of the evidence, and the FHIR resources suggestions create.
 */
import { hash } from 'node:crypto';
import type { CheckOrder } from '../../src/core/model.ts';
import { type Knowledge, labelAsOf } from '../../src/knowledge/index.ts';
import type { Evidence } from '../../src/knowledge/schema.ts';
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
  return uuidText(h.subarray(0, 16));
}

/** 16 bytes as a uuid's text (8-4-4-4-12 hex digits). */
export function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
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

/** Where a card lists the evidence ids it cites: ids are internal, so they stay out of the text. */
export const EVIDENCE_EXTENSION = 'urn:alk-ros1-cds:evidence';

/**
 * A card as this service sends it: the contract's Card plus `extension` (CDS Hooks 2.0 lets any
 * card carry one), which names the evidence ids behind the short source titles in `detail`.
 */
export type CitedCard = Card & { extension?: Record<string, unknown> };

/** The card extension naming every evidence id a card cites (known ids, each once, in order). */
export function evidenceExtension(kb: Knowledge, ids: readonly string[]): Record<string, unknown> {
  return { [EVIDENCE_EXTENSION]: [...new Set(ids)].filter((id) => kb.evidence.has(id)) };
}

/** At most this many sources are named on a card; the SMART app lists them all. */
const MAX_SOURCES = 5;

interface SourceEntry {
  text: string;
  url?: string;
  /** Label revision, title, sections and citation: the link's title (hover) text. */
  details: string[];
  verified: boolean;
}

/** `Peters S et al. … 2017` → `Peters 2017`; a book chapter's section as `§5.1`. */
function publicationTitle(e: Evidence): string {
  const from = e.citation ?? e.title;
  const author = /^[\p{L}'-]+/u.exec(from)?.[0] ?? e.title;
  const year = /\b(?:19|20)\d\d\b/.exec(e.citation ?? e.title)?.[0];
  return year ? `${author} ${year}` : author;
}

/** A short title for one evidence record: the words a clinician recognises, not a paragraph. */
function shortTitle(e: Evidence): string {
  switch (e.kind) {
    case 'label':
      return `${e.title.split(' (')[0]} label`;
    case 'trial': {
      const name = e.title.split(':')[0] ?? e.title;
      return /\btrial\b/i.test(name) ? name : `${name} trial`;
    }
    case 'publication':
      return publicationTitle(e);
    default: {
      const bare = e.title.replace(/\s*\([^()]*\)\s*$/, '');
      const head = bare.split(': ')[0] ?? bare;
      const text = head.length >= 4 && head !== bare ? head : bare;
      return text.length <= 40 ? text : `${text.slice(0, 40).replace(/\s+\S*$/, '')}…`;
    }
  }
}

/**
 * One entry per source a clinician would name: a drug's label once (its sections in the hover
 * text), a book chapter once with its sections (`Aslan §2, §5.1`), every other record by itself.
 */
function sourceEntries(kb: Knowledge, ids: readonly string[]): SourceEntry[] {
  const entries = new Map<string, SourceEntry & { sections: string[] }>();
  for (const id of new Set(ids)) {
    const e = kb.evidence.get(id);
    if (!e) continue;
    const chapter = e.kind === 'publication' && e.section?.startsWith('§');
    const key = e.kind === 'label' ? `label|${e.drug ?? e.url ?? e.title}` : chapter ? `pub|${e.title}` : id;
    const seen = entries.get(key);
    const section = chapter ? e.section?.split(' ')[0] : undefined;
    if (seen) {
      if (section) seen.sections.push(section);
      if (e.section && !seen.details.includes(e.section)) seen.details.push(e.section);
      seen.verified &&= e.verified;
      seen.url ??= e.url;
      continue;
    }
    entries.set(key, {
      text: shortTitle(e),
      ...(e.url ? { url: e.url } : {}),
      // A trial's name says what it is; a label's hover text adds its revision and sections, and
      // any other source's its full title.
      details:
        e.kind === 'trial'
          ? []
          : [labelAsOf(kb, id), e.kind === 'label' ? undefined : e.title, e.section, e.citation].filter(
              (x): x is string => Boolean(x),
            ),
      verified: e.verified,
      sections: section ? [section] : [],
    });
  }
  return [...entries.values()].map(({ sections, ...entry }) =>
    sections.length ? { ...entry, text: `${entry.text} ${sections.join(', ')}` } : entry,
  );
}

/** A link's title text: no quote or backslash that could end or bend it. */
function linkTitle(parts: readonly string[]): string {
  return parts.join('; ').replace(/["\\]/g, "'").replace(/\s+/g, ' ');
}

/** `[ALEX trial](https://… "ALEX: alectinib vs crizotinib…")`, or the bare title without a usable link. */
function sourceText(s: SourceEntry): string {
  const text = md(s.text);
  const linked =
    s.url?.startsWith('https://') && !/[\s()<>]/.test(s.url)
      ? `[${text}](${s.url}${s.details.length ? ` "${linkTitle(s.details)}"` : ''})`
      : text;
  return s.verified ? linked : `${linked} _(not yet verified)_`;
}

/**
 * One line of sources as short linked titles, for example
 * `**Sources**: Aslan §5.1 · [ALEX trial](…) · [LORBRENA label](… "…; US label as of 2026-01")`.
 * The evidence ids themselves go in the card's extension (evidenceExtension).
 */
export function citations(kb: Knowledge, ids: readonly string[]): string {
  const entries = sourceEntries(kb, ids);
  if (entries.length === 0) return '';
  const shown = entries.slice(0, MAX_SOURCES).map(sourceText);
  const more = entries.length - MAX_SOURCES;
  return `**Sources**: ${shown.join(' · ')}${more > 0 ? ` · ${more} more in the ALK/ROS1 summary` : ''}`;
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
