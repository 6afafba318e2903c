/**
 * ALK / ROS1 testing recommendations: initial testing, confirmation of
 * equivocal or screen results, review of discordant results, and testing at progression.
 */
import type { Knowledge } from '../../knowledge/index.ts';
import { addDays, toTime } from '../dates.ts';
import type {
  BiomarkerResult,
  DiseaseSummary,
  EvaluateConfig,
  Gene,
  GeneStatus,
  PatientSnapshot,
  TestingKind,
  TestingRecommendation,
} from '../model.ts';
import { GENES } from '../model.ts';
import type { ProgressionEvent } from './therapy-history.ts';

function recommend(
  kb: Knowledge,
  kind: TestingKind,
  genes: Gene[],
  extraWhy?: string,
): TestingRecommendation {
  const g = kb.guidance.testing[kind];
  return {
    kind,
    genes,
    severity: g.severity,
    test: g.test,
    why: extraWhy ? `${g.why} ${extraWhy}` : g.why,
    evidence: g.evidence,
  };
}

/** A molecular ALK/ROS1 test (any specimen) counts as testing for resistance. */
const isMolecular = (r: BiomarkerResult) => r.method !== 'IHC' && r.method !== 'FISH';

export function recommendTesting(
  kb: Knowledge,
  snapshot: PatientSnapshot,
  statuses: Record<Gene, GeneStatus>,
  disease: DiseaseSummary,
  driver: Gene | null,
  progression: readonly ProgressionEvent[],
  config: EvaluateConfig,
): TestingRecommendation[] {
  const out: TestingRecommendation[] = [];
  const couldNotCheck = GENES.filter((g) => statuses[g].couldNotCheck);
  if (couldNotCheck.length > 0) out.push(recommend(kb, 'could-not-check', couldNotCheck));

  const discordant = GENES.filter((g) => statuses[g].status === 'discordant');
  if (discordant.length > 0) out.push(recommend(kb, 'review-discordant', discordant));
  for (const g of GENES.filter((x) => statuses[x].status === 'equivocal'))
    out.push(recommend(kb, 'confirm-equivocal', [g]));
  for (const g of GENES.filter((x) => statuses[x].status === 'unconfirmed')) {
    // A preliminary report only needs its final version; a ROS1 IHC screen needs confirmation.
    if (statuses[g].basis.some((r) => r.method === 'IHC' && r.status !== 'preliminary'))
      out.push(recommend(kb, 'confirm-screen', [g]));
  }

  // While one gene awaits confirmation, the confirmatory RNA panel covers the other (they are mutually
  // exclusive [aslan-ch11-1]): no separate initial-testing card.
  const pending = GENES.some((g) => ['discordant', 'equivocal', 'unconfirmed'].includes(statuses[g].status));
  if (!driver && !pending && snapshot.nsclc && disease.advanced !== 'no') {
    const unknown = GENES.filter((g) => statuses[g].status === 'unknown' && !statuses[g].couldNotCheck);
    const failed = unknown.filter((g) => statuses[g].ignored.some((i) => i.result.call === 'no-call'));
    if (failed.length > 0) out.push(recommend(kb, 'repeat-failed', failed));
    const untested = unknown.filter((g) => !failed.includes(g));
    if (untested.length > 0) out.push(recommend(kb, 'initial-testing', untested));
    const plasmaOnly = GENES.filter(
      (g) => statuses[g].status === 'negative' && statuses[g].basis.every((r) => r.specimen === 'plasma'),
    );
    if (plasmaOnly.length > 0) out.push(recommend(kb, 'confirm-in-tissue', plasmaOnly));
  }

  // Progression on a TKI with no molecular ALK/ROS1 test since [ros1-first-line-qa-2025, rotow-miami-2023, ros1ders-2022].
  if (driver) {
    const latestTki = progression.find((e) => e.kind === 'tki');
    const since = latestTki?.date ? addDays(latestTki.date, -config.resistanceTestSlackDays) : undefined;
    if (latestTki && since !== undefined) {
      const tested = snapshot.biomarkers.some(
        (r) => r.gene === driver && isMolecular(r) && (toTime(r.date) ?? Number.NEGATIVE_INFINITY) >= since,
      );
      if (!tested) {
        out.push(
          recommend(
            kb,
            'resistance-testing',
            [driver],
            `Last progression: ${latestTki.line.display} (${latestTki.date?.slice(0, 10)}).`,
          ),
        );
      }
    } else if (latestTki) {
      out.push(
        recommend(
          kb,
          'resistance-testing',
          [driver],
          `Progression on ${latestTki.line.display} (date not recorded).`,
        ),
      );
    }
  }
  return out;
}
