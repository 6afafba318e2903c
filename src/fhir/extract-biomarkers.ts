/**
 * ALK and ROS1 results from Observations and DiagnosticReports.
 *
 * Shapes read [terminology.md §1]: (1) a test-specific LOINC (FISH/IHC/PCR) with a coded or text
 * answer, or percent of rearranged nuclei; (2) a Genomics Reporting / mCODE variant (69548-6) with the
 * gene in `component[gene-studied]`, a fusion or a pHGVS missense change; (3) a local code whose text
 * names the gene (Epic/Oracle local lab codes); (4) a DiagnosticReport conclusion (or text/plain
 * presentedForm) naming the gene. The same fact in two shapes becomes one result with both sources.
 *
 * Results that are entered-in-error, cancelled, registered or preliminary are kept with their status:
 * the core sets them aside and says why, which a clinician can check; dropping them silently cannot be.
 */
import type { BiomarkerCall, BiomarkerMethod, BiomarkerResult, Gene, Specimen } from '../core/model.ts';
import {
  callForGene,
  callFromText,
  fusionPartnerFromText,
  methodFromText,
  mutationsFromText,
  sentencesAbout,
  specimenFromText,
} from './biomarker-text.ts';
import {
  answerCall,
  type Call,
  codingKey,
  type FhirKnowledge,
  geneOfConcept,
  genesInText,
  hasCode,
  indexOf,
  inSet,
  keysOf,
  lookup,
} from './codings.ts';
import {
  type AnyResource,
  asArray,
  attachmentText,
  conceptLabel,
  conceptText,
  DAY_MS,
  dateMs,
  effectiveDate,
  isString,
  joinText,
  normaliseReference,
  refOf,
  resultStatus,
} from './read.ts';

const GR_TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';

export interface BiomarkerInput {
  kb: FhirKnowledge;
  observations: readonly AnyResource[];
  reports: readonly AnyResource[];
  /** Resolves `Organization/x` / `Specimen/x` references within the same record. */
  resolve: (ref: string) => AnyResource | undefined;
  notes: string[];
}

interface Draft extends BiomarkerResult {
  /** The observation it came from, so reports and implications can attach to it. */
  origin?: string;
}

export function extractBiomarkers(input: BiomarkerInput): BiomarkerResult[] {
  const { kb, observations, reports, notes } = input;
  const drafts: Draft[] = [];
  const byOrigin = new Map<string, Draft[]>();
  const implications: AnyResource[] = [];
  let regionStudied = 0;

  const va = kb.codes.genomics.variantAssessment;
  const variantKey = codingKey(kb, va);
  for (const obs of observations) {
    const kind = classify(kb, obs, variantKey);
    if (kind === 'implication') {
      implications.push(obs);
      continue;
    }
    if (kind === 'region-studied') {
      if (mentionsTarget(kb, obs)) regionStudied++;
      continue;
    }
    if (kind === 'none') continue;
    const found =
      kind === 'variant'
        ? fromVariant(input, obs)
        : kind === 'test'
          ? fromTest(input, obs)
          : fromLocalText(input, obs);
    for (const d of found) {
      d.origin = refOf(obs);
      drafts.push(d);
      const list = byOrigin.get(d.origin) ?? [];
      list.push(d);
      byOrigin.set(d.origin, list);
    }
  }
  if (regionStudied > 0) {
    notes.push(
      `${regionStudied} genomic region-studied observation(s) list ALK/ROS1 as tested; they are not read as results (only explicit variant or test results are).`,
    );
  }

  // GR3/mCODE implications (therapeutic, diagnostic, molecular consequence) are interpretations of a
  // variant, not results; they only add provenance to the variant they are derived from.
  for (const imp of implications) {
    for (const ref of asArray(imp.derivedFrom)) {
      const target = normaliseReference(ref);
      for (const d of (target && byOrigin.get(target)) || []) addSource(d, refOf(imp));
    }
  }

  for (const report of reports) drafts.push(...fromReport(input, report, byOrigin));

  return dedupe(drafts).map(({ origin: _origin, ...r }) => r);
}

type ObsKind = 'variant' | 'test' | 'local-text' | 'implication' | 'region-studied' | 'none';

