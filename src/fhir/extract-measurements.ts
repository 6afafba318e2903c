/**
 * Pre-therapy check values (LVEF, QTc, heart rate, blood pressure, chemistry, pregnancy test) as
 * Measurements in each analyte's canonical unit.
 *
 * One Measurement per usable Observation, or per component when a panel carries the analyte (the BP
 * panel 85354-9 with 8480-6 / 8462-4 components; an ECG panel carrying a QTc component). Analytes are
 * matched by the knowledge base's codes only: QT interval (8634-8, 44975-1) is not QTc and is not read.
 *
 * Entered-in-error and cancelled observations are dropped (with a note): they carry no value a
 * clinician would use. Preliminary, amended and corrected values are kept with their status.
 */
import type { Interpretation, Measurement } from '../core/model.ts';
import type { Analyte } from '../knowledge/index.ts';
import { callFromText } from './biomarker-text.ts';
import { answerCall, type FhirKnowledge, hasCoding, indexOf, lookup } from './codings.ts';
import {
  type AnyResource,
  asArray,
  codingsOf,
  conceptText,
  effectiveDate,
  isString,
  normaliseReference,
  refOf,
  resultStatus,
} from './read.ts';
import { normaliseQuantity } from './units.ts';

export interface MeasurementInput {
  kb: FhirKnowledge;
  observations: readonly AnyResource[];
  /** DiagnosticReports: echo and ECG conclusions are read when no structured value came with them. */
  reports?: readonly AnyResource[];
  notes: string[];
}

const INTERPRETATION: Record<string, Interpretation> = {
  N: 'normal',
  H: 'high',
  HU: 'critical-high',
  HH: 'critical-high',
  L: 'low',
  LU: 'critical-low',
  LL: 'critical-low',
  A: 'abnormal',
  AA: 'critical',
  POS: 'positive',
  DET: 'positive',
  NEG: 'negative',
  ND: 'negative',
  '>': 'high',
  '<': 'low',
};

/** v3 ObservationInterpretation codes, or the words Epic and Oracle send in `text`. */
export function interpretationOf(concepts: unknown): Interpretation | undefined {
  for (const concept of asArray(concepts as unknown[])) {
    for (const c of codingsOf(concept)) {
      const mapped = c.code ? INTERPRETATION[c.code.toUpperCase()] : undefined;
      if (mapped) return mapped;
    }
    const t = conceptText(concept).toLowerCase().trim();
    if (!t) continue;
    if (/critical(ly)? high|panic high/.test(t)) return 'critical-high';
    if (/critical(ly)? low|panic low/.test(t)) return 'critical-low';
    if (/critical|panic/.test(t)) return 'critical';
    if (/\bhigh\b|above/.test(t)) return 'high';
    if (/\blow\b|below/.test(t)) return 'low';
    if (/abnormal/.test(t)) return 'abnormal';
    if (/normal|within/.test(t)) return 'normal';
    if (/positive|detected|reactive/.test(t)) return 'positive';
    if (/negative|not detected|non-?reactive/.test(t)) return 'negative';
  }
  return undefined;
}

