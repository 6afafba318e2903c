/**
 * Matching codes and drug names against the knowledge base's value sets.
 *
 * Codings are matched by system + code, never code alone [design.md]; system URIs are normalised
 * through `codes.systemAliases` because the same code system travels under several URIs in real data
 * (HGNC `http://www.genenames.org` vs `.../geneId`, Sequence Ontology with and without a trailing
 * slash, `urn:oid:` forms) [terminology.md §1.4, §5]. Lookup maps are built once per Knowledge
 * object and memoised, so extracting from 10,000 resources costs a few map look-ups per resource.
 */

import type { Coding } from 'fhir/r4';
import type { Gene } from '../core/model.ts';
import { escapeRegExp } from '../escape-regexp.ts';
import type { Agent, InteractingDrug, Knowledge } from '../knowledge/index.ts';
import { codingsOf, conceptText, isString } from './read.ts';

/** The parts of the knowledge base the FHIR layer reads. */
export type FhirKnowledge = Pick<Knowledge, 'codes' | 'agents' | 'interactingDrugs' | 'analytes'>;

type Codes = FhirKnowledge['codes'];
type CodingLike = Pick<Coding, 'system' | 'code'>;
type BiomarkerTest = Codes['biomarkerTests'][number];
export type Call = 'positive' | 'negative' | 'equivocal' | 'no-call';

export interface DrugMatch {
  id: string;
  /** `agent` ids are knowledge-base agents (TKIs, ICIs, chemo); `interacting` are interacting drugs. */
  type: 'agent' | 'interacting';
  agent?: Agent;
  interacting?: InteractingDrug;
}

export interface CodeIndex {
  canonicalSystem: Map<string, string>;
  analyteByKey: Map<string, string>;
  biomarkerTestByKey: Map<string, BiomarkerTest>;
  answerByKey: Map<string, Call>;
  geneByKey: Map<string, Gene>;
  drugByRxnorm: Map<string, DrugMatch>;
  drugNames: { re: RegExp; byName: Map<string, DrugMatch> };
  sets: Map<string, Set<string>>;
  /**
   * Observation codes -> which extractors care (ROLE_* bit flags), for the one triage pass, as
   * canonical system -> code -> flags: looked up without building a key string per coding.
   */
  observationRolesBySystem: Map<string, Map<string, number>>;
}

export const ROLE_BIOMARKER = 1;
export const ROLE_MEASUREMENT = 2;
export const ROLE_DISEASE = 4;

const cache = new WeakMap<object, CodeIndex>();

function stripSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/** The canonical URI of a code-system URI (identity when unknown; a trailing slash is tolerated). */
export function canonicalSystem(kb: FhirKnowledge, system: unknown): string {
  // Records are untrusted: a non-string system (a number, an object) reads as no system, never a throw.
  if (!isString(system) || !system) return '';
  const idx = indexOf(kb);
  return idx.canonicalSystem.get(system) ?? idx.canonicalSystem.get(stripSlash(system)) ?? stripSlash(system);
}

export function codingKey(kb: FhirKnowledge, c: CodingLike): string | undefined {
  if (!isString(c.code)) return undefined;
  return `${canonicalSystem(kb, c.system)}|${c.code.trim()}`;
}

function canonicalOf(canonical: Map<string, string>, system: unknown): string {
  const sys = isString(system) ? system : '';
  return canonical.get(sys) ?? canonical.get(stripSlash(sys)) ?? stripSlash(sys);
}

function key(canonical: Map<string, string>, c: CodingLike): string {
  return `${canonicalOf(canonical, c.system)}|${c.code ?? ''}`;
}