function classify(kb: FhirKnowledge, obs: AnyResource, variantKey: string | undefined): ObsKind {
  const profiles = Array.isArray(obs.meta?.profile) ? (obs.meta.profile as unknown[]).join(' ') : '';
  if (profiles && /implication|molecular-consequence/.test(profiles)) return 'implication';
  const keys = keysOf(kb, obs.code);
  for (const k of keys)
    if (k.startsWith(`${GR_TBD}|`) && /implication|consequence/.test(k)) return 'implication';
  if (profiles && /region-studied/.test(profiles)) return 'region-studied';
  if (variantKey && keys.includes(variantKey)) return 'variant';
  if (lookup(kb, obs.code, indexOf(kb).biomarkerTestByKey)) return 'test';
  if (namesGene(obs.code)) return 'local-text';
  return 'none';
}

function textNamesGene(t: unknown): boolean {
  return typeof t === 'string' && /ALK|ROS|anaplastic/i.test(t) && genesInText(t).length > 0;
}

/** Cheap pre-test on code.text and displays (no string building): most lab codes never name a gene. */
function namesGene(code: AnyResource | undefined): boolean {
  if (!code) return false;
  if (textNamesGene(code.text)) return true;
  if (!Array.isArray(code.coding)) return false;
  for (const c of code.coding) if (textNamesGene(c?.display)) return true;
  return false;
}

function mentionsTarget(kb: FhirKnowledge, obs: AnyResource): boolean {
  if (genesInText(conceptText(obs.code)).length > 0) return true;
  return asArray(obs.component).some(
    (c: AnyResource) => geneOfConcept(kb, c?.valueCodeableConcept) !== undefined,
  );
}

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

function base(
  input: BiomarkerInput,
  obs: AnyResource,
  gene: Gene,
  fields: Pick<BiomarkerResult, 'kind' | 'method' | 'call' | 'display'> & Partial<BiomarkerResult>,
): Draft {
  const context = contextText(input, obs);
  const specimen = fields.specimen ?? specimenOf(input, obs, context, fields.method);
  const date = effectiveDate(obs);
  const performer = performerOf(input, obs);
  const r: Draft = {
    gene,
    kind: fields.kind,
    method: fields.method,
    specimen,
    call: fields.call,
    status: resultStatus(obs.status),
    resistanceMutations: fields.resistanceMutations ?? [],
    display: fields.display,
    sources: [refOf(obs)],
  };
  if (date) r.date = date;
  if (performer) r.performer = performer;
  if (fields.fusionPartner) r.fusionPartner = fields.fusionPartner;
  return r;
}

/** Words around a result that may say the method or specimen. */
function contextText(input: BiomarkerInput, obs: AnyResource): string {
  return joinText(
    conceptText(obs.code),
    conceptText(obs.method),
    codedMethodWord(input.kb, obs.method),
    conceptText(obs.specimen) || obs.specimen?.display,
    specimenResourceText(input, obs.specimen),
    typeof obs.valueString === 'string' ? obs.valueString : undefined,
    conceptText(obs.valueCodeableConcept),
    asArray(obs.note)
      .map((n: AnyResource) => n?.text)
      .filter(isString)
      .join(' '),
  );
}

function specimenResourceText(input: BiomarkerInput, ref: unknown): string {
  const r = normaliseReference(ref);
  const spec = r ? input.resolve(r) : undefined;
  return spec
    ? joinText(conceptText(spec.type), (ref as AnyResource)?.display)
    : ((ref as AnyResource)?.display ?? '');
}

function specimenOf(
  input: BiomarkerInput,
  obs: AnyResource,
  context: string,
  method: BiomarkerMethod,
): Specimen {
  const specimenWords = joinText(
    (obs.specimen as AnyResource | undefined)?.display,
    specimenResourceText(input, obs.specimen),
  );
  const fromSpecimen = specimenFromText(specimenWords);
  if (fromSpecimen !== 'unknown') return fromSpecimen;
  const fromContext = specimenFromText(context);
  if (fromContext !== 'unknown') return fromContext;
  // FISH and IHC are done on tissue (or cytology) sections.
  return method === 'FISH' || method === 'IHC' ? 'tissue' : 'unknown';
}

