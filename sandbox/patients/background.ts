/**
 * Years of routine history for each sandbox sample patient, generated instead of written by hand:
 * outpatient visits with vital signs, a complete blood count and a basic metabolic panel at most of
 * them, a liver panel and CEA during cancer follow-up, and a yearly TSH. The scenario files hold only
 * the clinical story; this module makes the chart look like a real one (hundreds of unrelated
 * results) without changing what the story means.
 *
 * Deterministic: a small PRNG seeded by the patient id, and dates counted back from the story's anchor
 * (`Bundle.timestamp`), so every load produces the same resources. The loader then shifts them with
 * the story (see load.ts), so "n days before the anchor" becomes "n days before today".
 *
 * Shapes: individual laboratory Observations (category `laboratory`) and US Core vital signs
 * (category `vital-signs`, the blood-pressure panel 85354-9 with systolic/diastolic components), each
 * with LOINC code, UCUM unit, reference range and interpretation, linked to a finished ambulatory
 * Encounter. No DiagnosticReport panels: the `reports` search (required for biomarkers, 100 per page)
 * would otherwise be filled with routine lab reports.
 *
 * The rule that keeps background from ever deciding a pre-therapy check (decided, not accidental):
 * every code a pre-therapy check reads (`src/knowledge/data/checks.json` analytes: potassium,
 * calcium, glucose, ALT, AST, bilirubin, heart rate, blood pressure, ...; the blood-pressure panel; and
 * the SI codes of the same analytes, 14749-6 glucose and 2000-8 calcium, which the knowledge base does
 * not read but a clinician would) is generated only at visits at least BACKGROUND_CHECK_HORIZON_DAYS
 * (the longest look-back window, 180 days for LVEF, plus 30) before the anchor. Such old values can
 * make a check "stale" when the story has nothing newer, never "current" or "abnormal". More recent
 * visits carry only analytes no check reads (blood counts, sodium, chloride, bicarbonate, urea,
 * weight, temperature, SpO2...); creatinine and eGFR, read by the renal check, are old ones only. Analytes the story must control (LVEF, QTc, uric acid,
 * magnesium, CK, lipase, lipids, HbA1c, hCG) are never generated here at all.
 */
import checksData from '../../src/knowledge/data/checks.json' with { type: 'json' };
import codesData from '../../src/knowledge/data/codes.json' with { type: 'json' };

type Resource = Record<string, unknown> & { resourceType: string; id: string };

const DAY_MS = 86_400_000;
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** Codes whose results would feed a pre-therapy check: only old ones are generated. */
export const CHECK_ANALYTE_CODES: ReadonlySet<string> = new Set([
  // Body weight only scales a creatinine clearance (it never makes a check current alone), and
  // every chart has recent weights.
  ...checksData.analytes.filter((a) => a.id !== 'body-weight').flatMap((a) => a.codes.map((c) => c.code)),
  ...codesData.vitalSignPanels.map((c) => c.code),
  // SI codes of check analytes: not read by the knowledge base, but clinically the same results.
  '14749-6',
  '2000-8',
]);

/** Longest look-back window of any check, plus a margin: background check analytes are older than this. */
export const BACKGROUND_CHECK_HORIZON_DAYS = Math.max(...checksData.checks.map((c) => c.windowDays)) + 30;

/** The last background visit is at least this many days before the anchor (the story owns the recent weeks). */
export const BACKGROUND_END_DAYS = 14;

