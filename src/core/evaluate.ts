/**
 * The clinical brain: `evaluate(snapshot, knowledge, { now, config, draftOrders })` → `Assessment`.
 * Pure: no I/O, no clock (now is an input), no randomness. The SMART app and the CDS Hooks service
 * both call it and differ only in how they show the result.
 */
import type { Knowledge } from '../knowledge/index.ts';
import {
  type AgentChecks,
  type Assessment,
  DEFAULT_CONFIG,
  type DraftOrder,
  type EvaluateConfig,
  GENES,
  type Gene,
  type GeneStatus,
  type InteractionFinding,
  type IsoDate,
  type Notice,
  type PatientSnapshot,
} from './model.ts';
import { evaluateGeneStatus, reconcileGenes } from './rules/biomarker-status.ts';
import { summariseDisease } from './rules/disease.ts';
import { evaluateInteractions } from './rules/interactions.ts';
import { localTherapyInfo } from './rules/local-therapy.ts';
import { evaluateOrders } from './rules/order-checks.ts';
import { checksMemo, evaluateAgentChecks } from './rules/pretherapy-checks.ts';
import { recommendTesting } from './rules/testing.ts';
import { summariseTherapy } from './rules/therapy-history.ts';
import { candidateTkis, recommendTherapy } from './rules/therapy-options.ts';

export interface EvaluateOptions {
  /** The moment of evaluation (ISO 8601). Look-back windows count back from it. */
  now: IsoDate;
  config?: Partial<EvaluateConfig>;
  draftOrders?: readonly DraftOrder[];
}

export function evaluate(snapshot: PatientSnapshot, kb: Knowledge, options: EvaluateOptions): Assessment {
  const config: EvaluateConfig = { ...DEFAULT_CONFIG, ...options.config };
  const { now } = options;
  const notices: Notice[] = [
    ...snapshot.notes.map((n) => ({ severity: 'info' as const, message: n, sources: [] })),
  ];

  const biomarkers = reconcileGenes(
    {
      ALK: evaluateGeneStatus('ALK', snapshot.biomarkers, snapshot.dataGaps, kb),
      ROS1: evaluateGeneStatus('ROS1', snapshot.biomarkers, snapshot.dataGaps, kb),
    },
    kb,
  );
  const positive = GENES.filter((g) => biomarkers[g].status === 'positive');
  // [local-safety-rules] Never suggest a drug without a positive result: no single positive gene, no options.
  const driver: Gene | null = positive.length === 1 ? (positive[0] as Gene) : null;

  const disease = summariseDisease(snapshot);
  const therapy = summariseTherapy(snapshot.therapies, snapshot.dataGaps, config);
  notices.push(...disease.notices, ...therapy.notices);

  const recommendation = driver
    ? recommendTherapy(kb, driver, biomarkers[driver] as GeneStatus, disease.summary, therapy.summary, config)
    : null;

  const drafts = options.draftOrders ?? [];
  const draftedTkis = kb.tkis.filter((t) => drafts.some((d) => d.drug === t.id));
  const agentsToCheck = [...new Set([...candidateTkis(kb, recommendation), ...draftedTkis])];
  const memo = checksMemo(snapshot, config, now);
  const checks: AgentChecks[] = agentsToCheck.map((agent) =>
    evaluateAgentChecks(kb, agent, driver, snapshot, config, now, memo),
  );

  const activeOthers = snapshot.activeMedications
    .filter((m): m is typeof m & { drug: string } => m.drug !== null)
    .map((m) => ({ drug: m.drug, display: m.display, sources: m.sources }));
  const interactions: InteractionFinding[] = candidateTkis(kb, recommendation).flatMap((tki) =>
    evaluateInteractions(kb, tki, activeOthers),
  );

  const orderFindings = evaluateOrders(drafts, {
    kb,
    snapshot,
    biomarkers,
    driver,
    recommendation,
    config,
    checks,
    now,
    ...(therapy.summary.couldNotCheck ? { therapyCouldNotCheck: therapy.summary.couldNotCheck } : {}),
  });

  const testing = recommendTesting(kb, snapshot, biomarkers, disease.summary, driver, therapy.events, config);

  for (const gap of snapshot.dataGaps) {
    notices.push({
      severity: 'warning',
      message: `Could not read ${gap.domains.join(', ')} (${gap.query}: ${gap.detail || gap.reason}). Related checks show "could not check".`,
      sources: [],
    });
  }

  return {
    knowledgeVersion: kb.version,
    evaluatedAt: now,
    patientId: snapshot.patient.id,
    biomarkers,
    driver,
    disease: disease.summary,
    therapy: therapy.summary,
    recommendation,
    checks,
    interactions,
    orderFindings,
    testing,
    localTherapy: localTherapyInfo(kb, disease.summary, therapy.summary, driver),
    dataGaps: snapshot.dataGaps,
    notices,
  };
}
