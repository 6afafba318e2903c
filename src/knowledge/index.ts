/**
 * Loads the knowledge base: parses every data file with its zod schema, then checks the
 * cross-references (evidence ids, agent ids, check ids) so an inconsistent edit fails at load.
 */

import { codeProblem } from './code-formats.ts';
import checksData from './data/checks.json' with { type: 'json' };
import codesData from './data/codes.json' with { type: 'json' };
import drugsData from './data/drugs.json' with { type: 'json' };
import evidenceData from './data/evidence.json' with { type: 'json' };
import guidanceData from './data/guidance.json' with { type: 'json' };
import interactingData from './data/interacting-drugs.json' with { type: 'json' };
import metaData from './data/meta.json' with { type: 'json' };
import regimensData from './data/regimens.json' with { type: 'json' };
import type {
  Agent,
  Analyte,
  CheckDefinition,
  Codes,
  Evidence,
  Guidance,
  InteractingDrug,
  InteractionClass,
  NonDrugOption,
  RegimenRule,
  Tki,
} from './schema.ts';
import { type KnowledgeSources, type ParsedSources, parseSources } from './validate.ts';

export type * from './schema.ts';
export type { KnowledgeSources } from './validate.ts';

export interface Knowledge {
  version: string;
  date: string;
  scope: string;
  codes: Codes;
  agents: ReadonlyMap<string, Agent>;
  tkis: readonly Tki[];
  interactingDrugs: ReadonlyMap<string, InteractingDrug>;
  interactionClassNames: Readonly<Record<InteractionClass, string>>;
  interactionClassEvidence: Readonly<Record<InteractionClass, string[]>>;
  analytes: ReadonlyMap<string, Analyte>;
  checks: ReadonlyMap<string, CheckDefinition>;
  geneBaselineChecks: ParsedSources['checks']['geneBaselineChecks'];
  pregnancyCheck: { check: string; why: string };
  regimens: ParsedSources['regimens'];
  nonDrugOptions: ReadonlyMap<string, NonDrugOption>;
  regimenRules: readonly RegimenRule[];
  guidance: Guidance;
  evidence: ReadonlyMap<string, Evidence>;
}

export const bundledSources: KnowledgeSources = {
  meta: metaData,
  codes: codesData,
  drugs: drugsData,
  interacting: interactingData,
  checks: checksData,
  regimens: regimensData,
  guidance: guidanceData,
  evidence: evidenceData,
};

/** The data file behind each source (the app build swaps each file for its parsed form). */
export const SOURCE_FILES: Readonly<Record<keyof KnowledgeSources, string>> = {
  meta: 'meta.json',
  codes: 'codes.json',
  drugs: 'drugs.json',
  interacting: 'interacting-drugs.json',
  checks: 'checks.json',
  regimens: 'regimens.json',
  guidance: 'guidance.json',
  evidence: 'evidence.json',
};

