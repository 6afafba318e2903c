/**
 * The clinical model shared by both front doors.
 *
 * `PatientSnapshot` is what `src/fhir/to-snapshot.ts` builds from FHIR resources; `Assessment` is
 * what `evaluate()` returns. Both are plain data (JSON-serialisable) so the CDS service, the app
 * and the tests can log, diff and snapshot them. Every finding carries `sources` (FHIR references
 * such as `Observation/123`) so a clinician can see what it rests on.
 */

export type Gene = 'ALK' | 'ROS1';
export const GENES: readonly Gene[] = ['ALK', 'ROS1'];

/** FHIR references (`Observation/123`) a finding was read from. */
export type Sources = string[];

/** ISO 8601 date or dateTime, as found in the record. */
export type IsoDate = string;

// ---------------------------------------------------------------------------------------------
// Data gaps: failure is data
// ---------------------------------------------------------------------------------------------

/** The parts of the record a query feeds; a failed query makes its domain "could not check". */
export const DATA_DOMAINS = [
  'patient',
  'conditions',
  'biomarkers',
  'medications',
  'labs',
  'vital-signs',
  'cardiac-studies',
] as const;
export type DataDomain = (typeof DATA_DOMAINS)[number];

export type DataGapReason =
  | 'error'
  | 'forbidden'
  | 'unauthorized'
  | 'not-found'
  | 'timeout'
  | 'truncated'
  | 'not-requested'
  | 'invalid-response'
  /** A reference (a `medicationReference`) whose target is in no answer and could not be read. */
  | 'unresolved-reference';

