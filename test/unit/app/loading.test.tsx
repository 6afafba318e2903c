// @vitest-environment jsdom
/**
 * Loading the record through fhirclient against msw: paging, caps, failures as data gaps on screen,
 * and the page-level refusals (another patient, an expired session). `onUnhandledRequest: 'error'`
 * makes any query the app did not declare fail the test.
 */
import { cleanup, screen, within } from '@testing-library/react';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countWaves, loadPatientData } from '../../../src/app/smart/load-patient-data.ts';
import { dataRequirements } from '../../../src/fhir/queries.ts';
import { ros1BrainMetsRecord } from '../../fixtures/cds/records.ts';
import { BASE, expiredTokenHandlers, fhirHandlers, makeClient, renderApp } from './helpers.tsx';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  cleanup();
});
afterAll(() => server.close());

const PID = 'ros1-bm';
const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

/** 2,000 lab Observations served 200 a page, for the all-labs search (category only, no code). */
function pagedLabs(total: number, pageSize: number, seen: string[]) {
  return http.get(`${BASE}/Observation`, ({ request }) => {
    const url = new URL(request.url);
    if (url.searchParams.get('category') !== LAB || url.searchParams.has('code')) return undefined;
    seen.push(request.url);
    const page = Number(url.searchParams.get('_page') ?? '0');
    const start = page * pageSize;
    const entry = Array.from({ length: Math.min(pageSize, total - start) }, (_, i) => ({
      resource: {
        resourceType: 'Observation',
        id: `noise-${start + i}`,
        status: 'final',
        category: [{ coding: [{ system: LAB.split('|')[0], code: 'laboratory' }] }],
        code: { coding: [{ system: 'urn:oid:1.2.3.4', code: `L${(start + i) % 97}` }], text: 'SODIUM' },
        subject: { reference: `Patient/${PID}` },
        effectiveDateTime: '2026-10-01T08:00:00Z',
        valueQuantity: { value: 140, unit: 'mmol/L' },
      },
    }));
    const next = start + pageSize < total;
    url.searchParams.set('_page', String(page + 1));
    return HttpResponse.json({
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: [{ relation: 'self', url: request.url }, ...(next ? [{ relation: 'next', url: url.href }] : [])],
      entry,
    });
  });
}

