/**
 * Two concurrent EHR launches for different patients in one browser, each reloaded, each still
 * showing its own patient [specs-cds-smart.md §6 item 48]; a reload that cannot find its session
 * shows the relaunch page, never the other patient. Against the sandbox (`startSandbox`, in
 * process): real SMART authorization with PKCE and per-launch patient context, serving the
 * production build of the app from one origin, as `npm start` does.
 *
 * Two tabs have a sessionStorage each; two frames of one tab share one, which is where fhirclient's
 * default (the current state key in sessionStorage['SMART_KEY']) lets the second launch take over
 * the first frame on reload.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandbox/server.ts';
import {
  hasChromium,
  launchChromium,
  SHOTS,
  sandboxLaunchUrl,
  startSandboxWithApp,
  warnIfNoChromium,
} from './support/browser.ts';

warnIfNoChromium('the two-launches browser test');

const A = { id: 'ros1-brain-mets', name: 'Henrik Prototype' };
const B = { id: 'alk-naive', name: 'Amelia Sample' };
const OUTCOME = '[data-testid="summary"], .error-page';

type Where = Page | Frame;

interface Shown {
  outcome: 'summary' | 'error';
  /** The app's patient banner (summary) or error heading and hint (error page). */
  text: string;
  /** The whole document, to check the other patient appears nowhere. */
  body: string;
}

async function shown(where: Where): Promise<Shown> {
  const el = await where.waitForSelector(OUTCOME, { timeout: 45_000 });
  const outcome = (await el.getAttribute('data-testid')) === 'summary' ? 'summary' : 'error';
  const text =
    outcome === 'summary'
      ? await where.getByRole('region', { name: 'Patient' }).innerText()
      : await el.innerText();
  return { outcome, text, body: await where.locator('body').innerText() };
}

/** Reloads a page or a frame, then reads what the new document shows. */
async function reload(where: Where): Promise<Shown> {
  if ('reload' in where) {
    await where.reload();
    return shown(where);
  }
  // A frame keeps its Frame object across navigations: mark the old document, reload, and wait
  // for a document without the mark that shows an outcome.
  await where.evaluate(() => {
    (window as unknown as { beforeReload?: boolean }).beforeReload = true;
    setTimeout(() => window.location.reload(), 0);
  });
  await where.waitForFunction(
    (sel) => !(window as unknown as { beforeReload?: boolean }).beforeReload && document.querySelector(sel),
    OUTCOME,
    { timeout: 45_000 },
  );
  return shown(where);
}

function expectPatient(s: Shown, own: typeof A, other: typeof A): void {
  expect(s.outcome).toBe('summary');
  expect(s.text).toContain(own.name);
  expect(s.body).not.toContain(other.name);
}

/** What the app's pages keep in the browser: no token in localStorage, no code in the address bar. */
async function expectNoLeak(where: Where): Promise<void> {
  const url = new URL(where.url());
  expect(url.searchParams.has('code')).toBe(false);
  expect(url.href).not.toMatch(/access_token|refresh_token/);
  expect(await where.evaluate(() => localStorage.length)).toBe(0);
}

