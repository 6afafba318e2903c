/**
 * Order-time checks for draft orders: does the drafted drug fit this patient?
 * Concordance with the options for the current line, a confirmed biomarker, immunotherapy in a
 * driver-positive tumour, interactions with active medications, and pre-therapy checks.
 */
import type { Knowledge, Tki } from '../../knowledge/index.ts';
import { daysBefore } from '../dates.ts';
import type {
  ActiveMedication,
  AgentChecks,
  AvoidReason,
  DraftOrder,
  EvaluateConfig,
  Gene,
  GeneStatus,
  IsoDate,
  OrderFinding,
  OrderFindingCode,
  PatientSnapshot,
  Severity,
  TherapyRecommendation,
} from '../model.ts';
import { evaluateInteractions, type OtherDrug } from './interactions.ts';
import { maxSeverity } from './pretherapy-checks.ts';
import { displayName } from './therapy-options.ts';

const AVOID_CODES: Record<AvoidReason, OrderFindingCode> = {
  'wrong-gene': 'wrong-gene',
  'less-effective': 'less-effective',
  'poor-cns': 'poor-cns',
  'prior-progression': 'prior-progression',
  resistance: 'resistance',
  immunotherapy: 'immunotherapy',
  'no-standard-tki': 'no-standard-tki',
};

export interface OrderContext {
  kb: Knowledge;
  snapshot: PatientSnapshot;
  biomarkers: Record<Gene, GeneStatus>;
  driver: Gene | null;
  recommendation: TherapyRecommendation | null;
  config: EvaluateConfig;
  /** Pre-therapy checks already evaluated for each candidate and drafted TKI. */
  checks: readonly AgentChecks[];
  /** Why history and interactions could not be checked (a medication gap), if so. */
  therapyCouldNotCheck?: string;
  /** The moment of evaluation (look-back windows count back from it). */
  now: IsoDate;
}

const preferredDrugs = (rec: TherapyRecommendation | null) =>
  (rec?.preferred ?? []).filter((o) => o.kind === 'drug').map((o) => o.id);

/** The ALK/ROS1 status in words; a gene whose results could not be read says so, never "unknown". */
function biomarkerPhrase(biomarkers: Record<Gene, GeneStatus>): string {
  const one = (g: Gene) =>
    biomarkers[g].couldNotCheck && biomarkers[g].status !== 'positive'
      ? `${g} results could not be read from the EHR`
      : `${g} ${biomarkers[g].status}`;
  return `${one('ALK')}, ${one('ROS1')}`;
}

function concordanceFindings(draft: DraftOrder, tki: Tki, ctx: OrderContext): OrderFinding[] {
  const { kb, biomarkers, driver, recommendation } = ctx;
  const name = displayName(kb, tki.id);
  const base = { draft: draft.ref, drug: tki.id, topic: 'order-concordance' as const };
  if (!driver || !recommendation) {
    const anyPositive = biomarkers.ALK.status === 'positive' || biomarkers.ROS1.status === 'positive';
    return [
      {
        ...base,
        code: 'no-confirmed-biomarker',
        severity: 'warning',
        message: `${name} ordered without a confirmed ALK- or ROS1-positive result (${biomarkerPhrase(biomarkers)}${anyPositive ? '; results disagree' : ''}).`,
        evidence: [
          ...new Set(['local-safety-rules', ...biomarkers.ALK.evidence, ...biomarkers.ROS1.evidence]),
        ],
        alternatives: [],
      },
    ];
  }

  const avoided = recommendation.avoid.filter((a) => a.id === tki.id);
  if (avoided.length > 0) {
    return avoided.map((a) => ({
      ...base,
      code: AVOID_CODES[a.reason],
      severity: a.severity,
      message: `${name} in ${driver}-positive NSCLC: ${a.why}`,
      evidence: a.evidence,
      alternatives: preferredDrugs(recommendation),
    }));
  }
  if (recommendation.preferred.some((o) => o.id === tki.id)) return [];
  const other = recommendation.other.find((o) => o.id === tki.id);
  if (other) {
    return [
      {
        ...base,
        code: 'not-preferred',
        severity: 'warning',
        message: `${name} is not a preferred option for ${recommendation.situation.label}.${other.notes.length ? ` ${other.notes.join(' ')}` : ''}`,
        evidence: [...new Set([...other.evidence, ...recommendation.situation.evidence])],
        alternatives: preferredDrugs(recommendation),
      },
    ];
  }
  const unavailable = ctx.config.formularyUnavailable.map((x) => x.toLowerCase()).includes(tki.id);
  return [
    {
      ...base,
      code: 'not-listed',
      severity: 'warning',
      message: `${name} is not among the options for ${recommendation.situation.label}${unavailable ? ', and it is not available at this site' : ''}.`,
      evidence: recommendation.situation.evidence,
      alternatives: preferredDrugs(recommendation),
    },
  ];
}

