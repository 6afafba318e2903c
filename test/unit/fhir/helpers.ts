/** Test helpers for the FHIR layer: fixture loading and subset matching of expected findings. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', 'fixtures');

export function readJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(FIXTURES, ...parts), 'utf8')) as T;
}

export function listFixtures(dir: string, suffix = '.json'): string[] {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith(suffix) && !f.endsWith('.expected.json'))
    .sort();
}

/** An HL7 example resource from test/fixtures/hl7. */
export function hl7(name: string): Record<string, unknown> & { resourceType: string; id: string } {
  return readJson('hl7', `${name}.json`);
}

/**
 * True when `actual` has every property of `expected`: numbers within 0.01 (or 0.1% for large
 * values), arrays in `expected` must all be contained in the actual array, objects recurse.
 * `null` expects absence.
 */
export function matchesSubset(actual: unknown, expected: unknown): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (typeof expected === 'number') {
    return (
      typeof actual === 'number' && Math.abs(actual - expected) <= Math.max(0.01, Math.abs(expected) * 0.001)
    );
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.every((e) => actual.some((a) => matchesSubset(a, e)));
  }
  if (typeof expected === 'object') {
    if (typeof actual !== 'object' || actual === null) return false;
    return Object.entries(expected as Record<string, unknown>).every(([k, v]) =>
      matchesSubset((actual as Record<string, unknown>)[k], v),
    );
  }
  return actual === expected;
}
