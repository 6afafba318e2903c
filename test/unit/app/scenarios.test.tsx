// @vitest-environment jsdom
/**
 * The clinical scenario classes as the oncologist sees them: the app against msw as the FHIR server
 * (`onUnhandledRequest: 'error'`), fhirclient with a token response, the whole pipeline to the screen.
 */
import { cleanup, screen, within } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  alkG1202rRecord,
  brainMetastasis,
  checkResults,
  fusionVariant,
  nsclcStageIv,
  patient,
  ros1BrainMetsRecord,
  untestedRecord,
} from '../../fixtures/cds/records.ts';
import priorCrizotinib from '../../fixtures/patients/prior-crizotinib-via-medication-reference.expect-progressed-crizotinib.json' with {
  type: 'json',
};
import ihcOnly from '../../fixtures/patients/ros1-ihc-only-oracle-style.expect-ros1-unconfirmed.json' with {
  type: 'json',
};
import { alkFirstLineRecord, entriesOf, fhirHandlers, makeClient, renderApp } from './helpers.tsx';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  cleanup();
});
afterAll(() => server.close());

const section = (name: RegExp) => screen.getByRole('region', { name });
const listText = (name: RegExp) => screen.getByRole('list', { name }).textContent ?? '';

describe('scenario classes on screen', () => {
  it('ALK+ first line: ALK positive, ALK TKIs preferred, ROS1-only agents avoided', async () => {
    server.use(...fhirHandlers(alkFirstLineRecord('alk-1l')));
    await renderApp(makeClient('alk-1l'));
    expect(within(section(/Biomarkers/)).getByRole('heading', { name: /ALK: Positive/ })).toBeTruthy();
    expect(listText(/Preferred options/)).toMatch(/Alectinib|Lorlatinib|Brigatinib/);
    expect(listText(/Agents to avoid/)).toMatch(/Entrectinib/);
    expect(within(section(/At a glance/)).getByText(/ALK positive/)).toBeTruthy();
  });

  it('ALK+ with brain metastases: CNS disease stated, CNS-active agents preferred', async () => {
    const pid = 'alk-bm';
    server.use(...fhirHandlers([...alkFirstLineRecord(pid), brainMetastasis(pid)]));
    await renderApp(makeClient(pid));
    expect(within(section(/At a glance/)).getByText('Brain metastases')).toBeTruthy();
    expect(within(section(/^Disease$/)).getByText(/Yes: brain metastases/)).toBeTruthy();
    expect(listText(/Preferred options/)).toMatch(/Alectinib|Lorlatinib/);
    expect(listText(/Agents to avoid/)).toMatch(/Crizotinib/);
  });

  it('ROS1+ with brain metastases: entrectinib/repotrectinib preferred, crizotinib avoided for CNS, echo missing', async () => {
    server.use(...fhirHandlers(ros1BrainMetsRecord()));
    await renderApp(makeClient('ros1-bm'));
    const preferred = listText(/Preferred options/);
    expect(preferred).toMatch(/Entrectinib/);
    expect(preferred).toMatch(/Repotrectinib/);
    const avoid = screen.getByRole('list', { name: /Agents to avoid/ });
    const crizotinib = within(avoid)
      .getAllByText(/Crizotinib/)
      .map((el) => el.closest('li')?.textContent ?? '');
    expect(crizotinib.some((t) => /CNS|brain/i.test(t))).toBe(true);
    const checks = section(/Before the first dose/);
    expect(within(checks).getAllByText(/Not on file/).length).toBeGreaterThan(0);
    // Evidence is cited and listed with the knowledge-base version.
    expect(within(section(/^Evidence$/)).getByText(/Knowledge base version/)).toBeTruthy();
    // The timeline is a picture with a text equivalent.
    expect(screen.getByRole('img', { name: /Therapy timeline/ })).toBeTruthy();
    expect(screen.getByRole('list', { name: /Therapy timeline as a list/ }).textContent).toMatch(/ROS1 test/);
  });

  it('ROS1 IHC only: unconfirmed, no drug offered, confirmatory testing advised', async () => {
    const resources = entriesOf(ihcOnly as never);
    server.use(...fhirHandlers(resources));
    await renderApp(makeClient('12724066'), { now: '2024-02-01T00:00:00Z' });
    expect(screen.getByRole('heading', { name: /ROS1: Unconfirmed/ })).toBeTruthy();
    expect(screen.getByText(/No targeted therapy is suggested/)).toBeTruthy();
    expect(screen.queryByRole('list', { name: /Preferred options/ })).toBeNull();
    expect(screen.getByRole('heading', { name: 'Testing to consider' }).parentElement?.textContent).toMatch(
      /ROS1/,
    );
  });

  it('untested: no drug, initial ALK/ROS1 testing advised', async () => {
    server.use(...fhirHandlers(untestedRecord()));
    await renderApp(makeClient('untested'));
    expect(screen.getByText(/No targeted therapy is suggested/)).toBeTruthy();
    const testing =
      screen.getByRole('heading', { name: 'Testing to consider' }).parentElement?.textContent ?? '';
    expect(testing).toMatch(/ALK/);
    expect(testing).toMatch(/ROS1/);
  });

  it('discordant (ALK and ROS1 both positive): both marked discordant, no drug offered', async () => {
    const pid = 'disc';
    server.use(
      ...fhirHandlers([
        patient(pid),
        nsclcStageIv(pid),
        fusionVariant(pid, 'ALK'),
        fusionVariant(pid, 'ROS1', { days: 60 }),
        ...checkResults(pid),
      ]),
    );
    await renderApp(makeClient(pid));
    expect(screen.getByRole('heading', { name: /ALK: Discordant/ })).toBeTruthy();
    expect(screen.getByRole('heading', { name: /ROS1: Discordant/ })).toBeTruthy();
    expect(screen.getByText(/No targeted therapy is suggested/)).toBeTruthy();
  });

  it('prior progression with G1202R: lorlatinib preferred, alectinib shown ending in progression', async () => {
    server.use(...fhirHandlers(alkG1202rRecord()));
    await renderApp(makeClient('alk-g1202r'));
    expect(listText(/Preferred options/)).toMatch(/Lorlatinib/);
    expect(screen.getByText(/Resistance mutations:/).parentElement?.textContent).toMatch(/G1202R/);
    expect(screen.getByRole('list', { name: /Therapy timeline as a list/ }).textContent).toMatch(
      /alectinib.*stopped for progression/i,
    );
    expect(within(section(/At a glance/)).getByText(/Progressed on alectinib/)).toBeTruthy();
  });

  it('prior crizotinib named only by a Medication reference: resolved in a second wave, shown as progressed', async () => {
    const resources = entriesOf(priorCrizotinib as never);
    const log = { requests: [] as { url: string; authorization: string | null }[] };
    server.use(...fhirHandlers(resources, log));
    await renderApp(makeClient('pt-med-07'), { now: '2021-08-01T00:00:00Z' });
    expect(log.requests.some((r) => r.url.endsWith('/Medication/med-criz-250'))).toBe(true);
    expect(screen.getByRole('list', { name: /Therapy timeline as a list/ }).textContent).toMatch(
      /crizotinib/i,
    );
    expect(within(section(/At a glance/)).getByText(/Progressed on .*crizotinib/)).toBeTruthy();
  });

  it('formulary: an unavailable preferred agent is said so', async () => {
    server.use(...fhirHandlers(ros1BrainMetsRecord()));
    await renderApp(makeClient('ros1-bm'), { formularyUnavailable: ['repotrectinib'] });
    const rec = section(/Therapy options/);
    expect(within(rec).getByText(/repotrectinib|Repotrectinib/, { selector: '.formulary li' })).toBeTruthy();
  });

  it('abnormal QTc: the ECG check is abnormal with the value and the limit', async () => {
    const pid = 'qtc';
    server.use(
      ...fhirHandlers([
        patient(pid),
        nsclcStageIv(pid),
        fusionVariant(pid, 'ALK'),
        ...checkResults(pid, { qtc: 530 }),
      ]),
    );
    await renderApp(makeClient(pid));
    const checks = section(/Before the first dose/);
    const row = within(checks)
      .getAllByRole('row')
      .find((r) => /ECG/.test(r.textContent ?? ''));
    expect(row?.textContent).toMatch(/Abnormal/);
    expect(row?.textContent).toMatch(/530 ms/);
    expect(row?.textContent).toMatch(/limit/);
  });

  it('stale echo: the LVEF check is out of date with its date, and an order is suggested', async () => {
    const pid = 'stale-echo';
    server.use(
      ...fhirHandlers([
        patient(pid),
        nsclcStageIv(pid),
        brainMetastasis(pid),
        fusionVariant(pid, 'ROS1'),
        ...checkResults(pid, { stale: ['lvef'] }),
      ]),
    );
    await renderApp(makeClient(pid));
    const checks = section(/Before the first dose/);
    const row = within(checks)
      .getAllByRole('row')
      .find((r) => /LVEF|echocardiogram|Echo/i.test(r.textContent ?? ''));
    expect(row?.textContent).toMatch(/Out of date/);
    expect(row?.textContent).toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('need_patient_banner false hides the app banner; absent shows name, birth date and sex', async () => {
    server.use(...fhirHandlers(ros1BrainMetsRecord()));
    await renderApp(makeClient('ros1-bm', { need_patient_banner: false }));
    expect(screen.queryByRole('region', { name: 'Patient' })).toBeNull();
    cleanup();
    await renderApp(makeClient('ros1-bm'));
    const banner = screen.getByRole('region', { name: 'Patient' });
    expect(banner.textContent).toMatch(/Synthetic Testpatient/);
    expect(banner.textContent).toMatch(/1961-06-14/);
  });
});
