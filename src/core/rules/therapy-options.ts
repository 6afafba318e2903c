/**
 * Therapy options for the current line: the regimen table in
 * `knowledge/data/regimens.json` picks the situation; this module applies the cross-cutting rules
 * in a fixed order so each option carries the rule and evidence that put it there.
 */
import type { Knowledge, RegimenRule, Tki } from '../../knowledge/index.ts';
import type {
  AvoidedOption,
  DiseaseSummary,
  EvaluateConfig,
  Gene,
  GeneStatus,
  TherapyHistorySummary,
  TherapyOption,
  TherapyRecommendation,
} from '../model.ts';

export function displayName(kb: Knowledge, id: string): string {
  const agent = kb.agents.get(id);
  if (!agent) return kb.nonDrugOptions.get(id)?.name ?? id;
  const generic = id.charAt(0).toUpperCase() + id.slice(1);
  return agent.brands.length > 0 ? `${generic} (${agent.brands[0]})` : generic;
}

function matches(
  rule: RegimenRule,
  gene: Gene,
  mutations: Set<string>,
  disease: DiseaseSummary,
  history: TherapyHistorySummary,
) {
  const w = rule.when;
  if (rule.gene !== gene || w.targetedOptionsExhausted) return false;
  if (w.tkiNaive !== undefined && w.tkiNaive !== history.tkiNaive) return false;
  if (w.cns !== undefined && w.cns !== disease.cnsDisease) return false;
  if (w.progressedOnAny && !w.progressedOnAny.some((a) => history.progressedOn.includes(a))) return false;
  if (w.mutationsAny && !w.mutationsAny.some((m) => mutations.has(m))) return false;
  if (w.mutationsAll && !w.mutationsAll.every((m) => mutations.has(m))) return false;
  return true;
}

/** The situation row: the matching rule with the highest priority (rules are pre-sorted). */
export function selectRule(
  kb: Knowledge,
  gene: Gene,
  status: GeneStatus,
  disease: DiseaseSummary,
  history: TherapyHistorySummary,
): { rule: RegimenRule; fallback: boolean } {
  const mutations = new Set(status.resistanceMutations.map((m) => m.mutation.toUpperCase()));
  const rule = kb.regimenRules.find((r) => matches(r, gene, mutations, disease, history));
  if (rule) return { rule, fallback: false };
  // A history no row covers (e.g. an off-label TKI): show the first-line row for the CNS state and say so.
  const firstLine = kb.regimenRules.find(
    (r) => r.gene === gene && r.when.tkiNaive === true && r.when.cns === disease.cnsDisease,
  );
  if (!firstLine) throw new Error(`knowledge base has no first-line rule for ${gene}`);
  return { rule: firstLine, fallback: true };
}

const isTki = (kb: Knowledge, id: string): boolean => kb.agents.get(id)?.kind === 'tki';

