/**
 * Patient demographics the rules need: birth date (age, computed by the core against its `now`) and
 * administrative sex (pregnancy checks). Age is never computed here: the clock is an input of the core.
 */
import type { PatientInfo, Sex } from '../core/model.ts';
import { type AnyResource, dateOf, refOf } from './read.ts';

const SEXES = new Set<Sex>(['female', 'male', 'other', 'unknown']);

export function extractPatient(
  patient: AnyResource | undefined,
  fallbackId: string | undefined,
): PatientInfo {
  if (!patient) return { id: fallbackId ?? 'unknown', sex: 'unknown', sources: [] };
  const gender = typeof patient.gender === 'string' ? patient.gender.toLowerCase() : 'unknown';
  const info: PatientInfo = {
    id: patient.id ?? fallbackId ?? 'unknown',
    sex: SEXES.has(gender as Sex) ? (gender as Sex) : 'unknown',
    sources: [refOf(patient)],
  };
  const birthDate = dateOf(patient.birthDate);
  if (birthDate) info.birthDate = birthDate;
  return info;
}
