/**
 * The sample patients of the sandbox EHR (sandbox/patients): the files are complete and consistent,
 * every resource is valid FHIR R4, dates move with "today", each chart has years of history, and each
 * patient, run through the real pipeline (toSnapshot + evaluate), shows the clinical outcome its
 * catalog entry claims.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from 'fhir';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_CHECK_HORIZON_DAYS, CHECK_ANALYTE_CODES } from '../../../sandbox/patients/background.ts';
import {
  loadSamplePatients,
  SAMPLE_BUNDLES,
  SAMPLE_CATALOG,
  type SampleCatalogEntry,
  type SampleExpect,
  shiftDateString,
  shiftDaysFor,
} from '../../../sandbox/patients/load.ts';
import { evaluate } from '../../../src/core/index.ts';
import type { Assessment, DraftOrder } from '../../../src/core/model.ts';
import { dataRequirements, toSnapshot } from '../../../src/fhir/index.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';

const { Fhir, ParseConformance, Versions } = pkg;

type Res = Record<string, any> & { resourceType: string; id: string };

const DAY_MS = 86_400_000;
const ANCHOR = '2026-11-22T09:00:00Z';
const DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../sandbox/patients');
const kb = getKnowledge();

// The pipeline runs on the real clock: the point of date shifting is that every sample keeps its
// meaning whatever day the sandbox is started.
const TODAY = new Date();
const set = loadSamplePatients(TODAY);
const all = set.resources as Res[];

const resourcesOf = (id: string, resources: Res[] = all): Res[] =>
  resources.filter((r) => r.id === id || r.id.startsWith(`${id}-`));

const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Every date-like string in a resource, with its path. */
function datesIn(x: unknown, path = ''): { path: string; value: string }[] {
  if (typeof x === 'string') return DATE_RE.test(x) ? [{ path, value: x }] : [];
  if (Array.isArray(x)) return x.flatMap((v, i) => datesIn(v, `${path}[${i}]`));
  if (x !== null && typeof x === 'object')
    return Object.entries(x).flatMap(([k, v]) => datesIn(v, path ? `${path}.${k}` : k));
  return [];
}

/** A date string as the earliest instant it can mean (a date alone is that day's UTC midnight). */
const instantOf = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);

