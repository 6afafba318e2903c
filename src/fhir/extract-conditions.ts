/**
 * Disease: the NSCLC diagnosis (histology, stage, metastatic/recurrent), CNS metastases
 * (brain, leptomeningeal) with their clinical status, and whether the record calls the disease
 * oligometastatic.
 *
 * Shapes [terminology.md §2]: SNOMED NSCLC codes (some carry the stage or histology); ICD-10-CM C34.x
 * (lung cancer, histology not stated); the mCODE histology extension; Condition.stage.summary and
 * stage-group Observations; brain metastases as SNOMED 94225005, ICD-10-CM C79.31 / C79.3, or a
 * generic "secondary malignant neoplasm" with a brain body site (mCODE STU1 and STU4 shapes);
 * leptomeningeal disease as C79.32 / C79.49, a meninges body site, or the words.
 *
 * Conditions refuted or entered in error are not disease: they are set aside with a note. Resolved,
 * inactive and remission conditions are kept with that status for the core to weigh.
 */
import type {
  CnsFinding,
  CnsSite,
  ConditionClinicalStatus,
  Histology,
  KidneyFinding,
  NsclcDiagnosis,
  Stage,
  Tristate,
} from '../core/model.ts';
import { type FhirKnowledge, inSet, lookup } from './codings.ts';
import {
  type AnyResource,
  asArray,
  codingsOf,
  conceptLabel,
  conceptText,
  dateMs,
  dateOf,
  effectiveDate,
  joinText,
  refOf,
} from './read.ts';

const HISTOLOGY_EXT = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

export interface DiseaseInput {
  kb: FhirKnowledge;
  conditions: readonly AnyResource[];
  observations: readonly AnyResource[];
  notes: string[];
}

export interface DiseaseFindings {
  nsclc?: NsclcDiagnosis;
  cns: CnsFinding[];
  oligometastatic: Tristate;
  /** Condition references of CNS metastases, so a progression with that focus reads as CNS. */
  cnsConditionRefs: Set<string>;
  kidney: KidneyFinding[];
}

const STAGE_ORDER: Record<Stage, number> = { unknown: 0, I: 1, II: 2, III: 3, IV: 4 };
const HISTOLOGY_ORDER: Record<Histology, number> = {
  unknown: 0,
  'nsclc-nos': 1,
  adenocarcinoma: 2,
  squamous: 2,
  'large-cell': 2,
};

/** Stage group from words: "Stage IVB", "AJCC stage IIIC", "T2N1M1c stage 4", "IV", "4". */
export function stageFromText(text: string): Stage {
  const t = text.trim();
  const m =
    /\bstage\s*(IV|III|II|I|[1-4])\s*[ABC]?[0-9]?\b/i.exec(t) ?? /^(IV|III|II|I|[1-4])[ABC]?[0-9]?$/i.exec(t);
  const g = m?.[1]?.toUpperCase();
  if (!g) return /\bM1[abc]?\b/.test(t) ? 'IV' : 'unknown';
  return ({ '1': 'I', '2': 'II', '3': 'III', '4': 'IV' } as Record<string, Stage>)[g] ?? (g as Stage);
}

export function histologyFromText(text: string): Histology {
  if (/adenocarcinoma|\badeno\b/i.test(text)) return 'adenocarcinoma';
  if (/squamous/i.test(text)) return 'squamous';
  if (/large[- ]cell/i.test(text)) return 'large-cell';
  if (/non[- ]?small[- ]cell|\bNSCLC\b/i.test(text)) return 'nsclc-nos';
  return 'unknown';
}

function clinicalStatus(c: AnyResource): ConditionClinicalStatus {
  for (const coding of codingsOf(c.clinicalStatus)) {
    const code = coding.code;
    if (
      code === 'active' ||
      code === 'recurrence' ||
      code === 'relapse' ||
      code === 'inactive' ||
      code === 'remission' ||
      code === 'resolved'
    ) {
      return code;
    }
  }
  const text = conceptText(c.clinicalStatus).toLowerCase();
  if (/resolved/.test(text)) return 'resolved';
  if (/remission/.test(text)) return 'remission';
  if (/inactive/.test(text)) return 'inactive';
  if (/active/.test(text)) return 'active';
  // Abatement without a status means the condition has ended.
  if (c.abatementDateTime || c.abatementPeriod || c.abatementString) return 'resolved';
  return 'unknown';
}

