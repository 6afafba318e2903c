/**
 * The sample patients of the local sandbox EHR (`npm start`), ready to load into its FHIR server.
 *
 * `loadSamplePatients(today)` returns every resource of every sample patient (the clinical story in
 * `<id>.json`, the generated background history of background.ts, and the sandbox Practitioner), with
 * all dates moved so the record is as fresh today as it was on the day the files were written.
 *
 * Date shifting. Each bundle's `Bundle.timestamp` is its anchor (2026-11-22T09:00:00Z). The shift is
 * the whole number of UTC calendar days from the anchor's date to `today`'s UTC date. Every string
 * value anywhere in a resource that is a full ISO 8601 date (`YYYY-MM-DD`) or a dateTime/instant with
 * seconds and a zone (`YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)`) has its calendar date moved by that many
 * days; the time, fraction and zone are kept as written, so precision and time zone never change and
 * intervals between events stay exact. Patient.birthDate moves too, so ages stay constant. Partial
 * dates (`YYYY`, `YYYY-MM`) would lose precision and are left alone; the sample files contain none.
 * Nothing in the files is dated after the anchor's date, and timed events are at least a day
 * before it, so nothing is ever in the future of `today`.
 *
 * Pure and synchronous: JSON is imported (so it bundles), no file system, no clock.
 */

import type { BiomarkerStatusValue, CheckState, Gene, Severity } from '../../src/core/model.ts';
import alkAfterAlectinib from './alk-after-alectinib.json' with { type: 'json' };
import alkAfterCrizotinib from './alk-after-crizotinib.json' with { type: 'json' };
import alkAfterLorlatinib from './alk-after-lorlatinib.json' with { type: 'json' };
import alkAfterPembrolizumab from './alk-after-pembrolizumab.json' with { type: 'json' };
import alkAlecensaEpicRefs from './alk-alecensa-epic-refs.json' with { type: 'json' };
import alkBrainMets from './alk-brain-mets.json' with { type: 'json' };
import alkCarbamazepine from './alk-carbamazepine.json' with { type: 'json' };
import alkG1202r from './alk-g1202r.json' with { type: 'json' };
import alkLongQtc from './alk-long-qtc.json' with { type: 'json' };
import alkNaive from './alk-naive.json' with { type: 'json' };
import alkRenalImpairment from './alk-renal-impairment.json' with { type: 'json' };
import alkRos1Negative from './alk-ros1-negative.json' with { type: 'json' };
import { backgroundResources } from './background.ts';
import catalogJson from './catalog.json' with { type: 'json' };
import practitionerJson from './practitioner.json' with { type: 'json' };
import ros1AfterEntrectinib from './ros1-after-entrectinib.json' with { type: 'json' };
import ros1BrainMets from './ros1-brain-mets.json' with { type: 'json' };
import ros1G2032r from './ros1-g2032r.json' with { type: 'json' };
import ros1IhcOnly from './ros1-ihc-only.json' with { type: 'json' };
import ros1LowLvef from './ros1-low-lvef.json' with { type: 'json' };
import ros1Naive from './ros1-naive.json' with { type: 'json' };
import ros1UrateStaleEcho from './ros1-urate-stale-echo.json' with { type: 'json' };
import untestedStageIv from './untested-stage-iv.json' with { type: 'json' };

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

// The Assessment's own vocabulary: the expectations are stated in the clinical core's terms.
type BiomarkerStatus = BiomarkerStatusValue;

/**
 * The clinical outcome a sample is built to show, in the terms of the Assessment (src/core/model.ts).
 * Only facts the scenario asserts; test/unit/sandbox/sample-patients.test.ts checks each against the
 * real pipeline (toSnapshot + evaluate) at load time.
 */
