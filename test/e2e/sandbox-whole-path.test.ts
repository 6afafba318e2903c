/**
 * The whole product as `npm start` runs it, in Debian's Chromium: the real start script (it builds
 * the front ends when stale) on a free port, then the path a clinician takes in the sandbox EHR:
 * pick the ROS1+ brain-metastasis patient, launch the SMART app in the EHR frame and see the
 * recommendation; order alectinib, see the critical card, apply its suggestion, sign, and find the
 * feedback stored by the CDS service. Screenshots go to test/e2e/__screenshots__/ (git-ignored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasChromium,
  launchChromium,
  ROOT,
  SHOTS,
  warnIfNoChromium,
  watchErrors,
} from './support/browser.ts';

warnIfNoChromium('the npm start whole-path browser test');

const PATIENT = 'ros1-brain-mets';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `npm start`'s script and resolves with its base URL once it says it is ready. */
function startProduct(
  port: number,
  dataDir: string,
): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), FEEDBACK_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not get ready:\n${text}`)), 150_000);
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.includes('Press Ctrl+C to stop.')) {
        clearTimeout(timer);
        resolve({ child, base: `http://localhost:${port}`, output: () => text });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${text}`));
    });
  });
}

describe('npm start: the sandbox EHR, the SMART app and the CDS service together', () => {
  let product: Awaited<ReturnType<typeof startProduct>> | undefined;
  let browser: Browser | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'alk-ros1-sandbox-feedback-'));

  beforeAll(async () => {
    if (!hasChromium) return;
    product = await startProduct(await freePort(), dataDir);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (product) {
      const exited = new Promise((r) => product?.child.once('exit', r));
      product.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    'patient → SMART app recommendation → order alectinib → critical card → apply → sign → feedback stored',
    async () => {
      if (!browser || !product) throw new Error('set-up failed');
      const { base } = product;
      mkdirSync(SHOTS, { recursive: true });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const { pageErrors } = watchErrors(page);

      // The sandbox EHR: pick the patient; opening the chart fires patient-view.
      await page.goto(base);
      await page.getByTestId(`patient-${PATIENT}`).click();
      const therapyCard = page.locator('[data-testid="card"][data-topic="therapy-selection"]').first();
      await therapyCard.waitFor({ timeout: 30_000 });
      expect(await therapyCard.innerText()).toMatch(/entrectinib/i);

      // The SMART app, launched by the EHR into its frame (EHR launch with PKCE against the sandbox).
      await page.getByRole('tab', { name: 'SMART app' }).click();
      const app = page.frameLocator('iframe[title="SMART app"]');
      await app.locator('[data-testid="summary"]').waitFor({ timeout: 45_000 });
      const preferred = await app.getByRole('list', { name: 'Preferred options' }).innerText();
      expect(preferred).toMatch(/entrectinib/i);
      expect(preferred).toMatch(/repotrectinib/i);
      expect(preferred).not.toMatch(/alectinib/i);
      await page.screenshot({ path: join(SHOTS, 'sandbox-smart-app-ros1-brain-mets.png'), fullPage: false });

      // Orders: alectinib for a ROS1+ patient is a "do not give".
      await page.getByRole('tab', { name: 'Orders' }).click();
      await page.getByTestId('order-alectinib').click();
      const critical = page.locator(
        '[data-testid="order-select-cards"] [data-testid="card"][data-indicator="critical"][data-topic="order-concordance"]',
      );
      await critical.first().waitFor({ timeout: 30_000 });
      expect(await critical.first().innerText()).toMatch(/alectinib/i);
      await page.screenshot({ path: join(SHOTS, 'sandbox-order-alectinib-critical.png'), fullPage: true });

      // Apply its suggestion: the draft alectinib is replaced by a ROS1 TKI.
      const apply = critical.first().getByTestId('apply-suggestion').first();
      const label = await apply.innerText();
      expect(label).toMatch(/entrectinib|repotrectinib/i);
      await apply.click();
      const drafts = page.getByTestId('draft-orders');
      await expect.poll(() => drafts.innerText(), { timeout: 15_000 }).not.toMatch(/alectinib/i);
      expect(await drafts.innerText()).toMatch(/entrectinib|repotrectinib/i);

      // The CDS service stored the feedback (accepted, with the suggestion), shown in the log.
      const log = page.getByTestId('feedback-log');
      await expect.poll(() => log.innerText(), { timeout: 15_000 }).toMatch(/accepted/i);
      const stored = (await (await fetch(`${base}/sandbox/api/feedback`)).json()) as {
        serviceId: string;
        outcome: string;
        acceptedSuggestions: string[];
      }[];
      expect(stored).toContainEqual(
        expect.objectContaining({ serviceId: 'alk-ros1-order-select', outcome: 'accepted' }),
      );
      expect(stored.find((f) => f.outcome === 'accepted')?.acceptedSuggestions).toHaveLength(1);

      // Sign: order-sign runs; no critical card stands in the way of the replacement.
      await page.getByRole('button', { name: 'Sign orders' }).click();
      const signed = page.getByTestId('signed-orders');
      await signed.waitFor({ timeout: 30_000 });
      expect(await signed.innerText()).toMatch(/entrectinib|repotrectinib/i);
      await page.screenshot({ path: join(SHOTS, 'sandbox-signed-with-feedback.png'), fullPage: true });

      expect(pageErrors).toEqual([]);
      await context.close();
    },
    180_000,
  );
});
