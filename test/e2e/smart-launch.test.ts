/**
 * The built app in Debian's Chromium, launched the way an EHR launches it: a minimal SMART EHR in
 * one node:http server (smart-configuration, authorize with PKCE S256 checks, token, FHIR searches
 * requiring the bearer token) serving the production build. Renders a ROS1+ patient with brain
 * metastases and saves screenshots under test/e2e/__screenshots__/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ros1BrainMetsRecord } from '../fixtures/cds/records.ts';
import {
  buildApp,
  hasChromium,
  launchChromium,
  SHOTS,
  warnIfNoChromium,
  watchErrors,
} from './support/browser.ts';
import { type Ehr, startEhr } from './support/ehr.ts';

warnIfNoChromium('the SMART launch browser test');

const PATIENT = 'ros1-bm';

describe('SMART EHR launch in Chromium', () => {
  let remove = () => {};
  let ehr: Ehr | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    const built = await buildApp();
    remove = built.remove;
    ehr = await startEhr(built.dist, { patientId: PATIENT, resources: ros1BrainMetsRecord(PATIENT) });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ehr?.close();
    remove();
  });

  it.skipIf(!hasChromium)(
    'launches from the EHR, exchanges the code once, and renders the ROS1 brain-metastases summary',
    async () => {
      if (!browser || !ehr) throw new Error('set-up failed');
      mkdirSync(SHOTS, { recursive: true });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const { pageErrors, consoleErrors } = watchErrors(page);

      await page.goto(ehr.launchUrl);
      await page.waitForSelector('[data-testid="summary"]', { timeout: 30_000 });

      expect(ehr.authorizeProblems).toEqual([]);
      expect(ehr.tokenCalls).toBe(1);
      expect(ehr.unauthorised).toBe(0);
      const preferred = await page.getByRole('list', { name: 'Preferred options' }).innerText();
      expect(preferred).toMatch(/Entrectinib/);
      expect(preferred).toMatch(/Repotrectinib/);
      const avoid = await page.getByRole('list', { name: 'Agents to avoid' }).innerText();
      expect(avoid).toMatch(/Crizotinib[^\n]*CNS/);
      expect(await page.getByRole('region', { name: 'At a glance' }).innerText()).toMatch(/Brain metastases/);
      expect(await page.getByRole('region', { name: 'Patient' }).innerText()).toMatch(
        /Synthetic Testpatient/,
      );
      const here = new URL(page.url());
      expect(here.searchParams.has('code')).toBe(false);
      // The state key stays: it is how a reload finds this launch's session (§6 item 48).
      expect(here.searchParams.get('state')).toMatch(/^[0-9a-f-]{36}$/);
      expect(page.url()).not.toMatch(/access_token/);
      // smart_style_url applied.
      expect(await page.evaluate(() => document.documentElement.style.getPropertyValue('--accent'))).toBe(
        '#0b5cad',
      );
      expect(pageErrors).toEqual([]);
      expect(consoleErrors).toEqual([]);

      await page.screenshot({ path: join(SHOTS, 'smart-launch-1280.png') });
      await page.screenshot({ path: join(SHOTS, 'smart-launch-1280-full.png'), fullPage: true });
      await page
        .getByRole('region', { name: 'Therapy history' })
        .screenshot({ path: join(SHOTS, 'timeline.png') });
      await page
        .getByRole('region', { name: 'Before the first dose' })
        .screenshot({ path: join(SHOTS, 'checks.png') });
      await page.setViewportSize({ width: 800, height: 900 });
      await page.screenshot({ path: join(SHOTS, 'smart-launch-800.png') });
      await page.screenshot({ path: join(SHOTS, 'smart-launch-800-full.png'), fullPage: true });
      await page.emulateMedia({ media: 'print' });
      await page.screenshot({ path: join(SHOTS, 'smart-launch-print.png'), fullPage: true });
      await context.close();
    },
    60_000,
  );

  it.skipIf(!hasChromium)(
    'refuses an issuer that is not on the allowlist, with a readable page and no redirect',
    async () => {
      if (!browser || !ehr) throw new Error('set-up failed');
      const page = await browser.newPage();
      await page.goto(
        `${ehr.base}/launch.html?iss=${encodeURIComponent('https://evil.example/fhir')}&launch=xyz`,
      );
      await page.getByRole('heading', { name: 'This EHR is not on the list of allowed servers' }).waitFor();
      expect(new URL(page.url()).origin).toBe(ehr.base);
      await page.close();
    },
  );
});
