/**
 * The data requirements, declared once: the FHIR searches the SMART app runs and the CDS service
 * turns into prefetch templates. One parallel wave of queries, each feeding named data domains, so a
 * failed query becomes a DataGap for exactly those domains.
 *
 * Vendor constraints [specs-cds-smart.md §3.1, §3.2]: Epic rejects Observation searches without a
 * `category` or `code`; Epic MedicationRequest / MedicationStatement searches return only active
 * orders unless `status` lists the others (a prior, stopped crizotinib would vanish). Oracle Health
 * supports the same US Core searches; category tokens are sent with their system.
 *
 * Prefetch templates use CDS Hooks 2.0 tokens only (`{{context.patientId}}`) and only reference,
 * token, date, `_count` and `_sort` parameters [CDS Hooks 2.0 §Prefetch query restrictions]; anything
 * else (e.g. `_include`) is in `searchOnlyParams`, used by the app's own searches only.
 */
import type { DataDomain } from '../core/model.ts';
import { getKnowledge } from '../knowledge/index.ts';
import type { FhirKnowledge } from './codings.ts';

export type QueryResourceType =
  | 'Patient'
  | 'Condition'
  | 'Observation'
  | 'DiagnosticReport'
  | 'MedicationRequest'
  | 'MedicationStatement'
  | 'MedicationAdministration';

export interface DataRequirement {
  id: string;
  resourceType: QueryResourceType;
  /** Search parameters; the patient parameter is added by the helpers. Empty for the Patient read. */
  params: Record<string, string>;
  /** Parameters for the app's own search only (not allowed in CDS Hooks 2.0 prefetch). */
  searchOnlyParams?: Record<string, string>;
  domains: DataDomain[];
  /** A required query that fails makes its domains "could not check". */
  required: boolean;
  description: string;
}

const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

function tokens(codings: readonly { system: string; code: string }[]): string {
  return [...new Set(codings.map((c) => `${c.system}|${c.code}`))].join(',');
}

const cache = new WeakMap<object, DataRequirement[]>();

/** The queries, with code lists taken from the knowledge base (value sets live there). */
export function dataRequirements(kb: FhirKnowledge = getKnowledge()): DataRequirement[] {
  const hit = cache.get(kb);
  if (hit) return hit;
  const analytes = [...kb.analytes.values()];
  const codesOf = (domain: DataDomain) => analytes.filter((a) => a.domain === domain).flatMap((a) => a.codes);
  const g = kb.codes.genomics;
  const biomarkerCodes = [...kb.codes.biomarkerTests.map((t) => t.coding), g.variantAssessment];
  const diseaseCodes = [...kb.codes.stageObservations, ...(kb.codes.diseaseStatus?.observation ?? [])];

  const reqs: DataRequirement[] = [
    {
      id: 'patient',
      resourceType: 'Patient',
      params: {},
      domains: ['patient'],
      required: true,
      description: 'The patient: birth date (age) and administrative sex (pregnancy checks).',
    },
    {
      id: 'conditions',
      resourceType: 'Condition',
      params: {
        category: `${CONDITION_CATEGORY}|problem-list-item,${CONDITION_CATEGORY}|encounter-diagnosis,http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern`,
        'clinical-status': 'active,recurrence,relapse,inactive,remission,resolved',
        _count: '200',
      },
      domains: ['conditions'],
      required: true,
      description:
        'Problem-list and encounter diagnoses in every clinical status: NSCLC histology and stage, brain and leptomeningeal metastases (resolved ones too, so the card can say so).',
    },
    {
      id: 'biomarker-observations',
      resourceType: 'Observation',
      params: { code: tokens(biomarkerCodes), _count: '100' },
      domains: ['biomarkers'],
      required: true,
      description:
        'ALK/ROS1 results by code (FISH, IHC, molecular LOINCs and the Genomics Reporting variant 69548-6). A code list, not a category: genetics results are filed under laboratory, GE or nothing, and Epic needs a code or category.',
    },
    {
      id: 'biomarker-lab-observations',
      resourceType: 'Observation',
      params: { category: `${OBS_CATEGORY}|laboratory`, _count: '200' },
      domains: ['biomarkers', 'labs'],
      required: false,
      description:
        'All laboratory Observations (paged): catches ALK/ROS1 results under local codes (Epic/Oracle lab build) that only their name identifies. Optional because it is large; its failure only narrows text-only detection.',
    },
    {
      id: 'reports',
      resourceType: 'DiagnosticReport',
      params: {
        category: [
          `${V2_0074}|GE,${V2_0074}|LAB,${V2_0074}|PAT,${V2_0074}|SP,${V2_0074}|CP`,
          tokens(kb.codes.cardiacReports.categories),
        ].join(','),
        _count: '100',
      },
      domains: ['biomarkers', 'cardiac-studies'],
      required: true,
      description:
        'Genetics, laboratory, pathology, echocardiogram and ECG reports: ALK/ROS1 results stated only in a report conclusion, the grouping of genomic results, and an ejection fraction, QTc or rate written only in a cardiac report\'s conclusion ("LVEF 30-35% (visual estimate)").',
    },
    {
      id: 'labs',
      resourceType: 'Observation',
      // 300: creatinine and eGFR come with every metabolic panel, so long charts hold many.
      params: { category: `${OBS_CATEGORY}|laboratory`, code: tokens(codesOf('labs')), _count: '300' },
      domains: ['labs'],
      required: true,
      description:
        'Pre-therapy laboratory checks (electrolytes, liver, CK, lipids, glucose/HbA1c, lipase/amylase, uric acid, creatinine/eGFR/creatinine clearance, pregnancy test) by code.',
    },
    {
      id: 'vital-signs',
      resourceType: 'Observation',
      params: {
        category: `${OBS_CATEGORY}|vital-signs`,
        code: tokens([...codesOf('vital-signs'), ...kb.codes.vitalSignPanels]),
        _count: '100',
      },
      domains: ['vital-signs'],
      required: true,
      description:
        'Heart rate, blood pressure (panel 85354-9 and its systolic/diastolic codes) and body weight (creatinine clearance).',
    },
    {
      id: 'cardiac-studies',
      resourceType: 'Observation',
      params: { code: tokens(codesOf('cardiac-studies')), _count: '100' },
      domains: ['cardiac-studies'],
      required: true,
      description:
        'QTc and LVEF by code only: ECG and echo results are filed under procedure, imaging, exam or laboratory depending on the site, so no category is given.',
    },
    {
      id: 'disease-status',
      resourceType: 'Observation',
      params: { code: tokens(diseaseCodes), _count: '100' },
      domains: ['conditions', 'medications'],
      required: false,
      description:
        'Stage-group observations and mCODE cancer disease status (progression dates for therapy lines).',
    },
    {
      id: 'medication-requests',
      resourceType: 'MedicationRequest',
      params: { status: 'active,on-hold,completed,stopped,cancelled,draft,unknown', _count: '200' },
      searchOnlyParams: { _include: 'MedicationRequest:medication' },
      domains: ['medications'],
      required: true,
      description:
        'Medication orders in every status (Epic returns only active ones otherwise): prior TKIs with their stop reasons, and current drugs for interactions. Medication resources are included by the app, or read by reference.',
    },
    {
      id: 'medication-statements',
      resourceType: 'MedicationStatement',
      params: { status: 'active,completed,stopped,on-hold,intended,unknown,not-taken', _count: '200' },
      searchOnlyParams: { _include: 'MedicationStatement:medication' },
      domains: ['medications'],
      required: false,
      description: 'Reported and outside medications (a TKI started elsewhere), in every status.',
    },
    {
      id: 'medication-administrations',
      resourceType: 'MedicationAdministration',
      params: { _count: '200' },
      searchOnlyParams: { _include: 'MedicationAdministration:medication' },
      domains: ['medications'],
      required: false,
      description: 'Administered infusions (chemotherapy, immunotherapy) that have no outpatient order.',
    },
  ];
  cache.set(kb, reqs);
  return reqs;
}