function immunotherapyFindings(draft: DraftOrder, drugId: string, ctx: OrderContext): OrderFinding[] {
  const { kb, biomarkers, driver, recommendation } = ctx;
  const name = displayName(kb, drugId);
  if (driver && recommendation) {
    // An ICI the regimen does not name still falls under the class rule: cite what it cites.
    const avoid =
      recommendation.avoid.find((a) => a.id === drugId && a.reason === 'immunotherapy') ??
      recommendation.avoid.find((a) => a.reason === 'immunotherapy');
    return [
      {
        draft: draft.ref,
        drug: drugId,
        topic: 'order-concordance',
        code: 'immunotherapy',
        severity: avoid?.severity ?? 'warning',
        message: `${name} in ${driver}-positive NSCLC: ${avoid?.why ?? 'immune checkpoint inhibitors are not recommended.'}`,
        evidence: avoid?.evidence ?? recommendation.situation.evidence,
        alternatives: preferredDrugs(recommendation),
      },
    ];
  }
  // No driver: an ICI before ALK/ROS1 status is settled forecloses the better first-line option.
  const bothNegative = biomarkers.ALK.status === 'negative' && biomarkers.ROS1.status === 'negative';
  if (!ctx.snapshot.nsclc || bothNegative) return [];
  const testing = kb.guidance.testing['initial-testing'];
  return [
    {
      draft: draft.ref,
      drug: drugId,
      topic: 'biomarker-testing',
      code: 'no-confirmed-biomarker',
      severity: 'info',
      message: `${name} ordered before ALK/ROS1 status is settled (${biomarkerPhrase(biomarkers)}): a TKI is preferred for ALK- or ROS1-positive disease, so have the results before first-line immunotherapy.`,
      evidence: testing?.evidence ?? [],
      alternatives: [],
    },
  ];
}

function pretherapyFinding(draft: DraftOrder, tki: Tki, ctx: OrderContext): OrderFinding[] {
  const { kb } = ctx;
  const open = (ctx.checks.find((c) => c.agent === tki.id)?.checks ?? []).filter(
    (c) => c.state !== 'current',
  );
  if (open.length === 0) return [];
  const severity = open.reduce<Severity>(
    (s, c) => maxSeverity(s, c.state === 'abnormal' ? c.severity : 'info'),
    'info',
  );
  return [
    {
      draft: draft.ref,
      drug: tki.id,
      topic: 'pretherapy-checks',
      code: 'pretherapy-check',
      severity,
      message: `Before the first dose of ${displayName(kb, tki.id)}: ${open.map((c) => `${c.name} ${c.state.replace(/-/g, ' ')}`).join('; ')}.`,
      evidence: [...new Set(open.flatMap((c) => c.evidence))],
      alternatives: [],
      checks: open,
    },
  ];
}

/**
 * [Label: ensartinib, Indications and Usage] An agent indicated only without a prior inhibitor of
 * its gene, drafted for a patient who has had one (whatever the reason it stopped).
 */
function priorInhibitorFinding(draft: DraftOrder, tki: Tki, ctx: OrderContext): OrderFinding[] {
  const rule = tki.onlyWithoutPriorInhibitor;
  if (!rule) return [];
  const prior = ctx.snapshot.therapies.filter((l) => {
    const agent = l.agent ? ctx.kb.agents.get(l.agent) : undefined;
    return agent?.kind === 'tki' && agent.id !== tki.id && agent.genes.some((g) => tki.genes.includes(g));
  });
  if (!prior.length) return [];
  const names = [...new Set(prior.map((l) => displayName(ctx.kb, l.agent as string)))];
  return [
    {
      draft: draft.ref,
      drug: tki.id,
      topic: 'order-concordance',
      code: 'not-indicated',
      severity: 'warning',
      message: `${rule.why} This patient has had ${names.join(', ')}.`,
      evidence: rule.evidence,
      alternatives: preferredDrugs(ctx.recommendation).filter((a) => a !== tki.id),
    },
  ];
}