export interface DataGap {
  /** What could not be read. */
  domains: DataDomain[];
  /** Query id from `src/fhir/queries.ts`, or a free description. */
  query: string;
  reason: DataGapReason;
  /** Human-readable detail (HTTP status, OperationOutcome text). Never contains a token. */
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Patient and disease
// ---------------------------------------------------------------------------------------------

export type Sex = 'female' | 'male' | 'other' | 'unknown';

export interface PatientInfo {
  id: string;
  birthDate?: IsoDate;
  sex: Sex;
  sources: Sources;
}

export type Histology = 'adenocarcinoma' | 'squamous' | 'large-cell' | 'nsclc-nos' | 'unknown';
export type Stage = 'I' | 'II' | 'III' | 'IV' | 'unknown';

export interface NsclcDiagnosis {
  histology: Histology;
  stage: Stage;
  /** Recurrent / metastatic disease recorded (independent of the stage grouping). */
  metastatic: boolean;
  recurrent: boolean;
  onsetDate?: IsoDate;
  display: string;
  sources: Sources;
}

export type CnsSite = 'brain' | 'leptomeningeal';

/** Clinical status as FHIR Condition.clinicalStatus says it (unknown when absent). */
export type ConditionClinicalStatus =
  | 'active'
  | 'recurrence'
  | 'relapse'
  | 'inactive'
  | 'remission'
  | 'resolved'
  | 'unknown';

export interface CnsFinding {
  site: CnsSite;
  clinicalStatus: ConditionClinicalStatus;
  /** true / false when the record says so (e.g. a symptom or severity coding); undefined otherwise. */
  symptomatic?: boolean;
  lesionCount?: number;
  date?: IsoDate;
  display: string;
  sources: Sources;
}

export type Tristate = 'yes' | 'no' | 'unknown';

/** Severe kidney disease or dialysis on the problem list: a hint for the renal check, never a value. */
export interface KidneyFinding {
  kind: 'severe-ckd' | 'dialysis';
  clinicalStatus: ConditionClinicalStatus;
  display: string;
  date?: IsoDate;
  sources: Sources;
}

// ---------------------------------------------------------------------------------------------
// Biomarkers
// ---------------------------------------------------------------------------------------------

export type BiomarkerMethod = 'IHC' | 'FISH' | 'NGS-DNA' | 'NGS-RNA' | 'NGS' | 'PCR' | 'unknown';
export type Specimen = 'tissue' | 'plasma' | 'unknown';

/** What the result says about the gene. `equivocal` includes weak/indeterminate IHC staining. */
export type BiomarkerCall = 'positive' | 'negative' | 'equivocal' | 'no-call';

/** FHIR Observation.status / DiagnosticReport.status as recorded. */
export type ResultStatus =
  | 'registered'
  | 'preliminary'
  | 'final'
  | 'amended'
  | 'corrected'
  | 'appended'
  | 'partial'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

export interface BiomarkerResult {
  gene: Gene;
  /**
   * `rearrangement`: the fusion / rearrangement test that decides ALK/ROS1 status.
   * `mutation`: a kinase-domain (resistance) mutation report, which never decides status alone.
   */
  kind: 'rearrangement' | 'mutation';
  method: BiomarkerMethod;
  specimen: Specimen;
  call: BiomarkerCall;
  status: ResultStatus;
  date?: IsoDate;
  /** Resistance mutations in short protein notation (`G1202R`, `L1196M`, `G2032R`). */
  resistanceMutations: string[];
  fusionPartner?: string;
  performer?: string;
  /** The words the record used, for display ("ALK rearrangement detected by FISH"). */
  display: string;
  sources: Sources;
}

// ---------------------------------------------------------------------------------------------
// Therapy
// ---------------------------------------------------------------------------------------------

export type TherapyKind = 'tki' | 'immunotherapy' | 'chemotherapy' | 'other';

export interface TherapyLine {
  /** Knowledge-base agent id (`alectinib`), or null when the drug was not recognised. */
  agent: string | null;
  kind: TherapyKind;
  display: string;
  start?: IsoDate;
  end?: IsoDate;
  status: 'active' | 'ended' | 'unknown';
  /** Why it ended, when it did. */
  endReason?: 'progression' | 'toxicity' | 'completed' | 'other' | 'unknown';
  /** Progression while on it (also set for progression while the line continues). */
  progressionDate?: IsoDate;
  progressionPattern?: 'systemic' | 'cns' | 'oligo' | 'unknown';
  sources: Sources;
}

export interface ActiveMedication {
  /** Knowledge-base id of the agent or interacting drug (`rifampin`), or null if unrecognised. */
  drug: string | null;
  display: string;
  sources: Sources;
}

/** A draft order from CDS Hooks context (order-select / order-sign). */
export interface DraftOrder {
  /** `MedicationRequest/draft-1`, as the EHR names it. */
  ref: string;
  drug: string | null;
  display: string;
}

// ---------------------------------------------------------------------------------------------
// Measurements (pre-therapy checks)
// ---------------------------------------------------------------------------------------------

export type Interpretation =
  | 'normal'
  | 'high'
  | 'low'
  | 'critical-high'
  | 'critical-low'
  | 'abnormal'
  | 'critical'
  | 'positive'
  | 'negative';

export interface Measurement {
  /** Knowledge-base analyte id (`qtc`, `potassium`, `uric-acid`). */
  analyte: string;
  /** Value in the analyte's canonical unit (see knowledge `analytes`), when numeric and convertible. */
  value?: number;
  unit?: string;
  /** As recorded, for display. */
  originalValue?: string;
  /** Coded/text result for qualitative tests (pregnancy test). */
  call?: 'positive' | 'negative';
  /** Set when the value could not be read or converted; the rules then say so. */
  unreadable?: string;
  /** How a computed value was reached (Cockcroft-Gault: which creatinine, age, sex and weight). */
  derivedFrom?: string;
  /** Inputs a computed value lacks that a laboratory order would not supply (weight, sex, age). */
  missingInputs?: string[];
  date?: IsoDate;
  status: ResultStatus;
  interpretation?: Interpretation;
  /** Reference range in the canonical unit. */
  referenceRange?: { low?: number; high?: number };
  sources: Sources;
}

// ---------------------------------------------------------------------------------------------
// The snapshot
// ---------------------------------------------------------------------------------------------

export interface PatientSnapshot {
  patient: PatientInfo;
  nsclc?: NsclcDiagnosis;
  cns: CnsFinding[];
  oligometastatic: Tristate;
  /** Severe chronic kidney disease / dialysis from the problem list (absent: none found). */
  kidney?: KidneyFinding[];
  biomarkers: BiomarkerResult[];
  therapies: TherapyLine[];
  activeMedications: ActiveMedication[];
  measurements: Measurement[];
  dataGaps: DataGap[];
  /** Things the extractor noticed but could not resolve (kept for the clinician). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// Configuration (site-level, layered on the knowledge base)
// ---------------------------------------------------------------------------------------------

export interface ThresholdOverride {
  /** Replace the absolute bound of the analyte's threshold of this severity. */
  value?: number;
  ulnMultiple?: number;
}

export interface EvaluateConfig {
  /** Generic names of agents not available at this site (formulary). */
  formularyUnavailable: string[];
  /** Per-check look-back window overrides, in days. */
  checkWindowDays: Record<string, number>;
  /** Per-analyte, per-severity threshold overrides. */
  thresholds: Record<string, Partial<Record<Severity, ThresholdOverride>>>;
  /** Upper age bound for "female of reproductive potential" when no better data exists. */
  reproductivePotentialMaxAge: number;
  /** A molecular test this many days before a progression still counts as testing at progression. */
  resistanceTestSlackDays: number;
  /** Days between a body weight and the creatinine it may scale (Cockcroft-Gault) [local-check-defaults]. */
  creatinineClearanceWeightWindowDays: number;
  /** Site override of the knowledge base's immunotherapy-to-TKI window (guidance.afterImmunotherapy), in days. */
  immunotherapyToTkiWindowDays?: number;
  /** Systemic agents started within this many days of a regimen's first start are one regimen (one line). */
  regimenStartWindowDays: number;
}

export const DEFAULT_CONFIG: EvaluateConfig = {
  formularyUnavailable: [],
  checkWindowDays: {},
  thresholds: {},
  reproductivePotentialMaxAge: 55,
  resistanceTestSlackDays: 30,
  creatinineClearanceWeightWindowDays: 90,
  // [kb-regimen-lines]: drugs started within this many days are one regimen.
  regimenStartWindowDays: 14,
};

// ---------------------------------------------------------------------------------------------
// The assessment
// ---------------------------------------------------------------------------------------------

export type Severity = 'info' | 'warning' | 'critical';
/** For sorting worst first and taking the worst of several. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

export type BiomarkerStatusValue =
  | 'positive'
  | 'negative'
  | 'equivocal'
  | 'unconfirmed'
  | 'discordant'
  | 'unknown';

export interface GeneStatus {
  gene: Gene;
  status: BiomarkerStatusValue;
  /** Plain-language reasons, in order. */
  reasons: string[];
  /** The result(s) the status rests on. */
  basis: BiomarkerResult[];
  /** Results set aside, with why (entered in error, cancelled, pending…). */
  ignored: { result: BiomarkerResult; why: string }[];
  resistanceMutations: { mutation: string; date?: IsoDate; sources: Sources }[];
  /** The biomarker query failed, so the status may be incomplete. */
  couldNotCheck: boolean;
  evidence: string[];
}