function verificationRejected(c: AnyResource): string | undefined {
  for (const coding of codingsOf(c.verificationStatus)) {
    if (coding.code === 'refuted' || coding.code === 'entered-in-error') return coding.code;
  }
  return undefined;
}

function onset(c: AnyResource): string | undefined {
  return dateOf(c.onsetDateTime) ?? dateOf(c.onsetPeriod?.start) ?? dateOf(c.recordedDate);
}

function icd10Codes(kb: FhirKnowledge, concept: unknown): string[] {
  const idx = kb.codes.systemAliases[ICD10CM] ?? [];
  return codingsOf(concept)
    .filter((c) => c.system === ICD10CM || (c.system !== undefined && idx.includes(c.system)))
    .map((c) => (c.code ?? '').toUpperCase());
}

type Primary = { kind: 'nsclc' | 'lung-unknown' | 'sclc'; histology: Histology; stage: Stage };

function classifyPrimary(kb: FhirKnowledge, c: AnyResource): Primary | undefined {
  const code = c.code;
  const codes = kb.codes.conditions;
  if (inSet(kb, code, 'sclc')) return { kind: 'sclc', histology: 'unknown', stage: 'unknown' };
  if (inSet(kb, code, 'nsclc')) {
    const map = new Map(codes.nsclc.map((n) => [`${n.system}|${n.code}`, n]));
    const tagged = lookup(kb, code, map);
    return { kind: 'nsclc', histology: tagged?.histology ?? 'nsclc-nos', stage: tagged?.stage ?? 'unknown' };
  }
  const text = conceptText(code);
  if (/non[- ]?small[- ]cell|\bNSCLC\b/i.test(text) && !/\bhistory of\b/i.test(text)) {
    return { kind: 'nsclc', histology: histologyFromText(text), stage: stageFromText(text) };
  }
  if (/\bsmall[- ]cell (lung )?(carcinoma|cancer)|\bSCLC\b/i.test(text) && !/non[- ]?small/i.test(text)) {
    return { kind: 'sclc', histology: 'unknown', stage: 'unknown' };
  }
  const prefixes = codes.lungCancerHistologyUnknown.icd10cmPrefixes;
  if (icd10Codes(kb, code).some((x) => prefixes.some((p) => x.startsWith(p)))) {
    return { kind: 'lung-unknown', histology: histologyFromText(text), stage: 'unknown' };
  }
  if (
    /\b(adenocarcinoma|squamous cell carcinoma|large cell carcinoma) of (the )?(lung|bronchus)\b|\blung adenocarcinoma\b/i.test(
      text,
    )
  ) {
    return { kind: 'nsclc', histology: histologyFromText(text), stage: stageFromText(text) };
  }
  return undefined;
}

function histologyFromExtension(kb: FhirKnowledge, c: AnyResource): Histology | undefined {
  for (const ext of asArray<AnyResource>(c.extension)) {
    if (ext?.url !== HISTOLOGY_EXT) continue;
    const map = new Map(kb.codes.conditions.histologyMorphology.map((h) => [`${h.system}|${h.code}`, h]));
    const tagged = lookup(kb, ext.valueCodeableConcept, map);
    if (tagged?.histology) return tagged.histology;
    const fromText = histologyFromText(conceptText(ext.valueCodeableConcept));
    if (fromText !== 'unknown') return fromText;
    // ICD-O-3 codes are written with variants ("80463/3" in mCODE): read the first four digits.
    for (const coding of codingsOf(ext.valueCodeableConcept)) {
      const digits = (coding.code ?? '').replace(/\D/g, '').slice(0, 4);
      if (digits === '8140') return 'adenocarcinoma';
      if (digits === '8046') return 'nsclc-nos';
      if (digits === '8070') return 'squamous';
      if (digits === '8012') return 'large-cell';
    }
  }
  return undefined;
}

function stageFromCondition(c: AnyResource): Stage {
  let best: Stage = 'unknown';
  for (const st of asArray<AnyResource>(c.stage)) {
    const s = stageFromText(conceptText(st?.summary));
    if (STAGE_ORDER[s] > STAGE_ORDER[best]) best = s;
  }
  return best;
}