describe('loading the record', () => {
  it('runs every declared search in one wave after the token, with the bearer token', async () => {
    const log = { requests: [] as { url: string; authorization: string | null }[] };
    server.use(...fhirHandlers(ros1BrainMetsRecord(), log));
    const data = await loadPatientData(makeClient(PID));
    expect(data.requests).toBe(dataRequirements().length);
    expect(data.waves).toBe(1);
    expect(data.gaps).toEqual([]);
    expect(log.requests.every((r) => r.authorization === 'Bearer test-token-abc')).toBe(true);
    // Medication searches carry the app-only _include, so Medication resources come along.
    expect(
      log.requests.some(
        (r) => new URL(r.url).searchParams.get('_include') === 'MedicationRequest:medication',
      ),
    ).toBe(true);
  });

  it('follows every page of a 2,000-Observation search (within the cap) and renders', async () => {
    const seen: string[] = [];
    server.use(pagedLabs(2000, 200, seen), ...fhirHandlers(ros1BrainMetsRecord()));
    const data = await loadPatientData(makeClient(PID));
    expect(seen).toHaveLength(10);
    expect(data.gaps).toEqual([]);
    const noise = data.resources
      .flatMap((b: any) => (b.resourceType === 'Bundle' ? b.entry.map((e: any) => e.resource) : [b]))
      .filter((r: any) => String(r.id).startsWith('noise-'));
    expect(noise).toHaveLength(2000);
    // Pages of one search are sequential: more waves than one, but the other searches stay in wave 1.
    expect(data.waves).toBe(10);

    server.use(pagedLabs(2000, 200, []));
    await renderApp(makeClient(PID));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByRole('list', { name: /Preferred options/ }).textContent).toMatch(/Entrectinib/);
  });

  it('stops at the page cap and says the search was truncated', async () => {
    const seen: string[] = [];
    server.use(pagedLabs(2000, 200, seen), ...fhirHandlers(ros1BrainMetsRecord()));
    const data = await loadPatientData(makeClient(PID), { pageCap: 3 });
    expect(seen).toHaveLength(3);
    expect(data.gaps).toEqual([
      expect.objectContaining({
        query: 'biomarker-lab-observations',
        reason: 'truncated',
        domains: ['biomarkers', 'labs'],
      }),
    ]);
  });

  it('a 403 on Observation becomes "could not check", shown plainly', async () => {
    server.use(...fhirHandlers(ros1BrainMetsRecord(), { requests: [] }, { Observation: 403 }));
    await renderApp(makeClient(PID));
    const alert = screen.getByRole('alert');
    expect(within(alert).getByText(/Parts of the record could not be read/)).toBeTruthy();
    expect(alert.textContent).toMatch(/biomarker results/);
    expect(alert.textContent).toMatch(/access was refused/);
    expect(alert.textContent).toMatch(/HTTP 403/);
    // No biomarker result could be read: no drug, and the status says it could not be checked.
    expect(screen.getAllByText(/Could not check: the biomarker search failed/).length).toBe(2);
    expect(screen.getByText(/No targeted therapy is suggested/)).toBeTruthy();
  });

  it('an OperationOutcome instead of a Bundle becomes a data gap, not an empty list', async () => {
    server.use(
      http.get(`${BASE}/Condition`, () =>
        HttpResponse.json({
          resourceType: 'OperationOutcome',
          issue: [
            { severity: 'error', code: 'processing', diagnostics: 'Search failed: backend unavailable' },
          ],
        }),
      ),
      ...fhirHandlers(ros1BrainMetsRecord()),
    );
    await renderApp(makeClient(PID));
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/conditions/);
    expect(alert.textContent).toMatch(
      /OperationOutcome instead of a Bundle: Search failed: backend unavailable/,
    );
    expect(
      within(screen.getByRole('region', { name: /^Disease$/ })).getByText(/Could not check/),
    ).toBeTruthy();
  });

  it('a search that never answers times out into a "could not check" gap; the page still renders', async () => {
    const hung: string[] = [];
    server.use(
      http.get(`${BASE}/Observation`, ({ request }) => {
        hung.push(request.url);
        return new Promise<never>(() => {});
      }),
      ...fhirHandlers(ros1BrainMetsRecord()),
    );
    const started = Date.now();
    const data = await loadPatientData(makeClient(PID), { requestTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const observationQueries = dataRequirements()
      .filter((r) => r.resourceType === 'Observation')
      .map((r) => r.id);
    expect(hung).toHaveLength(observationQueries.length);
    expect(data.gaps.map((g) => g.query).sort()).toEqual([...observationQueries].sort());
    expect(data.gaps.every((g) => g.reason === 'timeout' && g.detail === 'no answer within 0.3 s')).toBe(
      true,
    );

    await renderApp(makeClient(PID), { requestTimeoutMs: 300 });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toMatch(/no answer in time/);
    expect(alert.textContent).toMatch(/labs/);
    expect(screen.queryByText(/^Done$/)).toBeNull();
  });

  it('a scope the EHR did not grant is not queried and shows as a gap', async () => {
    const log = { requests: [] as { url: string; authorization: string | null }[] };
    server.use(...fhirHandlers(ros1BrainMetsRecord(), log));
    const granted =
      'launch openid fhirUser patient/Patient.rs patient/Condition.rs patient/Observation.rs patient/DiagnosticReport.rs';
    const data = await loadPatientData(makeClient(PID, { scope: granted }));
    expect(log.requests.some((r) => /Medication/.test(r.url))).toBe(false);
    expect(data.gaps.map((g) => g.query).sort()).toEqual([
      'medication-administrations',
      'medication-requests',
      'medication-statements',
    ]);
    expect(data.gaps[0]?.detail).toMatch(/did not grant read access to Medication/);
  });

  it('a token for another patient: the Patient read does not match, the page refuses to render', async () => {
    server.use(
      http.get(`${BASE}/Patient/:id`, () =>
        HttpResponse.json({ resourceType: 'Patient', id: 'someone-else', gender: 'male' }),
      ),
      ...fhirHandlers(ros1BrainMetsRecord()),
    );
    await renderApp(makeClient(PID));
    expect(screen.getByRole('heading', { name: /does not match the patient/ })).toBeTruthy();
    expect(screen.queryByTestId('summary')).toBeNull();
    expect(screen.getByText(/relaunch the app from the EHR/)).toBeTruthy();
  });

  it('an expired token (401 from the server): a readable page asking to relaunch', async () => {
    server.use(...expiredTokenHandlers);
    await renderApp(makeClient(PID));
    expect(screen.getByRole('heading', { name: 'Your session has expired' })).toBeTruthy();
    expect(screen.getByText(/relaunch the app from the EHR/)).toBeTruthy();
    expect(document.body.textContent).not.toMatch(/test-token-abc/);
  });

  it('a token already past its expiry (no refresh token): refused before any request', async () => {
    const log = { requests: [] as { url: string; authorization: string | null }[] };
    server.use(...fhirHandlers(ros1BrainMetsRecord(), log));
    const client = makeClient(PID);
    client.state.expiresAt = Date.now() / 1000 - 60;
    await expect(loadPatientData(client)).rejects.toMatchObject({ kind: 'expired' });
    expect(log.requests).toHaveLength(0);
  });

  it('counts waves as groups of overlapping requests', () => {
    const t = (start: number, end: number) => ({ what: 'x', start, end });
    expect(countWaves([])).toBe(0);
    expect(countWaves([t(0, 10), t(1, 12), t(2, 5)])).toBe(1);
    expect(countWaves([t(0, 10), t(1, 12), t(12, 20), t(13, 15), t(21, 22)])).toBe(3);
  });
});