/**
 * Search values are percent-encoded whole (`:`, `/`, `|` and `,` too): the server decodes them
 * before it reads a token, so the meaning is the same
 * [FHIR R4 search, escaping: https://hl7.org/fhir/R4/search.html#escaping], and a proxy that
 * rewrites the path cannot change it. The SMART Health IT launcher's proxy collapses every `//` in
 * path and query, which turned `http://loinc.org|…` into `http:/loinc.org|…`: it matched nothing.
 */
function query(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v.startsWith('{{') ? v : encodeURIComponent(v)}`)
    .join('&');
}

/** A relative search URL for the app (`Observation?patient=123&code=...`). */
export function toSearchUrl(req: DataRequirement, patientId: string): string {
  if (req.resourceType === 'Patient') return `Patient/${encodeURIComponent(patientId)}`;
  return `${req.resourceType}?${query({ patient: patientId, ...req.params, ...(req.searchOnlyParams ?? {}) })}`;
}

export interface PrefetchOptions {
  /**
   * Ask for the referenced Medications with `_include=<Type>:medication`. Off by default: CDS Hooks
   * 2.0 prefetch templates "MUST only make use of" reads, reference, token and date parameters,
   * `_count` and `_sort` [https://cds-hooks.hl7.org/2.0/#prefetch-query-restrictions], so an EHR
   * may drop such a key (Epic's prefetch is limited to those). For EHRs that honour it (HAPI, the
   * CDS Hooks sandbox, the local sandbox) it saves the service the extra wave of Medication reads.
   */
  includeMedications?: boolean;
}

/** The CDS Hooks prefetch template for a requirement. */
export function toPrefetchTemplate(req: DataRequirement, options: PrefetchOptions = {}): string {
  if (req.resourceType === 'Patient') return 'Patient/{{context.patientId}}';
  const include = options.includeMedications && req.searchOnlyParams?._include;
  return `${req.resourceType}?${query({ patient: '{{context.patientId}}', ...req.params, ...(include ? { _include: include } : {}) })}`;
}

/** Prefetch templates keyed by requirement id (CDS Hooks discovery `prefetch`). */
export function prefetchTemplates(
  reqs: readonly DataRequirement[] = dataRequirements(),
  options: PrefetchOptions = {},
): Record<string, string> {
  return Object.fromEntries(reqs.map((r) => [r.id, toPrefetchTemplate(r, options)]));
}

/** The requirement a search URL (e.g. a Bundle's `self` link) was made from, if any. */
export function requirementForUrl(
  url: string,
  reqs: readonly DataRequirement[] = dataRequirements(),
): DataRequirement | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)(?:\/[^?]*)?(?:\?(.*))?$/.exec(url.replace(/^https?:\/\/[^/]+/, ''));
  if (!m?.[1]) return undefined;
  const type = m[1];
  const params = new URLSearchParams(m[2] ?? '');
  // The most specific requirement whose parameters all appear in the URL.
  const matching = reqs.filter(
    (r) =>
      r.resourceType === type &&
      Object.entries(r.params).every(([k, v]) => k === '_count' || params.get(k) === v),
  );
  return matching.sort((a, b) => Object.keys(b.params).length - Object.keys(a.params).length)[0];
}
