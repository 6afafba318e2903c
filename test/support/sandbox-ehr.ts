/**
 * The sandbox EHR page's own client (sandbox/ehr: its API client and hook builders) driven from a
 * test: prefetch filled (or not) by the sandbox back end and the CDS service called with the JWT the
 * page signs, as a clinician's click does.
 */
import { createApi } from '../../sandbox/ehr/api.ts';
import {
  buildHookRequest,
  draftFromOrderable,
  orderSelectContext,
  SERVICE_FOR_HOOK,
} from '../../sandbox/ehr/hooks.ts';
import type {
  Card,
  CdsRequest,
  Discovery,
  HookName,
  Orderable,
  Resource,
  Session,
} from '../../sandbox/ehr/types.ts';
import type { SampleCatalogEntry } from '../../sandbox/patients/load.ts';

export const SANDBOX_USER = 'Practitioner/sandbox-oncologist';

export interface Chart {
  userId: string;
  patientId: string;
  encounterId: string;
}

/** A sample patient's chart, opened by the sandbox's oncologist. */
export const chartOf = (e: SampleCatalogEntry): Chart => ({
  userId: SANDBOX_USER,
  patientId: e.id,
  encounterId: `${e.id}-enc`,
});

type Edit = (req: CdsRequest) => CdsRequest;

export interface SandboxEhr {
  api: ReturnType<typeof createApi>;
  session: Session;
  discovery: Discovery;
  /** One hook call; `edit` changes the request before it is sent (a proxy's rewrite, no fhirServer…). */
  callHook(
    hook: HookName,
    chart: Chart,
    context: Record<string, unknown>,
    withPrefetch: boolean,
    edit?: Edit,
  ): Promise<Card[]>;
  /** A draft of `drug` from the sandbox's order list. */
  draftOf(drug: string, chart: Chart, id: string): Resource;
  /** order-select with one drug, drafted and selected as the EHR page does it. */
  selectDrug(chart: Chart, drug: string, withPrefetch: boolean, edit?: Edit): Promise<Card[]>;
}

/** Signs in to the sandbox at `base` and reads its discovery and order list. */
export async function openSandboxEhr(base: string): Promise<SandboxEhr> {
  const api = createApi({ origin: base });
  const session = await api.session();
  const [discovery, orderables]: [Discovery, Orderable[]] = await Promise.all([
    api.discovery(session),
    api.orderables(),
  ]);

  const callHook: SandboxEhr['callHook'] = async (hook, chart, context, withPrefetch, edit = (r) => r) => {
    const serviceId = SERVICE_FOR_HOOK[hook];
    const service = discovery.services.find((s) => s.id === serviceId);
    const fhir = await api.hookFhir({
      ...chart,
      ...(withPrefetch && service?.prefetch ? { prefetch: service.prefetch } : {}),
    });
    const body = buildHookRequest({
      hook,
      hookInstance: crypto.randomUUID(),
      context,
      fhir,
      sendPrefetch: withPrefetch,
    });
    return (await api.callService(session, serviceId, edit(body))).cards;
  };

  const draftOf: SandboxEhr['draftOf'] = (drug, chart, id) => {
    const orderable = orderables.find((o) => o.name === drug);
    if (!orderable) throw new Error(`the sandbox order list has no ${drug}`);
    return draftFromOrderable(orderable, chart, id);
  };

  const selectDrug: SandboxEhr['selectDrug'] = (chart, drug, withPrefetch, edit) => {
    const draft = draftOf(drug, chart, `draft-${drug}-${crypto.randomUUID().slice(0, 8)}`);
    return callHook(
      'order-select',
      chart,
      orderSelectContext(chart, [draft], [draft.id as string]),
      withPrefetch,
      edit,
    );
  };

  return { api, session, discovery, callHook, draftOf, selectDrug };
}
