/** Local-therapy information (patient-view): never an order, so no suggestions. */
import type { Assessment } from '../../src/core/model.ts';
import {
  type CardContext,
  type CitedCard,
  citations,
  evidenceExtension,
  kbText,
  links,
  source,
  stableUuid,
  summary,
} from './card-kit.ts';

const HEADLINES = {
  oligometastatic: 'Oligometastatic disease: consider local ablative therapy with systemic therapy',
  'cns-lesions':
    'Brain metastases: SRS, WBRT or surgery may be considered; radiation may be deferred on a CNS-active TKI',
  oligoprogression: 'Oligoprogression on a TKI: consider local therapy and continue the TKI',
} as const;

export function localTherapyCards(a: Assessment, ctx: CardContext): CitedCard[] {
  return a.localTherapy.map((l) => ({
    uuid: stableUuid(ctx.hookInstance, ctx.serviceId, 'local-therapy', l.kind),
    summary: summary(HEADLINES[l.kind]),
    detail: [kbText(l.message), citations(ctx.kb, l.evidence)].join('\n\n'),
    indicator: 'info' as const,
    source: source(ctx, 'local-therapy', l.evidence),
    links: links(ctx, l.evidence),
    extension: evidenceExtension(ctx.kb, l.evidence),
  }));
}
