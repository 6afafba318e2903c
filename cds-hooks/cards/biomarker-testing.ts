/**
 * Biomarker-testing cards: unknown, unconfirmed, equivocal or discordant ALK/ROS1 status, or
 * progression without resistance testing. Each offers one ServiceRequest named by its test
 * (contract: `code.text` names the test). "Could not check" offers no order: the data exists in the
 * EHR but could not be read.
 */
import type { Assessment, TestingRecommendation } from '../../src/core/model.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  links,
  md,
  OVERRIDE_REASONS,
  serviceRequest,
  source,
  stableUuid,
  suggestion,
  summary,
} from './card-kit.ts';

const HEADLINES: Record<TestingRecommendation['kind'], (genes: string) => string> = {
  'initial-testing': (g) => `No ${g} result on file: order broad NGS (DNA + RNA) on tissue`,
  'confirm-equivocal': (g) => `${g} result is equivocal: confirm by FISH or RNA NGS before a TKI`,
  'confirm-screen': (g) => `${g} positive by IHC screen only: confirm by FISH or RNA NGS before a TKI`,
  'review-discordant': (g) => `${g} results disagree: review before choosing therapy`,
  'confirm-in-tissue': (g) => `${g} negative on plasma only: consider tissue NGS`,
  'repeat-failed': (g) => `${g} test failed or was inconclusive: repeat testing`,
  'resistance-testing': (g) => `Progression on a TKI without resistance testing: order NGS (${g})`,
  'could-not-check': (g) => `${g} results could not be read from the EHR: status may be incomplete`,
};

export function biomarkerTestingCards(a: Assessment, ctx: CardContext): CitedCard[] {
  return a.testing.map((t) => {
    const genes = t.genes.join('/');
    const uuid = stableUuid(ctx.hookInstance, ctx.serviceId, 'biomarker-testing', t.kind, genes);
    const statusLines = t.genes.map(
      (g) => `- **${g}: ${a.biomarkers[g].status}**. ${a.biomarkers[g].reasons.map(md).join(' ')}`,
    );
    const orderable = t.kind !== 'could-not-check';
    return {
      uuid,
      summary: summary(HEADLINES[t.kind](genes)),
      detail: [md(t.why), statusLines.join('\n'), citations(ctx.kb, t.evidence)].join('\n\n'),
      indicator: t.severity,
      source: source(ctx, 'biomarker-testing', t.evidence),
      ...(orderable
        ? {
            suggestions: [
              suggestion(uuid, 'order', {
                label: summary(`Order: ${t.test}`),
                actions: [
                  {
                    type: 'create',
                    description: `Draft a ServiceRequest: ${t.test}`,
                    resource: serviceRequest(ctx, { text: t.test }, 'laboratory', t.why),
                  },
                ],
              }),
            ],
            selectionBehavior: 'at-most-one' as const,
            overrideReasons: OVERRIDE_REASONS,
          }
        : {}),
      links: links(ctx, t.evidence),
      extension: evidenceExtension(ctx.kb, t.evidence),
    };
  });
}
