/**
 * Pre-therapy checks "before the first dose".
 *
 * Each check is current, stale, missing, abnormal, or could-not-check. A failed query is never
 * shown as missing or normal [local-safety-rules]: when the domain a check reads could not be read, the check
 * is "could not check" unless what was found is already abnormal (abnormal is never reassuring).
 */
import {
  type Analyte,
  type CheckDefinition,
  evidenceAbout,
  type Knowledge,
  type Threshold,
  type Tki,
} from '../../knowledge/index.ts';
import { ageInYears, dayOf, daysBefore, toTime } from '../dates.ts';
import type {
  AgentChecks,
  AnalyteReading,
  CheckOrder,
  CheckState,
  CheckStatus,
  DataGap,
  DoseNote,
  EvaluateConfig,
  Gene,
  IsoDate,
  Measurement,
  PatientSnapshot,
  Severity,
} from '../model.ts';
import { CHECK_STATE_RANK, SEVERITY_RANK } from '../model.ts';
import { CRCL, estimatedCreatinineClearance, kidneyHint } from './renal-function.ts';

export const maxSeverity = (a: Severity, b: Severity): Severity =>
  SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;

const UNUSABLE_STATUS = new Set(['entered-in-error', 'cancelled', 'registered']);

interface ThresholdHit {
  severity: Severity;
  text: string;
}

/** UCUM codes whose annotation a clinician would not read as written. */
const UNIT_DISPLAY: Record<string, string> = { 'mL/min/{1.73_m2}': 'mL/min/1.73 m²' };

function formatValue(value: number, unit: string): string {
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
  return `${rounded} ${UNIT_DISPLAY[unit] ?? unit}`;
}

/** The worst threshold a value crosses, with a readable statement of the bound applied. */
export function applyThresholds(
  analyte: Analyte,
  m: Measurement,
  config: EvaluateConfig,
  agent: Tki | undefined,
): ThresholdHit | undefined {
  let worst: ThresholdHit | undefined;
  const consider = (hit: ThresholdHit) => {
    if (!worst || SEVERITY_RANK[hit.severity] > SEVERITY_RANK[worst.severity]) worst = hit;
  };

  if (m.call !== undefined || analyte.qualitative) {
    if (m.call === 'positive') consider({ severity: 'warning', text: 'positive' });
  }
  if (m.value !== undefined) {
    for (const t of analyte.thresholds) {
      const override = config.thresholds[analyte.id]?.[t.severity];
      const bound = boundFor(t, analyte, m, override);
      if (!bound) continue;
      const crossed =
        t.direction === 'above'
          ? m.value > bound.value
          : t.direction === 'at-or-above'
            ? m.value >= bound.value
            : m.value < bound.value;
      if (!crossed) continue;
      const severity: Severity =
        t.onlyBefore === 'qt-prolonging' && !agent?.qtProlonging ? 'warning' : t.severity;
      const op = t.direction === 'above' ? '>' : t.direction === 'at-or-above' ? '≥' : '<';
      consider({ severity, text: `${op} ${bound.label}` });
    }
  }
  // The lab's own critical flag is never overridden by our defaults.
  if (m.interpretation && ['critical-high', 'critical-low', 'critical'].includes(m.interpretation)) {
    consider({
      severity: 'warning',
      text: `flagged ${m.interpretation.replace('-', ' ')} by the laboratory`,
    });
  }
  if (
    m.value === undefined &&
    m.call === undefined &&
    m.interpretation &&
    ['high', 'low', 'abnormal'].includes(m.interpretation)
  ) {
    consider({
      severity: 'warning',
      text: `flagged ${m.interpretation} by the laboratory (value not readable)`,
    });
  }
  return worst;
}

