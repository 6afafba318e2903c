// @vitest-environment jsdom
/**
 * The sandbox EHR page against msw standing in for the sandbox routes and the CDS service (with the
 * service's real cards): pick a patient, order alectinib, see the critical card, apply its
 * suggestion (feedback body checked), sign; dismiss with a reason; errors shown in words; the
 * "Send prefetch" toggle; the embedded SMART launch; tokens redacted in the developer panel.
 */
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../../sandbox/ehr/App.tsx';
import { DISCOVERY, ORDER_SELECT_ALECTINIB_ROS1, PATIENT_VIEW_ROS1 } from './ehr-fixtures.ts';

const BASE = window.location.origin;
const FHIR = `${BASE}/fhir`;
const ACCESS_TOKEN = 'fhir-access-token-never-shown';
const PATIENT = {
  id: 'ros1-bm',
  name: 'Rosa Example',
  scenario: 'ROS1+ with brain metastases',
  description: 'Stage IV adenocarcinoma, ROS1 fusion by NGS, no TKI yet; echo and uric acid missing.',
  birthDate: '1961-06-14',
  gender: 'female',
  encounterId: 'enc-ros1',
};
const ORDERABLES = [
  { name: 'alectinib', display: 'alectinib (Alecensa)', rxnorm: '1727455', kind: 'tki' },
  { name: 'entrectinib', display: 'entrectinib (Rozlytrek)', kind: 'tki' },
  { name: 'pembrolizumab', display: 'pembrolizumab (Keytruda)', kind: 'immunotherapy' },
  { name: 'rifampin', display: 'rifampin (Rifadin)', kind: 'other' },
];

type Json = Record<string, any>;
interface Log {
  tokens: string[];
  cdsCalls: { path: string; auth: string | null; body?: Json }[];
  hookFhir: Json[];
  launches: Json[];
  feedback: Json[];
  stored: Json[];
}
let log: Log;
const ids = { token: 0 };

/** The card as the service would answer for this draft: the fixture's draft id replaced. */
function orderSelectCardsFor(body: Json): Json {
  const selected = body.context.selections[0] as string;
  const draft = body.context.draftOrders.entry.find(
    (e: Json) => `${e.resource.resourceType}/${e.resource.id}` === selected,
  )?.resource;
  if (draft?.medicationCodeableConcept?.text !== 'alectinib') return { cards: [] };
  return JSON.parse(
    JSON.stringify(ORDER_SELECT_ALECTINIB_ROS1).replaceAll('MedicationRequest/draft-1', selected),
  );
}

const cds = (path: string, answer: (body: Json) => Response | Json) =>
  http.post(`${BASE}/cds-services/${path}`, async ({ request }) => {
    const body = (await request.json()) as Json;
    log.cdsCalls.push({ path, auth: request.headers.get('authorization'), body });
    const out = answer(body);
    return out instanceof Response ? out : HttpResponse.json(out);
  });

