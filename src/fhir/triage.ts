/**
 * One pass over the Observations that sorts them for the extractors, so a 10,000-resource record is
 * scanned once instead of four times. Each extractor still accepts any Observation (the triage only
 * saves work): an Observation goes to an extractor when one of its codes is in that extractor's value
 * sets, or, for text-only shapes, when its name or result says something the extractor reads.
 */
import {
  type FhirKnowledge,
  flagsOf,
  genesInText,
  indexOf,
  ROLE_BIOMARKER,
  ROLE_DISEASE,
  ROLE_MEASUREMENT,
} from './codings.ts';
import type { AnyResource } from './read.ts';

export interface Triage {
  biomarkers: AnyResource[];
  measurements: AnyResource[];
  disease: AnyResource[];
}

function textNamesGene(t: unknown): boolean {
  return typeof t === 'string' && /ALK|ROS|anaplastic/i.test(t) && genesInText(t).length > 0;
}

function codeNamesGene(code: AnyResource | undefined): boolean {
  if (!code) return false;
  if (textNamesGene(code.text)) return true;
  if (!Array.isArray(code.coding)) return false;
  // A display that repeats the text (the usual case) was just read.
  for (const c of code.coding) if (c?.display !== code.text && textNamesGene(c?.display)) return true;
  return false;
}

function mentionsOligo(o: AnyResource): boolean {
  return (
    (typeof o.valueString === 'string' && /oligo/i.test(o.valueString)) ||
    (typeof o.code?.text === 'string' && /oligo/i.test(o.code.text)) ||
    (typeof o.valueCodeableConcept?.text === 'string' && /oligo/i.test(o.valueCodeableConcept.text))
  );
}

export function triageObservations(kb: FhirKnowledge, observations: readonly AnyResource[]): Triage {
  const roles = indexOf(kb).observationRolesBySystem;
  const out: Triage = { biomarkers: [], measurements: [], disease: [] };
  for (const o of observations) {
    let r = flagsOf(kb, o.code, roles);
    if (Array.isArray(o.component)) {
      for (const c of o.component) {
        if (typeof c !== 'object' || c === null) continue;
        r |= flagsOf(kb, c.code, roles) & ROLE_MEASUREMENT;
      }
    }
    // Genomics implications, region-studied and local-code results are recognised by the extractor.
    if (
      !(r & ROLE_BIOMARKER) &&
      (o.meta?.profile !== undefined || o.derivedFrom !== undefined || codeNamesGene(o.code))
    ) {
      r |= ROLE_BIOMARKER;
    }
    if (!(r & ROLE_DISEASE) && mentionsOligo(o)) r |= ROLE_DISEASE;
    if (r & ROLE_BIOMARKER) out.biomarkers.push(o);
    if (r & ROLE_MEASUREMENT) out.measurements.push(o);
    if (r & ROLE_DISEASE) out.disease.push(o);
  }
  return out;
}
