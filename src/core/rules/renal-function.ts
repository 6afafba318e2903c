/**
 * Renal function for the TKI labels' renal dose rules, which are written in creatinine-clearance
 * bands estimated by Cockcroft-Gault [cockcroft-gault-1976]:
 *   CrCl (mL/min) = (140 − age) × weight (kg) / (72 × serum creatinine (mg/dL)), × 0.85 for women.
 * The estimate uses the latest creatinine, the patient's age on the day it was drawn, the recorded
 * sex and the latest body weight, and says which of each it used. Without any of them it is not
 * guessed: the reading says what is missing (never "normal").
 */

import { RENAL_ANALYTES } from '../../knowledge/index.ts';
import { ageInYears, dayOf } from '../dates.ts';
import type { KidneyFinding, Measurement, PatientSnapshot } from '../model.ts';

export const CRCL = RENAL_ANALYTES.crcl;
const CREATININE = RENAL_ANALYTES.creatinine;
const BODY_WEIGHT = RENAL_ANALYTES.weight;

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The Cockcroft-Gault estimate from the latest creatinine, or undefined when there is no creatinine.
 * A creatinine clearance the EHR itself reported (LOINC 35591-7) wins when it is as recent.
 */
export function estimatedCreatinineClearance(
  latest: ReadonlyMap<string, Measurement>,
  snapshot: PatientSnapshot,
  time: (m: Measurement) => number,
  /** A weight this many days from the creatinine or closer describes the patient it was drawn from. */
  weightWindowDays: number,
): Measurement | undefined {
  const creatinine = latest.get(CREATININE);
  if (!creatinine) return undefined;
  const reported = latest.get(CRCL);
  if (reported && time(reported) >= time(creatinine)) return undefined;

  const base = {
    analyte: CRCL,
    status: creatinine.status,
    sources: [...creatinine.sources],
    ...(creatinine.date ? { date: creatinine.date } : {}),
  };
  const weight = latest.get(BODY_WEIGHT);
  const { sex, birthDate } = snapshot.patient;
  const age = creatinine.date ? ageInYears(birthDate, creatinine.date) : undefined;
  const creatinineText = `creatinine ${creatinine.value !== undefined ? `${round(creatinine.value, 2)} mg/dL` : (creatinine.originalValue ?? 'unreadable')} on ${dayOf(creatinine.date)}`;

  // A weight from long before the creatinine does not describe the patient it was drawn from.
  const weightAge =
    weight?.date && creatinine.date ? Math.abs(time(creatinine) - time(weight)) / 86_400_000 : undefined;
  const weightUsable =
    weight?.value !== undefined && (weightAge === undefined || weightAge <= weightWindowDays);

  const inputs: string[] = [];
  if (age === undefined) inputs.push('age (birth date)');
  if (sex !== 'female' && sex !== 'male') inputs.push('sex (female or male)');
  if (!weight) inputs.push('body weight');
  else if (weight.value === undefined)
    inputs.push(`a readable body weight (${weight.unreadable ?? weight.originalValue ?? 'no value'})`);
  else if (!weightUsable)
    inputs.push(
      `a body weight within ${weightWindowDays} days of the creatinine (last ${dayOf(weight.date)})`,
    );
  const creatinineReadable = creatinine.value !== undefined && creatinine.value > 0;
  if (
    !creatinineReadable ||
    inputs.length ||
    age === undefined ||
    !weightUsable ||
    weight?.value === undefined ||
    creatinine.value === undefined
  ) {
    const missing = [
      ...(creatinineReadable
        ? []
        : [`a readable creatinine (${creatinine.unreadable ?? creatinine.originalValue ?? 'no value'})`]),
      ...inputs,
    ];
    return {
      ...base,
      originalValue: creatinineText,
      unreadable: `Cockcroft-Gault needs ${missing.join(', ')}; ${creatinineText}`,
      // A new creatinine would not supply these: no laboratory order for them.
      ...(creatinineReadable ? { missingInputs: inputs } : {}),
    };
  }
  const crcl = (((140 - age) * weight.value) / (72 * creatinine.value)) * (sex === 'female' ? 0.85 : 1);
  return {
    ...base,
    value: Math.round(crcl),
    unit: 'mL/min',
    sources: [...creatinine.sources, ...weight.sources],
    derivedFrom: `Cockcroft-Gault: ${creatinineText}, age ${age}, ${sex}, weight ${round(weight.value, 1)} kg on ${dayOf(weight.date)}`,
  };
}

export interface KidneyHint {
  dialysis: boolean;
  text: string;
  sources: string[];
}

const INACTIVE = new Set<KidneyFinding['clinicalStatus']>(['inactive', 'resolved', 'remission']);

/** What the problem list says about the kidneys: dialysis or severe CKD (active entries only). */
export function kidneyHint(snapshot: PatientSnapshot): KidneyHint | undefined {
  const active = (snapshot.kidney ?? []).filter((k) => !INACTIVE.has(k.clinicalStatus));
  if (!active.length) return undefined;
  const dialysis = active.filter((k) => k.kind === 'dialysis');
  const shown = dialysis.length ? dialysis : active;
  const names = [...new Set(shown.map((k) => k.display))].join('; ');
  return {
    dialysis: dialysis.length > 0,
    text: dialysis.length
      ? `On dialysis per the problem list (${names}): renal dose rules written for patients not on dialysis do not apply; follow the label and a nephrologist.`
      : `Problem list: ${names} (a hint; the dose follows the measured renal function).`,
    sources: shown.flatMap((k) => k.sources),
  };
}