function performerOf(input: BiomarkerInput, r: AnyResource): string | undefined {
  let fallback: string | undefined;
  for (const p of asArray<AnyResource>(r.performer)) {
    const ref = normaliseReference(p);
    const res = ref ? input.resolve(ref) : undefined;
    if (res?.resourceType === 'Organization' && isString(res.name)) return res.name;
    if (ref?.startsWith('Organization/') && isString(p.display)) return p.display;
    if (!fallback && isString(p?.display)) fallback = p.display;
  }
  return fallback;
}

/** Call from the value: coded answer, then interpretation, then text. */
function valueCall(kb: FhirKnowledge, obs: AnyResource, gene: Gene | undefined): Call | undefined {
  const coded = answerCall(kb, obs.valueCodeableConcept);
  if (coded) return coded;
  if (obs.valueBoolean === true) return 'positive';
  if (obs.valueBoolean === false) return 'negative';
  const text = joinText(
    typeof obs.valueString === 'string' ? obs.valueString : undefined,
    conceptText(obs.valueCodeableConcept),
  );
  const fromText = text
    ? gene
      ? (callForGene(text, gene) ?? callFromText(text))
      : callFromText(text)
    : undefined;
  if (fromText) return fromText;
  for (const i of asArray(obs.interpretation)) {
    const c = answerCall(kb, i) ?? callFromText(conceptText(i));
    if (c) return c;
  }
  return undefined;
}

function valueLabel(obs: AnyResource): string {
  if (typeof obs.valueString === 'string') return obs.valueString;
  if (obs.valueCodeableConcept) return conceptLabel(obs.valueCodeableConcept);
  if (obs.valueQuantity && typeof obs.valueQuantity.value === 'number') {
    return `${obs.valueQuantity.value}${obs.valueQuantity.unit ? ` ${obs.valueQuantity.unit}` : ''}`;
  }
  if (typeof obs.valueBoolean === 'boolean') return String(obs.valueBoolean);
  return '';
}

function display(obs: AnyResource, fallback: string): string {
  const name = conceptLabel(obs.code) || fallback;
  const value = valueLabel(obs);
  return value ? `${name}: ${value}` : name;
}

/** The coded Observation.method (LOINC answer list LL4048-6, from the knowledge base) as the word the text reader knows. */
function codedMethodWord(kb: FhirKnowledge, method: unknown): string | undefined {
  const g = kb.codes.genomics;
  if (hasCode(kb, method, g.methodSequencing.system, g.methodSequencing.code)) return 'sequencing';
  if (hasCode(kb, method, g.methodPcr.system, g.methodPcr.code)) return 'PCR';
  return undefined;
}

