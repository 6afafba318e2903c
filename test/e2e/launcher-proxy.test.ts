/**
 * The built app in Debian's Chromium, launched through a double of the SMART Health IT launcher
 * (its proxy collapses `//` in the query and drops `Authorization`) in front of the sandbox's open
 * FHIR endpoint, and launched directly by the sandbox EHR. The assessment must be the same both
 * ways: the searches' values are percent-encoded, so the proxy cannot change what they match.
 * Patients: the ROS1+ brain-metastasis chart that read as "not tested" behind the real launcher,
 * and the critical ones (carbamazepine, QTc 512 ms, LVEF 38 %, brand-only medicationReference).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/server.ts';
import {
  hasChromium,
  launchChromium,
  sandboxLaunchUrl,
  startSandboxWithApp,
  waitForOutcome,
  warnIfNoChromium,
} from './support/browser.ts';
import { type LauncherProxy, startLauncherProxy } from './support/launcher-proxy.ts';

warnIfNoChromium('the SMART launcher proxy browser test');

/** The regions of the summary a clinician reads, in order (the options heading names the gene). */
const REGIONS: (string | RegExp)[] = [
  'At a glance',
  'Biomarkers',
  /^Therapy options/,
  'Interactions with current medications',
  'Before the first dose',
  'Therapy history',
];

async function assessmentOf(page: Page, url: string, fhirBase: string): Promise<Record<string, string>> {
  await page.goto(url);
  expect(await waitForOutcome(page, 45_000)).toBe('summary');
  const out: Record<string, string> = {};
  for (const name of REGIONS) {
    const region = page.getByRole('region', { name, exact: true });
    // Every region is on the page; a missing one fails here rather than comparing equal as absent.
    out[String(name)] = (await region.innerText({ timeout: 5_000 })).replaceAll(fhirBase, '<fhir>');
  }
  out.gaps = (await page.getByRole('alert').count()) ? await page.getByRole('alert').first().innerText() : '';
  return out;
}

describe('the app behind a SMART-launcher-style proxy', () => {
  let remove = () => {};
  let sandbox: Sandbox | undefined;
  let proxy: LauncherProxy | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    ({ sandbox, remove } = await startSandboxWithApp({
      appIssuers: ['http://127\\.0\\.0\\.1:\\d+/v/r4/fhir'],
    }));
    proxy = await startLauncherProxy(`${sandbox.base}/open/fhir`);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await sandbox?.close();
    remove();
  });

  const patients = [
    'ros1-brain-mets',
    'alk-carbamazepine',
    'alk-long-qtc',
    'ros1-low-lvef',
    'alk-alecensa-epic-refs',
  ];

  it.skipIf(!hasChromium).each(patients)(
    '%s: the same assessment through the proxy as launched directly',
    async (patientId) => {
      if (!browser || !sandbox || !proxy) throw new Error('set-up failed');
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();

      const launchUrl = await sandboxLaunchUrl(sandbox.base, patientId);
      const direct = await assessmentOf(page, launchUrl, `${sandbox.base}/fhir`);

      const before = proxy.upstreamRequests.length;
      const viaProxy = await assessmentOf(
        page,
        proxy.launchUrl(`${sandbox.base}/app/launch.html`, patientId),
        proxy.fhirBase,
      );
      const sent = proxy.upstreamRequests.slice(before);

      // The proxy did collapse slashes (so the test would catch unencoded values), yet no search
      // value contained one to collapse.
      expect(sent.length).toBeGreaterThanOrEqual(12);
      expect(sent.every((u) => /^http:\/[^/]/.test(u))).toBe(true);
      expect(sent.some((u) => /[?&][a-z_-]+=[^&]*:\//i.test(u) && !/%3A%2F%2F/i.test(u))).toBe(false);

      expect(direct.gaps).toBe('');
      expect(viaProxy).toEqual(direct);
      // No internal document names on the clinician's screen.
      expect(await page.locator('body').innerText()).not.toMatch(
        /\bseeds?\b|\bspec\b|specification|\.txt\b|\bS00\d\b/i,
      );
      await context.close();
    },
    120_000,
  );

  it.skipIf(!hasChromium)(
    'shows the ROS1+ brain-metastasis patient as ROS1 positive with brain metastases through the proxy',
    async () => {
      if (!browser || !sandbox || !proxy) throw new Error('set-up failed');
      const page = await browser.newPage();
      const seen = await assessmentOf(
        page,
        proxy.launchUrl(`${sandbox.base}/app/launch.html`, 'ros1-brain-mets'),
        proxy.fhirBase,
      );
      expect(seen['At a glance']).toMatch(/ROS1 positive/);
      expect(seen['At a glance']).toMatch(/Brain metastases/);
      expect(seen[String(/^Therapy options/)]).toMatch(/Entrectinib/);
      await page.close();
    },
    120_000,
  );

  it.skipIf(!hasChromium)(
    'a bogus launch id, and a launch id used twice, each get their own plain message (not "session expired")',
    async () => {
      if (!browser || !sandbox) throw new Error('set-up failed');
      const page = await browser.newPage();
      await page.goto(
        `${sandbox.base}/app/launch.html?iss=${encodeURIComponent(`${sandbox.base}/fhir`)}&launch=not-a-launch`,
      );
      await page.getByRole('heading', { name: 'This launch cannot be used' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('main').innerText()).toMatch(/unknown or expired launch/);

      const launchUrl = await sandboxLaunchUrl(sandbox.base, 'alk-naive');
      await page.goto(launchUrl);
      expect(await waitForOutcome(page, 45_000)).toBe('summary');
      await page.goto(launchUrl);
      await page.getByRole('heading', { name: 'This launch cannot be used' }).waitFor({ timeout: 30_000 });
      await page.close();
    },
    120_000,
  );
});