export function recommendTherapy(
  kb: Knowledge,
  gene: Gene,
  status: GeneStatus,
  disease: DiseaseSummary,
  history: TherapyHistorySummary,
  config: EvaluateConfig,
): TherapyRecommendation {
  const notes: string[] = [];
  const { rule, fallback } = selectRule(kb, gene, status, disease, history);
  if (fallback) {
    notes.push(
      `No row of the regimen table covers this treatment history (${history.progressedOn.join(', ') || 'none'}); first-line options are shown. Review before use.`,
    );
  }

  const option = (
    ref: RegimenRule['preferred'][number],
    tier: TherapyOption['tier'],
    ruleId: string,
  ): TherapyOption => {
    const nonDrug = kb.nonDrugOptions.get(ref.id);
    return {
      id: ref.id,
      name: displayName(kb, ref.id),
      kind: nonDrug ? nonDrug.kind : 'drug',
      tier,
      rule: ruleId,
      evidence: [...new Set([...ref.evidence, ...(nonDrug?.evidence ?? [])])],
      notes: ref.note ? [ref.note] : [],
      promoted: false,
    };
  };
  const applicable = (ref: RegimenRule['preferred'][number]) =>
    !ref.ifProgressedOnAny || ref.ifProgressedOnAny.some((a) => history.progressedOn.includes(a));

  let preferred = rule.preferred.filter(applicable).map((r) => option(r, 'preferred', rule.id));
  let other = rule.other.filter(applicable).map((r) => option(r, 'other', rule.id));
  const avoid: AvoidedOption[] = [];
  const addAvoid = (a: AvoidedOption) => {
    if (!avoid.some((x) => x.id === a.id && x.reason === a.reason)) avoid.push(a);
  };
  const removeOption = (id: string) => {
    preferred = preferred.filter((o) => o.id !== id);
    other = other.filter((o) => o.id !== id);
  };

  for (const a of rule.avoid) addAvoid({ ...a, name: displayName(kb, a.id), rule: rule.id });
  for (const a of kb.regimens.geneWideAvoid.filter((x) => x.gene === gene)) {
    addAvoid({
      id: a.id,
      name: displayName(kb, a.id),
      reason: a.reason,
      why: a.why,
      severity: a.severity,
      rule: `${gene.toLowerCase()}-gene-wide`,
      evidence: a.evidence,
    });
  }

  // Agents for the other gene only (e.g. entrectinib or repotrectinib in ALK+).
  for (const tki of kb.tkis.filter((t) => !t.genes.includes(gene))) {
    if (avoid.some((x) => x.id === tki.id)) continue;
    removeOption(tki.id);
    addAvoid({
      id: tki.id,
      name: displayName(kb, tki.id),
      reason: 'wrong-gene',
      why: kb.regimens.wrongGene.why.replace('{gene}', gene),
      severity: kb.regimens.wrongGene.severity,
      rule: 'wrong-gene',
      evidence: [...new Set([...kb.regimens.wrongGene.evidence, ...tki.indicationEvidence])],
    });
  }

  // [aslan-ch11-5.3] CNS disease: agents with poor CNS penetration are avoided.
  if (disease.cnsDisease) {
    for (const tki of kb.tkis.filter((t) => t.cnsActivity === 'poor' && t.genes.includes(gene))) {
      removeOption(tki.id);
      if (!avoid.some((x) => x.id === tki.id && x.reason === 'poor-cns')) {
        addAvoid({
          id: tki.id,
          name: displayName(kb, tki.id),
          reason: 'poor-cns',
          why: kb.regimens.poorCns.why,
          severity: kb.regimens.poorCns.severity,
          rule: 'poor-cns',
          evidence: [...new Set([...kb.regimens.poorCns.evidence, ...tki.cnsEvidence])],
        });
      }
    }
  }

  // Prior progression: never offer an agent the disease already progressed on.
  for (const agent of history.progressedOn) {
    if (!kb.agents.has(agent)) continue;
    removeOption(agent);
    const presumed = history.presumedProgression.includes(agent);
    addAvoid({
      id: agent,
      name: displayName(kb, agent),
      reason: 'prior-progression',
      why: presumed
        ? `${kb.regimens.priorProgression.why.replace('.', '')} (presumed: it ended with no reason recorded).`
        : kb.regimens.priorProgression.why,
      severity: kb.regimens.priorProgression.severity,
      rule: 'prior-progression',
      evidence: kb.regimens.priorProgression.evidence,
    });
  }
  // Anything avoided for this patient is never also offered.
  for (const a of avoid) removeOption(a.id);

  // Formulary: unavailable agents drop out and the card says why.
  const unavailable = new Set(config.formularyUnavailable.map((x) => x.trim().toLowerCase()).filter(Boolean));
  const droppedPreferred: string[] = [];
  for (const o of [...preferred, ...other]) {
    if (!unavailable.has(o.id)) continue;
    if (o.tier === 'preferred') droppedPreferred.push(o.name);
    notes.push(`${o.name} is not available at this site (formulary).`);
    removeOption(o.id);
  }

  // When no preferred option is left, the next option moves up.
  if (preferred.length === 0 && other.length > 0) {
    const [next, ...rest] = other;
    if (next) {
      const why =
        droppedPreferred.length > 0
          ? `${droppedPreferred.join(', ')} ${droppedPreferred.length === 1 ? 'is' : 'are'} not available at this site`
          : 'the preferred options do not apply to this patient';
      preferred = [
        { ...next, tier: 'preferred', promoted: true, notes: [...next.notes, `Moved up because ${why}.`] },
      ];
      other = rest;
      notes.push(`${next.name} moved up because ${why}.`);
    }
  }

  // No targeted option left: chemotherapy and clinical trials [aslan-ch11-5.2, ros1-first-line-qa-2025].
  let situation = { rule: rule.id, label: rule.label, evidence: rule.evidence };
  if (![...preferred, ...other].some((o) => isTki(kb, o.id))) {
    const exhausted = kb.regimenRules.find((r) => r.gene === gene && r.when.targetedOptionsExhausted);
    if (exhausted && exhausted.id !== rule.id && rule.preferred.some((r) => isTki(kb, r.id))) {
      for (const ref of exhausted.preferred) {
        if (!preferred.some((o) => o.id === ref.id) && !unavailable.has(ref.id))
          preferred.push(option(ref, 'preferred', exhausted.id));
      }
      other = other.filter((o) => !preferred.some((p) => p.id === o.id));
      situation = {
        rule: exhausted.id,
        label: `${rule.label}; no targeted option left`,
        evidence: [...new Set([...rule.evidence, ...exhausted.evidence])],
      };
      notes.push('No targeted option is left for this patient: chemotherapy or a clinical trial.');
    }
  }

  for (const line of history.lines.filter((l) => l.endReason === 'toxicity' && l.agent)) {
    for (const o of [...preferred, ...other]) {
      if (o.id === line.agent)
        o.notes.push(
          `Previously stopped for toxicity or intolerance${line.end ? ` (${line.end.slice(0, 10)})` : ''}.`,
        );
    }
  }
  const current = history.current?.agent;
  if (current && isTki(kb, current)) {
    notes.push(
      `Currently receiving ${displayName(kb, current)}${history.current?.start ? ` since ${history.current.start.slice(0, 10)}` : ''}.`,
    );
  }

  return { gene, situation, preferred, other, avoid, notes };
}