export function extractMeasurements(input: MeasurementInput): Measurement[] {
  const { kb, observations, reports = [], notes } = input;
  const analyteByKey = indexOf(kb).analyteByKey;
  const out: Measurement[] = [];
  let dropped = 0;
  for (const obs of observations) {
    const top = lookup(kb, obs.code, analyteByKey);
    const components = Array.isArray(obs.component) ? (obs.component as AnyResource[]) : [];
    const parts: { analyteId: string; holder: AnyResource }[] = [];
    if (top) parts.push({ analyteId: top, holder: obs });
    for (const comp of components) {
      if (typeof comp !== 'object' || comp === null) continue;
      const a = lookup(kb, comp.code, analyteByKey);
      if (a && a !== top) parts.push({ analyteId: a, holder: comp });
    }
    if (parts.length === 0) continue;
    if (obs.status === 'entered-in-error' || obs.status === 'cancelled') {
      dropped++;
      continue;
    }
    for (const { analyteId, holder } of parts) {
      const analyte = kb.analytes.get(analyteId);
      if (!analyte) continue;
      out.push(toMeasurement(kb, obs, holder, analyte));
    }
  }
  if (dropped > 0) notes.push(`${dropped} check observation(s) entered in error or cancelled were not used.`);
  // Structured values by analyte, with their references and days: a conclusion never adds a value
  // for an analyte a structured result of the same report or day already gives.
  const structured = new Map<string, { refs: Set<string>; days: Set<string> }>();
  for (const m of out) {
    const entry = structured.get(m.analyte) ?? { refs: new Set<string>(), days: new Set<string>() };
    for (const ref of m.sources) entry.refs.add(ref);
    if (m.date) entry.days.add(m.date.slice(0, 10));
    structured.set(m.analyte, entry);
  }
  for (const report of reports) out.push(...measurementsFromReport(kb, report, structured));
  return out;
}

type ReportKind = 'echo' | 'ecg';

/** Studies that name an ECG but are not a resting 12-lead ECG (gated CT, stress tests, Holter). */
const NOT_RESTING_ECG = /\b(CT|MRI?|gated|stress|exercise|treadmill|holter|event monitor)\b/i;

/** Echo or ECG report, by code, then by category with the report's name deciding which. */
function cardiacReportKind(kb: FhirKnowledge, report: AnyResource): ReportKind | undefined {
  const r = kb.codes.cardiacReports;
  const name = conceptText(report.code);
  if (hasCoding(kb, report.code, r.echo)) return 'echo';
  if (hasCoding(kb, report.code, r.ecg)) return NOT_RESTING_ECG.test(name) ? undefined : 'ecg';
  const cardiology = asArray(report.category).some((c) => hasCoding(kb, c, r.categories));
  if (/\b(echo\w*|TTE|TEE|MUGA|ventriculogra\w+)\b/i.test(name) && !/\bstress\b/i.test(name)) return 'echo';
  if (/\b(ECG|EKG|electrocardiogra\w+)\b/i.test(name)) return NOT_RESTING_ECG.test(name) ? undefined : 'ecg';
  return cardiology && /ejection fraction|\bL?V?EF\b/i.test(reportText(report)) ? 'echo' : undefined;
}

function reportText(report: AnyResource): string {
  return [report.conclusion, ...asArray(report.conclusionCode).map((c) => conceptText(c))]
    .filter((t): t is string => typeof t === 'string' && t.trim() !== '')
    .join('. ');
}

/** Clauses of a conclusion: sentences, then ";" and "," (a decimal point is not a break). */
const clauses = (text: string) =>
  text
    .split(/(?<!\d)\.(?!\d)|[;,]|\.\s/)
    .map((c) => c.trim())
    .filter(Boolean);

const VALUE = '(?:<=|>=|≤|≥|<|>)?\\s*\\d+(?:\\.\\d+)?(?:\\s*(?:-|–|—|to)\\s*\\d+(?:\\.\\d+)?)?';
const PERCENT_VALUE = new RegExp(`(${VALUE})\\s*%`, 'g');
const LV_EF = /\b(?:LV\s*EF|LVEF|EF|ejection fraction)\b/i;
const RV = /\b(?:right ventric\w*|RV\s*EF|RVEF|RV)\b/i;
/** Words that put two ejection fractions in one clause ("decreased from 55% to 35%"). */
const COMPARISON = /\b(from|previous\w*|prior|compared|was|earlier|baseline|then|now)\b/i;
const EF_WORDS = /\b(?:L?V?EF|ejection fraction|(?:LV|left ventricular)\s+(?:systolic\s+)?function)\b/i;

