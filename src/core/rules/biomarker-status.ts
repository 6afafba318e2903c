/**
 * ALK / ROS1 status from the results on file.
 *
 * The rules, with their sources:
 * - entered-in-error / cancelled results are ignored; ordered-but-unresulted ones are pending.
 * - [aslan-ch11-2] strong ALK IHC (D5F3) suffices; equivocal ALK IHC needs FISH or NGS.
 * - [aslan-ch11-2, ros1-first-line-qa-2025] ROS1 IHC is a screen: positive IHC alone is "unconfirmed"; confirm by FISH or RNA NGS.
 * - [aslan-ch11-2] FISH and DNA NGS can miss fusions, and plasma can miss them (low shedding), so a negative
 *   from those never overrides a tissue positive; a tissue negative that contradicts a positive
 *   makes the status "discordant" and asks for review.
 * - [aslan-ch11-1] ALK and ROS1 are mutually exclusive: both positive is "discordant" for both.
 */
import type { Knowledge } from '../../knowledge/index.ts';
import { byDateDesc, dayOf } from '../dates.ts';
import type { BiomarkerResult, DataGap, Gene, GeneStatus } from '../model.ts';

const METHOD_NAMES: Record<BiomarkerResult['method'], string> = {
  IHC: 'IHC',
  FISH: 'FISH',
  'NGS-DNA': 'NGS (DNA)',
  'NGS-RNA': 'NGS (RNA)',
  NGS: 'NGS',
  PCR: 'RT-PCR',
  unknown: 'an unspecified method',
};

export function describeResult(r: BiomarkerResult): string {
  const method = r.specimen === 'plasma' ? `plasma ${METHOD_NAMES[r.method]}` : METHOD_NAMES[r.method];
  const call = r.call === 'no-call' ? 'no call (failed or inconclusive)' : r.call;
  return `${r.gene} ${call} by ${method} (${dayOf(r.date)}${r.sources.length ? `, ${r.sources.join(', ')}` : ''})`;
}

/** Results no clinician would act on, with why. */
function whyIgnored(r: BiomarkerResult): string | undefined {
  switch (r.status) {
    case 'entered-in-error':
      return 'entered in error';
    case 'cancelled':
      return 'cancelled';
    case 'registered':
      return 'ordered, no result yet';
    default:
      return undefined;
  }
}

const isPlasmaOrDna = (r: BiomarkerResult) => r.specimen === 'plasma' || r.method === 'NGS-DNA';
const isFinal = (r: BiomarkerResult) => r.status !== 'preliminary' && r.status !== 'partial';

interface Buckets {
  definitivePositive: BiomarkerResult[];
  screenPositive: BiomarkerResult[];
  preliminaryPositive: BiomarkerResult[];
  equivocal: BiomarkerResult[];
  tissueNegative: BiomarkerResult[];
  weakNegative: BiomarkerResult[];
  failed: BiomarkerResult[];
}

function sortIntoBuckets(gene: Gene, results: BiomarkerResult[], ignored: GeneStatus['ignored']): Buckets {
  const b: Buckets = {
    definitivePositive: [],
    screenPositive: [],
    preliminaryPositive: [],
    equivocal: [],
    tissueNegative: [],
    weakNegative: [],
    failed: [],
  };
  for (const r of results) {
    if (r.call === 'no-call') {
      b.failed.push(r);
    } else if (!isFinal(r)) {
      if (r.call === 'positive') b.preliminaryPositive.push(r);
      // A preliminary negative is not reassuring: wait for the final report.
      else ignored.push({ result: r, why: 'preliminary result, not final' });
    } else if (r.call === 'positive') {
      if (gene === 'ROS1' && r.method === 'IHC') b.screenPositive.push(r);
      else b.definitivePositive.push(r);
    } else if (r.call === 'equivocal') {
      b.equivocal.push(r);
    } else if (isPlasmaOrDna(r)) {
      b.weakNegative.push(r);
    } else {
      b.tissueNegative.push(r);
    }
  }
  for (const list of Object.values(b)) list.sort(byDateDesc);
  return b;
}

