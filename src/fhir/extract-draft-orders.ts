/**
 * CDS Hooks `context.draftOrders` (a Bundle of draft orders, order-select / order-sign) to
 * DraftOrders, with the same medication reader as the history (`identifyMedication`): a draft that
 * names its drug by `medicationReference` is resolved against Medications contained in it, in the
 * draft Bundle, or in the patient's record (prefetch and what was fetched, through `readRecord`).
 */
import type { DraftOrder } from '../core/model.ts';
import type { FhirKnowledge } from './codings.ts';
import { identifyMedication } from './extract-medications.ts';
import { type AnyResource, asArray, isResource, isString, parseReference, refOf } from './read.ts';
import type { RecordResolver } from './to-snapshot.ts';

const MEDICATION_ORDERS = new Set(['MedicationRequest', 'MedicationStatement']);

/** The resources of a draftOrders Bundle (or an array of them), with their fullUrls. */
function entriesOf(x: unknown): { resource: AnyResource; fullUrl?: string }[] {
  if (isResource(x) && x.resourceType === 'Bundle')
    return asArray<AnyResource>(x.entry).flatMap((e) =>
      isResource(e?.resource)
        ? [{ resource: e.resource, ...(isString(e.fullUrl) ? { fullUrl: e.fullUrl } : {}) }]
        : [],
    );
  if (Array.isArray(x)) return x.flatMap(entriesOf);
  return isResource(x) ? [{ resource: x }] : [];
}

/**
 * @param inRecord the record's resolver (`readRecord`): a draft may name a Medication that the
 * record holds. Medications in the draft Bundle itself (by id or fullUrl) come first.
 */
export function extractDraftOrders(
  kb: FhirKnowledge,
  draftOrders: unknown,
  inRecord: RecordResolver = () => undefined,
): DraftOrder[] {
  const entries = entriesOf(draftOrders);
  const inBundle = new Map<string, AnyResource>();
  for (const { resource, fullUrl } of entries) {
    if (resource.resourceType !== 'Medication') continue;
    if (resource.id) inBundle.set(`Medication/${resource.id}`, resource);
    if (fullUrl) inBundle.set(fullUrl, resource);
  }
  const resolve: RecordResolver = (ref, from) => {
    if (ref.startsWith('#')) return asArray<AnyResource>(from?.contained).find((c) => `#${c?.id}` === ref);
    const parsed = parseReference(ref);
    const key = parsed?.type === 'Medication' ? `Medication/${parsed.id}` : ref;
    return inBundle.get(key) ?? inRecord(ref, from);
  };
  return entries
    .map((e) => e.resource)
    .filter((r) => MEDICATION_ORDERS.has(r.resourceType))
    .map((r) => {
      const med = identifyMedication(kb, r, resolve);
      return { ref: refOf(r), drug: med.drug?.id ?? null, display: med.display };
    });
}
