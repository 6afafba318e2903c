/**
 * The clinician's screen in the sandbox EHR page, in Debian's Chromium against the real sandbox (its
 * page built fresh from sandbox/ehr): the soft stop at signing (a warning card at order-sign must be
 * accepted or overridden with a reason; the choice is stored as CDS Hooks feedback and confirmed),
 * the feedback log (card summary, patient, suggestion label, ISO times, only the open patient, after a
 * reload), no horizontal scroll on a 390 px phone, the newest card in view after an order, focus on
 * the chart heading after choosing a patient with Enter, and one URL per patient and tab.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/server.ts';
import { alkPositiveBundle } from '../fixtures/sandbox/import-bundles.ts';
import {
  hasChromium,
  launchChromium,
  SHOTS,
  startSandboxWithEhrPage,
  warnIfNoChromium,
  watchErrors,
} from './support/browser.ts';

warnIfNoChromium('the sandbox EHR page browser test');

/** ROS1+ with brain metastases: alectinib is critical, lorlatinib a warning at order-sign. */
const PATIENT = 'ros1-brain-mets';
/** Another patient, whose feedback must not show in PATIENT's log. */
const OTHER = 'alk-naive';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

let sandbox: Sandbox | undefined;
let browser: Browser | undefined;
let removeEhrPage: (() => void) | undefined;
let patientName = '';

beforeAll(async () => {
  if (!hasChromium) return;
  ({ sandbox, remove: removeEhrPage } = await startSandboxWithEhrPage());
  browser = await launchChromium();
  const patients = (await (await fetch(`${sandbox.base}/sandbox/api/patients`)).json()) as {
    id: string;
    name: string;
  }[];
  patientName = patients.find((p) => p.id === PATIENT)?.name ?? '';
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
  removeEhrPage?.();
});

const contexts: BrowserContext[] = [];
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
});