/** Shape 2: Genomics Reporting / mCODE variant (69548-6) with gene-studied components. */
function fromVariant(input: BiomarkerInput, obs: AnyResource): Draft[] {
  const { kb } = input;
  const ga = kb.codes.genomics;
  const components = asArray<AnyResource>(obs.component).filter((c) => typeof c === 'object' && c !== null);
  const geneComponents = components.filter((c) =>
    hasCode(kb, c.code, ga.geneStudied.system, ga.geneStudied.code),
  );
  const targets = new Set<Gene>();
  const others: string[] = [];
  for (const c of geneComponents) {
    const g = geneOfConcept(kb, c.valueCodeableConcept);
    if (g) targets.add(g);
    else {
      const label = conceptLabel(c.valueCodeableConcept);
      if (label) others.push(label);
    }
  }
  const variationText = components
    .filter((c) => hasCode(kb, c.code, ga.variationCode.system, ga.variationCode.code))
    .map((c) =>
      joinText(
        conceptText(c.valueCodeableConcept),
        ...asArray(c.valueCodeableConcept?.coding).map((x: AnyResource) => x?.code),
      ),
    )
    .join(' ');
  // No gene-studied component at all: older or sloppier feeds put the gene only in the variation text.
  if (geneComponents.length === 0) for (const g of genesInText(variationText)) targets.add(g);
  if (targets.size === 0) return [];

  const proteinText = components
    .filter((c) => hasCode(kb, c.code, ga.proteinHgvs.system, ga.proteinHgvs.code))
    .map((c) =>
      joinText(
        conceptText(c.valueCodeableConcept),
        ...asArray(c.valueCodeableConcept?.coding).map((x: AnyResource) => x?.code),
      ),
    )
    .join(' ');
  const changeTypeConcepts = components
    .filter((c) => hasCode(kb, c.code, ga.dnaChangeType.system, ga.dnaChangeType.code))
    .map((c) => c.valueCodeableConcept);
  const isFusionType = changeTypeConcepts.some((v) => inSet(kb, v, 'fusionChangeTypes'));
  const mutations = mutationsFromText(joinText(proteinText, variationText));
  const fusionWords = /fusion|rearrange|translocation|inversion|break/i.test(
    joinText(variationText, conceptText(obs.code)),
  );
  const fusionEvidence = isFusionType || fusionWords || targets.size > 1;
  // A copy-number change (amplification, gain, loss) is not a rearrangement: it must never make
  // ALK or ROS1 "positive". It is kept out of the status and said so.
  const copyNumber =
    changeTypeConcepts.some((v) => inSet(kb, v, 'copyNumberChangeTypes')) ||
    /amplif|copy[\s-]?number|\bCNV\b|\bgain\b|\bloss\b|deletion/i.test(joinText(variationText, proteinText));
  if (copyNumber && !fusionEvidence && mutations.length === 0) {
    input.notes.push(
      `${refOf(obs)}: a ${[...targets].join('/')} copy-number variant is not a rearrangement and was not used for ${[...targets].join('/')} status.`,
    );
    return [];
  }
  const kindOf: BiomarkerResult['kind'] =
    mutations.length > 0 && !fusionEvidence ? 'mutation' : 'rearrangement';
  if (!fusionEvidence && mutations.length === 0) {
    input.notes.push(
      `${refOf(obs)}: a ${[...targets].join('/')} variant was reported without fusion detail; it is read as a rearrangement. Confirm the variant type.`,
    );
  }

  const context = contextText(input, obs);
  let method = methodFromText(context);
  if (method === 'unknown' && targets.size > 0) method = 'NGS';
  const call = valueCall(kb, obs, undefined) ?? (mutations.length > 0 ? 'positive' : undefined);
  if (!call) {
    input.notes.push(
      `${refOf(obs)}: a ${[...targets].join('/')} variant without a readable value was not used.`,
    );
    return [];
  }
  const out: Draft[] = [];
  for (const gene of targets) {
    const partner = others.length === 1 ? others[0] : fusionPartnerFromText(variationText, gene);
    const label = joinText(variationText.trim(), proteinText.trim()) || `${gene} variant`;
    out.push(
      base(input, obs, gene, {
        kind: targets.size > 1 ? 'rearrangement' : kindOf,
        method,
        call: call as BiomarkerCall,
        display: `${gene}: ${label.split(' \n ').join(', ')} (${valueLabel(obs) || call})`,
        resistanceMutations: kindOf === 'mutation' || mutations.length > 0 ? mutations : [],
        ...(partner && kindOf === 'rearrangement' && call === 'positive' ? { fusionPartner: partner } : {}),
      }),
    );
  }
  return out;
}

/** Shape 1: a knowledge-base ALK/ROS1 test code (FISH, IHC, PCR, molecular). */
function fromTest(input: BiomarkerInput, obs: AnyResource): Draft[] {
  const { kb } = input;
  const test = lookup(kb, obs.code, indexOf(kb).biomarkerTestByKey);
  if (!test) return [];
  const gene = test.gene;
  const context = contextText(input, obs);
  const method = test.method !== 'unknown' ? test.method : methodFromText(context);
  const text = joinText(
    typeof obs.valueString === 'string' ? obs.valueString : undefined,
    conceptText(obs.valueCodeableConcept),
  );
  const mutations = mutationsFromText(text);
  let call: Call | undefined;
  // The cut-off is knowledge (codes.json, with its evidence), not code.
  if (test.quantity === 'percent-cells' && test.positiveAtOrAbovePercent !== undefined) {
    const v = obs.valueQuantity?.value;
    if (typeof v === 'number' && Number.isFinite(v))
      call = v >= test.positiveAtOrAbovePercent ? 'positive' : 'negative';
  }
  call ??= valueCall(kb, obs, gene);
  if (!call && test.kind === 'mutation' && mutations.length > 0) call = 'positive';
  if (!call) {
    input.notes.push(
      `${refOf(obs)}: ${gene} result "${valueLabel(obs) || 'no value'}" could not be read as a call.`,
    );
    return [];
  }
  const kind = test.kind === 'mutation' ? 'mutation' : 'rearrangement';
  const partner = fusionPartnerFromText(joinText(text, conceptText(obs.code)), gene);
  return [
    base(input, obs, gene, {
      kind,
      method,
      call,
      display: display(obs, test.coding.display),
      resistanceMutations: mutations,
      ...(partner ? { fusionPartner: partner } : {}),
    }),
  ];
}

