/**
 * `npm run serve` as an operator meets it (the real `cds-hooks/serve.ts` in its own process): it
 * listens on `HOST`, warns at start about CDS clients with no `fhir_servers` allowlist, and on a
 * busy port or a HOST that is not this machine's says so in one line and exits 1, no stack trace.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ISSUERS = JSON.stringify([
  { iss: 'https://open.example.org', jwks_url: 'https://open.example.org/jwks' },
  {
    iss: 'https://bound.example.org',
    jwks_url: 'https://bound.example.org/jwks',
    fhir_servers: ['https://bound.example.org/fhir'],
  },
]);

interface Run {
  code: number | null;
  output: string;
}

/** Runs serve until it prints `until` (then stops it) or exits by itself. */
function runServe(env: Record<string, string>, until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cds-hooks/serve.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      CDS_TRUSTED_ISSUERS: ISSUERS,
      FEEDBACK_DATA_DIR: 'memory://',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (until?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe('npm run serve', () => {
  it('listens on HOST and warns about CDS clients without a fhir_servers allowlist', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const run = await runServe({ HOST: '127.0.0.1', PORT: String(port) }, /"msg":"listening"/);
    const lines = run.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'listening')).toMatchObject({ host: '127.0.0.1', port });
    const warning = lines.find((l) => /no fhir_servers allowlist/.test(l.msg));
    expect(warning?.issuers).toEqual(['https://open.example.org']);
  }, 40_000);

  it('on a busy port: one plain line and exit code 1', async () => {
    const run = await runServe({ HOST: '127.0.0.1', PORT: String(busyPort) });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(new RegExp(`port ${busyPort} on 127.0.0.1 is in use`));
    expect(run.output).not.toMatch(/\n\s+at /);
  }, 40_000);

  it('on a HOST that is not this machine: one plain line and exit code 1', async () => {
    const run = await runServe({ HOST: '192.0.2.1', PORT: String(busyPort) });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/HOST 192.0.2.1 is not an address of this machine/);
    expect(run.output).not.toMatch(/\n\s+at /);
  }, 40_000);
});
