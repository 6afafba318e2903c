/**
 * The clinical core is pure: no clock, no I/O, no randomness. Biome forbids the imports; this test
 * guards what a linter cannot see (reading the clock or random numbers) and determinism itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/evaluate.ts';
import { alkFish, brainMets, draft, kb, NOW, progressedOn, snapshot } from './builders.ts';

const root = join(import.meta.dirname, '../../../src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

describe('core purity', () => {
  const sources = [...files(join(root, 'core')), ...files(join(root, 'knowledge'))].filter((f) =>
    f.endsWith('.ts'),
  );

  it.each(sources.map((f) => [f.slice(root.length + 1), f]))(
    '%s reads no clock, randomness, environment or network',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/Date\.now\(|new Date\(\)|Math\.random|process\.env|fetch\(|XMLHttpRequest/);
    },
  );

  it('the same input gives the same assessment, and the input is not mutated', () => {
    const record = snapshot({
      biomarkers: [alkFish()],
      cns: [brainMets()],
      therapies: [progressedOn('crizotinib')],
    });
    const before = structuredClone(record);
    const drafts = [draft('crizotinib'), draft('pembrolizumab')];
    const a = evaluate(record, kb, { now: NOW, draftOrders: drafts });
    const b = evaluate(record, kb, { now: NOW, draftOrders: drafts });
    expect(a).toEqual(b);
    expect(record).toEqual(before);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});