/** A metastasis (any site): mCODE secondary profile, generic/brain/lepto codes, ICD-10 C77-C79. */
function isSecondary(kb: FhirKnowledge, c: AnyResource): boolean {
  const profiles = asArray<string>(c.meta?.profile).join(' ');
  if (/secondary-cancer-condition/.test(profiles)) return true;
  for (const set of ['metGeneric', 'brainMetastasis', 'brainHeader', 'lepto', 'historyOfMetastatic']) {
    if (inSet(kb, c.code, set)) return true;
  }
  if (icd10Codes(kb, c.code).some((x) => /^C7[789]/.test(x))) return true;
  return /\b(metasta\w+|secondary malignant)\b/i.test(conceptText(c.code));
}

function cnsSiteOf(kb: FhirKnowledge, c: AnyResource): CnsSite | undefined {
  const text = joinText(conceptText(c.code), ...asArray(c.bodySite).map((b) => conceptText(b)));
  if (
    inSet(kb, c.code, 'lepto') ||
    /leptomening|meningeal carcinomatosis|carcinomatous meningitis/i.test(text)
  ) {
    return 'leptomeningeal';
  }
  if (inSet(kb, c.code, 'brainMetastasis') || inSet(kb, c.code, 'brainHeader')) return 'brain';
  const generic = isSecondary(kb, c);
  if (generic && asArray(c.bodySite).some((b) => inSet(kb, b, 'meningesBodySites'))) return 'leptomeningeal';
  if (generic && asArray(c.bodySite).some((b) => inSet(kb, b, 'brainBodySites'))) return 'brain';
  if (
    /\b(brain|cerebral|cerebell\w*|intracranial)\b.*\bmetasta|\bmetasta\w*\b.*\b(brain|cerebral|cerebell\w*|intracranial)\b|secondary malignant neoplasm of brain/i.test(
      text,
    )
  ) {
    return 'brain';
  }
  if (generic && /\b(brain|cerebral|cerebell\w*|intracranial)\b/i.test(text)) return 'brain';
  return undefined;
}

function symptomaticFrom(text: string): boolean | undefined {
  if (/\basymptomatic\b/i.test(text)) return false;
  if (/\bsymptomatic\b/i.test(text)) return true;
  return undefined;
}

function lesionCountFrom(text: string): number | undefined {
  if (/\b(solitary|single)\b/i.test(text)) return 1;
  const m = /\b(\d{1,2})\s+(?:brain\s+|cerebral\s+|intracranial\s+)?(?:lesions|metastases|mets)\b/i.exec(
    text,
  );
  return m?.[1] ? Number(m[1]) : undefined;
}

const DIALYSIS_WORDS = /\b(dialysis|ha?emodialysis|peritoneal dialysis|CKD\s*(stage\s*)?5D)\b/i;
/** Words that say the patient is not on dialysis. */
const NOT_ON_DIALYSIS =
  /\b(pre-?dialysis|no(t| longer)?( yet)? on dialysis|no dialysis|awaiting dialysis)\b/i;
/**
 * A dialysis access, or dialysis named only as an access's purpose: not by itself a patient on
 * dialysis. Removed before the dialysis words are read, so "AV fistula for future dialysis" is not
 * dialysis while "Haemodialysis via tunnelled catheter" still is.
 */
const DIALYSIS_ACCESS =
  /\b(dialysis (access|fistula|catheter|graft)|(for|before|ahead of) (future |planned )?(ha?emo)?dialysis|(arteriovenous|AV) (fistula|graft))\b/gi;
const SEVERE_CKD_WORDS =
  /\b(end[- ]stage (renal|kidney) disease|ESRD|ESKD|(chronic kidney disease|CKD),?\s*stage\s*(4|5|IV|V)\b|CKD\s*(G?4|G?5|IV|V)\b)/i;

/** Severe CKD or dialysis (codes first, then words): a hint for the renal check. */
function kidneyKindOf(kb: FhirKnowledge, c: AnyResource): KidneyFinding['kind'] | undefined {
  if (inSet(kb, c.code, 'kidneyDialysis')) return 'dialysis';
  const text = conceptText(c.code);
  if (!NOT_ON_DIALYSIS.test(text) && DIALYSIS_WORDS.test(text.replace(DIALYSIS_ACCESS, ' ')))
    return 'dialysis';
  if (inSet(kb, c.code, 'kidneySevere') || SEVERE_CKD_WORDS.test(text)) return 'severe-ckd';
  return undefined;
}

