/**
 * "Bring your own patient": a developer's own FHIR R4 Bundle loaded into the sandbox beside the
 * sample patients. `checkPatientBundle` says whether a Bundle can be loaded, naming every problem
 * (an OperationOutcome issue with its FHIRPath), and rewrites its references to the `Type/id` form
 * the sandbox FHIR server searches by. `openPatientImports` keeps the imported patients: one JSON
 * file per patient in a data directory (or in memory), loaded at start.
 *
 * All or nothing: a Bundle with any problem changes nothing; a good one is written to disk and then
 * added to the FHIR store as one compartment. Ids are never rewritten: a resource whose `Type/id`
 * the sandbox already has is refused, with the owner named (a silent rename would break the ids a
 * developer then looks for). A resource without an id gets its `urn:uuid:` fullUrl's uuid, or a new one.
 * Dates are kept as sent (sample patients are moved to today; an imported record is the developer's).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { SandboxPatient } from './ehr/types.ts';
import { SERVED_TYPES, SHARED_TYPES } from './fhir/capability.ts';
import { indexFhirDefinitions } from './fhir/definitions.ts';
import { compartmentOf, type SandboxStore } from './fhir/repository.ts';

type R = Record<string, unknown>;

/** Largest Bundle the sandbox takes (`POST /sandbox/api/patients` answers 413 past it). */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

export interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: string;
  diagnostics: string;
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Issue[];
}

export const toOutcome = (issue: Issue[]): OperationOutcome => ({ resourceType: 'OperationOutcome', issue });

/** An imported patient as the sandbox EHR lists it (the sample patients' fields, and `imported`). */
export interface ImportedPatient extends SandboxPatient {
  /** encounterId: the in-progress Encounter, else the latest one; none when the Bundle has no Encounter. */
  imported: true;
  importedAt: string;
}

export type CheckResult =
  | { ok: true; patient: ImportedPatient; resources: R[] }
  | { ok: false; issues: Issue[] };

/** What the check needs to know of the sandbox: who owns a `Type/id`, and which patients were imported. */
export interface SandboxLookup {
  ownerOf: SandboxStore['ownerOf'];
  isImported(patientId: string): boolean;
}

const BUNDLE_TYPES = ['collection', 'transaction', 'searchset'];
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE =
  /^(https?:\/\/.+?)\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const URN_UUID = /^urn:uuid:([0-9a-fA-F-]{36})$/;

const isObject = (v: unknown): v is R => typeof v === 'object' && v !== null && !Array.isArray(v);
const error = (code: string, diagnostics: string, expression?: string): Issue => ({
  severity: 'error',
  code,
  diagnostics,
  ...(expression ? { expression: [expression] } : {}),
});

/** Every `{ reference: string }` in a resource, with its FHIRPath below the resource. */
function* references(value: unknown, path: string): Generator<{ holder: R; path: string }> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* references(value[i], `${path}[${i}]`);
    return;
  }
  if (!isObject(value)) return;
  if (typeof value.reference === 'string') yield { holder: value, path };
  for (const [key, child] of Object.entries(value)) {
    if (typeof child === 'object' && child !== null) yield* references(child, path ? `${path}.${key}` : key);
  }
}

function nameOf(patient: R): string | undefined {
  const names = Array.isArray(patient.name) ? (patient.name.filter(isObject) as R[]) : [];
  const name = names.find((n) => n.use === 'official') ?? names.find((n) => n.use !== 'old') ?? names[0];
  if (!name) return undefined;
  if (typeof name.text === 'string' && name.text.trim()) return name.text.trim();
  const given = Array.isArray(name.given) ? name.given.filter((g) => typeof g === 'string').join(' ') : '';
  const text = [given, typeof name.family === 'string' ? name.family : ''].filter(Boolean).join(' ');
  return text || undefined;
}

function currentEncounter(resources: readonly R[]): string | undefined {
  const start = (e: R) => String((e.period as R | undefined)?.start ?? '');
  const encounters = resources
    .filter((r) => r.resourceType === 'Encounter')
    .sort((a, b) => start(b).localeCompare(start(a)));
  return String((encounters.find((e) => e.status === 'in-progress') ?? encounters[0])?.id ?? '') || undefined;
}