export interface SampleExpect {
  /** `assessment.biomarkers[gene].status`. */
  biomarkers: Record<Gene, BiomarkerStatus>;
  /** `assessment.driver`. */
  driver: Gene | null;
  /** `assessment.disease.cnsDisease`. */
  cnsDisease: boolean;
  /** `assessment.therapy`: TKI-naive, the line the options are for, agents progressed on (any order). */
  therapy: { tkiNaive: boolean; lineNumber: number; progressedOn: string[] };
  /** Resistance mutations on the driver gene (`biomarkers[driver].resistanceMutations`), exact set. */
  resistanceMutations?: string[];
  /** Regimen rule of `recommendation.situation.rule`; null when there is no recommendation. */
  situation: string | null;
  /** `recommendation.preferred` ids, exact set (empty with no recommendation). */
  preferred: string[];
  /** `recommendation.other` ids, exact set. */
  other?: string[];
  /** Ids that must be in `recommendation.avoid` (gene-wide immunotherapy avoids are not all listed). */
  avoid?: string[];
  /** Check id -> state, for every candidate agent whose checks include it (at least one must). */
  checks?: Record<string, CheckState>;
  /** Check id -> agent -> severity of that (abnormal) check for that agent. */
  checkSeverity?: Record<string, Record<string, Severity>>;
  /** `assessment.interactions` as (agent, other drug, severity), exact set. */
  interactions: { agent: string; with: string; severity: Severity }[];
  /** `assessment.testing` kinds, exact set. */
  testing: string[];
  /**
   * Order-time findings when the drug is drafted (CDS order-select): each listed (code, severity) must
   * be among the findings for that draft; an empty list means no finding at all.
   */
  orders?: Record<string, { code: string; severity: Severity }[]>;
}

export interface SampleCatalogEntry {
  id: string;
  file: string;
  name: string;
  scenario: string;
  description: string;
  expect: SampleExpect;
}

export interface SamplePatient {
  id: string;
  name: string;
  scenario: string;
  description: string;
  /** Shifted like every other date: the age is the one the story was written with. */
  birthDate: string;
  gender: string;
  /** The current outpatient encounter (`<id>-enc`), in progress today. */
  encounterId: string;
  expect: SampleExpect;
}

export interface SampleSet {
  patients: SamplePatient[];
  /** Everything: all patients' stories and backgrounds and the Practitioner, dates shifted. */
  resources: Record<string, unknown>[];
}

type Resource = Record<string, unknown> & { resourceType: string; id: string };
interface BundleJson {
  resourceType: 'Bundle';
  type: string;
  timestamp: string;
  entry: { resource: Resource }[];
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** Bundle files by name, as `catalog.json` refers to them. */
export const SAMPLE_BUNDLES: Readonly<Record<string, BundleJson>> = Object.fromEntries(
  (
    [
      ['alk-naive.json', alkNaive],
      ['alk-brain-mets.json', alkBrainMets],
      ['alk-after-crizotinib.json', alkAfterCrizotinib],
      ['alk-after-alectinib.json', alkAfterAlectinib],
      ['alk-g1202r.json', alkG1202r],
      ['alk-after-lorlatinib.json', alkAfterLorlatinib],
      ['ros1-naive.json', ros1Naive],
      ['ros1-brain-mets.json', ros1BrainMets],
      ['ros1-ihc-only.json', ros1IhcOnly],
      ['ros1-g2032r.json', ros1G2032r],
      ['ros1-after-entrectinib.json', ros1AfterEntrectinib],
      ['untested-stage-iv.json', untestedStageIv],
      ['alk-ros1-negative.json', alkRos1Negative],
      ['alk-long-qtc.json', alkLongQtc],
      ['ros1-low-lvef.json', ros1LowLvef],
      ['ros1-urate-stale-echo.json', ros1UrateStaleEcho],
      ['alk-carbamazepine.json', alkCarbamazepine],
      ['alk-renal-impairment.json', alkRenalImpairment],
      ['alk-alecensa-epic-refs.json', alkAlecensaEpicRefs],
      ['alk-after-pembrolizumab.json', alkAfterPembrolizumab],
    ] as [string, unknown][]
  ).map(([file, json]) => [file, json as BundleJson]),
);

export const SAMPLE_CATALOG: readonly SampleCatalogEntry[] = catalogJson as unknown as SampleCatalogEntry[];
export const SAMPLE_PRACTITIONER: Readonly<Resource> = practitionerJson as unknown as Resource;

// ---------------------------------------------------------------------------------------------
// Date shifting
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** Whole UTC calendar days from the anchor's date to today's date (negative when today is earlier). */
export function shiftDaysFor(anchor: string, today: Date): number {
  const a = Date.parse(`${anchor.slice(0, 10)}T00:00:00Z`);
  const t = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Math.round((t - a) / DAY_MS);
}

/** One string moved by `days` when it is a full date or dateTime; anything else unchanged. */
export function shiftDateString(value: string, days: number): string {
  const m = ISO_DATE.exec(value);
  if (!m || days === 0) return value;
  const moved = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + days * DAY_MS);
  if (Number.isNaN(moved.getTime())) return value;
  return `${moved.toISOString().slice(0, 10)}${m[4] ?? ''}`;
}

