/**
 * "Today is" over real HTTP: the sandbox replays a chart at a past day. Its FHIR server hides what
 * was recorded later and shows a drug stopped later as still active (without its stop reason); its
 * CDS service evaluates at that day, so the alectinib patient who progressed in October is, in
 * August, on first-line alectinib with no progression; the SMART app's launch configuration carries the
 * day; a day in the future or not a date is refused; clearing it restores today.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../sandbox/ehr/api.ts';
import { buildHookRequest, patientViewContext, SERVICE_FOR_HOOK } from '../../../sandbox/ehr/hooks.ts';
import type { Card } from '../../../sandbox/ehr/types.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';

const PATIENT = 'alk-after-alectinib';
const DAY = 86_400_000;
// Sample dates are written against 2026-11-22 and moved to the day the sandbox starts.
const TODAY = new Date('2026-11-22T12:00:00Z');
/** Before the progression on alectinib (its last order stopped on 2026-10-11). */
const REPLAY = '2026-08-15';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, feedbackDataDir: 'memory://', logLevel: 'silent', today: TODAY });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

const setToday = (today: string | null) =>
  fetch(`${sandbox.base}/sandbox/api/today`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ today }),
  });
const search = async (query: string) =>
  (
    (await (await fetch(`${sandbox.base}/open/fhir/${query}`)).json()) as { entry?: { resource: any }[] }
  ).entry?.map((e) => e.resource) ?? [];

async function therapyCard(): Promise<Card | undefined> {
  const api = createApi({ origin: sandbox.base });
  const session = await api.session();
  const discovery = await api.discovery(session);
  const serviceId = SERVICE_FOR_HOOK['patient-view'];
  const service = discovery.services.find((s) => s.id === serviceId);
  const chart = { userId: 'Practitioner/sandbox-oncologist', patientId: PATIENT, encounterId: '' };
  const fhir = await api.hookFhir({
    patientId: PATIENT,
    userId: chart.userId,
    ...(service?.prefetch ? { prefetch: service.prefetch } : {}),
  });
  const request = buildHookRequest({
    hook: 'patient-view',
    hookInstance: crypto.randomUUID(),
    context: patientViewContext(chart),
    fhir,
    sendPrefetch: true,
  });
  const { cards } = await api.callService(session, serviceId, request);
  return cards.find((c: Card) => c.source.topic?.code === 'therapy-selection');
}

describe('"today is": replay a chart at a past day', () => {
  it('today (no replay): alectinib stopped for progression; the card is about progression on alectinib', async () => {
    const orders = await search(`MedicationRequest?patient=${PATIENT}&_count=50`);
    const last = orders
      .filter((r) => /alectinib/i.test(JSON.stringify(r)))
      .sort((a, b) => (a.authoredOn < b.authoredOn ? 1 : -1))[0];
    expect(last.status).toBe('stopped');
    const summary = (await therapyCard())?.summary ?? '';
    expect(summary).toMatch(/progression on a second-generation/i);
    expect(summary).not.toMatch(/first-line/i);
  });

  it(`at ${REPLAY}: nothing recorded later is served, the last alectinib order is active without its stop reason, and the card is first-line`, async () => {
    expect((await setToday(REPLAY)).status).toBe(200);
    expect(await (await fetch(`${sandbox.base}/sandbox/api/today`)).json()).toEqual({ today: REPLAY });

    const observations = await search(`Observation?patient=${PATIENT}&_count=500`);
    expect(observations.length).toBeGreaterThan(0);
    const later = observations.filter((o) => (o.effectiveDateTime ?? o.issued ?? '').slice(0, 10) > REPLAY);
    expect(later.map((o) => o.id)).toEqual([]);

    const orders = await search(`MedicationRequest?patient=${PATIENT}&_count=50`);
    const alectinib = orders
      .filter((r) => /alectinib/i.test(JSON.stringify(r)))
      .sort((a, b) => (a.authoredOn < b.authoredOn ? 1 : -1));
    expect(alectinib[0].status).toBe('active');
    expect(alectinib[0].statusReason).toBeUndefined();
    expect(alectinib.every((r) => r.authoredOn.slice(0, 10) <= REPLAY)).toBe(true);

    // On alectinib with no progression yet: the first-line situation, not "after alectinib".
    const summary = (await therapyCard())?.summary ?? '';
    expect(summary).toMatch(/first-line/i);
    expect(summary).not.toMatch(/progress/i);

    // The SMART app evaluates at the same day.
    const config = (await (await fetch(`${sandbox.base}/app/launch-config.json`)).json()) as {
      evaluateAt?: string;
    };
    expect(config.evaluateAt).toBe(REPLAY);
  });

  it('refuses a day in the future or not a date, and { today: null } returns to today', async () => {
    const future = new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10);
    expect((await setToday(future)).status).toBe(400);
    expect((await setToday('last tuesday')).status).toBe(400);
    expect((await setToday(null)).status).toBe(200);
    const config = (await (await fetch(`${sandbox.base}/app/launch-config.json`)).json()) as {
      evaluateAt?: string;
    };
    expect(config.evaluateAt).toBeUndefined();
    expect((await therapyCard())?.summary).toMatch(/progression on a second-generation/i);
  });
});