function boundFor(
  t: Threshold,
  analyte: Analyte,
  m: Measurement,
  override: { value?: number; ulnMultiple?: number } | undefined,
): { value: number; label: string } | undefined {
  const unit = analyte.unit;
  switch (t.basis) {
    case 'absolute': {
      const v = override?.value ?? t.value;
      return v === undefined ? undefined : { value: v, label: formatValue(v, unit) };
    }
    case 'reference-high': {
      const lab = m.referenceRange?.high;
      if (lab !== undefined)
        return { value: lab, label: `${formatValue(lab, unit)} (laboratory upper limit)` };
      const v = override?.value ?? t.value;
      return v === undefined
        ? undefined
        : { value: v, label: `${formatValue(v, unit)} (default upper limit)` };
    }
    case 'reference-low': {
      const lab = m.referenceRange?.low;
      if (lab !== undefined)
        return { value: lab, label: `${formatValue(lab, unit)} (laboratory lower limit)` };
      const v = override?.value ?? t.value;
      return v === undefined
        ? undefined
        : { value: v, label: `${formatValue(v, unit)} (default lower limit)` };
    }
    case 'uln-multiple': {
      const multiple = override?.ulnMultiple ?? t.ulnMultiple ?? 1;
      const labUln = m.referenceRange?.high;
      const uln = labUln ?? analyte.defaultUln;
      if (uln === undefined) return undefined;
      const source = labUln !== undefined ? 'laboratory' : 'default';
      return { value: uln * multiple, label: `${multiple}× ULN (ULN ${formatValue(uln, unit)}, ${source})` };
    }
  }
}

/**
 * Work shared by the checks of every agent within one evaluation (never kept across evaluations):
 * the latest usable measurement per analyte, and each check's status. A process-wide WeakMap keyed
 * by the snapshot would make every young-generation GC keep and promote the request's data.
 */
export interface ChecksMemo {
  snapshot: PatientSnapshot;
  config: EvaluateConfig;
  now: IsoDate;
  latest?: Map<string, Measurement>;
  statuses: Map<string, CheckStatus>;
}

export function checksMemo(snapshot: PatientSnapshot, config: EvaluateConfig, now: IsoDate): ChecksMemo {
  return { snapshot, config, now, statuses: new Map() };
}

/** Latest usable measurement per analyte, with the creatinine clearance estimated from them. */
function latestIndex(snapshot: PatientSnapshot, config: EvaluateConfig): Map<string, Measurement> {
  const index = new Map<string, Measurement>();
  const times = new Map<Measurement, number>();
  for (const m of snapshot.measurements) {
    if (UNUSABLE_STATUS.has(m.status)) continue;
    const t = toTime(m.date) ?? Number.NEGATIVE_INFINITY;
    const seen = index.get(m.analyte);
    // Strictly later wins, so among equal dates the first in the record is kept.
    if (!seen || t > (times.get(seen) ?? Number.NEGATIVE_INFINITY)) {
      index.set(m.analyte, m);
      times.set(m, t);
    }
  }
  const crcl = estimatedCreatinineClearance(
    index,
    snapshot,
    (m) => times.get(m) ?? Number.NEGATIVE_INFINITY,
    config.creatinineClearanceWeightWindowDays,
  );
  if (crcl) index.set(CRCL, crcl);
  return index;
}

function latestUsable(
  snapshot: PatientSnapshot,
  analyteId: string,
  config: EvaluateConfig,
  memo: ChecksMemo | undefined,
): Measurement | undefined {
  if (memo?.snapshot !== snapshot || memo.config !== config)
    return latestIndex(snapshot, config).get(analyteId);
  memo.latest ??= latestIndex(snapshot, config);
  return memo.latest.get(analyteId);
}

function readAnalyte(
  analyte: Analyte,
  windowDays: number,
  snapshot: PatientSnapshot,
  gaps: readonly DataGap[],
  config: EvaluateConfig,
  agent: Tki | undefined,
  now: IsoDate,
  memo: ChecksMemo | undefined,
): AnalyteReading {
  const m = latestUsable(snapshot, analyte.id, config, memo);
  const gap = gaps.find((g) => g.domains.includes(analyte.domain));
  const base = { analyte: analyte.id, name: analyte.name, ...(m ? { measurement: m } : {}) };

  if (!m) {
    return gap
      ? {
          ...base,
          state: 'could-not-check',
          why: `${analyte.name}: could not check (${gap.detail || gap.reason}).`,
        }
      : { ...base, state: 'missing', why: `${analyte.name}: no result on file.` };
  }
  const shown =
    (m.value !== undefined ? formatValue(m.value, analyte.unit) : (m.originalValue ?? m.call ?? 'result')) +
    (m.derivedFrom ? ` (${m.derivedFrom})` : '');
  const age = daysBefore(m.date, now);
  const hit = applyThresholds(analyte, m, config, agent);
  const current = age !== undefined && age <= windowDays && age >= -1;

  if (hit && current) {
    return {
      ...base,
      state: 'abnormal',
      severity: hit.severity,
      threshold: hit.text,
      why: `${analyte.name} ${shown} on ${dayOf(m.date)} (${hit.text}).`,
    };
  }
  if (m.value === undefined && m.call === undefined && !hit) {
    return {
      ...base,
      state: 'could-not-check',
      why: `${analyte.name} on ${dayOf(m.date)}: the value could not be interpreted (${m.unreadable ?? 'no value'}).`,
    };
  }
  if (gap) {
    return {
      ...base,
      state: 'could-not-check',
      why: `${analyte.name}: could not check for newer results (${gap.detail || gap.reason}); last ${shown} on ${dayOf(m.date)}.`,
    };
  }
  if (!current) {
    const when = age === undefined ? 'undated' : `${age} days ago`;
    return {
      ...base,
      state: 'stale',
      ...(hit ? { threshold: hit.text } : {}),
      why: `${analyte.name} ${shown} on ${dayOf(m.date)} (${when}; window ${windowDays} days)${hit ? `, and it was abnormal (${hit.text})` : ''}.`,
    };
  }
  return { ...base, state: 'current', why: `${analyte.name} ${shown} on ${dayOf(m.date)}.` };
}

