/**
 * Every patient fixture through toSnapshot, checked against its sibling `*.expected.json` (the
 * outcome its file name states). Expected items are subsets: each must match one actual finding.
 */
import { describe, expect, it } from 'vitest';
import type { PatientSnapshot } from '../../../src/core/model.ts';
import { toSnapshot } from '../../../src/fhir/index.ts';
import { listFixtures, matchesSubset, readJson } from './helpers.ts';
import { testKnowledge } from './kb.ts';

interface Expected {
  now: string;
  description: string;
  biomarkerCount?: number;
  biomarkers?: Record<string, unknown>[];
  nsclc?: Record<string, unknown> | null;
  cns?: Record<string, unknown>[];
  cnsCount?: number;
  therapies?: Record<string, unknown>[];
  therapyCount?: number;
  activeMedications?: string[];
  measurements?: (Record<string, unknown> & { unreadableSet?: boolean })[];
  measurementCount?: number;
  dataGaps?: { reason: string; domainsInclude: string[] }[];
  notesInclude?: string[];
  oligometastatic?: string;
}

const files = listFixtures('patients');

describe('patient fixtures', () => {
  it('has a fixture set with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', (file) => {
    const bundle = readJson('patients', file);
    const exp = readJson<Expected>('patients', file.replace(/\.json$/, '.expected.json'));
    const snap: PatientSnapshot = toSnapshot([bundle], [], { knowledge: testKnowledge() });
    const show = (x: unknown) => JSON.stringify(x, null, 1);

    if (exp.biomarkerCount !== undefined)
      expect(snap.biomarkers, show(snap.biomarkers)).toHaveLength(exp.biomarkerCount);
    for (const b of exp.biomarkers ?? []) {
      expect(
        snap.biomarkers.some((a) => matchesSubset(a, b)),
        `${show(b)}\nin\n${show(snap.biomarkers)}`,
      ).toBe(true);
    }
    if (exp.nsclc === null) expect(snap.nsclc).toBeUndefined();
    else if (exp.nsclc) expect(matchesSubset(snap.nsclc, exp.nsclc), show(snap.nsclc)).toBe(true);
    if (exp.cnsCount !== undefined) expect(snap.cns, show(snap.cns)).toHaveLength(exp.cnsCount);
    for (const c of exp.cns ?? [])
      expect(
        snap.cns.some((a) => matchesSubset(a, c)),
        show(snap.cns),
      ).toBe(true);
    if (exp.therapyCount !== undefined)
      expect(snap.therapies, show(snap.therapies)).toHaveLength(exp.therapyCount);
    for (const t of exp.therapies ?? []) {
      expect(
        snap.therapies.some((a) => matchesSubset(a, t)),
        `${show(t)}\nin\n${show(snap.therapies)}`,
      ).toBe(true);
    }
    if (exp.activeMedications) {
      expect(snap.activeMedications.map((m) => m.drug).sort()).toEqual([...exp.activeMedications].sort());
    }
    if (exp.measurementCount !== undefined)
      expect(snap.measurements, show(snap.measurements)).toHaveLength(exp.measurementCount);
    for (const { unreadableSet, ...m } of exp.measurements ?? []) {
      const found = snap.measurements.filter((a) => matchesSubset(a, m));
      expect(found.length, `${show(m)}\nin\n${show(snap.measurements)}`).toBeGreaterThan(0);
      if (unreadableSet) expect(found[0]?.unreadable).toBeTruthy();
    }
    for (const g of exp.dataGaps ?? []) {
      expect(
        snap.dataGaps.some(
          (a) => a.reason === g.reason && g.domainsInclude.every((d) => a.domains.includes(d as never)),
        ),
        show(snap.dataGaps),
      ).toBe(true);
    }
    for (const n of exp.notesInclude ?? []) expect(snap.notes.join('\n')).toContain(n);
    if (exp.oligometastatic) expect(snap.oligometastatic).toBe(exp.oligometastatic);
  });
});