const handlers = [
  http.get(`${BASE}/sandbox/api/session`, () =>
    HttpResponse.json({
      base: BASE,
      fhirServer: FHIR,
      appLaunchUrl: `${BASE}/app/launch.html`,
      cdsServicesUrl: `${BASE}/cds-services`,
      user: { reference: 'Practitioner/sandbox-oncologist', name: 'Sandbox Oncologist' },
    }),
  ),
  http.get(`${BASE}/sandbox/api/patients`, () => HttpResponse.json([PATIENT])),
  http.get(`${BASE}/sandbox/api/orderables`, () => HttpResponse.json(ORDERABLES)),
  http.get(`${BASE}/sandbox/api/feedback`, () => HttpResponse.json([...log.stored].reverse())),
  http.post(`${BASE}/sandbox/api/cds-token`, async ({ request }) => {
    const { aud } = (await request.json()) as Json;
    const token = `jwt-${++ids.token}`;
    log.tokens.push(`${token} ${aud}`);
    return HttpResponse.json({ token });
  }),
  http.post(`${BASE}/sandbox/api/hook-fhir`, async ({ request }) => {
    const body = (await request.json()) as Json;
    log.hookFhir.push(body);
    return HttpResponse.json({
      fhirServer: FHIR,
      fhirAuthorization: {
        access_token: ACCESS_TOKEN,
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'patient/*.rs',
        subject: 'alk-ros1-cds',
      },
      ...(body.prefetch
        ? { prefetch: { patient: { resourceType: 'Patient', id: body.patientId }, conditions: null } }
        : {}),
    });
  }),
  http.post(`${BASE}/sandbox/api/launch`, async ({ request }) => {
    const body = (await request.json()) as Json;
    log.launches.push(body);
    const launch = `launch-${log.launches.length}`;
    return HttpResponse.json({
      launch,
      iss: FHIR,
      launchUrl: `${BASE}/app/launch.html?iss=${encodeURIComponent(FHIR)}&launch=${launch}`,
    });
  }),
  http.get(`${BASE}/cds-services`, ({ request }) => {
    log.cdsCalls.push({ path: '', auth: request.headers.get('authorization') });
    return HttpResponse.json(DISCOVERY);
  }),
  // The page's note of what it showed (summary, patient, label) beside the CDS feedback.
  http.post(`${BASE}/sandbox/api/feedback-notes`, () => new HttpResponse(null, { status: 204 })),
  http.post(`${BASE}/cds-services/:id/feedback`, async ({ request, params }) => {
    const body = (await request.json()) as Json;
    log.cdsCalls.push({ path: `${params.id}/feedback`, auth: request.headers.get('authorization'), body });
    log.feedback.push({ serviceId: params.id, ...body });
    for (const f of body.feedback)
      log.stored.push({
        serviceId: params.id,
        card: f.card,
        outcome: f.outcome,
        acceptedSuggestions: (f.acceptedSuggestions ?? []).map((s: Json) => s.id),
        ...(f.overrideReason
          ? {
              overrideReason: {
                ...f.overrideReason.reason,
                ...(f.overrideReason.userComment ? { userComment: f.overrideReason.userComment } : {}),
              },
            }
          : {}),
        outcomeTimestamp: f.outcomeTimestamp,
        receivedAt: new Date().toISOString(),
      });
    return new HttpResponse(null, { status: 200 });
  }),
  cds('alk-ros1-patient-view', () => PATIENT_VIEW_ROS1),
  cds('alk-ros1-order-select', orderSelectCardsFor),
  cds('alk-ros1-order-sign', () => ({ cards: [] })),
];

const server = setupServer(...handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  log = { tokens: [], cdsCalls: [], hookFhir: [], launches: [], feedback: [], stored: [] };
});
afterEach(() => {
  server.resetHandlers();
  cleanup();
  vi.restoreAllMocks();
});
afterAll(() => server.close());

const concordance = ORDER_SELECT_ALECTINIB_ROS1.cards[0] as Json;

async function openChart() {
  const user = userEvent.setup();
  render(<App />);
  await user.click(await screen.findByRole('button', { name: PATIENT.name }));
  await screen.findByRole('heading', { name: PATIENT.name, level: 2 });
  return user;
}

async function orderAlectinib(user: ReturnType<typeof userEvent.setup>) {
  await user.click(screen.getByRole('tab', { name: 'Orders' }));
  await user.click(await screen.findByRole('button', { name: 'Order alectinib' }));
  const group = await screen.findByTestId('order-select-cards');
  return within(group).findByRole('article', { name: concordance.summary });
}

const drafts = () => within(screen.getByTestId('draft-orders')).queryAllByRole('listitem');

