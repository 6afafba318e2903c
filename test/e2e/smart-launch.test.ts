/**
 * The built app in Debian's Chromium, launched the way an EHR launches it: a minimal SMART EHR in
 * one node:http server (smart-configuration, authorize with PKCE S256 checks, token, FHIR searches
 * requiring the bearer token) serving the production build. Renders a ROS1+ patient with brain
 * metastases and saves screenshots under test/e2e/__screenshots__/ (git-ignored).
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ros1BrainMetsRecord } from '../fixtures/cds/records.ts';
import { search, searchset } from '../integration/cds-hooks/fhir-search.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn('[e2e] /usr/bin/chromium not found: the SMART launch browser test is skipped.');

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(import.meta.dirname, '__screenshots__');
const CLIENT_ID = 'e2e-client';
const PATIENT = 'ros1-bm';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

const b64url = (buf: Buffer) =>
  buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

interface Ehr {
  server: Server;
  base: string;
  tokenCalls: number;
  fhirCalls: number;
  unauthorised: number;
  authorizeProblems: string[];
}

function startEhr(dist: string): Promise<Ehr> {
  const resources = ros1BrainMetsRecord(PATIENT);
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const tokens = new Set<string>();
  const ehr = { tokenCalls: 0, fhirCalls: 0, unauthorised: 0, authorizeProblems: [] as string[] } as Ehr;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d) => {
        s += d;
      });
      req.on('end', () => resolve(s));
    });

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', ehr.base);
    const p = url.pathname;
    const fhirBase = `${ehr.base}/fhir`;
    if (p === '/launch-config.json')
      return json(res, 200, {
        clientId: CLIENT_ID,
        issMatch: [fhirBase.replace(/[.]/g, '\\.')],
        redirectUri: 'index.html',
      });
    if (p === '/fhir/.well-known/smart-configuration')
      return json(res, 200, {
        issuer: ehr.base,
        authorization_endpoint: `${ehr.base}/auth/authorize`,
        token_endpoint: `${ehr.base}/auth/token`,
        code_challenge_methods_supported: ['S256'],
        capabilities: [
          'launch-ehr',
          'client-public',
          'context-ehr-patient',
          'permission-v2',
          'permission-v1',
          'context-passthrough-style',
        ],
      });
    if (p === '/fhir/metadata')
      return json(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
      });
    if (p === '/fhir/smart-style.json')
      return json(res, 200, { color_highlight: '#0b5cad', dim_border_radius: '6px' });
    if (p === '/auth/authorize') {
      const q = url.searchParams;
      const problems = [
        q.get('response_type') !== 'code' && 'response_type',
        q.get('client_id') !== CLIENT_ID && 'client_id',
        q.get('code_challenge_method') !== 'S256' && 'code_challenge_method',
        !q.get('code_challenge') && 'code_challenge',
        q.get('launch') !== 'xyz' && 'launch',
        q.get('aud') !== fhirBase && 'aud',
        !/^[0-9a-f-]{36}$/.test(q.get('state') ?? '') && 'state',
        !q.get('redirect_uri')?.startsWith(ehr.base) && 'redirect_uri',
        !q.get('scope')?.split(' ').includes('launch') && 'scope',
      ].filter((x): x is string => typeof x === 'string');
      ehr.authorizeProblems.push(...problems);
      if (problems.length)
        return json(res, 400, { error: 'invalid_request', error_description: problems.join(',') });
      const code = randomUUID();
      codes.set(code, { challenge: q.get('code_challenge') ?? '', redirectUri: q.get('redirect_uri') ?? '' });
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (p === '/auth/token' && req.method === 'POST') {
      ehr.tokenCalls++;
      const form = new URLSearchParams(await readBody(req));
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !grant ||
        form.get('grant_type') !== 'authorization_code' ||
        form.get('redirect_uri') !== grant.redirectUri ||
        b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge
      )
        return json(res, 400, { error: 'invalid_grant' });
      const token = randomUUID();
      tokens.add(token);
      return json(
        res,
        200,
        {
          access_token: token,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: 'launch openid fhirUser patient/*.rs',
          patient: PATIENT,
          need_patient_banner: true,
          smart_style_url: `${fhirBase}/smart-style.json`,
        },
        { 'cache-control': 'no-store', pragma: 'no-cache' },
      );
    }
    if (p.startsWith('/fhir/')) {
      ehr.fhirCalls++;
      const auth = req.headers.authorization ?? '';
      if (!tokens.has(auth.replace(/^Bearer /, ''))) {
        ehr.unauthorised++;
        return json(res, 401, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'login' }],
        });
      }
      const [type, id] = p.slice('/fhir/'.length).split('/');
      if (id) {
        const found = resources.find((r) => r.resourceType === type && r.id === id);
        return found
          ? json(res, 200, found)
          : json(res, 404, { resourceType: 'OperationOutcome', issue: [] });
      }
      return json(res, 200, searchset(search(resources, String(type), url.searchParams)));
    }
    // The built app (static files).
    const file = normalize(join(dist, p === '/' ? 'index.html' : p));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      ehr.server = server;
      ehr.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve(ehr);
    }),
  );
}

describe('SMART EHR launch in Chromium', () => {
  let dist = '';
  let ehr: Ehr | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!hasChromium) return;
    dist = mkdtempSync(join(tmpdir(), 'alk-ros1-app-'));
    await build({
      root: ROOT,
      mode: 'production',
      logLevel: 'error',
      build: { outDir: dist, emptyOutDir: true, sourcemap: false },
    });
    ehr = await startEhr(dist);
    browser = await chromium.launch({
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
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (ehr ? ehr.server.close(r) : r(undefined)));
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    'launches from the EHR, exchanges the code once, and renders the ROS1 brain-metastases summary',
    async () => {
      if (!browser || !ehr) throw new Error('set-up failed');
      mkdirSync(SHOTS, { recursive: true });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));

      const iss = `${ehr.base}/fhir`;
      await page.goto(`${ehr.base}/launch.html?iss=${encodeURIComponent(iss)}&launch=xyz`);
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
      expect(here.searchParams.has('state')).toBe(false);
      expect(page.url()).not.toMatch(/access_token/);
      // smart_style_url applied.
      expect(await page.evaluate(() => document.documentElement.style.getPropertyValue('--accent'))).toBe(
        '#0b5cad',
      );
      expect(errors).toEqual([]);

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