/** What a check definition implies, from the knowledge base alone: worked out once per definition. */
interface CheckFacts {
  optional: ReadonlySet<string>;
  evidence: readonly string[];
  /** Does the agent change the outcome? Only through thresholds applied to QT-prolonging agents. */
  agentDependent: boolean;
}

const checkFactsCache = new WeakMap<Knowledge, WeakMap<CheckDefinition, CheckFacts>>();

function checkFacts(kb: Knowledge, def: CheckDefinition): CheckFacts {
  let byDef = checkFactsCache.get(kb);
  if (!byDef) {
    byDef = new WeakMap();
    checkFactsCache.set(kb, byDef);
  }
  let facts = byDef.get(def);
  if (!facts) {
    facts = {
      optional: new Set(def.analytes.filter((a) => a.optional).map((a) => a.analyte)),
      evidence: [
        ...new Set([
          ...def.evidence,
          ...def.analytes.flatMap((a) => kb.analytes.get(a.analyte)?.evidence ?? []),
        ]),
      ],
      agentDependent: def.analytes.some(({ analyte }) =>
        kb.analytes.get(analyte)?.thresholds.some((t) => t.onlyBefore === 'qt-prolonging'),
      ),
    };
    byDef.set(def, facts);
  }
  return facts;
}

function combine(
  def: CheckDefinition,
  readings: AnalyteReading[],
  optional: ReadonlySet<string>,
): CheckState {
  if (readings.some((r) => r.state === 'abnormal')) return 'abnormal';
  if (def.require === 'any') {
    if (readings.some((r) => r.state === 'current')) return 'current';
    if (readings.some((r) => r.state === 'could-not-check')) return 'could-not-check';
    if (readings.some((r) => r.state === 'stale')) return 'stale';
    return 'missing';
  }
  // An optional analyte counts once the record may hold it but could not be read (never reassuring).
  const required = readings.filter((r) => !optional.has(r.analyte) || r.state === 'could-not-check');
  return required.reduce<CheckState>(
    (worst, r) => (CHECK_STATE_RANK[r.state] > CHECK_STATE_RANK[worst] ? r.state : worst),
    'current',
  );
}

const NEEDS_ORDER = new Set<CheckState>(['missing', 'stale', 'could-not-check']);

/** Orders for what is missing, stale or unverifiable; optional analytes never trigger an order alone. */
function ordersFor(
  def: CheckDefinition,
  readings: AnalyteReading[],
  state: CheckState,
  optional: ReadonlySet<string>,
): CheckOrder[] {
  // A value computed from current results that lacks a non-laboratory input (the weight of a
  // creatinine clearance) is not helped by ordering the laboratory test again.
  const orderHelps = (r: AnalyteReading) => !r.measurement?.missingInputs?.length;
  const needed = (a: string) =>
    !optional.has(a) && readings.some((r) => r.analyte === a && NEEDS_ORDER.has(r.state) && orderHelps(r));
  const chosen =
    def.require === 'any'
      ? NEEDS_ORDER.has(state) && readings.every(orderHelps)
        ? def.orders.slice(0, 1)
        : []
      : def.orders.filter((o) => o.covers.some(needed));
  return chosen.map((o) => ({
    system: o.coding.system,
    code: o.coding.code,
    display: o.coding.display,
    category: o.category,
  }));
}