export type OptionTier = 'preferred' | 'other';

export interface TherapyOption {
  /** Agent id (`lorlatinib`) or non-drug option id (`platinum-pemetrexed`, `clinical-trial`). */
  id: string;
  name: string;
  kind: 'drug' | 'regimen' | 'trial';
  tier: OptionTier;
  /** Regimen rule that placed it. */
  rule: string;
  evidence: string[];
  notes: string[];
  /** True when it moved up from "other" because preferred agents are unavailable. */
  promoted: boolean;
}

export type AvoidReason =
  | 'wrong-gene'
  | 'less-effective'
  | 'poor-cns'
  | 'prior-progression'
  | 'resistance'
  | 'immunotherapy'
  | 'no-standard-tki';

export interface AvoidedOption {
  id: string;
  name: string;
  reason: AvoidReason;
  /** "Why not", for the clinician. */
  why: string;
  severity: Severity;
  rule: string;
  evidence: string[];
}

export interface RegimenSituation {
  rule: string;
  label: string;
  evidence: string[];
}

export interface TherapyRecommendation {
  gene: Gene;
  situation: RegimenSituation;
  preferred: TherapyOption[];
  other: TherapyOption[];
  avoid: AvoidedOption[];
  /** Formulary and other notes the card must say ("repotrectinib is not available at this site"). */
  notes: string[];
}

