/**
 * `npm run dev` can be launched by the local sandbox: the Vite dev server answers launch-config.json
 * with the sandbox's FHIR servers added to issMatch; the file the production build ships does not
 * carry them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SANDBOX_ISS } from '../../../scripts/dev-launch-config.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
let server: ViteDevServer;
let base = '';

beforeAll(async () => {
  server = await createServer({
    configFile: join(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'silent',
    server: { port: 0, host: '127.0.0.1', strictPort: false },
  });
  await server.listen();
  base = server.resolvedUrls?.local[0] ?? '';
}, 60_000);

afterAll(async () => {
  await server?.close();
});

const allowed = (patterns: string[], iss: string) => patterns.some((p) => new RegExp(`^${p}$`).test(iss));

describe('launch-config.json on the dev server', () => {
  it('adds the local sandbox (either loopback name, any port) and nothing else', async () => {
    const config = (await (await fetch(`${base}launch-config.json`)).json()) as { issMatch: string[] };
    expect(config.issMatch).toContain(LOCAL_SANDBOX_ISS);
    for (const iss of ['http://localhost:3000/fhir', 'http://127.0.0.1:3100/fhir'])
      expect(allowed(config.issMatch, iss), iss).toBe(true);
    for (const iss of [
      'http://evil.example/fhir',
      'http://localhost:3000/fhir/../open',
      'http://localhost.evil:3000/fhir',
    ])
      expect(allowed(config.issMatch, iss), iss).toBe(false);
  });

  it('is not in the launch-config.json that production builds ship', () => {
    const shipped = JSON.parse(readFileSync(join(ROOT, 'public', 'launch-config.json'), 'utf8')) as {
      issMatch: string[];
    };
    expect(shipped.issMatch).not.toContain(LOCAL_SANDBOX_ISS);
  });
});
