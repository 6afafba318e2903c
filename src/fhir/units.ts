/**
 * Unit normalisation: every measured value reaches the core in its analyte's canonical UCUM unit
 * (knowledge `analytes[].unit`), converted with @lhncbc/ucum-lhc [design.md: "Units through UCUM,
 * not hand-written factors"]. Mass <-> molar conversions use the analyte's molecularWeight.
 *
 * Conversions are linear for every unit here, so each (unit, analyte) pair is converted once and its
 * factor memoised: 10,000 lab values cost 10,000 multiplications, not 10,000 UCUM parses.
 */
import ucum from '@lhncbc/ucum-lhc';
import type { Analyte } from '../knowledge/index.ts';

const utils = ucum.UcumLhcUtils.getInstance();

/**
 * Unit strings seen in real `Quantity.unit` text that are not valid UCUM [terminology.md §4.1:
 * `mmHg` vs `mm[Hg]`, `beats/min` vs `/min`]. Keys are lower-case.
 */
const SYNONYMS: Record<string, string> = {
  mmhg: 'mm[Hg]',
  'mm hg': 'mm[Hg]',
  'beats/min': '/min',
  'beats/minute': '/min',
  bpm: '/min',
  'per min': '/min',
  '{beats}/min': '/min',
  msec: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  sec: 's',
  seconds: 's',
  percent: '%',
  'µmol/l': 'umol/L',
  'μmol/l': 'umol/L',
  'umol/l': 'umol/L',
  'mmol/l': 'mmol/L',
  'mg/dl': 'mg/dL',
  'g/dl': 'g/dL',
  'meq/l': 'meq/L',
  'iu/l': 'U/L',
  'u/l': 'U/L',
  'miu/ml': 'm[IU]/mL',
  'mmol/mol': 'mmol/mol',
  kg: 'kg',
  kgs: 'kg',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  'ml/min/1.73m2': 'mL/min/{1.73_m2}',
  'ml/min/1.73 m2': 'mL/min/{1.73_m2}',
  'ml/min/1.73m²': 'mL/min/{1.73_m2}',
  'ml/min/1.73 m²': 'mL/min/{1.73_m2}',
  'ml/min/1.73_m2': 'mL/min/{1.73_m2}',
  'ml/min/{1.73_m2}': 'mL/min/{1.73_m2}',
  'ml/min': 'mL/min',
};

/**
 * Enzyme activities are reported as IU/L and U/L interchangeably by clinical labs (the "U" of a lab
 * report is the IUB international unit); UCUM keeps [IU] arbitrary and refuses to convert it, so both
 * are read as U/L.
 */
const ARBITRARY_EQUIVALENTS: Record<string, string> = { '[IU]/L': 'U/L', '[iU]/L': 'U/L' };

/** Ion valence, so mEq/L converts to mmol/L (1 mEq of Mg2+ = 0.5 mmol). Chemistry, not policy. */
const CHARGE: Record<string, number> = { potassium: 1, magnesium: 2, calcium: 2 };

/**
 * Values accepted without any unit at all, only for analytes whose unit is implied by the test and
 * only inside a physiological range (a unitless "0.42" LVEF is a fraction, not 0.42 %).
 */
const UNITLESS_PLAUSIBLE: Record<string, [number, number]> = {
  lvef: [5, 95],
  hba1c: [3, 20],
  'heart-rate': [20, 250],
  'systolic-bp': [50, 300],
  'diastolic-bp': [20, 200],
  qtc: [250, 800],
};

/** Maps a recorded unit (UCUM code or free text) to a UCUM code, or returns it unchanged. */
export function toUcum(unit: string): string {
  const trimmed = unit.trim();
  const syn = SYNONYMS[trimmed.toLowerCase()];
  const code = syn ?? trimmed;
  return ARBITRARY_EQUIVALENTS[code] ?? code;
}

const factorCache = new Map<string, number | string>();

/** Factor from `unit` to the analyte's canonical unit, or an error message. */
function factor(unit: string, analyte: Analyte): number | string {
  const cacheKey = `${analyte.id}\u0000${unit}`;
  const hit = factorCache.get(cacheKey);
  if (hit !== undefined) return hit;
  let result: number | string;
  if (unit === analyte.unit) {
    result = 1;
  } else {
    const opts: { molecularWeight?: number; charge?: number } = {};
    if (analyte.molecularWeight !== undefined) opts.molecularWeight = analyte.molecularWeight;
    const charge = CHARGE[analyte.id];
    if (charge !== undefined) opts.charge = charge;
    try {
      const r = utils.convertUnitTo(unit, 1, analyte.unit, opts);
      result =
        r.status === 'succeeded' && typeof r.toVal === 'number' && Number.isFinite(r.toVal)
          ? r.toVal
          : `cannot convert "${unit}" to ${analyte.unit}${r.msg.length ? ` (${r.msg.join('; ')})` : ''}`;
    } catch (e) {
      result = `cannot convert "${unit}" to ${analyte.unit} (${(e as Error).message})`;
    }
  }
  factorCache.set(cacheKey, result);
  return result;
}

export type Normalised = { value: number; unit: string } | { error: string };

/**
 * Converts a quantity to the analyte's canonical unit. `code` is Quantity.code (UCUM when
 * Quantity.system is UCUM), `unitText` is Quantity.unit (display text, often non-UCUM).
 */
export function normaliseQuantity(
  value: number,
  code: string | undefined,
  unitText: string | undefined,
  analyte: Analyte,
): Normalised {
  const recorded = code?.trim() || unitText?.trim();
  if (!recorded) {
    const range = UNITLESS_PLAUSIBLE[analyte.id];
    if (range && value >= range[0] && value <= range[1]) return { value, unit: analyte.unit };
    return { error: `no unit recorded for ${analyte.name} value ${value}` };
  }
  let f = factor(toUcum(recorded), analyte);
  // A UCUM code that fails may still come with a readable unit text (and vice versa).
  if (typeof f === 'string' && code && unitText && unitText.trim() !== code.trim()) {
    const alt = factor(toUcum(unitText), analyte);
    if (typeof alt === 'number') f = alt;
  }
  if (typeof f === 'string') return { error: f };
  return { value: round(value * f), unit: analyte.unit };
}

/** Strips floating-point noise from conversions (6.993376000000001 -> 6.993376). */
function round(x: number): number {
  return Number.parseFloat(x.toPrecision(10));
}
