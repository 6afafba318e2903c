/**
 * The clinician's screen, every sample patient, in Chromium after a real SMART launch from the
 * sandbox EHR: the first critical or warning finding is inside the first viewport at 1280×800 and
 * at 390×844 (a phone), the page never scrolls sideways at 390 px, and the printed tumour-board
 * summary fits on one or two A4 pages with the patient's name and the date on every page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CATALOG } from '../../sandbox/patients/load.ts';
import type { Sandbox } from '../../sandbox/server.ts';
import {
  hasChromium,
  launchChromium,
  sandboxLaunchUrl,
  startSandboxWithApp,
  waitForOutcome,
  warnIfNoChromium,
} from './support/browser.ts';

warnIfNoChromium('the severity-first browser test');

/** Pages in a PDF: one "/Type /Page" object per page ("/Pages" is the tree node). */
const pageCount = (pdf: Buffer) => (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length;

describe.skipIf(!hasChromium)('severity first, every sample patient', () => {
  let sandbox: Sandbox;
  let remove: () => void;
  let browser: Browser;

  beforeAll(async () => {
    ({ sandbox, remove } = await startSandboxWithApp());
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
    remove?.();
  });

  async function open(page: Page, id: string) {
    await page.goto(await sandboxLaunchUrl(sandbox.base, id));
    expect(await waitForOutcome(page)).toBe('summary');
  }

  it.each(SAMPLE_CATALOG.map((e) => [e.id] as const))(
    '%s: the worst finding is on the first screen at 1280×800 and 390×844; no sideways scroll; print ≤ 2 A4 pages, name and date on each',
    async (id) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await open(page, id);
        const items = page.locator('.attention-item');
        const count = await items.count();
        for (const [width, height] of [
          [1280, 800],
          [390, 844],
        ] as const) {
          await page.setViewportSize({ width, height });
          await page.evaluate(() => window.scrollTo(0, 0));
          const block = await page.locator('#attention-h').boundingBox();
          expect(block, `${id} ${width}px: the Needs-attention heading`).not.toBeNull();
          expect((block?.y ?? height) + (block?.height ?? 0)).toBeLessThanOrEqual(height);
          if (count > 0) {
            const first = await items.first().boundingBox();
            // The first finding starts on the first screen.
            expect(first?.y ?? height, `${id} ${width}px: ${await items.first().innerText()}`).toBeLessThan(
              height - 20,
            );
          }
          const sideways = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          expect(sideways, `${id} ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
        }
        // Critical before warning.
        const order = await items.evaluateAll((els) =>
          els.map((e) => (e.className.includes('sev-critical') ? 2 : 1)),
        );
        expect(order).toEqual([...order].sort((a, b) => b - a));

        // The printed summary.
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.emulateMedia({ media: 'print' });
        const board = page.locator('.tumour-board');
        expect(await board.isVisible()).toBe(true);
        // Name and date in the page-margin boxes of every printed page.
        const margins = await page.evaluate(() =>
          [...document.styleSheets]
            .flatMap((sheet) => [...sheet.cssRules])
            .flatMap((rule) => (rule instanceof CSSMediaRule ? [...rule.cssRules] : [rule]))
            .filter((rule) => rule instanceof CSSPageRule)
            .map((rule) => rule.cssText)
            .join('\n'),
        );
        const name = SAMPLE_CATALOG.find((e) => e.id === id)?.name ?? '';
        expect(margins).toMatch(
          new RegExp(`@top-left \\{[^}]*content: "${name}, born \\d{4}-\\d{2}-\\d{2}"`),
        );
        expect(margins).toMatch(
          /@top-right \{[^}]*content: "ALK\/ROS1 summary, \d{4}-\d{2}-\d{2}, page " counter\(page\)/,
        );
        expect(await page.locator('#attention-h').isVisible()).toBe(false);
        const pdf = await page.pdf({ format: 'A4', printBackground: false });
        const pages = pageCount(pdf);
        console.info(`[print] ${id}: ${pages} A4 page(s)`);
        expect(pages).toBeGreaterThanOrEqual(1);
        expect(pages, `${id} prints on ${pages} pages`).toBeLessThanOrEqual(2);
      } finally {
        await page.close();
      }
    },
    60_000,
  );

  it('the carbamazepine patient: the lorlatinib contraindication heads the page and badges the lorlatinib option', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await open(page, 'alk-carbamazepine');
      const first = page.locator('.attention-item').first();
      expect(await first.innerText()).toMatch(
        /Critical.*Lorlatinib \(Lorbrena\) \+ .*(Tegretol|carbamazepine)/i,
      );
      const badge = page.locator('.option', { hasText: 'Lorlatinib' }).locator('.sev-badge-critical');
      expect(await badge.count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it('the long-QTc and low-LVEF patients: the value is on the first screen, with the agents it concerns', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await open(page, 'alk-long-qtc');
      const qtc = page.locator('.attention-item', { hasText: 'QTc' });
      expect(await qtc.innerText()).toMatch(/QTc 512 ms .*critical before .*Crizotinib/);
      await open(page, 'ros1-low-lvef');
      expect(await page.locator('.attention-item', { hasText: 'LVEF' }).innerText()).toMatch(/LVEF 38 %/);
    } finally {
      await page.close();
    }
  });
});