/** Medplum's structural validation of one resource, its issues moved under `Bundle.entry[i].resource`. */
function structuralIssues(resource: R, at: string, label: string): Issue[] {
  try {
    validateResource(resource as never);
    return [];
  } catch (e) {
    if (!(e instanceof OperationOutcomeError)) return [error('invalid', `${label}: ${String(e)}`, at)];
    return (e.outcome.issue ?? [])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => {
        const where = (i.expression?.[0] ?? '').replace(/^[A-Za-z]+\.?/, '');
        const expression = where ? `${at}.${where}` : at;
        const text = i.details?.text ?? i.diagnostics ?? 'invalid';
        return error(i.code ?? 'structure', `${label}${where ? ` ${where}` : ''}: ${text}`, expression);
      });
  }
}

/**
 * Whether `input` (parsed JSON) is a Bundle the sandbox can load as one patient, and if so its
 * resources with references rewritten to `Type/id`. Every problem is reported, not only the first.
 */
export function checkPatientBundle(input: unknown, sandbox: SandboxLookup, importedAt: string): CheckResult {
  indexFhirDefinitions(SERVED_TYPES);
  if (!isObject(input) || input.resourceType !== 'Bundle') {
    const what =
      isObject(input) && typeof input.resourceType === 'string'
        ? `a ${input.resourceType}`
        : 'not a FHIR resource';
    return {
      ok: false,
      issues: [
        error(
          'structure',
          `the body is ${what}: send a FHIR R4 Bundle (type collection, transaction or searchset) holding one Patient and its record`,
          'Bundle',
        ),
      ],
    };
  }
  const issues: Issue[] = [];
  if (!BUNDLE_TYPES.includes(String(input.type)))
    issues.push(
      error(
        'value',
        `Bundle.type is ${JSON.stringify(input.type ?? null)}: the sandbox takes ${BUNDLE_TYPES.join(', ')}`,
        'Bundle.type',
      ),
    );
  const entries = Array.isArray(input.entry) ? input.entry : [];
  if (input.entry !== undefined && !Array.isArray(input.entry))
    issues.push(error('structure', 'Bundle.entry must be an array', 'Bundle.entry'));

  // 1. The entries: served types, ids (assigned when missing), no duplicates.
  interface Item {
    at: string;
    resource: R;
    key: string;
    label: string;
    base?: string;
  }
  const items: Item[] = [];
  const byFullUrl = new Map<string, string>();
  const keys = new Set<string>();
  for (const [i, entry] of (entries as unknown[]).entries()) {
    const at = `Bundle.entry[${i}]`;
    if (!isObject(entry)) {
      issues.push(error('structure', `${at} is not an object`, at));
      continue;
    }
    // A searchset's OperationOutcome about the search itself is not part of the record.
    if (isObject(entry.search) && entry.search.mode === 'outcome') continue;
    const method = isObject(entry.request) ? entry.request.method : undefined;
    if (method !== undefined && method !== 'POST' && method !== 'PUT')
      issues.push(
        error(
          'not-supported',
          `${at}.request.method ${String(method)}: only POST and PUT entries are loaded`,
          `${at}.request.method`,
        ),
      );
    const resource = entry.resource;
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      issues.push(error('structure', `${at} has no resource with a resourceType`, `${at}.resource`));
      continue;
    }
    const type = resource.resourceType;
    const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
    if (!SERVED_TYPES.includes(type)) {
      // Known by name, so references to it are not reported a second time as unresolved.
      if (typeof resource.id === 'string') keys.add(`${type}/${resource.id}`);
      if (fullUrl) byFullUrl.set(fullUrl, `${type}/${String(resource.id)}`);
      issues.push(
        error(
          'not-supported',
          `${at}: ${type} is not a resource type the sandbox serves (it serves ${SERVED_TYPES.join(', ')}); leave it out of the Bundle`,
          `${at}.resource`,
        ),
      );
      continue;
    }
    if (resource.id === undefined) resource.id = (fullUrl && URN_UUID.exec(fullUrl)?.[1]) || randomUUID();
    if (typeof resource.id !== 'string' || !FHIR_ID.test(resource.id)) {
      issues.push(
        error(
          'value',
          `${at}: ${type}.id ${JSON.stringify(resource.id)} is not a FHIR id (1 to 64 letters, digits, "-" or ".")`,
          `${at}.resource.id`,
        ),
      );
      continue;
    }
    const key = `${type}/${resource.id}`;
    if (keys.has(key)) {
      issues.push(error('duplicate', `${at}: ${key} is in the Bundle twice`, `${at}.resource.id`));
      continue;
    }
    keys.add(key);
    if (fullUrl) {
      if (byFullUrl.has(fullUrl))
        issues.push(error('duplicate', `${at}: fullUrl ${fullUrl} is in the Bundle twice`, `${at}.fullUrl`));
      byFullUrl.set(fullUrl, key);
    }
    const base = fullUrl ? ABSOLUTE.exec(fullUrl)?.[1] : undefined;
    items.push({ at: `${at}.resource`, resource, key, label: `${at} (${key})`, ...(base ? { base } : {}) });
  }

  // 2. Exactly one Patient.
  const patients = items.filter((it) => it.resource.resourceType === 'Patient');
  if (patients.length === 0)
    issues.push(error('required', 'the Bundle has no Patient: it must hold exactly one', 'Bundle.entry'));
  if (patients.length > 1)
    issues.push(
      error(
        'structure',
        `the Bundle has ${patients.length} Patients (${patients.map((p) => p.key).join(', ')}): import one patient per Bundle`,
        'Bundle.entry',
      ),
    );
  const patientId = patients.length === 1 ? String(patients[0]?.resource.id) : undefined;

  const ownerText = (owner: string | null) =>
    owner === null
      ? 'a shared sandbox resource'
      : sandbox.isImported(owner)
        ? `imported patient ${owner}'s record (DELETE /sandbox/api/patients/${owner} first to replace it)`
        : `sample patient ${owner}'s record`;

  // 3. Ids already in the sandbox: refused, never renamed.
  for (const it of items) {
    const [type = '', id = ''] = it.key.split('/');
    const owner = sandbox.ownerOf(type, id);
    if (owner !== undefined)
      issues.push(
        error(
          'duplicate',
          `${it.label}: the sandbox already has ${it.key} (${ownerText(owner)}); refused, not renamed: give it another id, or leave the id out and the sandbox assigns one`,
          `${it.at}.id`,
        ),
      );
  }

  // 4. References: resolved inside the Bundle (fullUrl, urn:uuid, Type/id) or to a shared sandbox resource.
  for (const it of items) {
    const contained = new Set(
      (Array.isArray(it.resource.contained) ? it.resource.contained : [])
        .filter(isObject)
        .map((c) => `#${String(c.id)}`),
    );
    for (const { holder, path } of references(it.resource, '')) {
      const ref = String(holder.reference);
      const expression = `${it.at}.${path}.reference`;
      if (ref.startsWith('#')) {
        if (ref !== '#' && !contained.has(ref))
          issues.push(
            error('not-found', `${it.label} ${path}: "${ref}" names no contained resource`, expression),
          );
        continue;
      }
      const rel = RELATIVE.exec(ref);
      const abs = ABSOLUTE.exec(ref);
      const relKey = rel ? `${rel[1]}/${rel[2]}` : undefined;
      const target =
        byFullUrl.get(ref) ??
        (abs ? byFullUrl.get(`${abs[1]}/${abs[2]}/${abs[3]}`) : undefined) ??
        (relKey && it.base ? byFullUrl.get(`${it.base}/${relKey}`) : undefined) ??
        (relKey && keys.has(relKey) ? relKey : undefined);
      if (target) {
        holder.reference = target;
        continue;
      }
      const owner = rel ? sandbox.ownerOf(rel[1] ?? '', rel[2] ?? '') : undefined;
      if (owner === null && relKey) {
        holder.reference = relKey;
        continue;
      }
      if (owner !== undefined) {
        issues.push(
          error(
            'invalid',
            `${it.label} ${path}: "${ref}" is about another patient (${ownerText(owner)}); an imported patient's resources may refer only to its own record and to shared resources (Practitioner, Medication)`,
            expression,
          ),
        );
        continue;
      }
      issues.push(
        error(
          'not-found',
          `${it.label} ${path}: "${ref}" resolves neither inside the Bundle (by fullUrl, urn:uuid or Type/id) nor to a resource in the sandbox`,
          expression,
        ),
      );
    }
  }

  // 5. Every resource is about this patient, or shared (Practitioner, Medication).
  if (patientId) {
    for (const it of items) {
      const type = String(it.resource.resourceType);
      if (type === 'Patient' || SHARED_TYPES.includes(type)) continue;
      const about = compartmentOf(it.resource);
      if (about === patientId) continue;
      issues.push(
        about === undefined
          ? error(
              'required',
              `${it.label}: has no subject or patient referring to Patient/${patientId}`,
              `${it.at}.subject`,
            )
          : error(
              'invalid',
              `${it.label}: is about Patient/${about}, not the imported Patient/${patientId}`,
              `${it.at}.subject`,
            ),
      );
    }
  }

  // 6. Structure, against the FHIR R4 definitions (after the references are in their final form).
  for (const it of items) issues.push(...structuralIssues(it.resource, it.at, it.label));

  const patient = patients[0]?.resource;
  if (issues.length > 0 || !patient || !patientId) return { ok: false, issues };
  const resources = items.map((it) => it.resource);
  const encounterId = currentEncounter(resources);
  return {
    ok: true,
    resources,
    patient: {
      id: patientId,
      name: nameOf(patient) ?? `Patient ${patientId}`,
      scenario: 'Imported patient',
      description: `Imported ${importedAt.slice(0, 10)}: ${resources.length} resources.`,
      ...(typeof patient.birthDate === 'string' ? { birthDate: patient.birthDate } : {}),
      ...(typeof patient.gender === 'string' ? { gender: patient.gender } : {}),
      ...(encounterId ? { encounterId } : {}),
      imported: true,
      importedAt,
    },
  };
}