export function evaluateCheck(
  def: CheckDefinition,
  kb: Knowledge,
  snapshot: PatientSnapshot,
  config: EvaluateConfig,
  agent: Tki | undefined,
  now: IsoDate,
  memo?: ChecksMemo,
): CheckStatus {
  const windowDays = config.checkWindowDays[def.id] ?? def.windowDays;
  const readings = def.analytes.map(({ analyte }) => {
    const a = kb.analytes.get(analyte);
    if (!a) throw new Error(`unknown analyte ${analyte}`);
    return readAnalyte(a, windowDays, snapshot, snapshot.dataGaps, config, agent, now, memo);
  });
  const facts = checkFacts(kb, def);
  const optional = facts.optional;
  // When one result suffices ("any"), an alternative with no result on file is noise once another
  // reading has a result.
  const anyDecided = def.require === 'any' && readings.some((r) => r.measurement);
  const shownReadings: AnalyteReading[] = readings.filter(
    (r) =>
      (!optional.has(r.analyte) || r.measurement || r.state === 'could-not-check') &&
      !(anyDecided && r.state === 'missing'),
  );
  let state = combine(def, readings, optional);
  // Problem-list hints [local-check-defaults]: dialysis is abnormal whatever the last value says.
  const hint = def.hints?.includes('kidney-disease') ? kidneyHint(snapshot) : undefined;
  const conditionsGap = def.hints?.includes('kidney-disease')
    ? snapshot.dataGaps.find((g) => g.domains.includes('conditions'))
    : undefined;
  if (conditionsGap && !hint)
    shownReadings.push({
      analyte: 'problem-list',
      name: 'Problem list',
      state: 'could-not-check',
      why: `Problem list could not be read (${conditionsGap.detail || conditionsGap.reason}): dialysis or severe kidney disease is not known.`,
    });
  if (hint) {
    shownReadings.push({
      analyte: 'problem-list',
      name: 'Problem list',
      state: hint.dialysis ? 'abnormal' : 'current',
      ...(hint.dialysis ? { severity: 'warning' as const, threshold: 'dialysis' } : {}),
      why: hint.text,
    });
    if (hint.dialysis) state = 'abnormal';
  }
  const severity =
    state === 'abnormal'
      ? readings.reduce<Severity>(
          (s, r) => (r.state === 'abnormal' && r.severity ? maxSeverity(s, r.severity) : s),
          'warning',
        )
      : 'info';
  const label: Record<CheckState, string> = {
    current: 'done',
    stale: 'out of date',
    missing: 'missing',
    abnormal: 'abnormal',
    'could-not-check': 'could not check',
  };
  return {
    check: def.id,
    name: def.name,
    state,
    severity,
    windowDays,
    readings: shownReadings,
    summary: `${def.name}: ${label[state]}. ${shownReadings.map((r) => r.why).join(' ')}`,
    orders: ordersFor(def, readings, state, optional),
    evidence: [...facts.evidence],
  };
}

type DoseRule = NonNullable<Tki['baselineChecks'][number]['ifAbnormal']>;

/**
 * The label's dose rule, only where it applies: the value in the rule's band (CrCl, or eGFR when
 * no clearance can be estimated, said so), or the named analyte abnormal (bilirubin for a hepatic
 * rule, not ALT alone). On dialysis a rule written for patients not on dialysis is not shown as
 * if it applied; outside the band the card says the label gives no dose there.
 */
function doseNoteFor(
  agent: string,
  rule: DoseRule,
  status: CheckStatus,
  snapshot: PatientSnapshot,
): DoseNote[] {
  const { when, notOnDialysis, ...note } = rule;
  const base = { agent, evidence: note.evidence, verified: note.verified };
  if (notOnDialysis && kidneyHint(snapshot)?.dialysis)
    return [
      {
        ...base,
        text: 'On dialysis: the label rule is written for patients not on dialysis and gives no dose here; follow the label.',
      },
    ];
  if (!when) return [{ agent, ...note }];
  const valued = (analyte: string | undefined) =>
    status.readings.find((r) => r.analyte === analyte && r.measurement?.value !== undefined);
  const reading = valued(when.analyte) ?? valued(when.orAnalyte);
  if (!reading) return [];
  if (when.atLeast === undefined && when.below === undefined)
    return reading.state === 'abnormal' ? [{ agent, ...note }] : [];
  const value = reading.measurement?.value as number;
  const inBand =
    (when.atLeast === undefined || value >= when.atLeast) && (when.below === undefined || value < when.below);
  const proxy =
    reading.analyte !== when.analyte ? ` (${reading.name} used in place of creatinine clearance)` : '';
  if (inBand) return [{ agent, ...note, text: `${note.text}${proxy}` }];
  if (reading.state !== 'abnormal') return [];
  const band = `${when.atLeast ?? 0} to < ${when.below ?? '∞'}`;
  return [
    {
      ...base,
      text: `${reading.name} ${value} is outside the range this label doses (${band}): the label gives no dose here; follow the label.`,
    },
  ];
}