function conditionWords(c: AnyResource): string {
  return joinText(
    conceptText(c.code),
    conceptText(c.severity),
    ...asArray(c.note).map((n: AnyResource) => n?.text),
    ...asArray(c.evidence).flatMap((e: AnyResource) => asArray(e?.code).map((x) => conceptText(x))),
  );
}

export function extractDisease(input: DiseaseInput): DiseaseFindings {
  const { kb, conditions, observations, notes } = input;
  const primaries: { c: AnyResource; p: Primary }[] = [];
  const cnsRaw: CnsFinding[] = [];
  const cnsConditionRefs = new Set<string>();
  let metastatic = false;
  let oligo: Tristate = 'unknown';
  const kidney: KidneyFinding[] = [];

  for (const c of conditions) {
    const rejected = verificationRejected(c);
    if (rejected) {
      const label = conceptLabel(c.code);
      if (classifyPrimary(kb, c) || cnsSiteOf(kb, c) || isSecondary(kb, c)) {
        notes.push(`${refOf(c)} "${label}" is ${rejected} and was not used.`);
      }
      continue;
    }
    const status = clinicalStatus(c);
    const kidneyKind = kidneyKindOf(kb, c);
    if (kidneyKind) {
      const k: KidneyFinding = {
        kind: kidneyKind,
        clinicalStatus: status,
        display: conceptLabel(c.code) || kidneyKind,
        sources: [refOf(c)],
      };
      const d = onset(c);
      if (d) k.date = d;
      kidney.push(k);
      continue;
    }
    const words = conditionWords(c);
    oligo = oligoFrom(words, oligo);
    const site = cnsSiteOf(kb, c);
    if (site) {
      cnsConditionRefs.add(refOf(c));
      const f: CnsFinding = {
        site,
        clinicalStatus: status,
        display: conceptLabel(c.code) || site,
        sources: [refOf(c)],
      };
      const sym = symptomaticFrom(words);
      if (sym !== undefined) f.symptomatic = sym;
      const count = lesionCountFrom(words);
      if (count !== undefined) f.lesionCount = count;
      const d = onset(c);
      if (d) f.date = d;
      cnsRaw.push(f);
    }
    if (isSecondary(kb, c)) {
      if (status !== 'resolved' && status !== 'inactive' && status !== 'remission') metastatic = true;
      continue;
    }
    const p = classifyPrimary(kb, c);
    if (p) primaries.push({ c, p });
  }

  // Stage-group observations (clinical / pathological), latest wins.
  let obsStage: { stage: Stage; date: number; ref: string } | undefined;
  for (const o of observations) {
    // Cheap test first (no string building): almost no observation mentions oligometastatic disease.
    if (
      (typeof o.valueString === 'string' && /oligo/i.test(o.valueString)) ||
      /oligo/i.test(o.code?.text ?? '') ||
      /oligo/i.test(o.valueCodeableConcept?.text ?? '')
    ) {
      oligo = oligoFrom(
        joinText(conceptText(o.code), conceptText(o.valueCodeableConcept), o.valueString),
        oligo,
      );
    }
    if (!inSet(kb, o.code, 'stageObservations')) continue;
    if (o.status === 'entered-in-error' || o.status === 'cancelled') continue;
    const s = stageFromText(
      joinText(
        conceptText(o.valueCodeableConcept),
        typeof o.valueString === 'string' ? o.valueString : undefined,
      ),
    );
    if (s === 'unknown') continue;
    const t = dateMs(effectiveDate(o));
    if (!obsStage || (Number.isFinite(t) && t > obsStage.date))
      obsStage = { stage: s, date: Number.isFinite(t) ? t : 0, ref: refOf(o) };
  }

  const nsclc = buildNsclc(kb, primaries, obsStage, metastatic, notes);
  return {
    ...(nsclc ? { nsclc } : {}),
    cns: mergeCns(cnsRaw),
    oligometastatic: oligo,
    cnsConditionRefs,
    kidney,
  };
}

