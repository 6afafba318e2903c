/**
 * Drug interactions of a TKI with other drugs: strong CYP3A inducers and
 * inhibitors, QT-prolonging and bradycardic drugs, hormonal contraceptives, P-gp inhibitors,
 * narrow-therapeutic-index CYP3A substrates, acid-reducing agents (taletrectinib). What
 * each TKI's label says is data (`drugs.json` interactions); class membership is data too.
 */
import { evidenceAbout, type InteractionClass, type Knowledge, type Tki } from '../../knowledge/index.ts';
import type { InteractionFinding, Sources } from '../model.ts';

export interface OtherDrug {
  drug: string;
  display: string;
  sources: Sources;
}

/** Interaction classes a drug belongs to; another TKI contributes its QT and heart-rate effects. */
export function interactionClasses(kb: Knowledge, drugId: string): InteractionClass[] {
  const interacting = kb.interactingDrugs.get(drugId);
  if (interacting) return interacting.classes;
  const agent = kb.agents.get(drugId);
  if (agent?.kind !== 'tki') return [];
  const classes: InteractionClass[] = [];
  if (agent.qtProlonging) classes.push('qt-prolonging');
  if (agent.bradycardic) classes.push('bradycardic');
  return classes;
}

export function evaluateInteractions(
  kb: Knowledge,
  tki: Tki,
  others: readonly OtherDrug[],
): InteractionFinding[] {
  const findings: InteractionFinding[] = [];
  for (const other of others) {
    if (other.drug === tki.id) continue;
    const classes = new Set(interactionClasses(kb, other.drug));
    for (const rule of tki.interactions) {
      if (!classes.has(rule.class)) continue;
      findings.push({
        agent: tki.id,
        with: other,
        interactionClass: rule.class,
        severity: rule.severity,
        message: `${other.display} (${kb.interactionClassNames[rule.class]}): ${rule.message}`,
        className: kb.interactionClassNames[rule.class],
        ruleMessage: rule.message,
        // The class's sources, less label sections about other TKIs (the alectinib bradycardia label
        // is no source for a crizotinib finding).
        evidence: evidenceAbout(
          kb,
          [...new Set([...rule.evidence, ...(kb.interactionClassEvidence[rule.class] ?? [])])],
          tki.id,
        ),
        verified: rule.verified,
      });
    }
  }
  return findings;
}
