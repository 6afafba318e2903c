/**
 * The product as the CDS Hooks sandbox meets it, in Debian's Chromium: a double of the sandbox (its
 * own origin, cross-origin calls, an ES384 JWT naming its public `jku`, prefetch filled from the
 * open FHIR endpoint, suggestions taken action by action, stopping at the first it can apply)
 * against the sandbox server `npm start` runs, trusted through CDS_HOOKS_SANDBOX_URL. Cards render
 * for patient-view and order-select, and Apply swaps the draft.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/server.ts';
import { hasChromium, launchChromium, warnIfNoChromium, watchErrors } from './support/browser.ts';
import { type CdsHooksSandboxDouble, startCdsHooksSandboxDouble } from './support/cds-hooks-sandbox.ts';

warnIfNoChromium('the CDS Hooks sandbox browser test');

describe('the CDS Hooks sandbox against npm start', () => {
  let double: CdsHooksSandboxDouble | undefined;
  let sandbox: Sandbox | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    double = await startCdsHooksSandboxDouble();
    sandbox = await startSandbox({
      port: 0,
      feedbackDataDir: 'memory://',
      logLevel: 'silent',
      cdsHooksSandboxUrl: double.origin,
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
    await double?.close();
  });

  it.skipIf(!hasChromium)(
    'patient-view: discovery without a token, prefetch from the open endpoint, cards rendered cross-origin',
    async () => {
      if (!browser || !sandbox || !double) throw new Error('set-up failed');
      const page = await browser.newPage();
      const { pageErrors } = watchErrors(page);
      await page.goto(
        double.pageUrl({
          fhirServiceUrl: `${sandbox.base}/open/fhir`,
          serviceDiscoveryURL: `${sandbox.base}/cds-services`,
          patientId: 'ros1-brain-mets',
          hook: 'patient-view',
        }),
      );
      await page.waitForFunction(() =>
        /HTTP|failed/.test(document.getElementById('status')?.textContent ?? ''),
      );
      expect(await page.locator('#status').innerText()).toBe('HTTP 200');
      const therapy = page.locator('li[data-topic="therapy-selection"]');
      expect(await therapy.innerText()).toMatch(/entrectinib, repotrectinib preferred/i);
      expect(pageErrors).toEqual([]);
      await page.close();
    },
    60_000,
  );

  it.skipIf(!hasChromium)(
    'order-select, called at 127.0.0.1 (aud names that host): the warning card renders and Apply swaps the draft',
    async () => {
      if (!browser || !sandbox || !double) throw new Error('set-up failed');
      const local = sandbox.base.replace('localhost', '127.0.0.1');
      const page = await browser.newPage();
      await page.goto(
        double.pageUrl({
          fhirServiceUrl: `${local}/open/fhir`,
          serviceDiscoveryURL: `${local}/cds-services`,
          patientId: 'alk-brain-mets',
          hook: 'order-select',
          drug: { name: 'crizotinib', rxnorm: '1148495' },
        }),
      );
      await page.waitForFunction(() =>
        /HTTP|failed/.test(document.getElementById('status')?.textContent ?? ''),
      );
      expect(await page.locator('#status').innerText()).toBe('HTTP 200');
      expect(await page.locator('#draft').innerText()).toBe('crizotinib');
      const card = page.locator('li[data-topic="order-concordance"]');
      expect(await card.getAttribute('data-indicator')).toBe('warning');
      expect(await card.innerText()).toMatch(/poor CNS penetration/);
      await card.getByRole('button', { name: /Replace with alectinib/ }).click();
      expect(await page.locator('#draft').innerText()).toBe('alectinib');
      await page.close();
    },
    60_000,
  );
});