/** TKIs among the options, for pre-therapy checks. */
export function candidateTkis(kb: Knowledge, rec: TherapyRecommendation | null): Tki[] {
  if (!rec) return [];
  const ids = [...rec.preferred, ...rec.other].map((o) => o.id);
  return kb.tkis.filter((t) => ids.includes(t.id));
}

export interface AvoidGroup {
  /** Immune checkpoint inhibitors named once as a class. */
  checkpointInhibitors: boolean;
  /** The reason: shared by the group; for the class, the one most of them give. */
  why: string;
  options: AvoidedOption[];
}

/**
 * The avoid list as a clinician reads it: two or more immune checkpoint inhibitors as one class,
 * other agents avoided for the same reason together; groups in the order their first member appears.
 */
export function groupAvoided(kb: Knowledge, avoid: readonly AvoidedOption[]): AvoidGroup[] {
  const isIci = (x: AvoidedOption) => kb.agents.get(x.id)?.kind === 'immunotherapy';
  const collapse = avoid.filter(isIci).length >= 2;
  const groups = new Map<string, AvoidedOption[]>();
  for (const x of avoid) {
    const key = collapse && isIci(x) ? '\u0000class' : x.why;
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  return [...groups.entries()].map(([key, options]) => {
    if (key !== '\u0000class') return { checkpointInhibitors: false, why: key, options };
    const counts = new Map<string, number>();
    for (const o of options) counts.set(o.why, (counts.get(o.why) ?? 0) + 1);
    const why = [...counts.entries()].reduce((best, next) => (next[1] > best[1] ? next : best))[0];
    return { checkpointInhibitors: true, why, options };
  });
}