describe('sample patient files', () => {
  it('has at least 14 patients, each catalog entry with its bundle file and each file in the catalog', () => {
    expect(SAMPLE_CATALOG.length).toBeGreaterThanOrEqual(14);
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.json') && f !== 'catalog.json' && f !== 'practitioner.json')
      .sort();
    const catalogFiles = SAMPLE_CATALOG.map((e) => e.file).sort();
    expect(catalogFiles).toEqual(files);
    expect(Object.keys(SAMPLE_BUNDLES).sort()).toEqual(files);
    expect(new Set(SAMPLE_CATALOG.map((e) => e.id)).size).toBe(SAMPLE_CATALOG.length);
    for (const e of SAMPLE_CATALOG) {
      expect(e.file).toBe(`${e.id}.json`);
      expect(e.name.length).toBeGreaterThan(0);
      expect(e.scenario.length).toBeGreaterThan(0);
      expect(e.description.length).toBeGreaterThan(40);
    }
  });

  it('writes each story as a collection Bundle anchored on 2026-11-22 with its Patient and current outpatient Encounter', () => {
    for (const e of SAMPLE_CATALOG) {
      const bundle = SAMPLE_BUNDLES[e.file] as unknown as Res;
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('collection');
      expect(bundle.timestamp).toBe(ANCHOR);
      const story = (bundle.entry as { resource: Res }[]).map((x) => x.resource);
      expect(story.filter((r) => r.resourceType === 'Patient').map((r) => r.id)).toEqual([e.id]);
      const enc = story.find((r) => r.resourceType === 'Encounter' && r.id === `${e.id}-enc`);
      expect(enc?.status, e.id).toBe('in-progress');
      expect(enc?.class?.code, e.id).toBe('AMB');
      // The anchor day itself only as a date: a time on it could be later than "now" on the day.
      for (const d of datesIn(story))
        expect(d.value < '2026-11-22' || d.value === '2026-11-22', d.path).toBe(true);
    }
  });

  it('keeps the showcase patient of the browser test: ros1-brain-mets', () => {
    const showcase = set.patients.find((p) => p.id === 'ros1-brain-mets');
    expect(showcase?.expect.biomarkers.ROS1).toBe('positive');
    expect(showcase?.expect.cnsDisease).toBe(true);
    expect(showcase?.encounterId).toBe('ros1-brain-mets-enc');
  });

  it('gives every resource a globally unique id, prefixed with its patient id', () => {
    const ids = all.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const patientIds = SAMPLE_CATALOG.map((e) => e.id);
    for (const r of all) {
      if (r.resourceType === 'Practitioner') {
        expect(r.id).toBe('sandbox-oncologist');
        continue;
      }
      expect(
        patientIds.some((p) => r.id === p || r.id.startsWith(`${p}-`)),
        `${r.resourceType}/${r.id}`,
      ).toBe(true);
      expect(r.id.length).toBeLessThanOrEqual(64);
    }
  });

  it('resolves every reference inside the set (relative Type/id, or #contained)', () => {
    const known = new Set(all.map((r) => `${r.resourceType}/${r.id}`));
    const unresolved: string[] = [];
    const walk = (x: unknown, root: Res) => {
      if (Array.isArray(x)) for (const v of x) walk(v, root);
      else if (x !== null && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) {
          if (k === 'reference' && typeof v === 'string') {
            const ok = v.startsWith('#')
              ? (root.contained ?? []).some((c: Res) => `#${c.id}` === v)
              : /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(v) && known.has(v);
            if (!ok) unresolved.push(`${root.resourceType}/${root.id} -> ${v}`);
          } else walk(v, root);
        }
      }
    };
    for (const r of all) walk(r, r);
    expect(unresolved).toEqual([]);
  });

  it('has a Patient subject on every clinical resource, the one whose id prefixes it', () => {
    for (const r of all) {
      if (['Patient', 'Practitioner', 'Medication'].includes(r.resourceType)) continue;
      const subject = (r.subject ?? r.patient)?.reference as string | undefined;
      expect(subject, `${r.resourceType}/${r.id}`).toBeDefined();
      expect(r.id.startsWith(`${subject?.slice('Patient/'.length)}-`), `${r.resourceType}/${r.id}`).toBe(
        true,
      );
    }
  });
});

describe('FHIR R4 validity (fhir package)', () => {
  const validator = new Fhir(new ParseConformance(true, Versions.R4));
  const errorsOf = (resources: Res[]) =>
    resources.flatMap((r) =>
      validator
        .validate(r, { errorOnUnexpected: true })
        .messages.filter((m: { severity?: unknown }) => String(m.severity) === 'error')
        .map(
          (m: { location?: string; message?: string }) =>
            `${r.resourceType}/${r.id} ${m.location}: ${m.message}`,
        ),
    );

  it('validates the Practitioner', () => {
    expect(errorsOf(all.filter((r) => r.resourceType === 'Practitioner'))).toEqual([]);
  });

  it.each(SAMPLE_CATALOG.map((e) => [e.id]))('validates every resource of %s, story and background', (id) => {
    expect(errorsOf(resourcesOf(id))).toEqual([]);
  });

  it('validates each story Bundle as written', () => {
    const errors = Object.values(SAMPLE_BUNDLES).flatMap((b) => errorsOf([b as unknown as Res]));
    expect(errors).toEqual([]);
  });
});