/**
 * The one left-ventricular ejection fraction a conclusion states, or why it cannot be read: a
 * clause about the right ventricle is skipped; two values, a comparison, or a number with no "%"
 * make it "needs review" rather than a guess.
 */
function ejectionFraction(text: string): { fragment: string } | { review: string } | undefined {
  const found: string[] = [];
  let doubtful = false;
  for (const clause of clauses(text)) {
    if (!LV_EF.test(clause) || RV.test(clause)) continue;
    const values = [...clause.matchAll(PERCENT_VALUE)].map((m) => m[0]);
    if (values.length > 1 || (values.length === 1 && COMPARISON.test(clause))) doubtful = true;
    else if (values.length === 1 && values[0]) found.push(values[0]);
    else if (/\d/.test(clause.replace(/\b(19|20)\d{2}-\d{2}(-\d{2})?\b/g, ''))) doubtful = true;
  }
  const distinct = [...new Set(found.map((f) => f.replace(/\s+/g, '')))];
  if (!doubtful && distinct.length === 1 && found[0]) return { fragment: found[0] };
  if (doubtful || distinct.length > 1) return { review: text.slice(0, 160) };
  return EF_WORDS.test(text) ? { review: text.slice(0, 160) } : undefined;
}

/** "QTc 512 ms", "QTcF: 520", "QT/QTc 400/520 ms" (the second of the pair). */
const QT_QTC_PAIR = /\bQT\s*\/\s*QTc[BFH]?\b[^\d]{0,10}(\d{3})\s*\/\s*(\d{3})/i;
const QTC_VALUE = new RegExp(`\\bQTc[BFH]?\\b[^\\d<>≤≥;,]{0,15}?(${VALUE}\\s*(?:ms|msec)?)`, 'i');
const QT_WORDS = /\bQTc?[BFH]?\b|\bQT interval\b/i;
/** The ventricular rate: named first; otherwise a rate in bpm that is not the atrial rate. */
const VENTRICULAR_RATE = /\b(?:ventricular rate|heart rate|HR)\b[^\d;,]{0,12}(\d{2,3})\b/i;
const ANY_RATE =
  /(?<!atrial rate[^\d;,]{0,12})\b(\d{2,3})\s*(?:bpm|beats\s*(?:per|\/)\s*min(?:ute)?|\/min)\b/i;

/**
 * An ejection fraction, QTc or heart rate written only in an echo or ECG report's conclusion. Read
 * conservatively: a range counts by its worse bound (numberInText); what cannot be read with
 * certainty is "needs review", never normal; a structured value of the same report or day wins.
 */
function measurementsFromReport(
  kb: FhirKnowledge,
  report: AnyResource,
  structured: ReadonlyMap<string, { refs: ReadonlySet<string>; days: ReadonlySet<string> }>,
) {
  const kind = cardiacReportKind(kb, report);
  const text = reportText(report);
  if (!kind || !text || report.status === 'entered-in-error' || report.status === 'cancelled') return [];
  const out: Measurement[] = [];
  const date = effectiveDate(report);
  const results = asArray<AnyResource>(report.result).map((r) => normaliseReference(r));
  const add = (analyteId: string, fragment: string | undefined, words?: string) => {
    const analyte = kb.analytes.get(analyteId);
    const known = structured.get(analyteId);
    if (!analyte) return;
    if (
      known &&
      (results.some((ref) => ref && known.refs.has(ref)) || (date && known.days.has(date.slice(0, 10))))
    )
      return;
    const m: Measurement = {
      analyte: analyteId,
      status: resultStatus(report.status),
      sources: [refOf(report)],
    };
    if (date) m.date = date;
    if (fragment) {
      m.originalValue = `${fragment.trim()} (report conclusion)`;
      const num = numberInText(fragment, analyte);
      const n = num ? normaliseQuantity(num.value, undefined, num.unit, analyte) : undefined;
      if (n && !('error' in n)) {
        m.value = n.value;
        m.unit = n.unit;
      } else m.unreadable = n && 'error' in n ? n.error : `"${fragment}" is not a number`;
    } else {
      m.originalValue = `${words} (report conclusion)`;
      m.unreadable = `"${words}" cannot be read as one value: needs review`;
    }
    out.push(m);
  };
  if (kind === 'echo') {
    const ef = ejectionFraction(text);
    if (ef && 'fragment' in ef) add('lvef', ef.fragment);
    else if (ef) add('lvef', undefined, ef.review);
  } else {
    const pair = QT_QTC_PAIR.exec(text);
    const qtc = pair?.[2] ? `${pair[2]} ms` : QTC_VALUE.exec(text)?.[1];
    if (qtc) add('qtc', qtc);
    else if (QT_WORDS.test(text)) add('qtc', undefined, text.slice(0, 160));
    const rate = VENTRICULAR_RATE.exec(text)?.[1] ?? ANY_RATE.exec(text)?.[1];
    if (rate) add('heart-rate', `${rate} /min`);
  }
  return out;
}