function oligoFrom(text: string, current: Tristate): Tristate {
  if (/\b(poly|multi)-?metasta|\bwidespread metasta|\bnot oligo/i.test(text))
    return current === 'yes' ? 'yes' : 'no';
  if (/\boligo-?metasta|\boligo-?progress/i.test(text)) return 'yes';
  return current;
}

function buildNsclc(
  kb: FhirKnowledge,
  primaries: { c: AnyResource; p: Primary }[],
  obsStage: { stage: Stage; ref: string } | undefined,
  metastatic: boolean,
  notes: string[],
): NsclcDiagnosis | undefined {
  const sclc = primaries.filter((x) => x.p.kind === 'sclc');
  const lung = primaries.filter((x) => x.p.kind !== 'sclc');
  if (sclc.length > 0) {
    notes.push(
      `Small cell lung cancer recorded (${sclc.map((x) => refOf(x.c)).join(', ')}): out of scope for ALK/ROS1 NSCLC guidance${lung.length ? '; an NSCLC diagnosis is also recorded' : ''}.`,
    );
  }
  if (lung.length === 0) return undefined;
  const specific = lung.filter((x) => x.p.kind === 'nsclc');
  const chosen = specific.length > 0 ? specific : lung;
  let histology: Histology = chosen.length && specific.length ? 'nsclc-nos' : 'unknown';
  let stage: Stage = 'unknown';
  let recurrent = false;
  let onsetDate: string | undefined;
  const sources: string[] = [];
  let displayC: AnyResource | undefined;
  const stages = new Set<Stage>();
  for (const { c, p } of lung) {
    sources.push(refOf(c));
    const h = histologyFromExtension(kb, c) ?? p.histology;
    if (HISTOLOGY_ORDER[h] > HISTOLOGY_ORDER[histology]) histology = h;
    for (const s of [p.stage, stageFromCondition(c)]) {
      if (s !== 'unknown') stages.add(s);
      if (STAGE_ORDER[s] > STAGE_ORDER[stage]) stage = s;
    }
    const status = clinicalStatus(c);
    if (status === 'recurrence' || status === 'relapse' || /\brecurren/i.test(conceptText(c.code)))
      recurrent = true;
    const d = onset(c);
    if (d && (!onsetDate || dateMs(d) < dateMs(onsetDate))) onsetDate = d;
    if (!displayC || (p.kind === 'nsclc' && status === 'active')) displayC = c;
  }
  if (specific.length === 0) {
    const coded = `Lung cancer is coded only in ICD-10-CM (${lung.map((x) => refOf(x.c)).join(', ')}), which does not state histology`;
    notes.push(
      histology === 'unknown'
        ? `${coded}; treated as NSCLC with histology unknown.`
        : `${coded}; the histology (${histology}) is read from the condition's text.`,
    );
  }
  if (obsStage) {
    stages.add(obsStage.stage);
    sources.push(obsStage.ref);
    if (STAGE_ORDER[obsStage.stage] > STAGE_ORDER[stage]) stage = obsStage.stage;
  }
  if (stages.size > 1)
    notes.push(
      `Several stage groups are recorded (${[...stages].join(', ')}); the highest (${stage}) is used.`,
    );
  const d: NsclcDiagnosis = {
    histology,
    stage,
    metastatic: metastatic || stage === 'IV',
    recurrent,
    display: conceptLabel(displayC?.code) || 'Lung cancer',
    sources,
  };
  if (onsetDate) d.onsetDate = onsetDate;
  return d;
}

/** One finding per site and clinical status: the same metastasis coded twice (SNOMED + ICD-10). */
function mergeCns(raw: CnsFinding[]): CnsFinding[] {
  const out: CnsFinding[] = [];
  for (const f of raw) {
    const twin = out.find((o) => o.site === f.site && o.clinicalStatus === f.clinicalStatus);
    if (!twin) {
      out.push({ ...f, sources: [...f.sources] });
      continue;
    }
    for (const s of f.sources) if (!twin.sources.includes(s)) twin.sources.push(s);
    if (twin.symptomatic === undefined && f.symptomatic !== undefined) twin.symptomatic = f.symptomatic;
    if (twin.lesionCount === undefined && f.lesionCount !== undefined) twin.lesionCount = f.lesionCount;
    if (f.date && (!twin.date || dateMs(f.date) > dateMs(twin.date))) twin.date = f.date;
  }
  return out;
}