export function indexOf(kb: FhirKnowledge): CodeIndex {
  const hit = cache.get(kb);
  if (hit) return hit;
  const codes = kb.codes;
  const canonical = new Map<string, string>();
  for (const uri of Object.values(codes.systems)) canonical.set(uri, uri);
  for (const [uri, aliases] of Object.entries(codes.systemAliases)) {
    canonical.set(uri, uri);
    for (const a of aliases) canonical.set(a, uri);
  }
  const k = (c: CodingLike) => key(canonical, c);

  const analyteByKey = new Map<string, string>();
  for (const analyte of kb.analytes.values())
    for (const c of analyte.codes) analyteByKey.set(k(c), analyte.id);

  const biomarkerTestByKey = new Map<string, BiomarkerTest>();
  for (const t of codes.biomarkerTests) biomarkerTestByKey.set(k(t.coding), t);

  const answerByKey = new Map<string, Call>();
  for (const c of codes.answers.positive) answerByKey.set(k(c), 'positive');
  for (const c of codes.answers.negative) answerByKey.set(k(c), 'negative');
  for (const c of codes.answers.equivocal) answerByKey.set(k(c), 'equivocal');
  for (const c of codes.answers.noCall) answerByKey.set(k(c), 'no-call');

  const geneByKey = new Map<string, Gene>();
  for (const [gene, g] of Object.entries(codes.genes) as [Gene, Codes['genes'][Gene]][]) {
    for (const c of g.codings) geneByKey.set(k(c), gene);
  }

  // Drugs: RxNorm only when verified (an unverified code could name another drug); names always.
  const drugByRxnorm = new Map<string, DrugMatch>();
  const byName = new Map<string, DrugMatch>();
  const rx = codes.systems.rxnorm ?? 'http://www.nlm.nih.gov/research/umls/rxnorm';
  for (const agent of kb.agents.values()) {
    const m: DrugMatch = { id: agent.id, type: 'agent', agent };
    if (agent.rxnorm?.verified) drugByRxnorm.set(`${rx}|${agent.rxnorm.code}`, m);
    for (const name of [agent.id, ...agent.brands, ...agent.synonyms]) byName.set(name.toLowerCase(), m);
  }
  for (const drug of kb.interactingDrugs.values()) {
    const m: DrugMatch = { id: drug.id, type: 'interacting', interacting: drug };
    if (drug.rxnorm?.verified) drugByRxnorm.set(`${rx}|${drug.rxnorm.code}`, m);
    for (const name of [...drug.names, ...drug.brands])
      if (!byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), m);
  }
  // Longest names first so "nirmatrelvir and ritonavir" wins over "ritonavir"; \b-delimited words.
  const names = [...byName.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const re = new RegExp(`(?<![a-z0-9])(${names.join('|')})(?![a-z0-9])`, 'i');

  const sets = new Map<string, Set<string>>();
  const addSet = (name: string, list: readonly CodingLike[]) => sets.set(name, new Set(list.map(k)));
  const cond = codes.conditions;
  addSet('nsclc', cond.nsclc);
  addSet('sclc', cond.sclc);
  addSet('histology', cond.histologyMorphology);
  addSet('brainMetastasis', cond.brainMetastasis);
  addSet('brainHeader', cond.brainAndMeningesMetastasisHeader);
  addSet('lepto', cond.leptomeningealMetastasis);
  addSet('metGeneric', cond.metastasisGeneric);
  addSet('brainBodySites', cond.brainBodySites);
  addSet('meningesBodySites', cond.meningesBodySites);
  addSet('historyOfMetastatic', [cond.historyOfMetastaticCancer]);
  addSet('kidneySevere', cond.kidneySevere);
  addSet('kidneyDialysis', cond.kidneyDialysis);
  addSet('stageObservations', codes.stageObservations);
  addSet('fusionChangeTypes', codes.genomics.fusionChangeTypes);
  addSet('copyNumberChangeTypes', codes.genomics.copyNumberChangeTypes);
  addSet('diseaseStatus', codes.diseaseStatus?.observation ?? []);
  addSet('diseaseWorsened', codes.diseaseStatus?.worsened ?? []);

  const observationRoles = new Map<string, number>();
  const role = (keys: Iterable<string>, flag: number) => {
    for (const x of keys) observationRoles.set(x, (observationRoles.get(x) ?? 0) | flag);
  };
  role(biomarkerTestByKey.keys(), ROLE_BIOMARKER);
  role([k(codes.genomics.variantAssessment)], ROLE_BIOMARKER);
  role(analyteByKey.keys(), ROLE_MEASUREMENT);
  role(sets.get('stageObservations') ?? [], ROLE_DISEASE);
  role(sets.get('diseaseStatus') ?? [], ROLE_DISEASE);

  // Knowledge-base systems are URIs and its codes never hold "|", so the first "|" splits a key.
  const observationRolesBySystem = new Map<string, Map<string, number>>();
  for (const [x, flags] of observationRoles) {
    const bar = x.indexOf('|');
    const sys = x.slice(0, bar);
    const codesOf = observationRolesBySystem.get(sys) ?? new Map<string, number>();
    observationRolesBySystem.set(sys, codesOf);
    codesOf.set(x.slice(bar + 1), flags);
  }

  const built: CodeIndex = {
    canonicalSystem: canonical,
    analyteByKey,
    biomarkerTestByKey,
    answerByKey,
    geneByKey,
    drugByRxnorm,
    drugNames: { re, byName },
    sets,
    observationRolesBySystem,
  };
  cache.set(kb, built);
  return built;
}

const NO_KEYS: readonly string[] = Object.freeze([]);

/**
 * The `system|code` keys of a concept (or coding, or list of codings), system URIs canonicalised.
 * Not memoised: a process-wide WeakMap keyed by request objects made every young-generation GC
 * keep and promote the request's concepts (ephemerons), costing more than recomputing a few keys.
 */
export function keysOf(kb: FhirKnowledge, concept: unknown): readonly string[] {
  const list = codingList(concept);
  if (!list || list.length === 0) return NO_KEYS;
  const canonical = indexOf(kb).canonicalSystem;
  const keys: string[] = [];
  for (const c of list) {
    if (typeof c !== 'object' || c === null) continue;
    const code = (c as Coding).code;
    if (!isString(code)) continue;
    keys.push(key(canonical, { system: (c as Coding).system, code: code.trim() }));
  }
  return keys;
}

/** The codings of a concept, a coding, or a list of codings, as keysOf reads them. */
function codingList(concept: unknown): unknown[] | undefined {
  if (typeof concept !== 'object' || concept === null) return undefined;
  const list = Array.isArray(concept)
    ? concept
    : 'coding' in concept
      ? (concept as { coding?: unknown }).coding
      : 'code' in concept
        ? [concept]
        : undefined;
  return Array.isArray(list) ? list : undefined;
}

