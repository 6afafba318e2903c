/**
 * Pre-therapy check cards: one suggestion per check that is missing, out of date or could not be
 * checked, each creating the ServiceRequest(s) the contract codes. Abnormal results are stated with
 * the threshold; "could not check" is never presented as done.
 */
import { CHECK_STATE_RANK, type CheckStatus } from '../../src/core/model.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  generic,
  kbText,
  links,
  md,
  OVERRIDE_REASONS,
  serviceRequest,
  source,
  stableUuid,
  suggestion,
  summary,
} from './card-kit.ts';

const STATE_WORDS: Record<CheckStatus['state'], string> = {
  current: 'done',
  stale: 'out of date',
  missing: 'missing',
  abnormal: 'abnormal',
  'could-not-check': 'could not be checked',
};

export function pretherapyCard(
  agents: string[],
  checks: CheckStatus[],
  ctx: CardContext,
  key: string,
): CitedCard | undefined {
  const open = checks.filter((c) => c.state !== 'current');
  if (open.length === 0) return undefined;
  const uuid = stableUuid(ctx.hookInstance, ctx.serviceId, 'pretherapy-checks', key);
  const severity = open.some((c) => c.state === 'abnormal' && c.severity === 'critical')
    ? 'critical'
    : open.some((c) => c.state === 'abnormal')
      ? 'warning'
      : 'info';
  const who = agents.map(generic).join(', ');
  const byState = (['abnormal', 'could-not-check', 'missing', 'stale'] as const)
    .map((s) => [s, open.filter((c) => c.state === s)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([s, list]) => `${STATE_WORDS[s]}: ${list.map((c) => c.name.replace(/ \(.*\)$/, '')).join(', ')}`);
  // Each dose rule's own label section is cited, whichever agent's status the card shows.
  const evidence = [
    ...new Set(open.flatMap((c) => [...c.evidence, ...(c.doseNotes ?? []).flatMap((n) => n.evidence)])),
  ];
  const suggestions = open
    .filter((c) => c.orders.length > 0 && c.state !== 'abnormal')
    .map((c) =>
      suggestion(uuid, c.check, {
        label: summary(`Order ${c.orders.map((o) => o.display).join(' + ')}`),
        actions: c.orders.map((o) => ({
          type: 'create' as const,
          description: `Draft a ServiceRequest: ${o.display}`,
          resource: serviceRequest(
            ctx,
            { coding: o, text: o.display },
            o.category,
            `${c.name} before ${who}`,
          ),
        })),
      }),
    );
  return {
    uuid,
    summary: summary(`Before ${who}: ${byState.join('; ')}`),
    detail: [
      open
        .map(
          (c) =>
            `- **${kbText(c.name)}: ${STATE_WORDS[c.state]}.** ${c.readings.map((r) => md(r.why)).join(' ')}${(
              c.doseNotes ?? []
            )
              .map(
                (n) =>
                  ` Dose per label (${generic(n.agent)}): ${kbText(n.text)}${n.verified ? '' : ' (label wording not yet verified)'}`,
              )
              .join('')}`,
        )
        .join('\n'),
      `Look-back windows: ${open.map((c) => `${kbText(c.name)} ${c.windowDays} days`).join('; ')}.`,
      citations(ctx.kb, evidence),
    ].join('\n\n'),
    indicator: severity,
    source: source(ctx, 'pretherapy-checks', evidence),
    ...(suggestions.length ? { suggestions, selectionBehavior: 'any' as const } : {}),
    overrideReasons: OVERRIDE_REASONS,
    links: links(ctx, evidence),
    extension: evidenceExtension(ctx.kb, evidence),
  };
}

/** Patient-view: the checks for the preferred agents, each check once (worst state first). */
export function mergeChecks(lists: CheckStatus[][]): CheckStatus[] {
  const rank = CHECK_STATE_RANK;
  const byId = new Map<string, CheckStatus>();
  for (const c of lists.flat()) {
    const seen = byId.get(c.check);
    const chosen =
      !seen || rank[c.state] > rank[seen.state] || (c.state === seen.state && c.severity === 'critical')
        ? c
        : seen;
    // Each agent's label dose rule is kept whichever agent's status is shown.
    const doseNotes = [...(seen?.doseNotes ?? []), ...(c.doseNotes ?? [])].filter(
      (n, i, all) => all.findIndex((x) => x.agent === n.agent && x.text === n.text) === i,
    );
    byId.set(c.check, doseNotes.length ? { ...chosen, doseNotes } : chosen);
  }
  return [...byId.values()];
}
