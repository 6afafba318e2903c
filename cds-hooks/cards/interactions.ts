/**
 * Interaction cards at patient-view: one card per current medication that interacts with a TKI
 * the patient may be offered, so "lorlatinib + carbamazepine: contraindicated" stands on its own
 * card with its indicator instead of inside the therapy card's detail. Order-time interactions are
 * the order cards' (order-findings.ts).
 */
import {
  type Assessment,
  type InteractionFinding,
  SEVERITY_RANK,
  type Severity,
} from '../../src/core/model.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  generic,
  links,
  md,
  OVERRIDE_REASONS,
  plain,
  source,
  stableUuid,
  summary,
} from './card-kit.ts';

export function interactionCards(a: Assessment, ctx: CardContext): CitedCard[] {
  const byDrug = new Map<string, InteractionFinding[]>();
  for (const i of a.interactions) {
    if (i.severity === 'info') continue;
    byDrug.set(i.with.drug, [...(byDrug.get(i.with.drug) ?? []), i]);
  }
  return [...byDrug.entries()].map(([drug, group]) => {
    const sorted = [...group].sort((x, y) => SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity]);
    const worst = sorted[0] as InteractionFinding;
    // A drug in two classes (clarithromycin: CYP3A inhibitor and QT-prolonging) gives a TKI two
    // findings: name each TKI once, under its worst severity.
    const agents = (severity: Severity) => [
      ...new Set(sorted.filter((i) => i.severity === severity).map((i) => generic(i.agent))),
    ];
    const critical = agents('critical');
    const warning = agents('warning').filter((name) => !critical.includes(name));
    const parts = [
      critical.length ? `avoid ${critical.join(', ')}` : '',
      warning.length ? `caution with ${warning.join(', ')}` : '',
    ].filter(Boolean);
    const evidence = [...new Set(sorted.flatMap((i) => i.evidence))];
    return {
      uuid: stableUuid(ctx.hookInstance, ctx.serviceId, 'interaction', drug),
      summary: summary(`${plain(worst.with.display)}: ${parts.join('; ')}`),
      detail: [
        // The summary names the drug: each line starts at its class, not the drug again.
        sorted
          .map(
            (i) =>
              `- **${generic(i.agent)}** ${md(`(${i.className}): ${i.ruleMessage}`)}${i.verified ? '' : ' *(label wording not verified)*'}`,
          )
          .join('\n'),
        citations(ctx.kb, evidence),
      ].join('\n\n'),
      indicator: worst.severity,
      source: source(ctx, 'drug-interaction', evidence),
      overrideReasons: OVERRIDE_REASONS,
      links: links(ctx, evidence),
      extension: evidenceExtension(ctx.kb, evidence),
    };
  });
}
