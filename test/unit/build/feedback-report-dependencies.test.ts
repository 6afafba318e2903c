/**
 * `npm ci --omit=dev && npm run feedback-report` must work: every package the command imports,
 * directly or through the service's modules, is a runtime dependency, and it runs through tsx.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** The npm package of a bare import: `@scope/name/sub` → `@scope/name`, `hono/cors` → `hono`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

describe('npm run feedback-report after npm ci --omit=dev', () => {
  it('runs scripts/feedback-report.ts through tsx, a runtime dependency', () => {
    expect(pkg.scripts['feedback-report']).toBe('node --import tsx scripts/feedback-report.ts');
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('imports only packages in "dependencies"', async () => {
    const result = await build({
      entryPoints: [join(ROOT, 'scripts/feedback-report.ts')],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    });
    const used = [
      ...new Set(
        Object.values(result.metafile.inputs)
          .flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path))
          .filter((s) => !s.startsWith('node:'))
          .map(packageOf),
      ),
    ].sort();
    // The stores' drivers at least: PGlite and pg.
    expect(used).toEqual(expect.arrayContaining(['@electric-sql/pglite', 'pg', 'zod']));
    expect(used.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});
