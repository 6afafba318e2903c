/**
 * The sandbox EHR chart, every sample patient, in Chromium: once patient-view has answered, the
 * first critical or warning card is inside the first viewport at 1280×800 and at 390×844, the page
 * never scrolls sideways at 390 px, and the chart with its cards has no WCAG 2.1 A/AA violation.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CATALOG } from '../../sandbox/patients/load.ts';
import type { Sandbox } from '../../sandbox/server.ts';
import { axeViolations } from './support/axe.ts';
import {
  hasChromium,
  launchChromium,
  startSandboxWithEhrPage,
  warnIfNoChromium,
  watchErrors,
} from './support/browser.ts';

warnIfNoChromium('the sandbox chart browser test');

const WITH_WARNINGS = new Set(['alk-carbamazepine', 'alk-long-qtc', 'ros1-low-lvef', 'alk-renal-impairment']);

let sandbox: Sandbox | undefined;
let browser: Browser | undefined;
let removeEhrPage: (() => void) | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  ({ sandbox, remove: removeEhrPage } = await startSandboxWithEhrPage());
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
  removeEhrPage?.();
});

/** The chart's Summary tab once patient-view has answered (cards, or the no-cards text). */
async function openChart(page: Page, id: string) {
  if (!sandbox) throw new Error('set-up failed');
  await page.goto(`${sandbox.base}/#/patient/${id}/summary`);
  await page.getByTestId('chart-heading').waitFor();
  await page.locator('.card-list').first().waitFor({ timeout: 30_000 });
  await expect.poll(() => page.getByTestId('hook-loading').count()).toBe(0);
}

describe.skipIf(!hasChromium)('sandbox chart, every sample patient', () => {
  it.each(SAMPLE_CATALOG.map((e) => [e.id] as const))(
    '%s: the first critical or warning card is on the first screen at 1280×800 and 390×844; no sideways scroll at 390 px',
    async (id) => {
      const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const page = await context.newPage();
        const errors = watchErrors(page);
        await openChart(page, id);
        const worst = page
          .locator(
            '[data-testid="card"][data-indicator="critical"], [data-testid="card"][data-indicator="warning"]',
          )
          .first();
        const hasWorst = (await worst.count()) > 0;
        // Patients whose patient-view must carry a warning or critical card: the check cannot pass empty.
        if (WITH_WARNINGS.has(id)) expect(hasWorst, `${id} has no warning or critical card`).toBe(true);
        for (const [width, height] of [
          [1280, 800],
          [390, 844],
        ] as const) {
          await page.setViewportSize({ width, height });
          await page.evaluate(() => window.scrollTo(0, 0));
          if (hasWorst) {
            const box = await worst.boundingBox();
            expect(box?.y ?? height, `${id} ${width}px: ${await worst.innerText()}`).toBeLessThan(
              height - 40,
            );
          }
          const sideways = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          expect(sideways, `${id} ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
        }
        expect(errors.pageErrors).toEqual([]);
      } finally {
        await context.close();
      }
    },
    60_000,
  );

  it('the chart with its cards (ROS1+ brain metastases) has no WCAG 2.1 A/AA violation at 1280 and 390 px', async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await openChart(page, 'ros1-brain-mets');
      expect(await axeViolations(page, 'sandbox chart 1280 px')).toEqual([]);
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await axeViolations(page, 'sandbox chart 390 px')).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
