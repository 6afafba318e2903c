/**
 * Shared browser-test set-up: the production build (Vite's JS API, into a temp directory) and Debian's
 * Chromium driven by playwright-core. Tests skip, with a message, when /usr/bin/chromium is absent.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../../sandbox/server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const SHOTS = join(import.meta.dirname, '..', '__screenshots__');

export function warnIfNoChromium(what: string): void {
  if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} not found: ${what} is skipped.`);
}

/** Builds the app into a fresh temp directory; returns it and a clean-up. */
export async function buildApp(): Promise<{ dist: string; remove: () => void }> {
  const dist = mkdtempSync(join(tmpdir(), 'alk-ros1-app-'));
  await build({
    root: ROOT,
    mode: 'production',
    logLevel: 'error',
    build: { outDir: dist, emptyOutDir: true, sourcemap: false },
  });
  return { dist, remove: () => rmSync(dist, { recursive: true, force: true }) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Collects uncaught page errors and console errors from the moment it is called. */
export function watchErrors(page: Page): { pageErrors: string[]; consoleErrors: string[] } {
  const out = { pageErrors: [] as string[], consoleErrors: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error') out.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => out.pageErrors.push(String(e)));
  return out;
}

/** Waits until the app shows its summary or a full error page (either is "rendered"). */
export async function waitForOutcome(page: Page, timeout = 30_000): Promise<'summary' | 'error'> {
  const el = await page.waitForSelector('[data-testid="summary"], .error-page', { timeout });
  return (await el.getAttribute('data-testid')) === 'summary' ? 'summary' : 'error';
}

/** The sandbox (`npm start`'s server) in memory on a free port, serving a fresh build of the app. */
export async function startSandboxWithApp(
  options: Partial<SandboxOptions> = {},
): Promise<{ sandbox: Sandbox; remove: () => void }> {
  const built = await buildApp();
  const sandbox = await startSandbox({
    port: 0,
    feedbackDataDir: 'memory://',
    logLevel: 'silent',
    appDist: built.dist,
    ...options,
  });
  return { sandbox, remove: built.remove };
}

/** The sandbox with a fresh build of its EHR page (`vite.sandbox.config.ts`), in memory on a free port. */
export async function startSandboxWithEhrPage(): Promise<{ sandbox: Sandbox; remove: () => void }> {
  const ehrDist = mkdtempSync(join(tmpdir(), 'alk-ros1-ehr-'));
  await build({
    configFile: join(ROOT, 'vite.sandbox.config.ts'),
    logLevel: 'error',
    mode: 'production',
    build: { outDir: ehrDist, emptyOutDir: true, sourcemap: false },
  });
  const sandbox = await startSandbox({ port: 0, feedbackDataDir: 'memory://', logLevel: 'silent', ehrDist });
  return { sandbox, remove: () => rmSync(ehrDist, { recursive: true, force: true }) };
}

/** The sandbox EHR's launch API: a fresh launch URL (`iss` + `launch`) for this patient. */
export async function sandboxLaunchUrl(base: string, patientId: string): Promise<string> {
  const res = await fetch(`${base}/sandbox/api/launch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ patientId }),
  });
  if (res.status !== 200) throw new Error(`the sandbox launch API answered ${res.status}`);
  return ((await res.json()) as { launchUrl: string }).launchUrl;
}