describe('dates follow "today"', () => {
  const a = loadSamplePatients(new Date('2026-11-22T12:00:00Z'));
  const b = loadSamplePatients(new Date('2027-03-05T07:30:00Z'));
  const byId = (s: typeof a, id: string) => (s.resources as Res[]).find((r) => r.id === id) as Res;

  it('loads the files unchanged on the anchor day', () => {
    const bundle = SAMPLE_BUNDLES['ros1-brain-mets.json'] as unknown as { entry: { resource: Res }[] };
    for (const { resource } of bundle.entry) expect(byId(a, resource.id)).toEqual(resource);
  });

  it('moves a known Observation, its Patient birth date and background by exactly the days between two todays', () => {
    expect(shiftDaysFor(ANCHOR, new Date('2027-03-05T07:30:00Z'))).toBe(103);
    const k1 = byId(a, 'alk-naive-wk-k');
    const k2 = byId(b, 'alk-naive-wk-k');
    expect(Date.parse(k2.effectiveDateTime) - Date.parse(k1.effectiveDateTime)).toBe(103 * DAY_MS);
    expect(Date.parse(k2.issued) - Date.parse(k1.issued)).toBe(103 * DAY_MS);
    // Precision and zone as written: only the calendar date changes.
    expect(k2.effectiveDateTime.slice(10)).toBe(k1.effectiveDateTime.slice(10));
    expect(k1.effectiveDateTime).toMatch(/T07:50:00-05:00$/);
    const p1 = byId(a, 'alk-naive');
    const p2 = byId(b, 'alk-naive');
    expect(Date.parse(p2.birthDate) - Date.parse(p1.birthDate)).toBe(103 * DAY_MS);
    expect(p2.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const bg1 = byId(a, 'alk-naive-bg-enc-1');
    const bg2 = byId(b, 'alk-naive-bg-enc-1');
    expect(Date.parse(bg2.period.start) - Date.parse(bg1.period.start)).toBe(103 * DAY_MS);
    // The same patients, the same resources: only dates differ.
    expect(b.resources.length).toBe(a.resources.length);
    expect(b.patients.map((p) => p.id)).toEqual(a.patients.map((p) => p.id));
  });

  it('shifts dates, dateTimes and instants but not other strings', () => {
    expect(shiftDateString('2026-11-22', 10)).toBe('2026-12-02');
    expect(shiftDateString('2026-02-27T23:15:00-05:00', 2)).toBe('2026-03-01T23:15:00-05:00');
    expect(shiftDateString('2026-11-22T09:00:00.123Z', -365)).toBe('2025-11-22T09:00:00.123Z');
    expect(shiftDateString('2026-11', 10)).toBe('2026-11');
    expect(shiftDateString('SBX-100101', 10)).toBe('SBX-100101');
    expect(shiftDateString('8140/3', 10)).toBe('8140/3');
  });

  it.each([
    ['the anchor day', '2026-11-22T00:00:01Z'],
    ['early on a later day', '2031-07-09T00:00:01Z'],
    ['late on an earlier day', '2025-01-15T23:59:59Z'],
    ['the real clock', TODAY.toISOString()],
  ])('puts nothing in the future of today (%s)', (_label, iso) => {
    const today = new Date(iso);
    const s = loadSamplePatients(today);
    const future = (s.resources as Res[]).flatMap((r) =>
      datesIn(r)
        .filter((d) => instantOf(d.value) > today.getTime())
        .map((d) => `${r.resourceType}/${r.id}.${d.path} = ${d.value}`),
    );
    expect(future).toEqual([]);
  });

  it('keeps each patient the age the story was written with', () => {
    const age = (birth: string, at: string) => {
      const bd = new Date(birth);
      const t = new Date(at);
      let y = t.getUTCFullYear() - bd.getUTCFullYear();
      if (t.getUTCMonth() * 100 + t.getUTCDate() < bd.getUTCMonth() * 100 + bd.getUTCDate()) y -= 1;
      return y;
    };
    for (const [i, p] of a.patients.entries()) {
      const q = b.patients[i];
      expect(q && age(q.birthDate, '2027-03-05'), p.id).toBe(age(p.birthDate, '2026-11-22'));
    }
  });
});

describe('history and background', () => {
  it.each(SAMPLE_CATALOG.map((e) => [e.id]))(
    '%s has at least 200 resources and at least 3 years of history',
    (id) => {
      const mine = resourcesOf(id);
      expect(mine.length).toBeGreaterThanOrEqual(200);
      // History: the earliest visit and the earliest result, not birth dates or remembered onsets.
      const visits = mine.filter((r) => r.resourceType === 'Encounter').map((r) => instantOf(r.period.start));
      const results = mine
        .filter((r) => r.resourceType === 'Observation')
        .map((r) => instantOf(r.effectiveDateTime));
      const threeYearsAgo = TODAY.getTime() - 3 * 365.25 * DAY_MS;
      expect(Math.min(...visits)).toBeLessThanOrEqual(threeYearsAgo);
      expect(Math.min(...results)).toBeLessThanOrEqual(threeYearsAgo);
      expect(
        mine.filter((o) => o.resourceType === 'Observation' && o.id.includes('-bg-')).length,
      ).toBeGreaterThanOrEqual(150);
    },
  );

  it('codes background results with LOINC and UCUM, as laboratory or vital-signs', () => {
    for (const r of all.filter((x) => x.resourceType === 'Observation' && x.id.includes('-bg-'))) {
      const cat = r.category?.[0]?.coding?.[0]?.code;
      expect(['laboratory', 'vital-signs'], r.id).toContain(cat);
      expect(r.code.coding[0].system, r.id).toBe('http://loinc.org');
      const quantities = [r.valueQuantity, ...(r.component ?? []).map((c: Res) => c.valueQuantity)].filter(
        Boolean,
      );
      expect(quantities.length, r.id).toBeGreaterThan(0);
      for (const q of quantities) expect(q.system, r.id).toBe('http://unitsofmeasure.org');
    }
  });

  it(`never generates a pre-therapy analyte in the last ${BACKGROUND_CHECK_HORIZON_DAYS} days (background cannot make a check current)`, () => {
    expect(BACKGROUND_CHECK_HORIZON_DAYS).toBeGreaterThan(
      Math.max(...[...kb.checks.values()].map((c) => c.windowDays)),
    );
    const horizon = TODAY.getTime() - BACKGROUND_CHECK_HORIZON_DAYS * DAY_MS;
    const recent = all.filter((r) => {
      if (r.resourceType !== 'Observation' || !r.id.includes('-bg-')) return false;
      const codes = [r.code, ...(r.component ?? []).map((c: Res) => c.code)].flatMap((c) =>
        (c?.coding ?? []).map((x: Res) => x.code),
      );
      return (
        codes.some((c: string) => CHECK_ANALYTE_CODES.has(c)) && instantOf(r.effectiveDateTime) > horizon
      );
    });
    expect(recent.map((r) => r.id)).toEqual([]);
  });

  it('is deterministic: two loads give the same resources', () => {
    const again = loadSamplePatients(TODAY);
    expect(again.resources).toEqual(set.resources);
  });

  it('keeps every required search of src/fhir/queries.ts on one page of its _count for every patient', () => {
    const tokensOf = (concepts: unknown): string[] =>
      ([] as Res[])
        .concat((concepts as Res[] | Res | undefined) ?? [])
        .flatMap((c) => (c?.coding ?? []).map((x: Res) => `${x.system}|${x.code}`));
    const matches = (r: Res, params: Record<string, string>) =>
      Object.entries(params).every(([k, v]) => {
        const wanted = v.split(',');
        if (k === 'code') return tokensOf(r.code).some((t) => wanted.includes(t));
        if (k === 'category') return tokensOf(r.category).some((t) => wanted.includes(t));
        if (k === 'status') return wanted.includes(r.status);
        if (k === 'clinical-status')
          return tokensOf(r.clinicalStatus).some((t) => wanted.includes(t.split('|')[1] ?? ''));
        return true;
      });
    const over: string[] = [];
    for (const e of SAMPLE_CATALOG) {
      const mine = resourcesOf(e.id);
      for (const req of dataRequirements(kb).filter((q) => q.required && q.resourceType !== 'Patient')) {
        const n = mine.filter((r) => r.resourceType === req.resourceType && matches(r, req.params)).length;
        if (n > Number(req.params._count)) over.push(`${e.id} ${req.id}: ${n} > ${req.params._count}`);
      }
    }
    expect(over).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The clinical claim of each sample, through the real pipeline
// ---------------------------------------------------------------------------------------------

/** Extractor notes a sample is allowed to produce, with why. */
const EXPECTED_NOTES: Record<string, RegExp[]> = {
  // The ICD-10-CM-only primary is the point of that record's encoding.
  'alk-after-crizotinib': [/coded only in ICD-10-CM/],
};

function outcome(e: SampleExpect): string {
  const parts = [`ALK ${e.biomarkers.ALK}, ROS1 ${e.biomarkers.ROS1}`];
  if (e.cnsDisease) parts.push('CNS disease');
  if (e.resistanceMutations?.length) parts.push(e.resistanceMutations.join('+'));
  parts.push(e.preferred.length ? `preferred ${e.preferred.join(', ')}` : 'no recommendation');
  const notable = Object.entries(e.checks ?? {}).filter(([, s]) => s !== 'current');
  if (notable.length) parts.push(notable.map(([c, s]) => `${c} ${s}`).join(', '));
  if (e.interactions.length) parts.push(`${e.interactions.length} interaction(s)`);
  if (e.testing.length) parts.push(`testing: ${e.testing.join(', ')}`);
  return parts.join('; ');
}

const sorted = (xs: readonly string[]) => [...xs].sort();

function assess(entry: SampleCatalogEntry, drafts: DraftOrder[] = []) {
  const snapshot = toSnapshot(resourcesOf(entry.id), [], { patientId: entry.id, knowledge: kb });
  const assessment: Assessment = evaluate(snapshot, kb, { now: TODAY.toISOString(), draftOrders: drafts });
  return { snapshot, assessment };
}

describe('each sample shows its clinical outcome (toSnapshot + evaluate)', () => {
  it.each(SAMPLE_CATALOG.map((e) => [`${e.id} — ${e.scenario}: ${outcome(e.expect)}`, e] as const))(
    '%s',
    (_name, entry) => {
      const exp = entry.expect;
      const { snapshot, assessment: a } = assess(entry);
      const show = (x: unknown) => JSON.stringify(x, null, 1);

      // A clean read: no data gaps, no notes beyond the ones the encoding is meant to cause.
      expect(snapshot.dataGaps).toEqual([]);
      const allowed = EXPECTED_NOTES[entry.id] ?? [];
      expect(snapshot.notes.filter((n) => !allowed.some((re) => re.test(n)))).toEqual([]);
      expect(snapshot.nsclc?.stage).toBe('IV');
      expect(snapshot.nsclc?.histology).toBe('adenocarcinoma');

      expect(a.biomarkers.ALK.status, show(a.biomarkers.ALK.reasons)).toBe(exp.biomarkers.ALK);
      expect(a.biomarkers.ROS1.status, show(a.biomarkers.ROS1.reasons)).toBe(exp.biomarkers.ROS1);
      expect(a.driver).toBe(exp.driver);
      expect(a.disease.cnsDisease).toBe(exp.cnsDisease);
      expect(a.therapy.tkiNaive).toBe(exp.therapy.tkiNaive);
      expect(a.therapy.lineNumber).toBe(exp.therapy.lineNumber);
      expect(sorted(a.therapy.progressedOn)).toEqual(sorted(exp.therapy.progressedOn));
      if (exp.resistanceMutations) {
        const gene = exp.driver ?? 'ALK';
        expect(sorted(a.biomarkers[gene].resistanceMutations.map((m) => m.mutation))).toEqual(
          sorted(exp.resistanceMutations),
        );
      }

      if (exp.situation === null) {
        expect(a.recommendation).toBeNull();
        expect(exp.preferred).toEqual([]);
      } else {
        const rec = a.recommendation;
        expect(rec?.situation.rule).toBe(exp.situation);
        expect(sorted(rec?.preferred.map((o) => o.id) ?? [])).toEqual(sorted(exp.preferred));
        if (exp.other) expect(sorted(rec?.other.map((o) => o.id) ?? [])).toEqual(sorted(exp.other));
        const avoided = new Set(rec?.avoid.map((o) => o.id));
        for (const id of exp.avoid ?? []) expect(avoided.has(id), `${id} avoided`).toBe(true);
        // Nothing both offered and avoided.
        for (const o of [...(rec?.preferred ?? []), ...(rec?.other ?? [])])
          expect(avoided.has(o.id)).toBe(false);
      }

      if (exp.checks) {
        if (Object.keys(exp.checks).length === 0) expect(a.checks).toEqual([]);
        for (const [check, state] of Object.entries(exp.checks)) {
          const found = a.checks.flatMap((ac) =>
            ac.checks
              .filter((c) => c.check === check)
              .map((c) => ({ agent: ac.agent, state: c.state, summary: c.summary })),
          );
          expect(found.length, `a candidate agent needs the ${check} check`).toBeGreaterThan(0);
          for (const f of found) expect(f.state, `${f.agent}: ${f.summary}`).toBe(state);
        }
      }
      for (const [check, byAgent] of Object.entries(exp.checkSeverity ?? {})) {
        for (const [agent, severity] of Object.entries(byAgent)) {
          const c = a.checks.find((x) => x.agent === agent)?.checks.find((x) => x.check === check);
          expect(c?.severity, `${agent} ${check}`).toBe(severity);
        }
      }

      const interactions = a.interactions.map((i) => `${i.agent} + ${i.with.drug}: ${i.severity}`);
      expect(sorted(interactions)).toEqual(
        sorted(exp.interactions.map((i) => `${i.agent} + ${i.with}: ${i.severity}`)),
      );
      expect(sorted(a.testing.map((t) => t.kind))).toEqual(sorted(exp.testing));
    },
  );

  const orderCases = SAMPLE_CATALOG.flatMap((e) =>
    Object.entries(e.expect.orders ?? {}).map(([drug, findings]) => {
      const said = findings.length
        ? findings.map((f) => `${f.code} (${f.severity})`).join(' + ')
        : 'no finding';
      return [`${e.id}: ordering ${drug} gives ${said}`, e, drug, findings] as const;
    }),
  );

  it.each(orderCases)('%s', (_name, entry, drug, findings) => {
    const ref = `MedicationRequest/draft-${drug}`;
    const { assessment } = assess(entry, [{ ref, drug, display: drug }]);
    const got = assessment.orderFindings.filter((f) => f.draft === ref);
    if (findings.length === 0) {
      expect(got.map((f) => `${f.code}: ${f.message}`)).toEqual([]);
      return;
    }
    for (const f of findings) {
      expect(
        got.some((g) => g.code === f.code && g.severity === f.severity),
        `${f.code} (${f.severity}) in ${JSON.stringify(got.map((g) => [g.code, g.severity, g.message]))}`,
      ).toBe(true);
    }
  });

  it('ros1-brain-mets (the browser-test patient): drafting alectinib gives a critical order-concordance finding offering ROS1 agents', () => {
    const entry = SAMPLE_CATALOG.find((e) => e.id === 'ros1-brain-mets') as SampleCatalogEntry;
    const ref = 'MedicationRequest/draft-alectinib';
    const { assessment } = assess(entry, [{ ref, drug: 'alectinib', display: 'alectinib 150 mg capsule' }]);
    const critical = assessment.orderFindings.find(
      (f) => f.draft === ref && f.topic === 'order-concordance' && f.severity === 'critical',
    );
    expect(critical?.code).toBe('wrong-gene');
    expect(sorted(critical?.alternatives ?? [])).toEqual(['entrectinib', 'repotrectinib']);
  });
});
