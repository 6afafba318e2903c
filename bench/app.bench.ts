/**
 * SMART app benchmarks (issue 4): (1) the production build's JavaScript, raw and gzipped; (2) the
 * sequential FHIR request waves from launch to rendered summary, measured by driving the app's loader
 * (`src/app/smart/load-patient-data.ts`, the code the browser runs) with a fhirclient Client against
 * a local FHIR server that adds latency to every request. Waves are groups of overlapping requests;
 * the token exchange is one more wave before them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import smart from 'fhirclient/lib/entry/node.js';
import { build } from 'vite';
import { assess } from '../src/app/hooks/use-assessment.ts';
import type { SmartClient } from '../src/app/smart/load-patient-data.ts';
import { ros1BrainMetsRecord } from '../test/fixtures/cds/records.ts';
import priorCrizotinib from '../test/fixtures/patients/prior-crizotinib-via-medication-reference.expect-progressed-crizotinib.json' with {
  type: 'json',
};
import { search, searchset } from '../test/integration/cds-hooks/fhir-search.ts';

const ROOT = join(import.meta.dirname, '..');
const LATENCY_MS = 50;

export interface AppBench {
  jsFiles: number;
  jsBytes: number;
  jsGzipBytes: number;
  largestGzipBytes: number;
  records: {
    name: string;
    requests: number;
    fhirWaves: number;
    totalWaves: number;
    ms: number;
    gaps: number;
  }[];
}

async function buildSizes(): Promise<
  Pick<AppBench, 'jsFiles' | 'jsBytes' | 'jsGzipBytes' | 'largestGzipBytes'>
> {
  const out = mkdtempSync(join(tmpdir(), 'alk-ros1-app-bench-'));
  try {
    await build({
      root: ROOT,
      mode: 'production',
      logLevel: 'error',
      build: { outDir: out, emptyOutDir: true, sourcemap: false },
    });
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.js')) files.push(p);
      }
    };
    walk(out);
    const sizes = files.map((f) => {
      const b = readFileSync(f);
      return { raw: b.length, gz: gzipSync(b, { level: 9 }).length };
    });
    return {
      jsFiles: files.length,
      jsBytes: sizes.reduce((n, s) => n + s.raw, 0),
      jsGzipBytes: sizes.reduce((n, s) => n + s.gz, 0),
      largestGzipBytes: Math.max(0, ...sizes.map((s) => s.gz)),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

type R = Record<string, unknown>;

/** A FHIR server over `resources` with per-request latency; honours `_include=…:medication`. */
async function fhirServer(resources: R[]): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [type, id] = url.pathname.replace(/^\/fhir\//, '').split('/');
    setTimeout(() => {
      let body: unknown;
      if (id) body = resources.find((r) => r.resourceType === type && r.id === id);
      else {
        const matches = search(resources, String(type), url.searchParams);
        const bundle = searchset(matches) as { entry: { resource: R; search?: { mode: string } }[] };
        if (url.searchParams.get('_include')?.endsWith(':medication')) {
          const refs = new Set(
            matches.map((m) => (m.medicationReference as { reference?: string } | undefined)?.reference),
          );
          for (const m of resources)
            if (m.resourceType === 'Medication' && refs.has(`Medication/${m.id}`))
              bundle.entry.push({ resource: m, search: { mode: 'include' } });
        }
        body = bundle;
      }
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/fhir+json' });
      res.end(JSON.stringify(body ?? { resourceType: 'OperationOutcome', issue: [] }));
    }, LATENCY_MS);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  return { base, close: () => new Promise((r) => server.close(() => r())) };
}

async function measure(name: string, resources: R[], patientId: string, now: string) {
  const srv = await fhirServer(resources);
  try {
    const client = smart({} as never, {} as never).client({
      serverUrl: srv.base,
      tokenResponse: { access_token: 'bench', patient: patientId, expires_in: 3600 },
    }) as unknown as SmartClient;
    const started = performance.now();
    const ready = await assess(client, { now });
    const ms = performance.now() - started;
    return {
      name,
      requests: ready.data.requests,
      fhirWaves: ready.data.waves,
      totalWaves: 1 + ready.data.waves,
      ms,
      gaps: ready.data.gaps.length,
    };
  } finally {
    await srv.close();
  }
}

export async function benchApp(): Promise<AppBench> {
  const sizes = await buildSizes();
  const records = [
    await measure(
      'ROS1+ brain metastases (ros1BrainMetsRecord)',
      ros1BrainMetsRecord(),
      'ros1-bm',
      '2026-11-22T09:00:00Z',
    ),
    await measure(
      'prior crizotinib via medicationReference',
      (priorCrizotinib as { entry: { resource: R }[] }).entry.map((e) => e.resource),
      'pt-med-07',
      '2021-08-01T00:00:00Z',
    ),
  ];
  return { ...sizes, records };
}

export function printApp(r: AppBench): void {
  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log('\nSMART app');
  console.log(
    `build: ${r.jsFiles} JS file(s), ${kb(r.jsBytes)} KB raw, ${kb(r.jsGzipBytes)} KB gzip (largest file ${kb(r.largestGzipBytes)} KB gzip); goal < 200 KB gzip: ${r.jsGzipBytes < 200 * 1024 ? 'met' : 'MISSED'}`,
  );
  for (const x of r.records)
    console.log(
      `launch → summary, ${x.name}: token + ${x.fhirWaves} FHIR wave(s) = ${x.totalWaves} sequential waves, ${x.requests} FHIR requests, ${x.gaps} gap(s), ${x.ms.toFixed(0)} ms with ${LATENCY_MS} ms per request (goal: token, then one wave: ${x.fhirWaves === 1 ? 'met' : 'MISSED'})`,
    );
}
