/**
 * Records come from outside: a field of the wrong JSON type (a numeric `system`, an object `code`)
 * must be read as absent, never throw. A throw here would turn a CDS request into a 500 and leave the
 * app without a summary.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/core/index.ts';
import { toSnapshot } from '../../../src/fhir/to-snapshot.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';
import { alkG1202rRecord, ros1BrainMetsRecord } from '../../fixtures/cds/records.ts';

const FIELDS = ['system', 'code', 'display', 'text', 'unit', 'reference', 'value', 'status'];
const WRONG_TYPES: [string, unknown][] = [
  ['a number', 42],
  ['an object', { nested: 'x' }],
  ['an array', ['x']],
  ['a boolean', true],
  ['null', null],
];

/** A deep copy with every `field` (at any depth) replaced by `value`. */
function replaceEverywhere(node: unknown, field: string, value: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => replaceEverywhere(n, field, value));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === field ? value : replaceEverywhere(v, field, value)]),
  );
}

const countField = (node: unknown, field: string): number =>
  Array.isArray(node)
    ? node.reduce((n: number, x) => n + countField(x, field), 0)
    : node !== null && typeof node === 'object'
      ? Object.entries(node).reduce((n, [k, v]) => n + (k === field ? 1 : 0) + countField(v, field), 0)
      : 0;

describe('fields of the wrong JSON type', () => {
  const kb = getKnowledge();
  const records = {
    'ROS1+ with brain metastases': ros1BrainMetsRecord(),
    'ALK+ G1202R after progression': alkG1202rRecord(),
  };
  for (const [name, record] of Object.entries(records)) {
    for (const field of FIELDS) {
      it.each(WRONG_TYPES)(`${name}: every "${field}" as %s is read without a throw`, (_, value) => {
        expect(countField(record, field)).toBeGreaterThan(0);
        const broken = replaceEverywhere(record, field, value) as unknown[];
        const snapshot = toSnapshot(broken);
        const assessment = evaluate(snapshot, kb, { now: '2026-11-22T00:00:00Z' });
        expect(assessment).toBeDefined();
      });
    }
  }
});