export function evaluateGeneStatus(
  gene: Gene,
  allResults: readonly BiomarkerResult[],
  dataGaps: readonly DataGap[],
  kb: Knowledge,
): GeneStatus {
  const rules = kb.guidance.biomarkerRules;
  const evidence = new Set<string>();
  const cite = (ruleKey: string) => {
    for (const e of rules[ruleKey]?.evidence ?? []) evidence.add(e);
    return rules[ruleKey]?.text ?? '';
  };

  const ignored: GeneStatus['ignored'] = [];
  const usable: BiomarkerResult[] = [];
  for (const r of allResults) {
    if (r.gene !== gene) continue;
    const why = whyIgnored(r);
    if (why) {
      ignored.push({ result: r, why });
      if (r.status === 'entered-in-error' || r.status === 'cancelled') cite('ignored-status');
    } else {
      usable.push(r);
    }
  }

  const rearrangements = usable.filter((r) => r.kind === 'rearrangement');
  const b = sortIntoBuckets(gene, rearrangements, ignored);
  const reasons: string[] = [];
  let status: GeneStatus['status'];
  let basis: BiomarkerResult[];

  if (b.definitivePositive.length > 0) {
    const contradicting = b.tissueNegative;
    if (contradicting.length > 0) {
      status = 'discordant';
      basis = [...b.definitivePositive, ...contradicting];
      reasons.push(
        `Results disagree: ${b.definitivePositive.map(describeResult).join('; ')} versus ${contradicting.map(describeResult).join('; ')}.`,
      );
      if (gene === 'ROS1' || contradicting.some((r) => r.method === 'FISH'))
        reasons.push(cite('fish-may-miss'));
    } else {
      status = 'positive';
      basis = b.definitivePositive;
      reasons.push(`${describeResult(b.definitivePositive[0] as BiomarkerResult)}.`);
      if (gene === 'ALK' && basis.every((r) => r.method === 'IHC')) reasons.push(cite('alk-ihc-sufficient'));
      if (b.weakNegative.length > 0) {
        reasons.push(
          `Not contradicted by ${b.weakNegative.map(describeResult).join('; ')}: ${cite('plasma-negative')} ${cite('fish-may-miss')}`,
        );
      }
    }
  } else if (b.screenPositive.length > 0) {
    const rnaNegative = b.tissueNegative.filter((r) => r.method === 'NGS-RNA');
    const otherNegative = b.tissueNegative.filter((r) => r.method !== 'NGS-RNA' && r.method !== 'IHC');
    if (rnaNegative.length > 0) {
      status = 'negative';
      basis = [...rnaNegative, ...b.screenPositive];
      reasons.push(
        `The ROS1 IHC screen (${b.screenPositive.map(describeResult).join('; ')}) was not confirmed by RNA-based NGS (${rnaNegative.map(describeResult).join('; ')}).`,
        cite('ros1-ihc-screen'),
      );
    } else if (otherNegative.length > 0) {
      status = 'discordant';
      basis = [...b.screenPositive, ...otherNegative];
      reasons.push(
        `ROS1 IHC screen positive (${b.screenPositive.map(describeResult).join('; ')}) but ${otherNegative.map(describeResult).join('; ')}.`,
        cite('fish-may-miss'),
      );
    } else {
      status = 'unconfirmed';
      basis = b.screenPositive;
      reasons.push(
        `Only a ROS1 IHC screen is positive (${b.screenPositive.map(describeResult).join('; ')}).`,
        cite('ros1-ihc-screen'),
      );
      if (b.weakNegative.length > 0)
        reasons.push(
          `Also on file: ${b.weakNegative.map(describeResult).join('; ')}. ${cite('fish-may-miss')}`,
        );
    }
  } else if (b.preliminaryPositive.length > 0) {
    status = 'unconfirmed';
    basis = b.preliminaryPositive;
    reasons.push(
      `Preliminary result only, awaiting the final report: ${b.preliminaryPositive.map(describeResult).join('; ')}.`,
    );
  } else if (b.equivocal.length > 0) {
    const confirmingNegative = [...b.tissueNegative, ...b.weakNegative].filter((r) => r.method !== 'IHC');
    if (confirmingNegative.some((r) => !isPlasmaOrDna(r))) {
      status = 'negative';
      basis = confirmingNegative;
      reasons.push(
        `Equivocal ${b.equivocal.map(describeResult).join('; ')}, not confirmed by ${confirmingNegative.map(describeResult).join('; ')}.`,
      );
    } else {
      status = 'equivocal';
      basis = b.equivocal;
      reasons.push(`Equivocal: ${b.equivocal.map(describeResult).join('; ')}.`);
      if (gene === 'ALK') reasons.push(cite('alk-ihc-equivocal'));
    }
  } else if (b.tissueNegative.length > 0 || b.weakNegative.length > 0) {
    status = 'negative';
    basis = [...b.tissueNegative, ...b.weakNegative];
    reasons.push(`Negative: ${basis.map(describeResult).join('; ')}.`);
    if (b.tissueNegative.length === 0) {
      if (b.weakNegative.some((r) => r.specimen === 'plasma')) reasons.push(cite('plasma-negative'));
      if (b.weakNegative.some((r) => r.method === 'NGS-DNA')) reasons.push(cite('fish-may-miss'));
    }
  } else {
    status = 'unknown';
    basis = [];
    if (b.failed.length > 0) reasons.push(`No usable result: ${b.failed.map(describeResult).join('; ')}.`);
    else reasons.push(`No ${gene} result on file.`);
  }

  for (const r of b.failed)
    if (!basis.includes(r)) ignored.push({ result: r, why: 'no call (failed or inconclusive)' });

  const mutationResults = usable.filter((r) => r.kind === 'mutation' || r.resistanceMutations.length > 0);
  const mutations = new Map<string, GeneStatus['resistanceMutations'][number]>();
  for (const r of [...mutationResults].sort(byDateDesc)) {
    if (!isFinal(r)) continue;
    for (const m of r.resistanceMutations) {
      const seen = mutations.get(m);
      if (seen) seen.sources.push(...r.sources.filter((s) => !seen.sources.includes(s)));
      else mutations.set(m, { mutation: m, ...(r.date ? { date: r.date } : {}), sources: [...r.sources] });
    }
  }
  if (mutations.size > 0 && status === 'unknown') {
    reasons.push(
      `${gene} kinase-domain mutation(s) ${[...mutations.keys()].join(', ')} reported, but no ${gene} rearrangement result is on file.`,
    );
  }

  const couldNotCheck = dataGaps.some((g) => g.domains.includes('biomarkers'));
  if (couldNotCheck)
    reasons.push('Some biomarker results could not be read from the EHR: this status may be incomplete.');

  return {
    gene,
    status,
    reasons: reasons.filter((r) => r.length > 0),
    basis,
    ignored,
    resistanceMutations: [...mutations.values()],
    couldNotCheck,
    evidence: [...evidence],
  };
}

/** [aslan-ch11-1] Both genes positive is implausible: mark both discordant and say why. */
export function reconcileGenes(statuses: Record<Gene, GeneStatus>, kb: Knowledge): Record<Gene, GeneStatus> {
  if (statuses.ALK.status !== 'positive' || statuses.ROS1.status !== 'positive') return statuses;
  const rule = kb.guidance.biomarkerRules['mutually-exclusive'];
  const mark = (s: GeneStatus): GeneStatus => ({
    ...s,
    status: 'discordant',
    reasons: [
      ...s.reasons,
      `Both ALK and ROS1 are reported positive. ${rule?.text ?? ''} Review both results.`,
    ],
    evidence: [...new Set([...s.evidence, ...(rule?.evidence ?? [])])],
  });
  return { ALK: mark(statuses.ALK), ROS1: mark(statuses.ROS1) };
}