export type CheckState = 'current' | 'stale' | 'missing' | 'abnormal' | 'could-not-check';

/** Worse states rank higher: a check shown once for several agents shows its worst state. */
export const CHECK_STATE_RANK: Readonly<Record<CheckState, number>> = {
  current: 0,
  stale: 1,
  missing: 2,
  'could-not-check': 3,
  abnormal: 4,
};

export interface AnalyteReading {
  analyte: string;
  name: string;
  measurement?: Measurement;
  state: CheckState;
  /** Text of the threshold applied ("> 470 ms", "> 3× ULN (ULN 40 U/L from the lab)"). */
  threshold?: string;
  severity?: Severity;
  why: string;
}

export interface CheckStatus {
  check: string;
  name: string;
  state: CheckState;
  severity: Severity;
  windowDays: number;
  readings: AnalyteReading[];
  /** Plain-language summary. */
  summary: string;
  /** Orders to suggest for what is missing, stale or could not be checked (none for vital signs). */
  orders: CheckOrder[];
  evidence: string[];
  /** The label's dose rule per agent when the check is abnormal (renal or hepatic impairment). */
  doseNotes?: DoseNote[];
}

export interface DoseNote {
  agent: string;
  text: string;
  evidence: string[];
  verified: boolean;
}

export interface CheckOrder {
  system: string;
  code: string;
  display: string;
  category: 'laboratory' | 'imaging' | 'procedure';
}

export interface AgentChecks {
  agent: string;
  checks: CheckStatus[];
  /** Why each check applies to this agent (label section, seed rule). */
  why: Record<string, { why: string; evidence: string[]; verified: boolean }[]>;
}

export interface InteractionFinding {
  agent: string;
  /** The other drug (active medication or another draft). */
  with: { drug: string; display: string; sources: Sources };
  interactionClass: string;
  severity: Severity;
  /** `<drug> (<class>): <label's words>`, for a line of its own. */
  message: string;
  /** The class as a reader names it ("strong CYP3A inducer"), and the label's words alone: for a line that names the drugs itself. */
  className: string;
  ruleMessage: string;
  evidence: string[];
  verified: boolean;
}

export type OrderTopic = 'order-concordance' | 'drug-interaction' | 'pretherapy-checks' | 'biomarker-testing';

export type OrderFindingCode =
  | 'wrong-gene'
  | 'less-effective'
  | 'not-preferred'
  | 'not-listed'
  | 'poor-cns'
  | 'prior-progression'
  | 'resistance'
  | 'no-standard-tki'
  | 'immunotherapy'
  | 'no-confirmed-biomarker'
  | 'interaction'
  | 'pretherapy-check'
  | 'unrecognised-drug'
  | 'could-not-check'
  | 'not-indicated'
  | 'after-immunotherapy';

export interface OrderFinding {
  draft: string;
  drug: string | null;
  topic: OrderTopic;
  code: OrderFindingCode;
  severity: Severity;
  message: string;
  evidence: string[];
  /** Agents to offer instead (preferred options for this patient). */
  alternatives: string[];
  /** For pretherapy-check findings: the check statuses behind it. */
  checks?: CheckStatus[];
  interaction?: InteractionFinding;
}

