/**
 * One hook call as an EHR makes it: the service's prefetch templates from discovery, FHIR access
 * and filled prefetch from the sandbox (`/sandbox/api/hook-fhir`), a fresh `hookInstance`, then the
 * POST with a one-use JWT. Returns the cards; any failure is an error with plain words.
 */
import { type Api, ApiError } from './api.ts';
import { buildHookRequest, type ChartContext, SERVICE_FOR_HOOK } from './hooks.ts';
import type { Card, CdsRequest, Discovery, HookName, Session } from './types.ts';

export interface HookRun {
  serviceId: string;
  hook: HookName;
  hookInstance: string;
  cards: Card[];
  /** Cards left out because they lack a summary, an indicator or a source. */
  malformed: number;
  at: string;
}

/** A version 4 UUID; `crypto.randomUUID` is missing outside secure contexts (a LAN address over http). */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Cards an EHR can show: a summary, an indicator and a source label at least. */
export function usableCards(cards: unknown[]): { cards: Card[]; malformed: number } {
  const ok = cards.filter(
    (c): c is Card =>
      isObject(c) &&
      typeof c.summary === 'string' &&
      typeof c.indicator === 'string' &&
      isObject(c.source) &&
      typeof c.source.label === 'string',
  );
  return { cards: ok, malformed: cards.length - ok.length };
}

export async function runHook(
  api: Api,
  session: Session,
  args: {
    hook: HookName;
    chart: ChartContext;
    context: Record<string, unknown>;
    sendPrefetch: boolean;
    discovery: () => Promise<Discovery>;
  },
): Promise<HookRun> {
  const serviceId = SERVICE_FOR_HOOK[args.hook];
  let templates: Record<string, string> | undefined;
  if (args.sendPrefetch) {
    const service = (await args.discovery()).services?.find((s) => s.id === serviceId);
    if (!service) throw new Error(`Discovery does not list the service ${serviceId}.`);
    templates = service.prefetch;
  }
  const fhir = await api.hookFhir({
    patientId: args.chart.patientId,
    userId: args.chart.userId,
    ...(args.chart.encounterId ? { encounterId: args.chart.encounterId } : {}),
    ...(templates && Object.keys(templates).length ? { prefetch: templates } : {}),
  });
  const hookInstance = newUuid();
  const request: CdsRequest = buildHookRequest({
    hook: args.hook,
    hookInstance,
    context: args.context,
    fhir,
    sendPrefetch: args.sendPrefetch,
  });
  const response = await api.callService(session, serviceId, request);
  if (!isObject(response) || !Array.isArray(response.cards)) {
    throw new ApiError(200, 'The service answered without a "cards" array.', serviceId, response);
  }
  const { cards, malformed } = usableCards(response.cards);
  return { serviceId, hook: args.hook, hookInstance, cards, malformed, at: new Date().toISOString() };
}
