/**
 * The therapy-selection card (patient-view): the options for the current line, one suggestion per
 * agent. `at-most-one` because one TKI is prescribed; `isRecommended` only when exactly one agent is
 * preferred (CDS Hooks allows at most one on such a card) [contract: card topics].
 */
import type { Assessment, TherapyOption } from '../../src/core/model.ts';
import type { Card } from '../schemas.ts';
import {
  type CardContext,
  citations,
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

function optionLine(o: TherapyOption, a: Assessment, ctx: CardContext): string {
  const agent = ctx.kb.agents.get(o.id);
  const dosing = agent?.kind === 'tki' ? agent.dosingNotes.map((n) => kbText(n.text)).join(' ') : '';
  const checks = a.checks.find((c) => c.agent === o.id)?.checks.filter((c) => c.state !== 'current') ?? [];
  const checkText = checks.length
    ? ` Before the first dose: ${checks.map((c) => `${c.name} ${c.state.replace(/-/g, ' ')}`).join('; ')}.`
    : '';
  const notes = o.notes.length ? ` ${o.notes.map(kbText).join(' ')}` : '';
  return `- **${kbText(o.name)}**${notes}${dosing ? ` ${dosing}` : ''}${checkText} _[${o.evidence.join(', ')}]_`;
}

export function therapySelectionCard(a: Assessment, ctx: CardContext): Card | undefined {
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
    `**${kbText(rec.situation.label)}**. Biomarker: ${a.biomarkers[a.driver].reasons.map(md).join(' ')}`,
    rec.notes.length ? `**Notes**: ${rec.notes.map(kbText).join(' ')}` : '',
    rec.preferred.length
      ? `**Preferred**\n\n${rec.preferred.map((o) => optionLine(o, a, ctx)).join('\n')}`
      : '',
    rec.other.length ? `**Other options**\n\n${rec.other.map((o) => optionLine(o, a, ctx)).join('\n')}` : '',
    rec.avoid.length
      ? `**Avoid**\n\n${rec.avoid.map((x) => `- **${kbText(x.name)}**: ${kbText(x.why)} _[${x.evidence.join(', ')}]_`).join('\n')}`
      : '',
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
  };
}

function dosingNote(ctx: CardContext, agentId: string): string | undefined {
  const agent = ctx.kb.agents.get(agentId);
  if (agent?.kind !== 'tki') return undefined;
  return agent.dosingNotes[0]?.text;
}