async function open(viewport: { width: number; height: number }, hash = '') {
  if (!browser || !sandbox) throw new Error('set-up failed');
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${sandbox.base}/${hash}`);
  return { page, errors, base: sandbox.base };
}

const orderSelectCard = (page: Page, indicator: string) =>
  page
    .locator(`[data-testid="order-select-cards"] [data-testid="card"][data-indicator="${indicator}"]`)
    .first();
/** A card that signing waits on. */
const mustDecide = (page: Page, indicator: string) =>
  page.locator(`[data-testid="card"][data-indicator="${indicator}"][data-must-decide="true"]`).first();

type Entry = {
  serviceId: string;
  card: string;
  outcome: string;
  summary?: string;
  suggestionLabels?: string[];
  patient?: { id: string; name: string };
  overrideReason?: { code?: string; display?: string; system?: string };
};
const storedFor = async (base: string, patient: string): Promise<Entry[]> =>
  (await (await fetch(`${base}/sandbox/api/feedback?patient=${patient}`)).json()) as Entry[];

/** Feedback and the sandbox's note for another patient, as the page would send them. */
async function feedbackForOtherPatient(base: string) {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const aud = `${base}/cds-services/alk-ros1-order-sign/feedback`;
  const { token } = (await (await post('/sandbox/api/cds-token', { aud })).json()) as { token: string };
  const at = new Date().toISOString();
  const sent = await post(
    '/cds-services/alk-ros1-order-sign/feedback',
    { feedback: [{ card: 'other-patient-card', outcome: 'overridden', outcomeTimestamp: at }] },
    { authorization: `Bearer ${token}` },
  );
  expect(sent.status).toBe(200);
  const noted = await post('/sandbox/api/feedback-notes', {
    serviceId: 'alk-ros1-order-sign',
    card: 'other-patient-card',
    outcome: 'overridden',
    outcomeTimestamp: at,
    patientId: OTHER,
    summary: 'A card about the other patient',
  });
  expect(noted.status).toBe(201);
}

/** The top of the element lies inside the viewport as it is now (no scrolling by the test). */
async function topInViewport(page: Page, selector: string): Promise<{ top: number; height: number }> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) throw new Error(`no ${sel}`);
    return { top: el.getBoundingClientRect().top, height: window.innerHeight };
  }, selector);
}

const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('sandbox EHR page: the clinician’s screen', () => {
  it.skipIf(!hasChromium)(
    'soft stop at sign: a warning card must be overridden with a reason or accepted; feedback stored and confirmed',
    async () => {
      const { page, errors, base } = await open(DESKTOP, `#/patient/${PATIENT}/orders`);
      await page.getByTestId('order-lorlatinib').click();
      await orderSelectCard(page, 'warning').waitFor({ timeout: 30_000 });

      // Sign: order-sign runs; the warning (shown at order-select, which the service does not repeat
      // at order-sign) has no decision yet, so nothing is signed until it has one.
      await page.getByRole('button', { name: 'Sign orders' }).click();
      await expect
        .poll(() => page.getByTestId('sign-notice').innerText(), { timeout: 30_000 })
        .toMatch(/^Not signed: .*warning/);
      const warning = mustDecide(page, 'warning');
      await warning.waitFor();
      expect(await warning.getByTestId('soft-stop').innerText()).toMatch(/Signing waits on this card/);
      expect(await page.getByTestId('signed-orders').count()).toBe(0);

      // Overriding needs one of the card's reasons: without one, nothing is sent and nothing signed.
      await warning.getByRole('button', { name: /^Dismiss/ }).click();
      await warning.getByRole('button', { name: 'Confirm dismissal' }).click();
      expect(await warning.getByRole('alert').innerText()).toMatch(/Choose a reason/);
      expect(await page.getByTestId('signed-orders').count()).toBe(0);
      expect(await storedFor(base, PATIENT)).toEqual([]);

      const select = warning.getByLabel('Reason for dismissing');
      const reason = (await select.locator('option').nth(1).innerText()).trim();
      await select.selectOption({ label: reason });
      await warning.getByRole('button', { name: 'Confirm dismissal' }).click();

      const signed = page.getByTestId('signed-orders');
      await signed.waitFor({ timeout: 15_000 });
      expect(await signed.innerText()).toMatch(/lorlatinib/i);
      await expect
        .poll(() => page.getByTestId('feedback-confirmation').innerText(), { timeout: 15_000 })
        .toMatch(new RegExp(`Feedback sent to the CDS service: overridden \\(${reason}\\)`));
      const overridden = (await storedFor(base, PATIENT)).find((e) => e.outcome === 'overridden');
      expect(overridden).toMatchObject({
        outcome: 'overridden',
        overrideReason: { system: 'urn:alk-ros1-cds:override-reason', display: reason },
        patient: { id: PATIENT },
      });
      expect(overridden?.summary).toMatch(/Lorlatinib/);

      // Accepting is the other way through: the suggestion replaces the draft, then signing proceeds.
      await page.getByTestId('order-lorlatinib').click();
      await orderSelectCard(page, 'warning').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Sign orders' }).click();
      const again = mustDecide(page, 'warning');
      await again.waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('signed-orders').innerText()).not.toMatch(/entrectinib/i);
      const apply = again.getByRole('button', { name: 'Apply: Replace with entrectinib' });
      await apply.click();
      await expect.poll(() => page.getByTestId('draft-orders').innerText()).toMatch(/entrectinib/i);
      await expect
        .poll(() => page.getByTestId('feedback-confirmation').innerText(), { timeout: 15_000 })
        .toMatch(/accepted “Replace with entrectinib”/);
      await expect
        .poll(async () => (await storedFor(base, PATIENT)).filter((e) => e.outcome === 'accepted').length, {
          timeout: 15_000,
        })
        .toBeGreaterThan(0);
      const acceptedEntry = (await storedFor(base, PATIENT)).find((e) => e.outcome === 'accepted');
      expect(acceptedEntry?.suggestionLabels).toEqual(['Replace with entrectinib']);
      await page.getByRole('button', { name: 'Sign orders' }).click();
      await expect.poll(() => signed.innerText(), { timeout: 30_000 }).toMatch(/entrectinib/i);
      expect(errors.pageErrors).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!hasChromium)(
    'the feedback log shows summary, patient and label (no uuids) with ISO times, only for the open patient, after a reload',
    async () => {
      const { page, errors, base } = await open(DESKTOP, `#/patient/${PATIENT}/orders`);
      await feedbackForOtherPatient(base);
      await page.getByTestId('order-alectinib').click();
      const critical = orderSelectCard(page, 'critical');
      await critical.waitFor({ timeout: 30_000 });
      const summary = (await critical.locator('h3').innerText()).trim();
      await critical.getByRole('button', { name: 'Apply: Replace with repotrectinib' }).click();
      await expect
        .poll(() => page.getByTestId('feedback-confirmation').innerText(), { timeout: 15_000 })
        .toMatch(/accepted “Replace with repotrectinib”/);

      await page.reload();
      const log = page.getByTestId('feedback-log');
      const rows = log.getByTestId('feedback-entry');
      await rows.first().waitFor({ timeout: 30_000 });
      const texts = await rows.allInnerTexts();
      const mine = texts.find((t) => t.includes(summary));
      expect(mine, texts.join('\n')).toBeDefined();
      expect(mine).toContain('Replace with repotrectinib');
      for (const patient of await log.getByTestId('feedback-patient').allInnerTexts())
        expect(patient.trim()).toBe(patientName);
      const all = await log.innerText();
      expect(all).not.toContain('A card about the other patient');
      expect(all).not.toMatch(UUID);
      const times = await log.getByTestId('feedback-time').allInnerTexts();
      expect(times.length).toBe(texts.length);
      for (const t of times) expect(t.trim()).toMatch(ISO);
      expect(errors.pageErrors).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!hasChromium)(
    'a 390 px phone: no horizontal scroll on the chart with cards and the feedback log',
    async () => {
      const { page, errors } = await open(PHONE, `#/patient/${PATIENT}/summary`);
      await page.locator('[data-testid="card"]').first().waitFor({ timeout: 30_000 });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      await page.getByRole('tab', { name: 'Orders' }).click();
      await page.getByTestId('order-alectinib').click();
      await orderSelectCard(page, 'critical').waitFor({ timeout: 30_000 });
      await page
        .getByTestId('feedback-log')
        .getByTestId('feedback-entry')
        .first()
        .waitFor({ timeout: 30_000 });
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'sandbox-ehr-390.png'), fullPage: true });
      expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0);
      expect(errors.pageErrors).toEqual([]);
    },
    120_000,
  );

  for (const [label, viewport] of [
    ['1280×800', DESKTOP],
    ['390×844', PHONE],
  ] as const) {
    it.skipIf(!hasChromium)(
      `${label}: after "Order alectinib" the critical card is in view without scrolling`,
      async () => {
        const { page, errors } = await open(viewport, `#/patient/${PATIENT}/orders`);
        await page.getByTestId('order-alectinib').click();
        const selector = '[data-testid="order-select-cards"] [data-testid="card"][data-indicator="critical"]';
        await page.locator(selector).first().waitFor({ timeout: 30_000 });
        await expect
          .poll(async () => {
            const { top, height } = await topInViewport(page, selector);
            return top >= 0 && top < height - 40;
          })
          .toBe(true);
        await page.screenshot({
          path: join(SHOTS, `sandbox-ehr-critical-in-view-${viewport.width}.png`),
          fullPage: false,
        });
        expect(errors.pageErrors).toEqual([]);
      },
      120_000,
    );
  }

  it.skipIf(!hasChromium)('Enter on a patient opens the chart with focus on its heading', async () => {
    const { page, errors } = await open(DESKTOP);
    const pick = page.getByTestId(`patient-${PATIENT}`);
    await pick.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('chart-heading').waitFor();
    await expect
      .poll(() =>
        page.evaluate(() => {
          const el = document.activeElement;
          return el ? `${el.tagName} ${el.textContent}` : '';
        }),
      )
      .toBe(`H2 ${patientName}`);
    expect(errors.pageErrors).toEqual([]);
  });

  it.skipIf(!hasChromium)('one URL per patient and tab; a reload returns there', async () => {
    const { page, errors } = await open(DESKTOP);
    await page.getByTestId(`patient-${PATIENT}`).click();
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe(`#/patient/${PATIENT}/summary`);
    await page.getByRole('tab', { name: 'Orders' }).click();
    await expect.poll(() => page.evaluate(() => window.location.hash)).toBe(`#/patient/${PATIENT}/orders`);
    await page.reload();
    const orders = page.getByRole('tab', { name: 'Orders' });
    await orders.waitFor();
    await expect.poll(() => orders.getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('chart-heading').innerText()).toBe(patientName);
    expect(await page.getByTestId('order-alectinib').isVisible()).toBe(true);
    // Back leaves the chart for the patient list.
    await page.goBack();
    await page.getByTestId(`patient-${PATIENT}`).waitFor();
    expect(errors.pageErrors).toEqual([]);
  });

  it.skipIf(!hasChromium)(
    'bring your own patient: a Bundle chosen in the file picker opens as a chart; a broken one lists its problems and changes nothing',
    async () => {
      const { page, errors, base } = await open(DESKTOP);
      const before = ((await (await fetch(`${base}/sandbox/api/patients`)).json()) as unknown[]).length;
      const picker = page.getByTestId('import-patient').locator('input[type="file"]');

      const broken = alkPositiveBundle('byo-broken');
      broken.entry[1].resource.subject = { reference: 'Patient/no-such-patient' };
      await picker.setInputFiles({
        name: 'broken.json',
        mimeType: 'application/fhir+json',
        buffer: Buffer.from(JSON.stringify(broken)),
      });
      const problems = page.getByTestId('import-problems');
      await problems.waitFor();
      expect(await problems.innerText()).toMatch(/Patient\/no-such-patient/);
      expect(((await (await fetch(`${base}/sandbox/api/patients`)).json()) as unknown[]).length).toBe(before);

      await picker.setInputFiles({
        name: 'mine.json',
        mimeType: 'application/fhir+json',
        buffer: Buffer.from(JSON.stringify(alkPositiveBundle('byo-page'))),
      });
      await page.getByTestId('chart-heading').waitFor();
      await expect.poll(() => page.evaluate(() => window.location.hash)).toBe('#/patient/byo-page/summary');
      expect(((await (await fetch(`${base}/sandbox/api/patients`)).json()) as unknown[]).length).toBe(
        before + 1,
      );
      expect(errors.pageErrors).toEqual([]);
    },
  );

  it.skipIf(!hasChromium)(
    '"Today is": replaying a past day shows a banner and serves the chart as it stood then; back to today clears it',
    async () => {
      const { page, errors, base } = await open(DESKTOP);
      const form = page.getByTestId('today-is');
      await form.waitFor();
      const day = new Date(Date.now() - 120 * 86_400_000).toISOString().slice(0, 10);
      await form.locator('input[type="date"]').fill(day);
      await form.getByRole('button', { name: 'Replay' }).click();
      await expect.poll(async () => page.getByTestId('replay-banner').count()).toBe(1);
      expect(await page.getByTestId('replay-banner').innerText()).toContain(day);
      expect(await (await fetch(`${base}/sandbox/api/today`)).json()).toEqual({ today: day });
      await form.getByRole('button', { name: 'Back to today' }).click();
      await expect.poll(async () => page.getByTestId('replay-banner').count()).toBe(0);
      expect(await (await fetch(`${base}/sandbox/api/today`)).json()).toEqual({ today: null });
      expect(errors.pageErrors).toEqual([]);
    },
  );
});
