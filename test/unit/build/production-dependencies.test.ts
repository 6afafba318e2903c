/**
 * `npm ci --omit=dev && npm run serve` (and `npm run feedback-report`) must work: every package the
 * production CDS server (cds-hooks/serve.ts, run through tsx) and the report command import,
 * directly or through their own modules, is a runtime dependency, and the packages only the
 * sandbox, the app build and the tests use are not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** The npm package of a bare import: `@scope/name/sub` → `@scope/name`, `hono/jwt` → `hono`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

async function packagesImportedBy(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const specs = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => i.path),
  );
  return [...new Set(specs.filter((s) => !s.startsWith('node:')).map(packageOf))].sort();
}

describe('production dependencies', () => {
  it('every package cds-hooks/serve.ts imports is in "dependencies" (so `npm ci --omit=dev` keeps it)', async () => {
    const used = await packagesImportedBy('cds-hooks/serve.ts');
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it('`npm run serve` runs through tsx, so tsx is a runtime dependency', () => {
    expect(pkg.scripts.serve).toMatch(/--import tsx/);
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('the sandbox-only FHIR server packages (@medplum/*) are development dependencies, and the server does not import them', async () => {
    const medplum = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((p) =>
      p.startsWith('@medplum/'),
    );
    expect(medplum.length).toBeGreaterThan(0);
    for (const p of medplum) expect(pkg.dependencies[p], p).toBeUndefined();
    expect((await packagesImportedBy('cds-hooks/serve.ts')).filter((p) => p.startsWith('@medplum/'))).toEqual(
      [],
    );
  });

  it("`npm run feedback-report` runs through tsx and imports only runtime dependencies (the stores' drivers among them)", async () => {
    expect(pkg.scripts['feedback-report']).toBe('node --import tsx scripts/feedback-report.ts');
    const used = await packagesImportedBy('scripts/feedback-report.ts');
    expect(used).toEqual(expect.arrayContaining(['@electric-sql/pglite', 'pg', 'zod']));
    expect(used.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});
