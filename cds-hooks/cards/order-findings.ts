/**
 * Cards for draft orders (order-select / order-sign): concordance, interactions, pre-therapy checks
 * and biomarker testing. Findings are grouped per draft and topic, so one draft gets one card per
 * concern. Concordance cards offer to replace the draft: create the alternative, delete the draft.
 */
import { type DraftOrder, type OrderFinding, SEVERITY_RANK } from '../../src/core/model.ts';
import type { Suggestion } from '../schemas.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  generic,
  links,
  md,
  medicationRequest,
  OVERRIDE_REASONS,
  plain,
  serviceRequest,
  source,
  stableUuid,
  suggestion,
  summary,
} from './card-kit.ts';
import { pretherapyCard } from './pretherapy-checks.ts';

function headline(f: OrderFinding, draft: DraftOrder, gene: string): string {
  const drug = f.drug ? generic(f.drug) : plain(draft.display);
  const alts = f.alternatives.slice(0, 3).join(', ');
  const consider = alts ? `; consider ${alts}` : '';
  switch (f.code) {
    case 'wrong-gene':
      return f.severity === 'critical'
        ? `${drug} does not work in ${gene}+ NSCLC: do not give${consider}`
        : `${drug} is not a ${gene} inhibitor${consider}`;
    case 'less-effective':
      return `${drug} is much less effective in ${gene}+ NSCLC${consider}`;
    case 'not-preferred':
      return `${drug} is not preferred for this ${gene}+ patient${consider}`;
    case 'not-listed':
      return `${drug} is not a listed option for this ${gene}+ situation${consider}`;
    case 'poor-cns':
      return `${drug} has poor CNS penetration and the patient has brain metastases${consider}`;
    case 'prior-progression':
      return `The disease already progressed on ${drug}${consider}`;
    case 'resistance':
      return `Resistance mutation on file: ${drug} unlikely to work${consider}`;
    case 'no-standard-tki':
      return `No standard TKI remains for this ${gene}+ patient`;
    case 'immunotherapy':
      return `Immunotherapy is not recommended in ${gene}+ NSCLC${consider}`;
    case 'no-confirmed-biomarker':
      return `${drug} ordered without a confirmed ALK/ROS1-positive result`;
    case 'interaction':
      return `${drug}: interaction with ${plain(f.interaction?.with.display ?? 'another drug')}`;
    case 'not-indicated':
      return `${drug} is indicated only without a prior ${gene} inhibitor${consider}`;
    case 'after-immunotherapy':
      return `${drug} soon after immunotherapy: higher risk of liver injury and pneumonitis`;
    case 'could-not-check':
      return `${drug}: interactions and treatment history could not be checked`;
    default:
      return `${drug}: review this order`;
  }
}

function replaceSuggestions(
  uuid: string,
  draft: DraftOrder,
  alternatives: string[],
  ctx: CardContext,
): Suggestion[] {
  return alternatives.map((alt) =>
    suggestion(uuid, `replace-${alt}`, {
      label: summary(`Replace with ${alt}`),
      ...(alternatives.length === 1 ? { isRecommended: true } : {}),
      // create before delete (contract): some clients apply actions in order and stop at the first
      // they can apply (the CDS Hooks sandbox), so delete first would only remove the draft.
      actions: [
        {
          type: 'create',
          description: `Draft a MedicationRequest for ${alt}`,
          resource: medicationRequest(ctx, alt),
        },
        {
          type: 'delete',
          description: `Remove the draft order for ${draft.display.slice(0, 60)}`,
          resourceId: draft.ref,
        },
      ],
    }),
  );
}

const GENERIC_CODES: ReadonlySet<OrderFinding['code']> = new Set(['not-listed', 'not-preferred']);

export function orderCards(
  findings: readonly OrderFinding[],
  drafts: readonly DraftOrder[],
  gene: string | null,
  ctx: CardContext,
): CitedCard[] {
  const cards: CitedCard[] = [];
  const groups = new Map<string, OrderFinding[]>();
  for (const f of findings) {
    const key = `${f.draft}|${f.topic}|${f.topic === 'drug-interaction' ? (f.interaction?.with.drug ?? '') : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  for (const [key, group] of groups) {
    const first = group[0] as OrderFinding;
    const draft = drafts.find((d) => d.ref === first.draft) ?? {
      ref: first.draft,
      drug: first.drug,
      display: first.drug ?? 'order',
    };
    if (first.topic === 'pretherapy-checks') {
      const card = pretherapyCard(
        [first.drug ?? draft.display],
        group.flatMap((f) => f.checks ?? []),
        ctx,
        key,
      );
      if (card) cards.push(card);
      continue;
    }
    // Worst first; at equal severity the specific reason (a label restriction, a resistance
    // mutation) heads the card before "not among the options", which only says where it is not listed.
    const ranked = [...group].sort(
      (a, b) =>
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        Number(GENERIC_CODES.has(a.code)) - Number(GENERIC_CODES.has(b.code)),
    );
    const worst = ranked[0] as OrderFinding;
    const uuid = stableUuid(ctx.hookInstance, ctx.serviceId, key);
    const evidence = [...new Set(group.flatMap((f) => f.evidence))];
    const alternatives = [...new Set(group.flatMap((f) => f.alternatives))].filter((a) => a !== first.drug);
    const topic = first.topic === 'biomarker-testing' ? 'biomarker-testing' : first.topic;
    let suggestions: Suggestion[] = [];
    if (topic === 'order-concordance' && alternatives.length > 0)
      suggestions = replaceSuggestions(uuid, draft, alternatives, ctx);
    if (first.code === 'no-confirmed-biomarker') {
      const test = ctx.kb.guidance.testing['initial-testing'];
      if (test) {
        suggestions = [
          suggestion(uuid, 'test', {
            label: summary(`Order: ${test.test}`),
            actions: [
              {
                type: 'create',
                description: `Draft a ServiceRequest: ${test.test}`,
                resource: serviceRequest(ctx, { text: test.test }, 'laboratory', test.why),
              },
            ],
          }),
        ];
      }
    }
    cards.push({
      uuid,
      summary: summary(headline(worst, draft, gene ?? 'ALK/ROS1')),
      detail: [
        `Draft order: **${md(draft.display)}**.`,
        ranked
          .map(
            (f) =>
              `- ${md(f.message)}${f.interaction && !f.interaction.verified ? ' *(label wording not verified)*' : ''}`,
          )
          .join('\n'),
        citations(ctx.kb, evidence),
      ].join('\n\n'),
      indicator: worst.severity,
      source: source(ctx, topic, evidence),
      ...(suggestions.length ? { suggestions, selectionBehavior: 'at-most-one' as const } : {}),
      overrideReasons: OVERRIDE_REASONS,
      links: links(ctx, evidence),
      extension: evidenceExtension(ctx.kb, evidence),
    });
  }
  return cards;
}
