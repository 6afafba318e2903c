/**
 * FHIR R4 resources (and Bundles of them) to the PatientSnapshot the clinical core reads.
 *
 * Pure and total: no client, no clock, never throws on a malformed resource (it is skipped with a
 * note). Resources are indexed by type once; each extractor makes one pass over its own type, so a
 * 10,000-resource record costs a few map look-ups per resource.
 */
import type { DataDomain, DataGap, PatientSnapshot } from '../core/model.ts';
import { getKnowledge } from '../knowledge/index.ts';
import type { FhirKnowledge } from './codings.ts';
import { extractBiomarkers } from './extract-biomarkers.ts';
import { extractDisease } from './extract-conditions.ts';
import { extractMeasurements } from './extract-measurements.ts';
import { extractMedications } from './extract-medications.ts';
import { extractPatient } from './extract-patient.ts';
import { MEDICATION_REFERENCES_QUERY } from './fetch-record.ts';
import { dataRequirements, requirementForUrl } from './queries.ts';
import { type AnyResource, asArray, isResource, isString, parseReference } from './read.ts';
import { triageObservations } from './triage.ts';

/** A reference resolver over the record (contained, `Type/id`, fullUrl), as the extractors use it. */
export type RecordResolver = (ref: string, from?: AnyResource) => AnyResource | undefined;

export interface SnapshotOptions {
  /** The patient in context; resources clearly about another patient are ignored. */
  patientId?: string;
  knowledge?: FhirKnowledge;
}

const DOMAINS_BY_TYPE: Record<string, DataDomain[]> = {
  Patient: ['patient'],
  Condition: ['conditions'],
  Observation: ['labs'],
  DiagnosticReport: ['biomarkers'],
  MedicationRequest: ['medications'],
  MedicationStatement: ['medications'],
  MedicationAdministration: ['medications'],
  Medication: ['medications'],
};

interface Flattened {
  resources: AnyResource[];
  /** fullUrl (urn:uuid or absolute) -> resource, for references inside transaction-style bundles. */
  byFullUrl: Map<string, AnyResource>;
  truncated: DataGap[];
  malformed: number;
}

function flatten(input: readonly unknown[], kb: FhirKnowledge): Flattened {
  const out: Flattened = { resources: [], byFullUrl: new Map(), truncated: [], malformed: 0 };
  const visit = (x: unknown, fullUrl?: string) => {
    if (!isResource(x)) {
      if (x !== null && x !== undefined) out.malformed++;
      return;
    }
    if (x.resourceType === 'Bundle') {
      const entries = Array.isArray(x.entry) ? x.entry : [];
      for (const e of entries) {
        if (typeof e !== 'object' || e === null) {
          out.malformed++;
          continue;
        }
        // Search bundles carry OperationOutcome entries (search mode "outcome"): warnings, not data.
        if (e.search?.mode === 'outcome') continue;
        visit(e.resource, isString(e.fullUrl) ? e.fullUrl : undefined);
      }
      const next = asArray<AnyResource>(x.link).find((l) => l?.relation === 'next' && isString(l.url));
      if (next) {
        const self = asArray<AnyResource>(x.link).find((l) => l?.relation === 'self' && isString(l.url))
          ?.url as string | undefined;
        const req = self ? requirementForUrl(self, dataRequirements(kb)) : undefined;
        const types = new Set(entries.map((e: AnyResource) => e?.resource?.resourceType).filter(isString));
        const domains = req?.domains ?? [...new Set([...types].flatMap((t) => DOMAINS_BY_TYPE[t] ?? []))];
        out.truncated.push({
          domains: domains.length ? domains : ['labs'],
          query: req?.id ?? self ?? 'Bundle',
          reason: 'truncated',
          detail: `Only the first page (${entries.length} entries) was read; a next page exists and was not followed.`,
        });
      }
      return;
    }
    if (x.resourceType === 'OperationOutcome') return;
    out.resources.push(x);
    if (fullUrl) out.byFullUrl.set(fullUrl, x);
  };
  for (const x of input) visit(x);
  return out;
}

/** The patient a resource is about (subject / patient reference), as a plain id. */
function patientOf(
  r: AnyResource,
  byFullUrl: Map<string, AnyResource>,
  expected: string,
): string | undefined {
  const ref = r.subject ?? r.patient;
  const reference = ref?.reference;
  if (!isString(reference)) return undefined;
  // Fast path for the common case (every resource of a 10k record points at the same patient).
  if (reference === expected || reference.endsWith(`/${expected}`)) return expected.slice(8);
  if (reference.startsWith('urn:')) {
    const target = byFullUrl.get(reference);
    return target?.resourceType === 'Patient' ? target.id : undefined;
  }
  const parsed = parseReference(reference);
  return parsed?.type === 'Patient' ? parsed.id : undefined;
}

export function toSnapshot(
  resources: readonly unknown[],
  gaps: readonly DataGap[] = [],
  options: SnapshotOptions = {},
): PatientSnapshot {
  return readRecord(resources, gaps, options).snapshot;
}

/**
 * The snapshot and the record's reference resolver, for callers that resolve more references
 * against the same record (a hook's draft orders) without indexing it again.
 */