export type ImportResult = { ok: true; patient: ImportedPatient } | { ok: false; outcome: OperationOutcome };

export interface PatientImports {
  list(): readonly ImportedPatient[];
  get(id: string): ImportedPatient | undefined;
  /** Checks, persists and loads one Bundle (parsed JSON); nothing changes unless it all succeeds. */
  import(bundle: unknown): Promise<ImportResult>;
  /** Removes an imported patient (its file and its record); false when no imported patient has this id. */
  remove(id: string): Promise<boolean>;
  /** Files in the data directory that could not be loaded at start, and why (the files are kept). */
  readonly skipped: readonly { file: string; problems: string[] }[];
}

export interface PatientImportsOptions {
  store: SandboxStore;
  /** One `<patient id>.json` per imported patient; undefined or `memory://` keeps them in memory. */
  dataDir?: string;
  now?: () => Date;
}

export async function openPatientImports(options: PatientImportsOptions): Promise<PatientImports> {
  const { store } = options;
  const dir = options.dataDir && options.dataDir !== 'memory://' ? options.dataDir : undefined;
  const now = options.now ?? (() => new Date());
  const patients = new Map<string, ImportedPatient>();
  const skipped: { file: string; problems: string[] }[] = [];
  const lookup: SandboxLookup = { ownerOf: store.ownerOf, isImported: (id) => patients.has(id) };
  const fileOf = (id: string) => join(dir ?? '', `${id}.json`);

  // One import or removal at a time: the check and the commit see the same sandbox.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job);
    queue = run.catch(() => undefined);
    return run;
  };

  async function load(bundle: unknown, importedAt: string, persist: boolean): Promise<ImportResult> {
    const checked = checkPatientBundle(bundle, lookup, importedAt);
    if (!checked.ok) return { ok: false, outcome: toOutcome(checked.issues) };
    const { patient, resources } = checked;
    if (dir && persist) {
      // The file itself is a Bundle the sandbox takes back: written whole, then renamed into place.
      const stored = {
        resourceType: 'Bundle',
        id: patient.id,
        type: 'collection',
        timestamp: importedAt,
        entry: resources.map((resource) => ({ resource })),
      };
      const temp = `${fileOf(patient.id)}.${randomUUID()}.tmp`;
      await mkdir(dir, { recursive: true });
      try {
        await writeFile(temp, JSON.stringify(stored));
        await rename(temp, fileOf(patient.id));
      } catch (e) {
        await rm(temp, { force: true });
        throw e;
      }
    }
    try {
      await store.addPatient(patient.id, resources);
    } catch (e) {
      if (dir && persist) await rm(fileOf(patient.id), { force: true });
      throw e;
    }
    patients.set(patient.id, patient);
    return { ok: true, patient };
  }

  if (dir) {
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
    for (const file of files) {
      try {
        const bundle = JSON.parse(await readFile(join(dir, file), 'utf8')) as R;
        const at = typeof bundle.timestamp === 'string' ? bundle.timestamp : now().toISOString();
        const result = await load(bundle, at, false);
        if (!result.ok) skipped.push({ file, problems: result.outcome.issue.map((i) => i.diagnostics) });
      } catch (e) {
        skipped.push({ file, problems: [e instanceof Error ? e.message : String(e)] });
      }
    }
  }

  return {
    list: () => [...patients.values()],
    get: (id) => patients.get(id),
    skipped,
    import: (bundle) => exclusive(() => load(bundle, now().toISOString(), true)),
    remove: (id) =>
      exclusive(async () => {
        if (!patients.has(id)) return false;
        if (dir) await rm(fileOf(id), { force: true });
        await store.removePatient(id);
        patients.delete(id);
        return true;
      }),
  };
}