export interface BackgroundInput {
  patientId: string;
  gender: 'male' | 'female' | 'other' | 'unknown';
  /** The anchor date the story was written against (`Bundle.timestamp`). */
  anchor: string;
  /** Onset of the lung cancer (`<id>-nsclc`): before it, primary care; after it, oncology follow-up. */
  diagnosisDate: string;
  /** UTC offset the story's dateTimes use (`-05:00`), so the chart reads as one site. */
  utcOffset: string;
  /** The laboratory's unit system: SI reports creatinine, glucose and calcium in molar units. */
  units: 'conventional' | 'si';
  /** Latest weight in the story, so the weight trend ends where the story starts. */
  weightKg?: number;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for plausible lab values. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: string) {
    this.next = prng(hash(seed));
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.uniform(lo, hi + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Normal(mean, sd) by Box-Muller. */
  normal(mean: number, sd: number): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

// ---------------------------------------------------------------------------------------------
// Analytes
// ---------------------------------------------------------------------------------------------

interface AnalyteSpec {
  key: string;
  loinc: string;
  display: string;
  text: string;
  /** UCUM code, and the unit text the laboratory prints when it differs. */
  ucum: string;
  unit?: string;
  decimals: number;
  /** Reference range and the distribution of values, per sex where it differs. */
  range:
    | { low?: number; high?: number }
    | { male: { low?: number; high?: number }; female: { low?: number; high?: number } };
  mean: number | { male: number; female: number };
  sd: number;
}

const sexed = (male: number, female: number) => ({ male, female });

const CBC: AnalyteSpec[] = [
  {
    key: 'wbc',
    loinc: '6690-2',
    display: 'Leukocytes [#/volume] in Blood by Automated count',
    text: 'WBC',
    ucum: '10*3/uL',
    unit: 'K/uL',
    decimals: 1,
    range: { low: 4.0, high: 11.0 },
    mean: 6.6,
    sd: 1.4,
  },
  {
    key: 'rbc',
    loinc: '789-8',
    display: 'Erythrocytes [#/volume] in Blood by Automated count',
    text: 'RBC',
    ucum: '10*6/uL',
    unit: 'M/uL',
    decimals: 2,
    range: { male: { low: 4.5, high: 5.9 }, female: { low: 4.0, high: 5.2 } },
    mean: sexed(5.0, 4.5),
    sd: 0.3,
  },
  {
    key: 'hgb',
    loinc: '718-7',
    display: 'Hemoglobin [Mass/volume] in Blood',
    text: 'Hemoglobin',
    ucum: 'g/dL',
    decimals: 1,
    range: { male: { low: 13.5, high: 17.5 }, female: { low: 12.0, high: 15.5 } },
    mean: sexed(14.9, 13.3),
    sd: 0.8,
  },
  {
    key: 'hct',
    loinc: '4544-3',
    display: 'Hematocrit [Volume Fraction] of Blood by Automated count',
    text: 'Hematocrit',
    ucum: '%',
    decimals: 1,
    range: { male: { low: 40, high: 52 }, female: { low: 36, high: 46 } },
    mean: sexed(44, 40),
    sd: 2.2,
  },
  {
    key: 'mcv',
    loinc: '787-2',
    display: 'MCV [Entitic volume] by Automated count',
    text: 'MCV',
    ucum: 'fL',
    decimals: 0,
    range: { low: 80, high: 100 },
    mean: 90,
    sd: 3.5,
  },
  {
    key: 'mchc',
    loinc: '786-4',
    display: 'MCHC [Mass/volume] by Automated count',
    text: 'MCHC',
    ucum: 'g/dL',
    decimals: 1,
    range: { low: 32, high: 36 },
    mean: 33.8,
    sd: 0.7,
  },
  {
    key: 'rdw',
    loinc: '788-0',
    display: 'Erythrocyte distribution width [Ratio] by Automated count',
    text: 'RDW',
    ucum: '%',
    decimals: 1,
    range: { low: 11.5, high: 14.5 },
    mean: 13.1,
    sd: 0.6,
  },
  {
    key: 'plt',
    loinc: '777-3',
    display: 'Platelets [#/volume] in Blood by Automated count',
    text: 'Platelets',
    ucum: '10*3/uL',
    unit: 'K/uL',
    decimals: 0,
    range: { low: 150, high: 400 },
    mean: 255,
    sd: 50,
  },
];

const BMP_CONVENTIONAL: AnalyteSpec[] = [
  {
    key: 'na',
    loinc: '2951-2',
    display: 'Sodium [Moles/volume] in Serum or Plasma',
    text: 'Sodium',
    ucum: 'mmol/L',
    decimals: 0,
    range: { low: 135, high: 145 },
    mean: 139.5,
    sd: 1.8,
  },
  {
    key: 'k',
    loinc: '2823-3',
    display: 'Potassium [Moles/volume] in Serum or Plasma',
    text: 'Potassium',
    ucum: 'mmol/L',
    decimals: 1,
    range: { low: 3.5, high: 5.1 },
    mean: 4.2,
    sd: 0.3,
  },
  {
    key: 'cl',
    loinc: '2075-0',
    display: 'Chloride [Moles/volume] in Serum or Plasma',
    text: 'Chloride',
    ucum: 'mmol/L',
    decimals: 0,
    range: { low: 98, high: 107 },
    mean: 102,
    sd: 2,
  },
  {
    key: 'co2',
    loinc: '2028-9',
    display: 'Carbon dioxide, total [Moles/volume] in Serum or Plasma',
    text: 'CO2',
    ucum: 'mmol/L',
    decimals: 0,
    range: { low: 22, high: 29 },
    mean: 25.5,
    sd: 1.6,
  },
  {
    key: 'bun',
    loinc: '3094-0',
    display: 'Urea nitrogen [Mass/volume] in Serum or Plasma',
    text: 'BUN',
    ucum: 'mg/dL',
    decimals: 0,
    range: { low: 7, high: 20 },
    mean: 14,
    sd: 3,
  },
  {
    key: 'creat',
    loinc: '2160-0',
    display: 'Creatinine [Mass/volume] in Serum or Plasma',
    text: 'Creatinine',
    ucum: 'mg/dL',
    decimals: 2,
    range: { male: { low: 0.7, high: 1.3 }, female: { low: 0.5, high: 1.0 } },
    mean: sexed(0.98, 0.78),
    sd: 0.09,
  },
  {
    key: 'glu',
    loinc: '2345-7',
    display: 'Glucose [Mass/volume] in Serum or Plasma',
    text: 'Glucose',
    ucum: 'mg/dL',
    decimals: 0,
    range: { low: 70, high: 99 },
    mean: 92,
    sd: 9,
  },
  {
    key: 'ca',
    loinc: '17861-6',
    display: 'Calcium [Mass/volume] in Serum or Plasma',
    text: 'Calcium',
    ucum: 'mg/dL',
    decimals: 1,
    range: { low: 8.6, high: 10.3 },
    mean: 9.4,
    sd: 0.3,
  },
  {
    key: 'egfr',
    loinc: '98979-8',
    display:
      'Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)',
    text: 'eGFR (CKD-EPI 2021)',
    ucum: 'mL/min/{1.73_m2}',
    unit: 'mL/min/1.73m2',
    decimals: 0,
    range: { low: 60 },
    mean: 88,
    sd: 9,
  },
];

const BMP_SI: AnalyteSpec[] = [
  ...BMP_CONVENTIONAL.filter((a) => ['na', 'k', 'cl', 'co2', 'egfr'].includes(a.key)),
  {
    key: 'urea',
    loinc: '22664-7',
    display: 'Urea [Moles/volume] in Serum or Plasma',
    text: 'Urea',
    ucum: 'mmol/L',
    decimals: 1,
    range: { low: 2.5, high: 7.1 },
    mean: 5.0,
    sd: 1.0,
  },
  {
    key: 'creat',
    loinc: '14682-9',
    display: 'Creatinine [Moles/volume] in Serum or Plasma',
    text: 'Creatinine',
    ucum: 'umol/L',
    unit: 'µmol/L',
    decimals: 0,
    range: { male: { low: 62, high: 106 }, female: { low: 45, high: 90 } },
    mean: sexed(86, 69),
    sd: 8,
  },
  {
    key: 'glu',
    loinc: '14749-6',
    display: 'Glucose [Moles/volume] in Serum or Plasma',
    text: 'Glucose',
    ucum: 'mmol/L',
    decimals: 1,
    range: { low: 3.9, high: 5.5 },
    mean: 5.0,
    sd: 0.45,
  },
  {
    key: 'ca',
    loinc: '2000-8',
    display: 'Calcium [Moles/volume] in Serum or Plasma',
    text: 'Calcium',
    ucum: 'mmol/L',
    decimals: 2,
    range: { low: 2.15, high: 2.55 },
    mean: 2.35,
    sd: 0.07,
  },
];

const LIVER: AnalyteSpec[] = [
  {
    key: 'alt',
    loinc: '1742-6',
    display: 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    text: 'ALT',
    ucum: 'U/L',
    decimals: 0,
    range: { low: 7, high: 40 },
    mean: 23,
    sd: 6,
  },
  {
    key: 'ast',
    loinc: '1920-8',
    display: 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma',
    text: 'AST',
    ucum: 'U/L',
    decimals: 0,
    range: { low: 10, high: 40 },
    mean: 24,
    sd: 5,
  },
  {
    key: 'bili',
    loinc: '1975-2',
    display: 'Bilirubin.total [Mass/volume] in Serum or Plasma',
    text: 'Bilirubin, total',
    ucum: 'mg/dL',
    decimals: 1,
    range: { low: 0.2, high: 1.2 },
    mean: 0.6,
    sd: 0.18,
  },
  {
    key: 'alp',
    loinc: '6768-6',
    display: 'Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma',
    text: 'Alkaline phosphatase',
    ucum: 'U/L',
    decimals: 0,
    range: { low: 40, high: 129 },
    mean: 82,
    sd: 16,
  },
  {
    key: 'alb',
    loinc: '1751-7',
    display: 'Albumin [Mass/volume] in Serum or Plasma',
    text: 'Albumin',
    ucum: 'g/dL',
    decimals: 1,
    range: { low: 3.5, high: 5.0 },
    mean: 4.1,
    sd: 0.25,
  },
];

const TSH: AnalyteSpec = {
  key: 'tsh',
  loinc: '3016-3',
  display: 'Thyrotropin [Units/volume] in Serum or Plasma',
  text: 'TSH',
  ucum: 'm[IU]/L',
  unit: 'mIU/L',
  decimals: 2,
  range: { low: 0.4, high: 4.5 },
  mean: 1.9,
  sd: 0.7,
};
const CEA: AnalyteSpec = {
  key: 'cea',
  loinc: '2039-6',
  display: 'Carcinoembryonic Ag [Mass/volume] in Serum or Plasma',
  text: 'CEA',
  ucum: 'ng/mL',
  decimals: 1,
  range: { high: 5.0 },
  mean: 6.5,
  sd: 3.5,
};

// ---------------------------------------------------------------------------------------------
// Resource builders
// ---------------------------------------------------------------------------------------------

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

function quantity(value: number, ucum: string, unit?: string): Record<string, unknown> {
  return { value, unit: unit ?? ucum, system: UCUM, code: ucum };
}

function category(code: 'laboratory' | 'vital-signs'): Record<string, unknown>[] {
  return [
    {
      coding: [{ system: OBS_CATEGORY, code, display: code === 'laboratory' ? 'Laboratory' : 'Vital Signs' }],
    },
  ];
}

function interpretationOf(value: number, low?: number, high?: number): Record<string, unknown>[] {
  const code = low !== undefined && value < low ? 'L' : high !== undefined && value > high ? 'H' : 'N';
  const display = code === 'L' ? 'Low' : code === 'H' ? 'High' : 'Normal';
  return [{ coding: [{ system: INTERPRETATION, code, display }] }];
}

interface Visit {
  index: number;
  /** Days before the anchor. */
  daysAgo: number;
  ms: number;
  date: string;
  /** `YYYY-MM-DDThh:mm:ss±hh:mm` at the visit start. */
  at: (minutesAfter: number) => string;
  encounterId: string;
  oncology: boolean;
}

export function backgroundResources(input: BackgroundInput): Resource[] {
  const rng = new Rng(`background:${input.patientId}`);
  const pid = input.patientId;
  const sex = input.gender === 'male' ? 'male' : 'female';
  const anchorDay = Date.parse(`${input.anchor.slice(0, 10)}T00:00:00Z`);
  const dx = Date.parse(`${input.diagnosisDate.slice(0, 10)}T00:00:00Z`);
  const out: Resource[] = [];

  // Three and a half to seven years of history, and always at least a year and a half before the diagnosis.
  const years = rng.uniform(3.5, 7);
  const start = Math.min(anchorDay - Math.round(years * 365.25) * DAY_MS, dx - rng.int(550, 900) * DAY_MS);
  const end = anchorDay - BACKGROUND_END_DAYS * DAY_MS;

  // Visits: primary care every 2.5-4 months before the diagnosis, oncology follow-up every 7-12 weeks after.
  const visits: Visit[] = [];
  for (let t = start, i = 1; t <= end; i++) {
    const daysAgo = Math.round((anchorDay - t) / DAY_MS);
    const hh = rng.int(8, 15);
    const mm = rng.int(0, 11) * 5;
    const date = isoDay(t);
    const oncology = t >= dx;
    visits.push({
      index: i,
      daysAgo,
      ms: t,
      date,
      oncology,
      encounterId: `${pid}-bg-enc-${i}`,
      at: (after) => {
        const total = hh * 60 + mm + after;
        return `${date}T${pad(Math.floor(total / 60))}:${pad(total % 60)}:00${input.utcOffset}`;
      },
    });
    t += (oncology ? rng.int(49, 84) : rng.int(75, 120)) * DAY_MS;
    // The first oncology visit falls shortly after the diagnosis, whatever the primary-care rhythm.
    if (!oncology && t > dx && t - dx > 21 * DAY_MS) t = dx + rng.int(7, 21) * DAY_MS;
  }

  const oldEnough = (v: Visit) => v.daysAgo >= BACKGROUND_CHECK_HORIZON_DAYS;
  const allowed = (v: Visit, ...codes: string[]) =>
    oldEnough(v) || !codes.some((c) => CHECK_ANALYTE_CODES.has(c));

  // Body size: the weight trend ends near the story's current weight; some loss after the diagnosis.
  const heightCm = round(sex === 'male' ? rng.normal(177, 6) : rng.normal(164, 5), 0);
  const currentWeight = input.weightKg ?? round(sex === 'male' ? rng.normal(80, 8) : rng.normal(64, 7), 1);
  const preDxWeight = currentWeight * rng.uniform(1.03, 1.08);

  let lastHeightYear = '';
  for (const v of visits) {
    out.push(encounter(input, v));
    const obs = (
      key: string,
      cat: 'laboratory' | 'vital-signs',
      code: Record<string, unknown>,
      minutes: number,
      value: Record<string, unknown>,
      issuedMinutes?: number,
    ): void => {
      const r: Resource = {
        resourceType: 'Observation',
        id: `${pid}-bg-${v.index}-${key}`,
        status: 'final',
        category: category(cat),
        code,
        subject: { reference: `Patient/${pid}` },
        encounter: { reference: `Encounter/${v.encounterId}` },
        effectiveDateTime: v.at(minutes),
        ...(issuedMinutes !== undefined ? { issued: utcInstant(v.at(issuedMinutes)) } : {}),
        ...value,
      };
      out.push(r);
    };

    // Vital signs (US Core): blood pressure and heart rate only when old enough to never count as a check.
    const weightTrend =
      v.ms < dx
        ? preDxWeight
        : preDxWeight + ((currentWeight - preDxWeight) * (v.ms - dx)) / Math.max(end - dx, DAY_MS);
    const weight = round(weightTrend + rng.normal(0, 0.6), 1);
    if (allowed(v, '85354-9', '8480-6', '8462-4')) {
      const sbp = Math.round(rng.normal(126, 9));
      const dbp = Math.round(rng.normal(78, 6));
      obs(
        'bp',
        'vital-signs',
        loinc('85354-9', 'Blood pressure panel with all children optional', 'Blood pressure'),
        5,
        {
          component: [
            {
              code: loinc('8480-6', 'Systolic blood pressure'),
              valueQuantity: quantity(sbp, 'mm[Hg]', 'mmHg'),
            },
            {
              code: loinc('8462-4', 'Diastolic blood pressure'),
              valueQuantity: quantity(dbp, 'mm[Hg]', 'mmHg'),
            },
          ],
        },
      );
    }
    if (allowed(v, '8867-4')) {
      obs('hr', 'vital-signs', loinc('8867-4', 'Heart rate', 'Pulse'), 5, {
        valueQuantity: quantity(Math.round(rng.normal(74, 7)), '/min', 'beats/minute'),
      });
    }
    obs('rr', 'vital-signs', loinc('9279-1', 'Respiratory rate'), 5, {
      valueQuantity: quantity(rng.int(12, 18), '/min', 'breaths/minute'),
    });
    obs('temp', 'vital-signs', loinc('8310-5', 'Body temperature', 'Temperature'), 5, {
      valueQuantity: quantity(round(rng.normal(36.7, 0.2), 1), 'Cel', '°C'),
    });
    obs(
      'spo2',
      'vital-signs',
      {
        coding: [
          {
            system: LOINC,
            code: '59408-5',
            display: 'Oxygen saturation in Arterial blood by Pulse oximetry',
          },
          { system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
        ],
        text: 'SpO2',
      },
      5,
      { valueQuantity: quantity(Math.min(100, rng.int(94, 99)), '%') },
    );
    obs('weight', 'vital-signs', loinc('29463-7', 'Body weight', 'Weight'), 5, {
      valueQuantity: quantity(weight, 'kg'),
    });
    const year = v.date.slice(0, 4);
    if (year !== lastHeightYear) {
      lastHeightYear = year;
      obs('height', 'vital-signs', loinc('8302-2', 'Body height', 'Height'), 5, {
        valueQuantity: quantity(heightCm, 'cm'),
      });
    }
    obs('bmi', 'vital-signs', loinc('39156-5', 'Body mass index (BMI) [Ratio]', 'BMI'), 5, {
      valueQuantity: quantity(round(weight / (heightCm / 100) ** 2, 1), 'kg/m2'),
    });

    // Laboratory: at about 60 % of primary-care visits and 80 % of oncology visits.
    if (!rng.chance(v.oncology ? 0.8 : 0.6)) continue;
    const lab = (spec: AnalyteSpec, shift = 0) => {
      if (!allowed(v, spec.loinc)) return;
      const range = 'male' in spec.range ? spec.range[sex] : spec.range;
      const mean = typeof spec.mean === 'number' ? spec.mean : spec.mean[sex];
      const value = Math.max(round(rng.normal(mean + shift, spec.sd), spec.decimals), 10 ** -spec.decimals);
      const referenceRange: Record<string, unknown> = {};
      if (range.low !== undefined) referenceRange.low = quantity(range.low, spec.ucum, spec.unit);
      if (range.high !== undefined) referenceRange.high = quantity(range.high, spec.ucum, spec.unit);
      obs(
        spec.key,
        'laboratory',
        loinc(spec.loinc, spec.display, spec.text),
        -10,
        {
          valueQuantity: quantity(value, spec.ucum, spec.unit),
          interpretation: interpretationOf(value, range.low, range.high),
          referenceRange: [referenceRange],
        },
        240,
      );
    };
    // On treatment, counts run a little lower (mild anaemia is common under TKIs and chemotherapy).
    for (const a of CBC)
      lab(a, v.oncology && (a.key === 'hgb' || a.key === 'hct') ? (a.key === 'hgb' ? -0.9 : -2.6) : 0);
    for (const a of input.units === 'si' ? BMP_SI : BMP_CONVENTIONAL) lab(a);
    if (v.oncology && v.index % 2 === 0) for (const a of LIVER) lab(a);
    if (v.oncology && v.index % 3 === 0) lab(CEA);
    if (!v.oncology && v.index % 4 === 1) lab(TSH);
  }
  return out;
}

function loinc(code: string, display: string, text?: string): Record<string, unknown> {
  return { coding: [{ system: LOINC, code, display }], text: text ?? display };
}

/** The same moment as a UTC instant (`issued` is an instant). */
function utcInstant(dateTime: string): string {
  return `${new Date(Date.parse(dateTime)).toISOString().slice(0, 19)}Z`;
}

function encounter(input: BackgroundInput, v: Visit): Resource {
  return {
    resourceType: 'Encounter',
    id: v.encounterId,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    type: [{ text: v.oncology ? 'Oncology follow-up visit' : 'Primary care follow-up visit' }],
    subject: { reference: `Patient/${input.patientId}` },
    ...(v.oncology
      ? {
          participant: [
            { individual: { reference: 'Practitioner/sandbox-oncologist', display: 'Dr. Casey Sandbox' } },
          ],
        }
      : {}),
    period: { start: v.at(0), end: v.at(25) },
  };
}