/** A deep copy of `value` with every date string shifted. */
export function shiftDates<T>(value: T, days: number): T {
  if (typeof value === 'string') return shiftDateString(value, days) as T;
  if (Array.isArray(value)) return value.map((v) => shiftDates(v, days)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = shiftDates(v, days);
    return out as T;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

function storyOf(entry: SampleCatalogEntry): { bundle: BundleJson; resources: Resource[] } {
  const bundle = SAMPLE_BUNDLES[entry.file];
  if (!bundle) throw new Error(`sample patient ${entry.id}: no bundle ${entry.file}`);
  return { bundle, resources: bundle.entry.map((e) => e.resource) };
}

function find(resources: Resource[], type: string, id: string): Resource {
  const r = resources.find((x) => x.resourceType === type && x.id === id);
  if (!r) throw new Error(`sample patient: ${type}/${id} is missing from its bundle`);
  return r;
}

/** What background.ts needs, read from the story so it stays consistent with it. */
function backgroundFor(entry: SampleCatalogEntry, bundle: BundleJson, resources: Resource[]): Resource[] {
  const patient = find(resources, 'Patient', entry.id);
  const nsclc = find(resources, 'Condition', `${entry.id}-nsclc`);
  const strings = JSON.stringify(resources);
  const offset = /T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2})"/.exec(strings)?.[1] ?? 'Z';
  const observations = resources.filter((r) => r.resourceType === 'Observation');
  const hasCode = (r: Resource, code: string) =>
    ((r.code as { coding?: { code?: string }[] } | undefined)?.coding ?? []).some((c) => c.code === code);
  // A laboratory that reports creatinine in µmol/L reports glucose and calcium in mmol/L too.
  const si = observations.some((o) => hasCode(o, '14682-9'));
  const weights = observations
    .filter((o) => hasCode(o, '29463-7'))
    .sort((a, b) => String(b.effectiveDateTime).localeCompare(String(a.effectiveDateTime)));
  const weight = (weights[0]?.valueQuantity as { value?: number } | undefined)?.value;
  return backgroundResources({
    patientId: entry.id,
    gender: patient.gender as 'male' | 'female',
    anchor: bundle.timestamp,
    diagnosisDate: String(nsclc.onsetDateTime),
    utcOffset: offset,
    units: si ? 'si' : 'conventional',
    ...(weight !== undefined ? { weightKg: weight } : {}),
  });
}

export function loadSamplePatients(today: Date): SampleSet {
  const patients: SamplePatient[] = [];
  const resources: Record<string, unknown>[] = [shiftDates(SAMPLE_PRACTITIONER, 0)];
  for (const entry of SAMPLE_CATALOG) {
    const { bundle, resources: story } = storyOf(entry);
    const days = shiftDaysFor(bundle.timestamp, today);
    const all = [...story, ...backgroundFor(entry, bundle, story)].map((r) => shiftDates(r, days));
    const patient = find(all as Resource[], 'Patient', entry.id);
    const encounterId = `${entry.id}-enc`;
    find(all as Resource[], 'Encounter', encounterId);
    patients.push({
      id: entry.id,
      name: entry.name,
      scenario: entry.scenario,
      description: entry.description,
      birthDate: String(patient.birthDate),
      gender: String(patient.gender),
      encounterId,
      expect: entry.expect,
    });
    resources.push(...all);
  }
  return { patients, resources };
}