/**
 * The bitwise OR of the flags of the concept's codings in a system -> code -> flags index: what
 * OR-ing `map.get(k)` over keysOf gives, without building a key string per coding.
 */
export function flagsOf(
  kb: FhirKnowledge,
  concept: unknown,
  bySystem: ReadonlyMap<string, ReadonlyMap<string, number>>,
): number {
  const list = codingList(concept);
  if (!list) return 0;
  const canonical = indexOf(kb).canonicalSystem;
  let flags = 0;
  for (const c of list) {
    if (typeof c !== 'object' || c === null) continue;
    const code = (c as Coding).code;
    if (!isString(code)) continue;
    flags |= bySystem.get(canonicalOf(canonical, (c as Coding).system))?.get(code.trim()) ?? 0;
  }
  return flags;
}

/** True when the concept (or coding, or list of codings) carries any of `codings` (system + code). */
export function hasCoding(
  kb: FhirKnowledge,
  concept: unknown,
  codings: CodingLike | readonly CodingLike[],
): boolean {
  const wanted = Array.isArray(codings) ? codings : [codings as CodingLike];
  const keys = keysOf(kb, concept);
  if (keys.length === 0) return false;
  for (const w of wanted) {
    const wk = codingKey(kb, w);
    if (wk && keys.includes(wk)) return true;
  }
  return false;
}

/** True when the concept carries a coding from the named, prebuilt code set. */
export function inSet(kb: FhirKnowledge, concept: unknown, set: string): boolean {
  const s = indexOf(kb).sets.get(set);
  if (!s || s.size === 0) return false;
  for (const k of keysOf(kb, concept)) if (s.has(k)) return true;
  return false;
}

/** A CodeableConcept's codings, or a bare Coding, or an array of Codings. */
export function conceptCodings(concept: unknown): Coding[] {
  if (Array.isArray(concept)) return concept.filter((c): c is Coding => typeof c === 'object' && c !== null);
  if (typeof concept === 'object' && concept !== null && 'code' in concept && !('coding' in concept)) {
    return [concept as Coding];
  }
  return codingsOf(concept);
}

/** First value of a map lookup over the concept's codings. */
export function lookup<T>(kb: FhirKnowledge, concept: unknown, map: ReadonlyMap<string, T>): T | undefined {
  for (const k of keysOf(kb, concept)) {
    const v = map.get(k);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Does the concept carry this LOINC (or other) code? Convenience for single codes. */
export function hasCode(kb: FhirKnowledge, concept: unknown, system: string, code: string): boolean {
  return hasCoding(kb, concept, { system, code });
}

/**
 * The knowledge-base drug a medication concept (or free text) names: first by verified RxNorm code,
 * then by generic, brand or synonym as a whole word in `text` or a coding display.
 */
export function matchAgent(kb: FhirKnowledge, conceptOrText: unknown): DrugMatch | null {
  const idx = indexOf(kb);
  if (typeof conceptOrText !== 'string') {
    const byCode = lookup(kb, conceptOrText, idx.drugByRxnorm);
    if (byCode) return byCode;
  }
  const text = typeof conceptOrText === 'string' ? conceptOrText : conceptText(conceptOrText);
  if (!text) return null;
  const m = idx.drugNames.re.exec(text);
  if (!m?.[1]) return null;
  return idx.drugNames.byName.get(m[1].toLowerCase()) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Genes
// ---------------------------------------------------------------------------------------------

// "ALK PHOS" / "Alk Phosphatase" is alkaline phosphatase, the commonest false ALK hit in lab feeds.
const ALK_TEXT = /\bALK\b(?![\s.-]*(?:phos|p\b|ptase))|anaplastic lymphoma kinase/i;
const ROS1_TEXT = /\bROS[-\s]?1\b|\bROS proto-oncogene\b/i;

/** Genes named in free text. */
export function genesInText(text: string): Gene[] {
  const out: Gene[] = [];
  if (ALK_TEXT.test(text)) out.push('ALK');
  if (ROS1_TEXT.test(text)) out.push('ROS1');
  return out;
}

export function geneTextPattern(gene: Gene): RegExp {
  return gene === 'ALK' ? ALK_TEXT : ROS1_TEXT;
}

/** The ALK/ROS1 gene a gene-studied value names (HGNC/NCBI code, or symbol in display/text). */
export function geneOfConcept(kb: FhirKnowledge, concept: unknown): Gene | undefined {
  const byCode = lookup(kb, concept, indexOf(kb).geneByKey);
  if (byCode) return byCode;
  const text = conceptText(concept).trim();
  if (/^ALK$/i.test(text) || /^ROS1$/i.test(text)) return text.toUpperCase() as Gene;
  return undefined;
}

/** The coded answer of a value concept (Positive, Present, Not detected…). */
export function answerCall(kb: FhirKnowledge, concept: unknown): Call | undefined {
  return lookup(kb, concept, indexOf(kb).answerByKey);
}