function isFemaleOfReproductivePotential(
  snapshot: PatientSnapshot,
  config: EvaluateConfig,
  now: IsoDate,
): boolean {
  if (snapshot.patient.sex !== 'female') return false;
  const age = ageInYears(snapshot.patient.birthDate, now);
  return age === undefined || age <= config.reproductivePotentialMaxAge;
}

/** Which checks an agent needs for this patient, with why: label, gene rule [ros1-first-line-qa-2025], pregnancy. */
export function requiredChecks(
  kb: Knowledge,
  agent: Tki,
  gene: Gene | null,
  snapshot: PatientSnapshot,
  config: EvaluateConfig,
  now: IsoDate,
): AgentChecks['why'] {
  const why: AgentChecks['why'] = {};
  const add = (check: string, entry: { why: string; evidence: string[]; verified: boolean }) => {
    const list = why[check] ?? [];
    list.push(entry);
    why[check] = list;
  };
  for (const bc of agent.baselineChecks)
    add(bc.check, { why: bc.why, evidence: bc.evidence, verified: bc.verified });
  for (const g of kb.geneBaselineChecks.filter((x) => x.gene === gene && agent.genes.includes(x.gene))) {
    for (const c of g.checks) add(c, { why: g.why, evidence: g.evidence, verified: true });
  }
  if (isFemaleOfReproductivePotential(snapshot, config, now)) {
    const contraception =
      agent.contraception === 'non-hormonal'
        ? ' Advise non-hormonal contraception (the drug lowers hormonal contraceptive exposure).'
        : '';
    add(kb.pregnancyCheck.check, {
      why: `${kb.pregnancyCheck.why}.${contraception}`,
      evidence: agent.embryoFetalEvidence,
      verified: true,
    });
  }
  return why;
}

export function evaluateAgentChecks(
  kb: Knowledge,
  agent: Tki,
  gene: Gene | null,
  snapshot: PatientSnapshot,
  config: EvaluateConfig,
  now: IsoDate,
  memo?: ChecksMemo,
): AgentChecks {
  const why = requiredChecks(kb, agent, gene, snapshot, config, now);
  const shared =
    memo?.snapshot === snapshot && memo.config === config && memo.now === now
      ? memo
      : checksMemo(snapshot, config, now);
  const checks = Object.keys(why).map((id) => {
    const def = kb.checks.get(id);
    if (!def) throw new Error(`unknown check ${id}`);
    // Agents that read a check alike share its status (read-only from here on).
    const key = checkFacts(kb, def).agentDependent && agent.qtProlonging ? `${id}|qt` : id;
    let status = shared.statuses.get(key);
    if (!status) {
      status = evaluateCheck(def, kb, snapshot, config, agent, now, shared);
      shared.statuses.set(key, status);
    }
    const extra = (why[id] ?? []).flatMap((w) => w.evidence);
    const doseNotes: DoseNote[] =
      status.state === 'abnormal'
        ? agent.baselineChecks.flatMap((bc) =>
            bc.check === id && bc.ifAbnormal ? doseNoteFor(agent.id, bc.ifAbnormal, status, snapshot) : [],
          )
        : [];
    return {
      ...status,
      // A label section about another drug (the crizotinib QT label behind the QTc threshold) is
      // not cited for this one.
      evidence: evidenceAbout(
        kb,
        [...new Set([...doseNotes.flatMap((n) => n.evidence), ...extra, ...status.evidence])],
        agent.id,
      ),
      ...(doseNotes.length ? { doseNotes } : {}),
    };
  });
  return { agent: agent.id, checks, why };
}
