/**
 * The sandbox's FHIR data: Medplum's in-memory repositories (a real FHIR search implementation),
 * one per patient compartment plus one for shared resources (Medication, Practitioner…). The
 * in-memory search scans every resource of a type, so partitioning by patient keeps a search over
 * one patient's record from walking every sample patient's thousands of Observations. Rebuilt at
 * every start, so dates stay relative to today. A patient loaded later (sandbox/import-patient.ts)
 * is added as one whole compartment, swapped in at once, so a search never sees half of it.
 */
import { MemoryRepository } from '@medplum/fhir-router';
import { SERVED_TYPES } from './capability.ts';
import { indexFhirDefinitions } from './definitions.ts';

type R = Record<string, unknown>;
type StoredResource = Parameters<MemoryRepository['createResource']>[0];

/** The patient a resource belongs to (Patient itself, or its `subject`/`patient` reference). */
export function compartmentOf(resource: R): string | undefined {
  if (resource.resourceType === 'Patient') return typeof resource.id === 'string' ? resource.id : undefined;
  for (const key of ['subject', 'patient']) {
    const ref = (resource[key] as { reference?: unknown } | undefined)?.reference;
    if (typeof ref === 'string') {
      const m = /(?:^|\/)Patient\/([^/]+)$/.exec(ref);
      if (m) return m[1];
    }
  }
  return undefined;
}

export interface SandboxStore {
  /** The repository of one patient's compartment, or undefined for an unknown patient. */
  patient(id: string): MemoryRepository | undefined;
  /** Resources outside any patient compartment. */
  readonly shared: MemoryRepository;
  /** The repository holding `type/id`, or undefined. */
  locate(type: string, id: string): MemoryRepository | undefined;
  /** Whose `type/id` is: a patient's id, `null` for a shared resource, undefined when there is none. */
  ownerOf(type: string, id: string): string | null | undefined;
  /**
   * Adds one patient: its compartment and the shared resources it brings (Medication…). All or
   * nothing: refused, changing nothing, when any `type/id` is already taken.
   */
  addPatient(patientId: string, resources: readonly R[]): Promise<void>;
  /** Removes a patient added by `addPatient`, with the shared resources it brought; false if none. */
  removePatient(patientId: string): Promise<boolean>;
}

export async function createSandboxStore(resources: readonly R[]): Promise<SandboxStore> {
  indexFhirDefinitions(SERVED_TYPES);
  const shared = new MemoryRepository();
  const patients = new Map<string, MemoryRepository>();
  const where = new Map<string, { repo: MemoryRepository; owner: string | null }>();
  /** Shared resources each added patient brought, removed with it. */
  const brought = new Map<string, string[]>();
  const keyOf = (r: R) => `${r.resourceType}/${r.id}`;
  for (const resource of resources) {
    const owner = compartmentOf(resource);
    let repo = shared;
    if (owner) {
      repo = patients.get(owner) ?? new MemoryRepository();
      patients.set(owner, repo);
    }
    // The memory repository keeps client-assigned ids and does not check references.
    await repo.createResource(resource as unknown as StoredResource);
    where.set(keyOf(resource), { repo, owner: owner ?? null });
  }
  return {
    patient: (id) => patients.get(id),
    shared,
    locate: (type, id) => where.get(`${type}/${id}`)?.repo,
    ownerOf: (type, id) => where.get(`${type}/${id}`)?.owner,
    async addPatient(patientId, added) {
      const taken = added.map(keyOf).filter((k) => where.has(k));
      if (taken.length > 0 || patients.has(patientId))
        throw new Error(`already in the sandbox: ${taken.join(', ') || `Patient/${patientId}`}`);
      // The compartment is built aside and swapped in below, synchronously: no reader sees it half-made.
      const repo = new MemoryRepository();
      const own = added.filter((r) => compartmentOf(r) === patientId);
      const others = added.filter((r) => compartmentOf(r) !== patientId);
      for (const r of own) await repo.createResource(r as unknown as StoredResource);
      const created: R[] = [];
      try {
        for (const r of others) {
          await shared.createResource(r as unknown as StoredResource);
          created.push(r);
        }
      } catch (e) {
        for (const r of created) await shared.deleteResource(String(r.resourceType), String(r.id));
        throw e;
      }
      patients.set(patientId, repo);
      for (const r of own) where.set(keyOf(r), { repo, owner: patientId });
      for (const r of others) where.set(keyOf(r), { repo: shared, owner: null });
      brought.set(patientId, others.map(keyOf));
    },
    async removePatient(patientId) {
      const sharedKeys = brought.get(patientId);
      if (!sharedKeys) return false;
      const repo = patients.get(patientId);
      patients.delete(patientId);
      brought.delete(patientId);
      for (const [key, at] of where) if (at.owner === patientId && at.repo === repo) where.delete(key);
      for (const key of sharedKeys) {
        where.delete(key);
        const [type = '', id = ''] = key.split('/');
        await shared.deleteResource(type, id);
      }
      return true;
    },
  };
}