describe('sandbox EHR page', () => {
  it('header and picker say it is a local sandbox with synthetic patients; the chart fires patient-view', async () => {
    render(<App />);
    expect(await screen.findByText(/Local sandbox · synthetic patients only/)).toBeTruthy();
    const pick = await screen.findByRole('button', { name: PATIENT.name });
    expect(pick.getAttribute('data-testid')).toBe('patient-ros1-bm');
    expect(screen.getByText(PATIENT.scenario)).toBeTruthy();
    expect(screen.getByText(PATIENT.description)).toBeTruthy();

    await userEvent.setup().click(pick);
    const summary = screen.getByRole('tabpanel', { name: 'Summary' });
    const cards = await within(summary).findAllByTestId('card');
    expect(cards.map((c) => [c.dataset.indicator, c.dataset.topic])).toEqual([
      ['info', 'therapy-selection'],
      ['info', 'pretherapy-checks'],
      ['info', 'local-therapy'],
    ]);
    const pv = log.cdsCalls.find((c) => c.path === 'alk-ros1-patient-view')?.body as Json;
    expect(pv.hook).toBe('patient-view');
    expect(pv.hookInstance).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pv.context).toEqual({
      userId: 'Practitioner/sandbox-oncologist',
      patientId: 'ros1-bm',
      encounterId: 'enc-ros1',
    });
    expect(pv.fhirServer).toBe(FHIR);
    expect(pv.fhirAuthorization.access_token).toBe(ACCESS_TOKEN);
    expect(pv.prefetch).toEqual({ patient: { resourceType: 'Patient', id: 'ros1-bm' }, conditions: null });
    // The service's own prefetch templates went to the sandbox to be filled.
    expect(log.hookFhir[0]?.prefetch).toEqual(DISCOVERY.services[0]?.prefetch);
  });

  it('order alectinib → critical card → Apply sends accepted feedback, replaces the draft, re-fires order-select; Sign', async () => {
    const user = await openChart();
    const card = await orderAlectinib(user);

    // The draft and the order-select request.
    expect(drafts().map((li) => li.textContent)).toEqual([expect.stringContaining('alectinib')]);
    const select = log.cdsCalls.find((c) => c.path === 'alk-ros1-order-select')?.body as Json;
    const draft = select.context.draftOrders.entry[0].resource;
    expect(select.context.selections).toEqual([`MedicationRequest/${draft.id}`]);
    expect(draft).toMatchObject({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/ros1-bm' },
      medicationCodeableConcept: {
        text: 'alectinib',
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1727455' }],
      },
    });

    // The card as an EHR renders it.
    expect(card.dataset.indicator).toBe('critical');
    expect(card.dataset.topic).toBe('order-concordance');
    expect(within(card).getByText('Critical')).toBeTruthy();
    expect(within(card).getByRole('heading', { name: concordance.summary })).toBeTruthy();
    expect(within(card).getByTestId('card-topic').textContent).toBe('Order concordance');
    expect(within(card).getByRole('button', { name: 'Open the ALK/ROS1 summary' })).toBeTruthy();
    const apply = within(card).getByRole('button', { name: 'Apply: Replace with entrectinib' });
    const other = within(card).getByRole('button', { name: 'Apply: Replace with repotrectinib' });

    await user.click(apply);
    await waitFor(() => expect(log.feedback).toHaveLength(1));
    const [fb] = log.feedback;
    expect(fb).toEqual({
      serviceId: 'alk-ros1-order-select',
      feedback: [
        {
          card: concordance.uuid,
          outcome: 'accepted',
          acceptedSuggestions: [{ id: concordance.suggestions[0].uuid }],
          outcomeTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        },
      ],
    });
    // One fresh JWT per call, each for exactly the URL called.
    const feedbackCall = log.cdsCalls.find((c) => c.path.endsWith('/feedback'));
    const token = feedbackCall?.auth?.replace(/^Bearer /, '');
    expect(log.tokens).toContain(`${token} ${BASE}/cds-services/alk-ros1-order-select/feedback`);
    const used = log.cdsCalls.map((c) => c.auth);
    expect(new Set(used).size).toBe(used.length);

    // at-most-one: the other suggestion can no longer be applied.
    expect((other as HTMLButtonElement).disabled).toBe(true);
    expect(within(card).getByTestId('card-outcome').textContent).toBe('Accepted: Replace with entrectinib');

    // The draft list: alectinib gone, entrectinib drafted; order-select fired for the new draft.
    await waitFor(() =>
      expect(drafts().map((li) => li.textContent)).toEqual([expect.stringContaining('entrectinib')]),
    );
    await waitFor(() =>
      expect(log.cdsCalls.filter((c) => c.path === 'alk-ros1-order-select')).toHaveLength(2),
    );
    const refire = log.cdsCalls.filter((c) => c.path === 'alk-ros1-order-select')[1]?.body as Json;
    const created = refire.context.draftOrders.entry[0].resource;
    expect(created.medicationCodeableConcept.text).toBe('entrectinib');
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(refire.context.selections).toEqual([`MedicationRequest/${created.id}`]);

    // The feedback log shows what the service stored.
    const logPanel = screen.getByTestId('feedback-log');
    const row = await within(logPanel).findByTestId('feedback-entry');
    expect(row.textContent).toContain(concordance.uuid);
    expect(row.textContent).toContain('accepted');
    expect(row.textContent).toContain('Replace with entrectinib');

    // Sign: order-sign with every draft, no critical card → signed.
    await user.click(screen.getByRole('button', { name: 'Sign orders' }));
    const signed = await screen.findByTestId('signed-orders');
    expect(signed.textContent).toContain('entrectinib');
    expect(screen.getByRole('heading', { name: 'Orders signed' })).toBeTruthy();
    const sign = log.cdsCalls.find((c) => c.path === 'alk-ros1-order-sign')?.body as Json;
    expect(sign.hook).toBe('order-sign');
    expect(sign.context.draftOrders.entry.map((e: Json) => e.resource.id)).toEqual([created.id]);
    expect(drafts()).toHaveLength(0);
  });

  it('a critical card stops signing until it is dismissed with one of its override reasons', async () => {
    const user = await openChart();
    const card = await orderAlectinib(user);
    await user.click(screen.getByRole('button', { name: 'Sign orders' }));
    expect((await screen.findByTestId('sign-notice')).textContent).toMatch(
      /Not signed: 1 critical card needs a decision/,
    );
    expect(screen.queryByTestId('signed-orders')).toBeNull();

    await user.click(within(card).getByRole('button', { name: /^Dismiss/ }));
    // No reason chosen: the form says so and sends nothing.
    await user.click(within(card).getByRole('button', { name: 'Confirm dismissal' }));
    expect(within(card).getByRole('alert').textContent).toMatch(/Choose a reason/);
    expect(log.feedback).toHaveLength(0);

    await user.selectOptions(
      within(card).getByLabelText('Reason for dismissing'),
      'Part of a clinical trial',
    );
    await user.type(within(card).getByLabelText('Comment (optional)'), 'Trial protocol ROS1-42');
    await user.click(within(card).getByRole('button', { name: 'Confirm dismissal' }));

    await waitFor(() => expect(log.feedback).toHaveLength(1));
    expect(log.feedback[0]?.feedback).toEqual([
      {
        card: concordance.uuid,
        outcome: 'overridden',
        overrideReason: {
          reason: {
            system: 'urn:alk-ros1-cds:override-reason',
            code: 'clinical-trial',
            display: 'Part of a clinical trial',
          },
          userComment: 'Trial protocol ROS1-42',
        },
        outcomeTimestamp: expect.any(String),
      },
    ]);
    expect((await screen.findByTestId('signed-orders')).textContent).toContain('alectinib');
    const row = await within(screen.getByTestId('feedback-log')).findByTestId('feedback-entry');
    expect(row.textContent).toContain('Part of a clinical trial');
    expect(row.textContent).toContain('Trial protocol ROS1-42');
  });

  it('an HTTP error is shown with the OperationOutcome diagnostics, and Try again recovers', async () => {
    let fail = true;
    server.use(
      cds('alk-ros1-patient-view', () =>
        fail
          ? HttpResponse.json(
              {
                resourceType: 'OperationOutcome',
                issue: [
                  {
                    severity: 'error',
                    code: 'incomplete',
                    diagnostics: 'No patient data could be obtained from prefetch or from fhirServer.',
                  },
                ],
              },
              { status: 412 },
            )
          : PATIENT_VIEW_ROS1,
      ),
    );
    const user = await openChart();
    const alert = await screen.findByTestId('hook-error');
    expect(alert.textContent).toContain('alk-ros1-patient-view failed.');
    expect(alert.textContent).toContain(
      'HTTP 412: No patient data could be obtained from prefetch or from fhirServer.',
    );
    fail = false;
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findAllByTestId('card')).toHaveLength(3);
  });

  it('with "Send prefetch" off, no templates go to the sandbox and no prefetch to the service', async () => {
    const user = userEvent.setup();
    render(<App />);
    const toggle = await screen.findByRole('checkbox', { name: 'Send prefetch' });
    expect((toggle as HTMLInputElement).checked).toBe(true);
    await user.click(toggle);
    await user.click(await screen.findByRole('button', { name: PATIENT.name }));
    await screen.findAllByTestId('card');
    const pv = log.cdsCalls.find((c) => c.path === 'alk-ros1-patient-view')?.body as Json;
    expect(pv).not.toHaveProperty('prefetch');
    expect(pv.fhirAuthorization.access_token).toBe(ACCESS_TOKEN);
    expect(log.hookFhir[0]).not.toHaveProperty('prefetch');
    // No discovery needed without prefetch.
    expect(log.cdsCalls.some((c) => c.path === '')).toBe(false);
  });

  it('SMART app tab: EHR launch in an iframe; a card’s smart link launches with its own URL; new tab', async () => {
    const user = await openChart();
    await user.click(screen.getByRole('tab', { name: 'SMART app' }));
    const frame = (await screen.findByTitle('SMART app')) as HTMLIFrameElement;
    expect(frame.tagName).toBe('IFRAME');
    expect(frame.src).toBe(`${BASE}/app/launch.html?iss=${encodeURIComponent(FHIR)}&launch=launch-1`);
    expect(log.launches[0]).toMatchObject({ patientId: 'ros1-bm', encounterId: 'enc-ros1' });

    // A card's smart link: its URL with iss and launch.
    await user.click(screen.getByRole('tab', { name: 'Summary' }));
    const [first] = await screen.findAllByTestId('card');
    await user.click(within(first as HTMLElement).getByRole('button', { name: 'Open the ALK/ROS1 summary' }));
    await waitFor(() =>
      expect(screen.getByRole('tab', { name: 'SMART app' }).getAttribute('aria-selected')).toBe('true'),
    );
    await waitFor(() =>
      expect((screen.getByTitle('SMART app') as HTMLIFrameElement).src).toBe(
        `http://localhost:3000/app/launch.html?iss=${encodeURIComponent(FHIR)}&launch=launch-2`,
      ),
    );

    // Open in new tab: a window opened at the click, then sent to a fresh launch.
    const fake = { opener: {}, location: { href: 'about:blank' }, close: vi.fn() };
    const open = vi.spyOn(window, 'open').mockReturnValue(fake as unknown as Window);
    await user.click(screen.getByRole('button', { name: 'Open in new tab' }));
    await waitFor(() => expect(fake.location.href).toContain('launch=launch-3'));
    expect(open).toHaveBeenCalledWith('about:blank', '_blank');
    expect(fake.opener).toBeNull();
  });

  it('keyboard: arrow keys move between tabs', async () => {
    const user = await openChart();
    screen.getByRole('tab', { name: 'Summary' }).focus();
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'SMART app' }));
    await user.keyboard('{ArrowRight}');
    expect(screen.getByRole('tab', { name: 'Orders' }).getAttribute('aria-selected')).toBe('true');
    await user.keyboard('{Home}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Summary' }));
  });

  it('keyboard: Dismiss moves focus into its form, Cancel brings it back, a decision takes focus', async () => {
    const user = await openChart();
    const card = await orderAlectinib(user);
    const dismiss = within(card).getByRole('button', { name: /^Dismiss/ });
    dismiss.focus();
    await user.keyboard('{Enter}');
    expect(document.activeElement).toBe(within(card).getByLabelText('Reason for dismissing'));
    await user.click(within(card).getByRole('button', { name: 'Cancel' }));
    expect(document.activeElement).toBe(within(card).getByRole('button', { name: /^Dismiss/ }));
    within(card).getByRole('button', { name: 'Apply: Replace with repotrectinib' }).focus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(document.activeElement).toBe(within(card).getByTestId('card-outcome')));
    await waitFor(() => expect(log.feedback).toHaveLength(1));
  });

  it('the developer panel shows the last hook request and response with tokens redacted', async () => {
    const user = await openChart();
    await screen.findAllByTestId('card');
    const panel = screen.getByTestId('developer-panel');
    await user.click(within(panel).getByText('Developer: last CDS Hooks request and response'));
    await within(panel).findByText('Last hook call');
    const text = panel.textContent ?? '';
    expect(text).toContain(`POST ${BASE}/cds-services/alk-ros1-patient-view`);
    expect(text).toContain('"access_token": "[redacted]"');
    expect(text).toContain('"hook": "patient-view"');
    expect(text).toContain(PATIENT_VIEW_ROS1.cards[0]?.summary as string);
    expect(text).not.toContain(ACCESS_TOKEN);
    expect(text).not.toMatch(/jwt-\d/);
  });
});
