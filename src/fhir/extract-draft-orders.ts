/**
 * CDS Hooks `context.draftOrders` (a Bundle of draft orders, order-select / order-sign) to
 * DraftOrders, recognising the drug with the same matching as the medication history.
 */
import type { DraftOrder } from '../core/model.ts';
import { type FhirKnowledge, matchAgent } from './codings.ts';
import { type AnyResource, asArray, conceptLabel, isResource, isString, refOf } from './read.ts';

const MEDICATION_ORDERS = new Set(['MedicationRequest', 'MedicationStatement', 'NutritionOrder']);

export function extractDraftOrders(kb: FhirKnowledge, draftOrders: unknown): DraftOrder[] {
  const resources: AnyResource[] = [];
  if (isResource(draftOrders) && draftOrders.resourceType === 'Bundle') {
    for (const e of asArray<AnyResource>(draftOrders.entry))
      if (isResource(e?.resource)) resources.push(e.resource);
  } else if (Array.isArray(draftOrders)) {
    for (const r of draftOrders) if (isResource(r)) resources.push(r);
  }
  const byUrl = new Map<string, AnyResource>();
  for (const r of resources) if (r.resourceType === 'Medication' && r.id) byUrl.set(`Medication/${r.id}`, r);

  const out: DraftOrder[] = [];
  for (const r of resources) {
    if (!MEDICATION_ORDERS.has(r.resourceType) || r.resourceType === 'NutritionOrder') continue;
    let concept: unknown = r.medicationCodeableConcept;
    let display = conceptLabel(concept);
    const ref = r.medicationReference;
    if (!concept && isString(ref?.reference)) {
      const target = ref.reference.startsWith('#')
        ? asArray<AnyResource>(r.contained).find((c) => `#${c?.id}` === ref.reference)
        : byUrl.get(ref.reference.replace(/^.*\/(Medication\/[^/]+)$/, '$1'));
      concept = target?.code;
      display = conceptLabel(concept) || ref.display || '';
    }
    const match =
      (concept ? matchAgent(kb, concept) : null) ??
      (isString(ref?.display) ? matchAgent(kb, ref.display) : null);
    out.push({ ref: refOf(r), drug: match?.id ?? null, display: display || 'unnamed medication' });
  }
  return out;
}