/** Quantitative hCG keeps its number (the core decides); a call is only read from qualitative results. */
function toMeasurement(
  kb: FhirKnowledge,
  obs: AnyResource,
  holder: AnyResource,
  analyte: Analyte,
): Measurement {
  const m: Measurement = { analyte: analyte.id, status: resultStatus(obs.status), sources: [refOf(obs)] };
  const date = effectiveDate(obs);
  if (date) m.date = date;
  const interp = interpretationOf(holder.interpretation ?? (holder === obs ? undefined : obs.interpretation));
  if (interp) m.interpretation = interp;

  const q = holder.valueQuantity;
  const str = typeof holder.valueString === 'string' ? holder.valueString : undefined;
  const qualitative = analyte.qualitative === true;

  if (q && typeof q.value === 'number' && Number.isFinite(q.value)) {
    m.originalValue = `${q.comparator ?? ''}${q.value}${q.unit || q.code ? ` ${q.unit ?? q.code}` : ''}`;
    // Comparators ("<0.2") keep the bound as the value; originalValue keeps the comparator for display.
    const ucumCode = isUcumSystem(q.system) || !q.system ? q.code : undefined;
    const n = normaliseQuantity(q.value, ucumCode, q.unit, analyte);
    if ('error' in n) m.unreadable = n.error;
    else {
      m.value = n.value;
      m.unit = n.unit;
    }
    const range = referenceRange(holder, analyte, ucumCode, q.unit);
    if (range) m.referenceRange = range;
  } else if (str !== undefined || holder.valueCodeableConcept) {
    const text = str ?? conceptText(holder.valueCodeableConcept);
    m.originalValue = text;
    const coded = answerCall(kb, holder.valueCodeableConcept);
    const call = coded === 'positive' || coded === 'negative' ? coded : callFromText(text);
    const num = qualitative ? undefined : numberInText(text, analyte);
    if (qualitative && (call === 'positive' || call === 'negative')) {
      m.call = call;
    } else if (num) {
      // Numbers sent as text (common in Epic valueString, echo reports): read with the unit written
      // after them; a range counts by its worse bound.
      const n = normaliseQuantity(num.value, undefined, num.unit, analyte);
      if ('error' in n) m.unreadable = n.error;
      else {
        m.value = n.value;
        m.unit = n.unit;
      }
    } else if (qualitative && interp === 'positive') m.call = 'positive';
    else if (qualitative && interp === 'negative') m.call = 'negative';
    else if (!qualitative && !/\d/.test(text)) m.unreadable = `"${text}" has no number: needs review`;
    else m.unreadable = `result "${text}" is not a ${qualitative ? 'positive/negative result' : 'number'}`;
  } else if (qualitative && (interp === 'positive' || interp === 'negative')) {
    m.call = interp;
  } else {
    m.unreadable = obs.dataAbsentReason
      ? `no value (${conceptText(obs.dataAbsentReason) || 'data absent'})`
      : 'no value recorded';
  }
  if (m.value === undefined && !m.unreadable && !m.call) m.unreadable = 'no value recorded';
  return m;
}

