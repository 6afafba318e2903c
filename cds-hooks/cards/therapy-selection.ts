/**
 * The therapy-selection card (patient-view): the options for the current line, one suggestion per
 * agent. `at-most-one` because one TKI is prescribed; `isRecommended` only when exactly one agent is
 * preferred (CDS Hooks allows at most one on such a card) [contract: card topics].
 */
import { groupAvoided } from '../../src/core/index.ts';
import {
  type Assessment,
  type AvoidedOption,
  CHECK_STATE_RANK,
  type CheckState,
  type TherapyOption,
} from '../../src/core/model.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  generic,
  kbText,
  links,
  md,
  medicationRequest,
  OVERRIDE_REASONS,
  PREFERENCE_EXTENSION,
  source,
  stableUuid,
  suggestion,
  summary,
} from './card-kit.ts';

/**
 * One option: its name and the knowledge base's notes for this patient. Dosing stays on the
 * drafted order (its note) and in the SMART app: the card is for choosing.
 */
function optionLine(o: TherapyOption): string {
  return `- **${kbText(o.name)}**${o.notes.length ? `: ${o.notes.map(kbText).join(' ')}` : ''}`;
}

/** A tier in one line when no option has a note, else one line per option. */
function tierText(title: string, options: readonly TherapyOption[]): string {
  if (options.length === 0) return '';
  return options.some((o) => o.notes.length > 0)
    ? `**${title}**\n\n${options.map(optionLine).join('\n')}`
    : `**${title}**: ${options.map((o) => kbText(o.name)).join(', ')}`;
}

/**
 * The checks still open before any offered agent, once each (not once per agent): the agents are
 * named only when a check concerns some of them.
 */
function openChecksText(a: Assessment, offered: readonly TherapyOption[]): string {
  const ids = offered.map((o) => o.id);
  // By check id, as the pre-therapy card (mergeChecks) and the app group them.
  const open = new Map<string, { name: string; state: CheckState; agents: string[] }>();
  for (const list of a.checks.filter((c) => ids.includes(c.agent))) {
    for (const c of list.checks.filter((x) => x.state !== 'current')) {
      const seen = open.get(c.check) ?? { name: c.name, state: c.state, agents: [] };
      // Thresholds differ by agent: the worst state is the one said.
      if (CHECK_STATE_RANK[c.state] > CHECK_STATE_RANK[seen.state]) seen.state = c.state;
      seen.agents.push(list.agent);
      open.set(c.check, seen);
    }
  }
  if (open.size === 0) return '';
  const withAgents = a.checks.filter((c) => ids.includes(c.agent)).length;
  const parts = [...open.values()].map(
    ({ name, state, agents }) =>
      `${kbText(name)} ${state.replace(/-/g, ' ')}${agents.length < withAgents ? ` (${agents.join(', ')})` : ''}`,
  );
  return `**Before the first dose**: ${parts.join('; ')}.`;
}

/**
 * The avoid list, short: immune checkpoint inhibitors named once as a class, and agents avoided
 * for the same reason in one line ("Entrectinib, Repotrectinib, Taletrectinib: not ALK inhibitors").
 */
function avoidLines(avoid: readonly AvoidedOption[], ctx: CardContext): string[] {
  return groupAvoided(ctx.kb, avoid).map((g) => {
    if (!g.checkpointInhibitors)
      return `- ${g.options.map((x) => `**${kbText(x.name)}**`).join(', ')}: ${kbText(g.why)}`;
    const names = g.options.map((x) => x.id);
    const listed = names.length > 2 ? `${names.slice(0, 2).join(', ')}, …` : names.join(', ');
    return `- **Immune checkpoint inhibitors** (${listed}): ${kbText(g.why)}`;
  });
}

export function therapySelectionCard(a: Assessment, ctx: CardContext): CitedCard | undefined {
  const rec = a.recommendation;
  if (!rec || !a.driver) return undefined;
  const drugs = [...rec.preferred, ...rec.other].filter((o) => o.kind === 'drug');
  const preferredDrugs = rec.preferred.filter((o) => o.kind === 'drug');
  const uuid = stableUuid(ctx.hookInstance, ctx.serviceId, 'therapy-selection');
  const names = (rec.preferred.length ? rec.preferred : rec.other).map((o) =>
    o.kind === 'drug' ? o.id : o.name.toLowerCase(),
  );
  const verb = rec.preferred.length ? 'preferred' : 'options';
  const headline = summary(
    a.therapy.couldNotCheck
      ? `${a.driver}+ NSCLC: ${names.join(', ')} ${verb}; treatment history and interactions not fully checked`
      : `${a.driver}+ NSCLC, ${rec.situation.label.replace(/^(ALK|ROS1)-positive, /, '')}: ${names.join(', ')} ${verb}`,
  );

  const infoInteractions = a.interactions.filter((i) => i.severity === 'info');
  const evidence = [
    ...new Set([
      ...rec.situation.evidence,
      ...drugs.flatMap((o) => o.evidence),
      ...rec.avoid.flatMap((x) => x.evidence),
    ]),
  ];
  const detail = [
    `**${kbText(rec.situation.label)}.** Biomarker: ${a.biomarkers[a.driver].reasons.map(md).join(' ')}`,
    rec.notes.length ? `**Notes**: ${rec.notes.map(kbText).join(' ')}` : '',
    tierText('Preferred', rec.preferred),
    tierText('Other options', rec.other),
    openChecksText(a, drugs),
    rec.avoid.length ? `**Avoid**\n\n${avoidLines(rec.avoid, ctx).join('\n')}` : '',
    a.therapy.couldNotCheck ? `**Could not check**: ${md(a.therapy.couldNotCheck)}` : '',
    // Warnings and critical interactions have their own cards (interactions.ts); notes stay here.
    infoInteractions.length
      ? `**Notes on current medications**\n\n${infoInteractions.map((i) => `- ${generic(i.agent)}: ${md(i.message)}`).join('\n')}`
      : '',
    citations(ctx.kb, evidence),
  ].filter(Boolean);

  const onlyOnePreferred = preferredDrugs.length === 1;
  const suggestions = drugs.map((o) =>
    suggestion(uuid, o.id, {
      label: summary(`Order ${o.name}${o.tier === 'preferred' ? ' (preferred)' : ''}`),
      ...(onlyOnePreferred && o.tier === 'preferred' ? { isRecommended: true } : {}),
      actions: [
        {
          type: 'create',
          description: `Draft a MedicationRequest for ${o.id}`,
          resource: medicationRequest(
            ctx,
            o.id,
            ctx.kb.agents.get(o.id)?.kind === 'tki' ? dosingNote(ctx, o.id) : undefined,
          ),
        },
      ],
      extension: { [PREFERENCE_EXTENSION]: o.tier },
    }),
  );

  return {
    uuid,
    summary: headline,
    detail: detail.join('\n\n'),
    // An unreadable medication record may hide a drug already failed or an interaction.
    indicator: a.therapy.couldNotCheck ? 'warning' : 'info',
    source: source(ctx, 'therapy-selection', evidence),
    ...(suggestions.length
      ? { suggestions, selectionBehavior: 'at-most-one' as const, overrideReasons: OVERRIDE_REASONS }
      : {}),
    links: links(ctx, evidence),
    extension: evidenceExtension(ctx.kb, evidence),
  };
}

function dosingNote(ctx: CardContext, agentId: string): string | undefined {
  const agent = ctx.kb.agents.get(agentId);
  if (agent?.kind !== 'tki') return undefined;
  return agent.dosingNotes[0]?.text;
}
