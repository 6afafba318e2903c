/**
 * CDS Hooks `context.draftOrders` (a Bundle of draft orders, order-select / order-sign) to
 * DraftOrders, with the same medication reader as the history (`identifyMedication`): a draft that
 * names its drug by `medicationReference` is resolved against Medications contained in it, in the
 * draft Bundle, or in the patient's record (`record`: prefetch and what was fetched).
 */
import type { DraftOrder } from '../core/model.ts';
import type { FhirKnowledge } from './codings.ts';
import { identifyMedication } from './extract-medications.ts';
import { type AnyResource, asArray, isResource, parseReference, refOf } from './read.ts';

const MEDICATION_ORDERS = new Set(['MedicationRequest', 'MedicationStatement']);

function resourcesOf(x: unknown): AnyResource[] {
  if (isResource(x) && x.resourceType === 'Bundle')
    return asArray<AnyResource>(x.entry).flatMap((e) => (isResource(e?.resource) ? [e.resource] : []));
  if (Array.isArray(x)) return x.flatMap(resourcesOf);
  return isResource(x) ? [x] : [];
}

export function extractDraftOrders(
  kb: FhirKnowledge,
  draftOrders: unknown,
  record: readonly unknown[] = [],
): DraftOrder[] {
  const drafts = resourcesOf(draftOrders);
  const medications = new Map<string, AnyResource>();
  for (const r of [...resourcesOf(record), ...drafts])
    if (r.resourceType === 'Medication' && r.id) medications.set(r.id, r);
  const resolve = (ref: string, from?: AnyResource) => {
    if (ref.startsWith('#')) return asArray<AnyResource>(from?.contained).find((c) => `#${c?.id}` === ref);
    const parsed = parseReference(ref);
    return parsed?.type === 'Medication' ? medications.get(parsed.id) : undefined;
  };
  return drafts
    .filter((r) => MEDICATION_ORDERS.has(r.resourceType))
    .map((r) => {
      const med = identifyMedication(kb, r, resolve);
      return { ref: refOf(r), drug: med.drug?.id ?? null, display: med.display };
    });
}