const NUMBER = '(\\d+(?:\\.\\d+)?)';
/** An optional label ("EF", "LVEF:"), a comparator or a range, the unit, and a remark in brackets. */
const NUMBER_TEXT = new RegExp(
  `^\\s*(?:[A-Za-z][A-Za-z ]{0,20}?[:=]?\\s+)?(<=|>=|≤|≥|<|>)?\\s*${NUMBER}(?:\\s*(?:-|–|—|to)\\s*${NUMBER})?\\s*([^\\d\\s(][^(]*?)?\\s*(?:\\(.*\\))?\\s*$`,
  'i',
);

/**
 * A number written as text: "42", "< 0.2", "≥ 50 %", "EF 35 to 40 %", "30-35% (visual estimate)".
 * A range counts by its worse bound for this analyte (the lower one where low values are abnormal,
 * as for LVEF; the upper one otherwise), so a range never reads better than it may be.
 */
function numberInText(text: string, analyte: Analyte): { value: number; unit?: string } | undefined {
  const m = NUMBER_TEXT.exec(text);
  if (!m?.[2]) return undefined;
  const first = Number(m[2]);
  const second = m[3] === undefined ? undefined : Number(m[3]);
  const lowIsWorse = analyte.thresholds.some((t) => t.direction.includes('below'));
  const value = second === undefined ? first : lowIsWorse ? Math.min(first, second) : Math.max(first, second);
  const unit = m[4]?.trim();
  return { value, ...(unit ? { unit } : {}) };
}

function isUcumSystem(system: unknown): boolean {
  return typeof system === 'string' && /unitsofmeasure\.org/.test(system);
}

function referenceRange(
  holder: AnyResource,
  analyte: Analyte,
  valueCode: string | undefined,
  valueUnit: string | undefined,
): { low?: number; high?: number } | undefined {
  for (const rr of asArray<AnyResource>(holder.referenceRange)) {
    if (typeof rr !== 'object' || rr === null) continue;
    const out: { low?: number; high?: number } = {};
    for (const side of ['low', 'high'] as const) {
      const b = rr[side];
      if (!b || typeof b.value !== 'number') continue;
      const code = isUcumSystem(b.system) || !b.system ? (b.code ?? valueCode) : valueCode;
      const n = normaliseQuantity(b.value, code, b.unit ?? valueUnit, analyte);
      if (!('error' in n)) out[side] = n.value;
    }
    if (out.low === undefined && out.high === undefined && isString(rr.text)) {
      // Oracle sends ranges as text ("3.5-5.1", "<40", "> 5"), in the value's unit.
      const t = rr.text;
      const between = /(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)/.exec(t);
      const conv = (x: number) => {
        const n = normaliseQuantity(x, valueCode, valueUnit, analyte);
        return 'error' in n ? undefined : n.value;
      };
      if (between?.[1] && between[2]) {
        const lo = conv(Number(between[1]));
        const hi = conv(Number(between[2]));
        if (lo !== undefined) out.low = lo;
        if (hi !== undefined) out.high = hi;
      } else {
        const lt = /^\s*(?:<|<=|≤|less than|up to)\s*(\d+(?:\.\d+)?)/i.exec(t);
        const gt = /^\s*(?:>|>=|≥|greater than)\s*(\d+(?:\.\d+)?)/i.exec(t);
        const hi = lt?.[1] ? conv(Number(lt[1])) : undefined;
        const lo = gt?.[1] ? conv(Number(gt[1])) : undefined;
        if (hi !== undefined) out.high = hi;
        if (lo !== undefined) out.low = lo;
      }
    }
    if (out.low !== undefined || out.high !== undefined) return out;
  }
  return undefined;
}