/** Shape 3: a local (non-LOINC) code whose name says ALK or ROS1: read code text and value text. */
function fromLocalText(input: BiomarkerInput, obs: AnyResource): Draft[] {
  const codeText = conceptText(obs.code);
  const out: Draft[] = [];
  for (const gene of genesInText(codeText)) {
    const valueText = joinText(
      typeof obs.valueString === 'string' ? obs.valueString : undefined,
      conceptText(obs.valueCodeableConcept),
    );
    const mutations = mutationsFromText(valueText);
    const mutationTest =
      /mutation|resistance|variant/i.test(codeText) &&
      !/rearrang|fusion|translocation|FISH|IHC/i.test(codeText);
    let call = valueCall(input.kb, obs, gene);
    if (!call && mutationTest && mutations.length > 0) call = 'positive';
    if (!call) {
      input.notes.push(
        `${refOf(obs)}: "${conceptLabel(obs.code)}" names ${gene} but its value could not be read as a result.`,
      );
      continue;
    }
    const context = contextText(input, obs);
    out.push(
      base(input, obs, gene, {
        kind: mutationTest ? 'mutation' : 'rearrangement',
        method: methodFromText(context),
        call,
        display: display(obs, gene),
        resistanceMutations: mutations,
        ...(fusionPartnerFromText(joinText(valueText, codeText), gene)
          ? { fusionPartner: fusionPartnerFromText(joinText(valueText, codeText), gene) }
          : {}),
      }),
    );
  }
  return out;
}