export class KnowledgeError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid knowledge base:\n- ${problems.join('\n- ')}`);
    this.name = 'KnowledgeError';
  }
}

function indexById<T extends { id: string }>(
  items: readonly T[],
  what: string,
  problems: string[],
): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.id)) problems.push(`duplicate ${what} id "${item.id}"`);
    map.set(item.id, item);
  }
  return map;
}

/**
 * The analytes the renal check's Cockcroft-Gault estimate reads (src/core/rules/renal-function.ts):
 * a check with the `kidney-disease` hint needs all three in checks.json.
 */
export const RENAL_ANALYTES = { crcl: 'crcl', creatinine: 'creatinine', weight: 'body-weight' } as const;

export function loadKnowledge(sources: KnowledgeSources = bundledSources): Knowledge {
  const {
    meta,
    codes,
    drugs,
    interacting,
    checks: checksFile,
    regimens,
    guidance,
    evidence: evidenceFile,
  } = parseSources(sources);

  const problems: string[] = [];
  const evidence = indexById(evidenceFile.evidence, 'evidence', problems);
  const agents = indexById(drugs.agents, 'agent', problems);
  const interactingDrugs = indexById(interacting.drugs, 'interacting drug', problems);
  const analytes = indexById(checksFile.analytes, 'analyte', problems);
  const checks = indexById(checksFile.checks, 'check', problems);
  const nonDrugOptions = indexById(regimens.nonDrugOptions, 'non-drug option', problems);
  indexById(regimens.rules, 'regimen rule', problems);
  for (const drugId of interactingDrugs.keys()) {
    if (agents.has(drugId)) problems.push(`"${drugId}" is both an agent and an interacting drug`);
  }

  const requireEvidence = (ids: readonly string[], where: string) => {
    for (const eid of ids) if (!evidence.has(eid)) problems.push(`${where} cites unknown evidence "${eid}"`);
  };
  const requireCheck = (cid: string, where: string) => {
    if (!checks.has(cid)) problems.push(`${where} names unknown check "${cid}"`);
  };
  const requireOption = (oid: string, where: string) => {
    if (!agents.has(oid) && !nonDrugOptions.has(oid)) problems.push(`${where} names unknown agent "${oid}"`);
  };

  for (const agent of drugs.agents) {
    requireEvidence(agent.indicationEvidence, `agent ${agent.id}`);
    if (agent.kind !== 'tki') continue;
    requireEvidence(
      [...agent.cnsEvidence, ...agent.efficacyEvidence, ...agent.embryoFetalEvidence],
      `agent ${agent.id}`,
    );
    for (const bc of agent.baselineChecks) {
      requireCheck(bc.check, `agent ${agent.id}`);
      requireEvidence(bc.evidence, `agent ${agent.id} check ${bc.check}`);
    }
    for (const ix of agent.interactions)
      requireEvidence(ix.evidence, `agent ${agent.id} interaction ${ix.class}`);
    for (const note of agent.dosingNotes) requireEvidence(note.evidence, `agent ${agent.id} dosing note`);
    for (const bc of agent.kind === 'tki' ? agent.baselineChecks : [])
      if (bc.ifAbnormal)
        requireEvidence(bc.ifAbnormal.evidence, `agent ${agent.id} check ${bc.check} dose rule`);
  }
  for (const [cls, ids] of Object.entries(interacting.classEvidence))
    requireEvidence(ids, `interaction class ${cls}`);
  for (const analyte of checksFile.analytes) requireEvidence(analyte.evidence, `analyte ${analyte.id}`);
  for (const check of checksFile.checks) {
    requireEvidence(check.evidence, `check ${check.id}`);
    for (const a of check.analytes) {
      if (!analytes.has(a.analyte)) problems.push(`check ${check.id} names unknown analyte "${a.analyte}"`);
    }
    if (check.hints?.includes('kidney-disease'))
      for (const id of Object.values(RENAL_ANALYTES))
        if (!analytes.has(id))
          problems.push(`check ${check.id} estimates CrCl but analyte "${id}" is missing`);
    for (const order of check.orders) {
      for (const a of order.covers) {
        if (!check.analytes.some((x) => x.analyte === a))
          problems.push(`check ${check.id} order covers "${a}"`);
      }
    }
  }
  for (const g of checksFile.geneBaselineChecks) {
    for (const c of g.checks) requireCheck(c, `gene baseline ${g.gene}`);
    requireEvidence(g.evidence, `gene baseline ${g.gene}`);
  }
  requireCheck(checksFile.pregnancyCheck.check, 'pregnancyCheck');

  for (const opt of regimens.nonDrugOptions) {
    requireEvidence(opt.evidence, `option ${opt.id}`);
    for (const alternatives of opt.components ?? [])
      for (const a of alternatives) requireOption(a, `option ${opt.id}`);
  }
  for (const entry of [regimens.wrongGene, regimens.poorCns, regimens.priorProgression]) {
    requireEvidence(entry.evidence, 'regimen defaults');
  }
  for (const avoid of regimens.geneWideAvoid) {
    requireOption(avoid.id, `gene-wide avoid (${avoid.gene})`);
    requireEvidence(avoid.evidence, `gene-wide avoid ${avoid.id}`);
  }
  for (const rule of regimens.rules) {
    requireEvidence(rule.evidence, `rule ${rule.id}`);
    for (const ref of [...rule.preferred, ...rule.other]) {
      requireOption(ref.id, `rule ${rule.id}`);
      requireEvidence(ref.evidence, `rule ${rule.id} option ${ref.id}`);
      for (const p of ref.ifProgressedOnAny ?? []) requireOption(p, `rule ${rule.id} option ${ref.id}`);
    }
    for (const ref of rule.avoid) {
      requireOption(ref.id, `rule ${rule.id} avoid`);
      requireEvidence(ref.evidence, `rule ${rule.id} avoid ${ref.id}`);
    }
    for (const p of rule.when.progressedOnAny ?? []) requireOption(p, `rule ${rule.id} when`);
  }
  for (const [kind, entry] of Object.entries(guidance.testing))
    requireEvidence(entry.evidence, `testing ${kind}`);
  for (const [kind, entry] of Object.entries(guidance.localTherapy))
    requireEvidence(entry.evidence, `local ${kind}`);
  for (const [kind, entry] of Object.entries(guidance.biomarkerRules))
    requireEvidence(entry.evidence, `biomarker ${kind}`);
  requireEvidence(guidance.afterImmunotherapy.evidence, 'after-immunotherapy rule');
  // A label section names its drug, so a card about another drug never cites it and the label's
  // revision date can be shown with it.
  for (const e of evidenceFile.evidence) {
    if (e.kind === 'label' && !e.drug) problems.push(`label evidence "${e.id}" names no drug`);
    if (e.drug && !agents.has(e.drug)) problems.push(`evidence "${e.id}" names unknown drug "${e.drug}"`);
  }

  for (const { system, code, where } of allCodings({ codes, drugs, interacting, checksFile })) {
    const problem = codeProblem(system, code);
    if (problem) problems.push(`${where}: ${problem}`);
  }

  if (problems.length > 0) throw new KnowledgeError(problems);

  const tkis = drugs.agents.filter((a): a is Tki => a.kind === 'tki');
  return {
    version: meta.version,
    date: meta.date,
    scope: meta.scope,
    codes,
    agents,
    tkis,
    interactingDrugs,
    interactionClassNames: interacting.classes,
    interactionClassEvidence: interacting.classEvidence,
    analytes,
    checks,
    geneBaselineChecks: checksFile.geneBaselineChecks,
    pregnancyCheck: checksFile.pregnancyCheck,
    regimens,
    nonDrugOptions,
    regimenRules: [...regimens.rules].sort((a, b) => b.priority - a.priority),
    guidance,
    evidence,
  };
}

interface CodingRef {
  system: string;
  code: string;
  where: string;
}

/** Every coding in the data, wherever it sits, for the format checks. */
function allCodings(files: {
  codes: Codes;
  drugs: { agents: Agent[] };
  interacting: { drugs: InteractingDrug[] };
  checksFile: { analytes: Analyte[]; checks: CheckDefinition[] };
}): CodingRef[] {
  const out: CodingRef[] = [];
  const walk = (value: unknown, where: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
    } else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.system === 'string' && typeof o.code === 'string')
        out.push({ system: o.system, code: o.code, where });
      for (const [k, v] of Object.entries(o)) walk(v, `${where}.${k}`);
    }
  };
  walk(files.codes, 'codes');
  walk(files.checksFile, 'checks');
  const rx = 'http://www.nlm.nih.gov/research/umls/rxnorm';
  for (const a of files.drugs.agents)
    if (a.rxnorm) out.push({ system: rx, code: a.rxnorm.code, where: `agent ${a.id}` });
  for (const d of files.interacting.drugs)
    if (d.rxnorm) out.push({ system: rx, code: d.rxnorm.code, where: `drug ${d.id}` });
  return out;
}

/** The evidence ids that may be cited for `agentId`: a label section about another drug is dropped. */
export function evidenceAbout(kb: Knowledge, ids: readonly string[], agentId: string): string[] {
  return ids.filter((id) => {
    const drug = kb.evidence.get(id)?.drug;
    return drug === undefined || drug === agentId;
  });
}

/** "US label as of 2026-01" for a label section, from its drug's recorded label version. */
export function labelAsOf(kb: Knowledge, evidenceId: string): string | undefined {
  const e = kb.evidence.get(evidenceId);
  if (e?.kind !== 'label' || !e.drug) return undefined;
  const agent = kb.agents.get(e.drug);
  const label = agent?.kind === 'tki' ? agent.label : undefined;
  if (!label?.asOf) return 'US label, revision date not confirmed';
  return `US label as of ${label.asOf}${label.verified ? '' : ' (date not confirmed from the label itself)'}`;
}

let cached: Knowledge | undefined;

/** The bundled knowledge base, validated once per process. */
export function getKnowledge(): Knowledge {
  cached ??= loadKnowledge();
  return cached;
}