describe('two concurrent SMART launches in one browser', () => {
  let remove = () => {};
  let sandbox: Sandbox | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    ({ sandbox, remove } = await startSandboxWithApp());
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await sandbox?.close();
    remove();
  });

  const launchUrl = (patientId: string) => sandboxLaunchUrl(sandbox?.base ?? '', patientId);

  it.skipIf(!hasChromium)(
    'two tabs of one browser context, each launched for a different patient and reloaded',
    async () => {
      if (!browser) throw new Error('set-up failed');
      context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      const tabA = await context.newPage();
      const tabB = await context.newPage();
      await tabA.goto(await launchUrl(A.id));
      expectPatient(await shown(tabA), A, B);
      await tabB.goto(await launchUrl(B.id));
      expectPatient(await shown(tabB), B, A);

      expectPatient(await reload(tabA), A, B);
      expectPatient(await reload(tabB), B, A);
      await expectNoLeak(tabA);
      await expectNoLeak(tabB);
      await tabA.screenshot({ path: join(SHOTS, 'two-launches-tab-a.png') });
      await tabB.screenshot({ path: join(SHOTS, 'two-launches-tab-b.png') });
      await context.close();
      context = undefined;
    },
    150_000,
  );

  it.skipIf(!hasChromium)(
    'two frames of one tab (one sessionStorage), each launched for a different patient and reloaded; a reload without its session shows the relaunch page',
    async () => {
      if (!browser || !sandbox) throw new Error('set-up failed');
      context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      // An EHR page on the app's origin holding two app frames (not a sandbox route: served here).
      const host = `${sandbox.base}/e2e-two-frames.html`;
      await page.route(host, (route) =>
        route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><title>Two frames</title><body style="margin:0;display:flex;gap:8px">
            <iframe name="a" title="App A" style="width:690px;height:890px;border:1px solid #999"></iframe>
            <iframe name="b" title="App B" style="width:690px;height:890px;border:1px solid #999"></iframe>`,
        }),
      );
      await page.goto(host);
      const frameA = page.frame({ name: 'a' });
      const frameB = page.frame({ name: 'b' });
      if (!frameA || !frameB) throw new Error('frames missing');

      // One launch after the other, as a clinician opening a second patient would.
      await frameA.goto(await launchUrl(A.id));
      expectPatient(await shown(frameA), A, B);
      await frameB.goto(await launchUrl(B.id));
      expectPatient(await shown(frameB), B, A);
      // What makes this case hard: the two frames share one sessionStorage.
      const sessions = (f: Frame) =>
        f.evaluate(() =>
          Object.keys(sessionStorage)
            .map((k) => JSON.parse(sessionStorage.getItem(k) ?? 'null') as unknown)
            .map((v) => (v as { tokenResponse?: { patient?: string } } | null)?.tokenResponse?.patient)
            .filter((p): p is string => typeof p === 'string')
            .sort(),
        );
      await frameB.evaluate(() => sessionStorage.setItem('e2e-shared', '1'));
      expect(await frameA.evaluate(() => sessionStorage.getItem('e2e-shared'))).toBe('1');

      const reloadedA = await reload(frameA);
      const reloadedB = await reload(frameB);
      await page.screenshot({ path: join(SHOTS, 'two-launches-frames-reloaded.png') });
      expectPatient(reloadedA, A, B);
      expectPatient(reloadedB, B, A);
      // Twice, in the other order: the last reload does not take over either frame.
      expectPatient(await reload(frameB), B, A);
      expectPatient(await reload(frameA), A, B);
      await expectNoLeak(frameA);
      await expectNoLeak(frameB);
      // B's launch left A's session in place.
      expect(await sessions(frameA)).toEqual([A.id, B.id].sort());

      // A's session is gone (cleared storage, an expired browser session): its reload must not
      // fall back to B's, which is still there.
      await frameA.evaluate((patient) => {
        for (const k of Object.keys(sessionStorage)) {
          const v = JSON.parse(sessionStorage.getItem(k) ?? 'null') as {
            tokenResponse?: { patient?: string };
          } | null;
          if (v?.tokenResponse?.patient === patient) sessionStorage.removeItem(k);
        }
      }, A.id);
      const lost = await reload(frameA);
      await page.screenshot({ path: join(SHOTS, 'two-launches-frame-a-lost-session.png') });
      expect(lost.outcome).toBe('error');
      expect(lost.text).toMatch(/Open this app from the EHR/);
      expect(lost.text).toMatch(/relaunch the app from the EHR/);
      expect(lost.body).not.toContain(B.name);
      expectPatient(await reload(frameB), B, A);

      // The app page without any launch in its address, in a tab where B's session is the current
      // one (sessionStorage['SMART_KEY'] as fhirclient's default keeps it): the relaunch page, not B.
      const keyB = await frameB.evaluate(
        (patient) =>
          Object.keys(sessionStorage).find(
            (k) =>
              (
                JSON.parse(sessionStorage.getItem(k) ?? 'null') as {
                  tokenResponse?: { patient?: string };
                } | null
              )?.tokenResponse?.patient === patient,
          ),
        B.id,
      );
      expect(keyB).toBeTruthy();
      await frameA.evaluate((k) => sessionStorage.setItem('SMART_KEY', JSON.stringify(k)), keyB);
      await frameA.goto(`${sandbox.base}/app/index.html`);
      const bare = await shown(frameA);
      expect(bare.outcome).toBe('error');
      expect(bare.text).toMatch(/relaunch the app from the EHR/);
      expect(bare.body).not.toContain(B.name);

      // B's address opened in a new tab (no session there): the relaunch page.
      const tab = await context.newPage();
      await tab.goto(frameB.url());
      const copied = await shown(tab);
      expect(copied.outcome).toBe('error');
      expect(copied.text).toMatch(/relaunch the app from the EHR/);
      expect(copied.body).not.toContain(B.name);
      await tab.screenshot({ path: join(SHOTS, 'two-launches-copied-url.png') });

      await context.close();
      context = undefined;
    },
    240_000,
  );
});
