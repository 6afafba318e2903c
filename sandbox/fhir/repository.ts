/**
 * The sandbox's FHIR data: Medplum's in-memory repositories (a real FHIR search implementation),
 * one per patient compartment plus one for shared resources (Medication, Practitioner…). The
 * in-memory search scans every resource of a type, so partitioning by patient keeps a search over
 * one patient's record from walking every sample patient's thousands of Observations. Rebuilt at
 * every start, so dates stay relative to today.
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
}

export async function createSandboxStore(resources: readonly R[]): Promise<SandboxStore> {
  indexFhirDefinitions(SERVED_TYPES);
  const shared = new MemoryRepository();
  const patients = new Map<string, MemoryRepository>();
  const where = new Map<string, MemoryRepository>();
  for (const resource of resources) {
    const owner = compartmentOf(resource);
    let repo = shared;
    if (owner) {
      repo = patients.get(owner) ?? new MemoryRepository();
      patients.set(owner, repo);
    }
    // The memory repository keeps client-assigned ids and does not check references.
    await repo.createResource(resource as unknown as StoredResource);
    where.set(`${resource.resourceType}/${resource.id}`, repo);
  }
  return {
    patient: (id) => patients.get(id),
    shared,
    locate: (type, id) => where.get(`${type}/${id}`),
  };
}