/** Shape 4: a DiagnosticReport conclusion or plain-text report naming ALK/ROS1. */
function fromReport(input: BiomarkerInput, report: AnyResource, byOrigin: Map<string, Draft[]>): Draft[] {
  const { kb } = input;
  const ref = refOf(report);
  const linked = asArray(report.result)
    .map((r) => normaliseReference(r))
    .filter(isString)
    .flatMap((r) => byOrigin.get(r) ?? []);
  // A genetics report is the provenance of the results it lists.
  const isGenetic =
    hasCode(kb, report.code, kb.codes.genomics.geneticReport.system, kb.codes.genomics.geneticReport.code) ||
    asArray(report.category).some((c) =>
      /\b(GE|genetic)/i.test(
        `${conceptText(c)} ${asArray(c?.coding)
          .map((x: AnyResource) => x?.code)
          .join(' ')}`,
      ),
    );
  for (const d of linked) {
    if (isGenetic || genesInText(report.conclusion ?? '').includes(d.gene)) addSource(d, ref);
    if (!d.performer) {
      const perf = performerOf(input, report);
      if (perf) d.performer = perf;
    }
  }

  const text = joinText(
    typeof report.conclusion === 'string' ? report.conclusion : undefined,
    ...asArray(report.conclusionCode).map((c) => conceptText(c)),
    attachmentText(report.presentedForm),
  );
  if (!text) return [];
  const out: Draft[] = [];
  for (const gene of genesInText(text)) {
    const about = sentencesAbout(text, gene).join('. ');
    const call = callForGene(text, gene);
    if (!call) {
      input.notes.push(`${ref}: the report mentions ${gene} but states no readable result.`);
      continue;
    }
    const mutations = mutationsFromText(about);
    const rearrangement =
      /rearrang|fusion|translocation|break-?apart|inversion|EML4|CD74|D5F3|SP384|D4D6|IHC|FISH/i.test(about);
    const kind: BiomarkerResult['kind'] =
      mutations.length > 0 && !rearrangement ? 'mutation' : 'rearrangement';
    const method = methodFromText(joinText(about, conceptText(report.code)));
    // Already read from the report's own result Observations: one finding, both sources.
    const same = linked.find(
      (d) => d.gene === gene && d.kind === kind && d.call === call && methodsCompatible(d.method, method),
    );
    if (same) {
      addSource(same, ref);
      for (const m of mutations) if (!same.resistanceMutations.includes(m)) same.resistanceMutations.push(m);
      continue;
    }
    const partner = fusionPartnerFromText(about, gene);
    const date = effectiveDate(report);
    const perf = performerOf(input, report);
    const specimenWords = joinText(
      ...asArray<AnyResource>(report.specimen).map((s) =>
        joinText(s?.display, specimenResourceText(input, s)),
      ),
      about,
      conceptText(report.code),
    );
    let specimen = specimenFromText(specimenWords);
    if (specimen === 'unknown' && (method === 'FISH' || method === 'IHC')) specimen = 'tissue';
    const r: Draft = {
      gene,
      kind,
      method,
      specimen,
      call,
      status: resultStatus(report.status),
      resistanceMutations: mutations,
      display: about.length > 200 ? `${about.slice(0, 197)}...` : about,
      sources: [ref],
    };
    if (date) r.date = date;
    if (perf) r.performer = perf;
    if (partner) r.fusionPartner = partner;
    out.push(r);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Duplicates: the same fact in two shapes
// ---------------------------------------------------------------------------------------------

function addSource(d: BiomarkerResult, ref: string): void {
  if (!d.sources.includes(ref)) d.sources.push(ref);
}

const NGS_FAMILY = new Set<BiomarkerMethod>(['NGS', 'NGS-DNA', 'NGS-RNA']);

export function methodsCompatible(a: BiomarkerMethod, b: BiomarkerMethod): boolean {
  if (a === b || a === 'unknown' || b === 'unknown') return true;
  return (a === 'NGS' && NGS_FAMILY.has(b)) || (b === 'NGS' && NGS_FAMILY.has(a));
}

function moreSpecific(a: BiomarkerMethod, b: BiomarkerMethod): BiomarkerMethod {
  if (a === 'unknown' || a === 'NGS') return b === 'unknown' ? a : b;
  return a;
}

function sameDay(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return !a && !b;
  const ta = dateMs(a.slice(0, 10));
  const tb = dateMs(b.slice(0, 10));
  return Number.isFinite(ta) && Number.isFinite(tb) && Math.abs(ta - tb) <= DAY_MS;
}

/** Gene, kind, call, status and compatible method within a day of each other: the same fact. */
function dedupe(drafts: Draft[]): Draft[] {
  const out: Draft[] = [];
  for (const d of drafts) {
    const twin = out.find(
      (o) =>
        o.gene === d.gene &&
        o.kind === d.kind &&
        o.call === d.call &&
        sameStatusClass(o.status, d.status) &&
        methodsCompatible(o.method, d.method) &&
        sameDay(o.date, d.date),
    );
    if (!twin) {
      out.push({ ...d, sources: [...d.sources], resistanceMutations: [...d.resistanceMutations] });
      continue;
    }
    for (const s of d.sources) addSource(twin, s);
    twin.method = moreSpecific(twin.method, d.method);
    if (twin.specimen === 'unknown') twin.specimen = d.specimen;
    if (!twin.performer && d.performer) twin.performer = d.performer;
    if (!twin.fusionPartner && d.fusionPartner) twin.fusionPartner = d.fusionPartner;
    for (const m of d.resistanceMutations)
      if (!twin.resistanceMutations.includes(m)) twin.resistanceMutations.push(m);
    if (d.date && twin.date && dateMs(d.date) < dateMs(twin.date)) twin.date = d.date;
  }
  return out;
}

/** Never merge a usable result with one entered in error or cancelled: the core must see both. */
function sameStatusClass(a: BiomarkerResult['status'], b: BiomarkerResult['status']): boolean {
  const cls = (s: BiomarkerResult['status']) =>
    s === 'entered-in-error' || s === 'cancelled'
      ? s
      : s === 'registered' || s === 'preliminary'
        ? 'pending'
        : 'usable';
  return cls(a) === cls(b);
}
