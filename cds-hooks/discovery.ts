/** `GET /cds-services`: one entry per service, prefetch templates from the data requirements. */
import { dataRequirements, type PrefetchOptions, prefetchTemplates } from '../src/fhir/queries.ts';
import type { Knowledge } from '../src/knowledge/index.ts';
import { SERVICES } from './services/definitions.ts';

export function discoveryDocument(kb: Knowledge, options: PrefetchOptions = {}) {
  const prefetch = prefetchTemplates(dataRequirements(kb), options);
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