export function readRecord(
  resources: readonly unknown[],
  gaps: readonly DataGap[] = [],
  options: SnapshotOptions = {},
): { snapshot: PatientSnapshot; resolve: RecordResolver } {
  const kb = options.knowledge ?? getKnowledge();
  const notes: string[] = [];
  const flat = flatten(resources, kb);
  if (flat.malformed > 0)
    notes.push(`${flat.malformed} malformed entr${flat.malformed === 1 ? 'y was' : 'ies were'} skipped.`);

  const patients = flat.resources.filter((r) => r.resourceType === 'Patient');
  const patient =
    (options.patientId ? patients.find((p) => p.id === options.patientId) : undefined) ??
    (patients.length === 1 ? patients[0] : undefined);
  const patientId = options.patientId ?? patient?.id;
  if (!options.patientId && patients.length > 1)
    notes.push(`${patients.length} Patient resources were given; none was chosen.`);

  // Index by type once; drop resources that are clearly about someone else.
  const byType = new Map<string, AnyResource[]>();
  let otherPatient = 0;
  const expectedRef = `Patient/${patientId}`;
  for (const r of flat.resources) {
    if (r.resourceType !== 'Patient' && patientId) {
      const about = patientOf(r, flat.byFullUrl, expectedRef);
      if (about !== undefined && about !== patientId) {
        otherPatient++;
        continue;
      }
    }
    const list = byType.get(r.resourceType);
    if (list) list.push(r);
    else byType.set(r.resourceType, [r]);
  }
  if (otherPatient > 0)
    notes.push(`${otherPatient} resource(s) about another patient than ${patientId} were ignored.`);

  // id -> resource (the last one wins) per type, built when a `Type/id` reference to that type is
  // first resolved: most references name a type with few resources (Medication, Specimen), and
  // keying every resource by a `Type/id` string cost a string per resource.
  const byId = new Map<string, Map<string, AnyResource>>();
  const idIndex = (type: string) => {
    let ids = byId.get(type);
    if (!ids) {
      ids = new Map();
      for (const r of byType.get(type) ?? []) if (isString(r.id)) ids.set(r.id, r);
      byId.set(type, ids);
    }
    return ids;
  };
  const resolve: RecordResolver = (ref, from) => {
    if (ref.startsWith('#')) {
      return asArray<AnyResource>(from?.contained).find((c) => isResource(c) && `#${c.id}` === ref);
    }
    if (ref.startsWith('urn:')) return flat.byFullUrl.get(ref);
    const parsed = parseReference(ref);
    return parsed
      ? (idIndex(parsed.type).get(parsed.id) ?? flat.byFullUrl.get(ref))
      : flat.byFullUrl.get(ref);
  };
  const of = (type: string) => byType.get(type) ?? [];
  const triage = triageObservations(kb, of('Observation'));

  const safe = <T>(what: string, fallback: T, run: () => T): T => {
    try {
      return run();
    } catch (e) {
      // A resource shape no extractor anticipated must not take the whole snapshot down.
      notes.push(`${what} could not be read completely (${(e as Error).message}).`);
      return fallback;
    }
  };

  const disease = safe(
    'Conditions',
    { cns: [], oligometastatic: 'unknown' as const, cnsConditionRefs: new Set<string>(), kidney: [] },
    () => extractDisease({ kb, conditions: of('Condition'), observations: triage.disease, notes }),
  );
  const biomarkers = safe('Biomarker results', [], () =>
    extractBiomarkers({
      kb,
      observations: triage.biomarkers,
      reports: of('DiagnosticReport'),
      resolve,
      notes,
    }),
  );
  const meds = safe(
    'Medications',
    { therapies: [], activeMedications: [], unidentified: [] as string[] },
    () =>
      extractMedications({
        kb,
        requests: of('MedicationRequest'),
        statements: of('MedicationStatement'),
        administrations: of('MedicationAdministration'),
        observations: triage.disease,
        resolve,
        cnsConditionRefs: disease.cnsConditionRefs,
        notes,
      }),
  );
  const measurements = safe('Measurements', [], () =>
    extractMeasurements({ kb, observations: triage.measurements, reports: of('DiagnosticReport'), notes }),
  );

  // [local-safety-rules] A medication that cannot be identified is never silently dropped: it makes
  // history and interactions "could not check". One gap, unless the reference reads already made one.
  const medicationGaps: DataGap[] =
    meds.unidentified.length > 0 && !gaps.some((g) => g.query === MEDICATION_REFERENCES_QUERY)
      ? [
          {
            domains: ['medications'],
            query: MEDICATION_REFERENCES_QUERY,
            reason: 'unresolved-reference',
            detail: `${meds.unidentified.length} medication(s) name a Medication that is not in the record (${meds.unidentified.slice(0, 3).join('; ')}${meds.unidentified.length > 3 ? '; …' : ''}): those drugs are unknown.`,
          },
        ]
      : [];

  const snapshot: PatientSnapshot = {
    patient: extractPatient(patient, patientId),
    cns: disease.cns,
    oligometastatic: disease.oligometastatic,
    biomarkers,
    therapies: meds.therapies,
    activeMedications: meds.activeMedications,
    measurements,
    dataGaps: [...gaps, ...flat.truncated, ...medicationGaps],
    notes,
  };
  if (disease.nsclc) snapshot.nsclc = disease.nsclc;
  if (disease.kidney.length) snapshot.kidney = disease.kidney;
  if (!patient && !gaps.some((g) => g.domains.includes('patient'))) {
    notes.push('No Patient resource was given: age and sex are unknown.');
  }
  return { snapshot, resolve };
}
