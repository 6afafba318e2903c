/** `GET /cds-services`: one entry per service, prefetch templates from the data requirements. */
import { dataRequirements, prefetchTemplates } from '../src/fhir/queries.ts';
import type { Knowledge } from '../src/knowledge/index.ts';
import { SERVICES } from './services/definitions.ts';

export function discoveryDocument(kb: Knowledge) {
  const prefetch = prefetchTemplates(dataRequirements(kb));
  return {
    services: SERVICES.map((s) => ({
      hook: s.hook,
      title: s.title,
      description: s.description,
      id: s.id,
      prefetch,
    })),
  };
}