/**
 * A TKI soon after an immune checkpoint inhibitor (guidance.afterImmunotherapy): "soon" is the
 * window from the last dose, and an ICI still active counts as today.
 */
function afterImmunotherapyFinding(draft: DraftOrder, tki: Tki, ctx: OrderContext): OrderFinding[] {
  const rule = ctx.kb.guidance.afterImmunotherapy;
  const window = ctx.config.immunotherapyToTkiWindowDays ?? rule.windowDays;
  let latest: { display: string; days: number } | undefined;
  for (const line of ctx.snapshot.therapies) {
    if (line.kind !== 'immunotherapy') continue;
    const days = line.status === 'active' ? 0 : daysBefore(line.end ?? line.start, ctx.now);
    if (days === undefined || days < 0 || days > window) continue;
    if (!latest || days < latest.days) latest = { display: line.display, days };
  }
  if (!latest) return [];
  const when = latest.days === 0 ? 'current' : `last given ${latest.days} day(s) ago`;
  return [
    {
      draft: draft.ref,
      drug: tki.id,
      topic: 'order-concordance',
      code: 'after-immunotherapy',
      severity: 'warning',
      message: `${displayName(ctx.kb, tki.id)} after immune checkpoint inhibitor ${latest.display} (${when}, within ${window} days): ${rule.why}`,
      evidence: rule.evidence,
      alternatives: [],
    },
  ];
}

function activeAsOthers(active: readonly ActiveMedication[]): OtherDrug[] {
  return active
    .filter((m): m is ActiveMedication & { drug: string } => m.drug !== null)
    .map((m) => ({ drug: m.drug, display: m.display, sources: m.sources }));
}

export function evaluateOrders(drafts: readonly DraftOrder[], ctx: OrderContext): OrderFinding[] {
  const { kb, snapshot } = ctx;
  const findings: OrderFinding[] = [];
  const active = activeAsOthers(snapshot.activeMedications);
  const draftsAsOthers: OtherDrug[] = drafts
    .filter((d): d is DraftOrder & { drug: string } => d.drug !== null)
    .map((d) => ({ drug: d.drug, display: d.display, sources: [d.ref] }));

  for (const draft of drafts) {
    if (!draft.drug) continue;
    const agent = kb.agents.get(draft.drug);
    if (agent?.kind === 'tki') {
      findings.push(...concordanceFindings(draft, agent, ctx));
      findings.push(...priorInhibitorFinding(draft, agent, ctx));
      findings.push(...afterImmunotherapyFinding(draft, agent, ctx));
      const unchecked = ctx.therapyCouldNotCheck;
      if (unchecked)
        findings.push({
          draft: draft.ref,
          drug: agent.id,
          topic: 'drug-interaction',
          code: 'could-not-check',
          severity: 'warning',
          message: `${displayName(kb, agent.id)}: ${unchecked}`,
          evidence: ['local-safety-rules'],
          alternatives: [],
        });
      const others = [...active, ...draftsAsOthers.filter((o) => o.sources[0] !== draft.ref)];
      for (const ix of evaluateInteractions(kb, agent, others)) {
        findings.push({
          draft: draft.ref,
          drug: agent.id,
          topic: 'drug-interaction',
          code: 'interaction',
          severity: ix.severity,
          message: `${displayName(kb, agent.id)} with ${ix.message}`,
          evidence: ix.evidence,
          alternatives: [],
          interaction: ix,
        });
      }
      findings.push(...pretherapyFinding(draft, agent, ctx));
    } else if (agent?.kind === 'immunotherapy') {
      findings.push(...immunotherapyFindings(draft, agent.id, ctx));
    } else if (kb.interactingDrugs.has(draft.drug)) {
      // A new interacting drug for a patient already on a TKI (drafted TKIs are checked from their side).
      for (const med of active) {
        const tki = kb.agents.get(med.drug);
        if (tki?.kind !== 'tki') continue;
        const self: OtherDrug = { drug: draft.drug, display: draft.display, sources: [draft.ref] };
        for (const ix of evaluateInteractions(kb, tki, [self])) {
          findings.push({
            draft: draft.ref,
            drug: draft.drug,
            topic: 'drug-interaction',
            code: 'interaction',
            severity: ix.severity,
            message: `${draft.display} with current ${displayName(kb, tki.id)}: ${ix.message}`,
            evidence: ix.evidence,
            alternatives: [],
            interaction: ix,
          });
        }
      }
    }
  }
  return findings;
}