export type TestingKind =
  | 'initial-testing'
  | 'confirm-equivocal'
  | 'confirm-screen'
  | 'review-discordant'
  | 'confirm-in-tissue'
  | 'repeat-failed'
  | 'resistance-testing'
  | 'could-not-check';

export interface TestingRecommendation {
  kind: TestingKind;
  genes: Gene[];
  severity: Severity;
  /** What to order, in words (becomes ServiceRequest.code.text). */
  test: string;
  why: string;
  evidence: string[];
}

export interface LocalTherapyInfo {
  kind: 'oligometastatic' | 'cns-lesions' | 'oligoprogression';
  message: string;
  evidence: string[];
}

export interface Notice {
  severity: Severity;
  message: string;
  sources: Sources;
}

/**
 * One line of therapy: the systemic agents started together (within `regimenStartWindowDays` of the
 * regimen's first start), e.g. carboplatin + pemetrexed + pembrolizumab. A TKI is always a regimen of
 * its own; non-systemic drugs are never part of one.
 */
export interface Regimen {
  /** Line number: 1 + regimens started before it that ended in (or with presumed) progression. */
  number: number;
  /** Knowledge-base agent ids of its recognised agents, in order of start. */
  agents: string[];
  /** One name per agent (agent id, or the record's words when unrecognised), in order of start. */
  displays: string[];
  start?: IsoDate;
  /** Latest end of its agents; absent while any agent continues. */
  end?: IsoDate;
  /** Active while any agent continues. */
  status: 'active' | 'ended' | 'unknown';
  /**
   * Some agents stopped while others continued (carboplatin stopped; pemetrexed + pembrolizumab go
   * on): since when, and the names of the agents that continued.
   */
  maintenance?: { since?: IsoDate; displays: string[] };
  /** Progression on any of its agents (recorded or presumed). */
  progressed: boolean;
  /** The progression rests only on an agent ended with no reason recorded. */
  presumedProgression: boolean;
  progressionDate?: IsoDate;
  /** Its per-agent records. */
  lines: TherapyLine[];
}

export interface TherapyHistorySummary {
  /** Per agent (failed agents, interactions read these). */
  lines: TherapyLine[];
  /** Per regimen (line of therapy), in order of start. */
  regimens: Regimen[];
  current?: TherapyLine;
  /** The regimen given now (active), if any. */
  currentRegimen?: Regimen;
  /**
   * The line the recommendation applies to: 1 + regimens that progressed (recorded, or presumed
   * when ended with no reason). A patient on a regimen that has not progressed (maintenance
   * included) is on that regimen's line; after progression it is the next line.
   */
  lineNumber: number;
  /** No ALK/ROS1 TKI progressed on yet. */
  tkiNaive: boolean;
  progressedOn: string[];
  /** Lines whose end reason is not recorded: treated as progression, and said so. */
  presumedProgression: string[];
  /**
   * Why the history (and so interactions) could not be checked whole: a medication query failed or
   * a medication could not be identified. Absent when the medication record was read completely.
   */
  couldNotCheck?: string;
}

export interface DiseaseSummary {
  nsclc?: NsclcDiagnosis;
  advanced: Tristate;
  cnsDisease: boolean;
  leptomeningeal: boolean;
  cnsFindings: CnsFinding[];
  oligometastatic: Tristate;
}

export interface Assessment {
  knowledgeVersion: string;
  evaluatedAt: IsoDate;
  patientId: string;
  biomarkers: Record<Gene, GeneStatus>;
  /** The single gene that drives therapy choice; null unless exactly one is positive. */
  driver: Gene | null;
  disease: DiseaseSummary;
  therapy: TherapyHistorySummary;
  recommendation: TherapyRecommendation | null;
  /** Pre-therapy checks for each candidate agent (preferred, other, drafted, current). */
  checks: AgentChecks[];
  interactions: InteractionFinding[];
  orderFindings: OrderFinding[];
  testing: TestingRecommendation[];
  localTherapy: LocalTherapyInfo[];
  dataGaps: DataGap[];
  notices: Notice[];
}
