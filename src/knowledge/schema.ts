/**
 * The knowledge base schema. The data in `data/*.json` is validated against it once, at load, so a
 * malformed or inconsistent edit fails loudly in tests and at start-up, never at the bedside.
 */
import { z } from 'zod';
import { DATA_DOMAINS } from '../core/model.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'ids are lower-case kebab-case');
const evidenceIds = z.array(z.string().min(1)).min(1);

export const CodingSchema = z.object({
  system: z.url(),
  code: z.string().min(1),
  display: z.string().min(1),
  /** true: code and meaning seen in a cited authoritative artefact; false: flagged for review. */
  verified: z.boolean(),
  source: z.string().min(1),
});
export type KbCoding = z.infer<typeof CodingSchema>;

const GeneSchema = z.enum(['ALK', 'ROS1']);
const HistologySchema = z.enum(['adenocarcinoma', 'squamous', 'large-cell', 'nsclc-nos', 'unknown']);
const StageSchema = z.enum(['I', 'II', 'III', 'IV']);
const SeveritySchema = z.enum(['info', 'warning', 'critical']);
const DomainSchema = z.enum(DATA_DOMAINS);

// ---------------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------------

export const EvidenceSchema = z.object({
  id,
  kind: z.enum(['label', 'trial', 'guideline', 'publication', 'reference', 'local']),
  title: z.string().min(1),
  /** The chapter or label section cited. */
  section: z.string().optional(),
  citation: z.string().optional(),
  url: z.url().optional(),
  /** Headline figures a card may quote (efficacy for trials, key sentences for guidance). */
  summary: z.string().optional(),
  verified: z.boolean(),
  note: z.string().optional(),
  /** The drug a label section is about: cards about another drug never cite it. */
  drug: id.optional(),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

// ---------------------------------------------------------------------------------------------
// Codes (value sets used to read the record)
// ---------------------------------------------------------------------------------------------

const TaggedCodingSchema = CodingSchema.extend({
  stage: StageSchema.optional(),
  histology: HistologySchema.optional(),
});

export const CodesSchema = z.object({
  systems: z.object({ loinc: z.url(), snomed: z.url(), rxnorm: z.url() }).catchall(z.url()),
  systemAliases: z.record(z.string(), z.array(z.string())),
  genes: z.record(
    GeneSchema,
    z.object({ symbols: z.array(z.string()), names: z.array(z.string()), codings: z.array(CodingSchema) }),
  ),
  biomarkerTests: z.array(
    z
      .object({
        gene: GeneSchema,
        method: z.enum(['IHC', 'FISH', 'NGS-DNA', 'NGS-RNA', 'NGS', 'PCR', 'unknown']),
        kind: z.enum(['rearrangement', 'mutation']),
        quantity: z.literal('percent-cells').optional(),
        /** For percent-of-cells results: at or above this is positive. */
        positiveAtOrAbovePercent: z.number().positive().optional(),
        thresholdEvidence: z.array(z.string()).optional(),
        coding: CodingSchema,
      })
      .refine(
        (t) => t.quantity !== 'percent-cells' || (t.positiveAtOrAbovePercent && t.thresholdEvidence?.length),
        {
          message: 'a percent-of-cells test needs its positivity cut-off and the evidence for it',
        },
      ),
  ),
  genomics: z.object({
    variantAssessment: CodingSchema,
    geneStudied: CodingSchema,
    variationCode: CodingSchema,
    dnaChangeType: CodingSchema,
    proteinHgvs: CodingSchema,
    codingHgvs: CodingSchema,
    genomicSourceClass: CodingSchema,
    geneticReport: CodingSchema,
    fusionChangeTypes: z.array(CodingSchema),
    /** Copy-number changes: never an ALK/ROS1 rearrangement. */
    copyNumberChangeTypes: z.array(CodingSchema),
    methodSequencing: CodingSchema,
    methodPcr: CodingSchema,
  }),
  answers: z.object({
    positive: z.array(CodingSchema),
    negative: z.array(CodingSchema),
    equivocal: z.array(CodingSchema),
    noCall: z.array(CodingSchema),
  }),
  conditions: z.object({
    nsclc: z.array(TaggedCodingSchema),
    lungCancerHistologyUnknown: z.object({
      icd10cmPrefixes: z.array(z.string()),
      verified: z.boolean(),
      source: z.string(),
    }),
    sclc: z.array(CodingSchema),
    histologyMorphology: z.array(TaggedCodingSchema),
    brainMetastasis: z.array(CodingSchema),
    brainAndMeningesMetastasisHeader: z.array(CodingSchema),
    leptomeningealMetastasis: z.array(CodingSchema),
    metastasisGeneric: z.array(CodingSchema),
    brainBodySites: z.array(CodingSchema),
    meningesBodySites: z.array(CodingSchema),
    historyOfMetastaticCancer: CodingSchema,
    /** Chronic kidney disease stage 4-5 or end-stage renal disease: a hint for the renal check. */
    kidneySevere: z.array(CodingSchema),
    /** Dependence on dialysis: renal dose rules written for "not on dialysis" do not apply. */
    kidneyDialysis: z.array(CodingSchema),
  }),
  stageObservations: z.array(CodingSchema),
  orders: z.object({
    nsclcReason: CodingSchema,
    serviceRequestCategory: z.object({
      laboratory: CodingSchema,
      imaging: CodingSchema,
      procedure: CodingSchema,
    }),
  }),
  /** Echo and ECG reports whose conclusion is read when no structured value came with them. */
  cardiacReports: z.object({
    echo: z.array(CodingSchema),
    ecg: z.array(CodingSchema),
    categories: z.array(CodingSchema),
  }),
  /** Panels whose components carry the vital signs (the BP panel's systolic/diastolic). */
  vitalSignPanels: z.array(CodingSchema),
  /** mCODE CancerDiseaseStatus: the observation code and the values that mean progression (src/fhir). */
  diseaseStatus: z.object({ observation: z.array(CodingSchema), worsened: z.array(CodingSchema) }).optional(),
});
export type Codes = z.infer<typeof CodesSchema>;

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

export const InteractionClassSchema = z.enum([
  'strong-cyp3a-inducer',
  'moderate-cyp3a-inducer',
  'strong-cyp3a-inhibitor',
  'moderate-cyp3a-inhibitor',
  'fluconazole',
  'qt-prolonging',
  'bradycardic',
  'hormonal-contraceptive',
  'p-gp-inhibitor',
  'narrow-cyp3a-substrate',
  'acid-reducing-agent',
]);
export type InteractionClass = z.infer<typeof InteractionClassSchema>;

const RxNormSchema = z
  .object({ code: z.string().regex(/^\d{1,9}$/), verified: z.boolean(), source: z.string().min(1) })
  .nullable();

const BaselineCheckSchema = z.object({
  check: id,
  why: z.string().min(1),
  evidence: evidenceIds,
  verified: z.boolean(),
  /** The label's dose rule shown when this check is abnormal (renal or hepatic impairment). */
  ifAbnormal: z
    .object({
      text: z.string().min(1),
      evidence: evidenceIds,
      verified: z.boolean(),
      /**
       * When the rule applies: the value of `analyte` (or `orAnalyte` when it has none, e.g. eGFR in
       * place of CrCl) in [atLeast, below); with no bounds, when that analyte's reading is abnormal
       * (bilirubin for a hepatic rule, not ALT alone).
       */
      when: z
        .object({
          analyte: id,
          orAnalyte: id.optional(),
          atLeast: z.number().optional(),
          below: z.number().optional(),
        })
        .optional(),
      /** The rule is written for patients not on dialysis. */
      notOnDialysis: z.boolean().optional(),
    })
    .optional(),
});

const AgentBase = z.object({
  id,
  brands: z.array(z.string()),
  synonyms: z.array(z.string()),
  rxnorm: RxNormSchema,
  genes: z.array(GeneSchema),
  indicationEvidence: evidenceIds,
});

/** Which US label the knowledge base was checked against, and how its date is known. */
const LabelVersionSchema = z.object({
  setId: z
    .string()
    .regex(/^[0-9a-f-]{36}$/)
    .nullable(),
  /** Latest revision seen, YYYY-MM (null when no date could be seen). */
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}$/)
    .nullable(),
  basis: z.string().min(1),
  verified: z.boolean(),
});

export const TkiSchema = AgentBase.extend({
  kind: z.literal('tki'),
  label: LabelVersionSchema,
  generation: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  cnsActivity: z.enum(['high', 'moderate', 'poor']),
  cnsEvidence: evidenceIds,
  qtProlonging: z.boolean(),
  bradycardic: z.boolean(),
  cyp3a: z.object({ substrate: z.boolean(), perpetrator: z.string().nullable() }),
  contraception: z.enum(['standard', 'non-hormonal']),
  efficacyEvidence: evidenceIds,
  embryoFetalEvidence: evidenceIds,
  baselineChecks: z.array(BaselineCheckSchema).min(1),
  interactions: z.array(
    z.object({
      class: InteractionClassSchema,
      severity: SeveritySchema,
      message: z.string().min(1),
      evidence: evidenceIds,
      verified: z.boolean(),
    }),
  ),
  dosingNotes: z.array(z.object({ text: z.string().min(1), evidence: evidenceIds })),
  /** Indicated only for patients who have had no inhibitor of its gene (ensartinib, US label). */
  onlyWithoutPriorInhibitor: z.object({ why: z.string().min(1), evidence: evidenceIds }).optional(),
});
export type Tki = z.infer<typeof TkiSchema>;

export const OtherAgentSchema = AgentBase.extend({
  kind: z.enum(['immunotherapy', 'chemotherapy']),
  /** Why no baseline checks are encoded for this agent (they are out of this product's scope). */
  baselineChecksNote: z.string().min(1),
});
export type OtherAgent = z.infer<typeof OtherAgentSchema>;

export const AgentSchema = z.discriminatedUnion('kind', [TkiSchema, OtherAgentSchema]);
export type Agent = z.infer<typeof AgentSchema>;

export const DrugsFileSchema = z.object({ agents: z.array(AgentSchema) });

export const InteractingDrugsFileSchema = z.object({
  classes: z.record(InteractionClassSchema, z.string()),
  classEvidence: z.record(InteractionClassSchema, evidenceIds),
  drugs: z.array(
    z.object({
      id,
      names: z.array(z.string().min(1)).min(1),
      brands: z.array(z.string()),
      classes: z.array(InteractionClassSchema).min(1),
      rxnorm: RxNormSchema,
    }),
  ),
});
export type InteractingDrug = z.infer<typeof InteractingDrugsFileSchema>['drugs'][number];

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

export const ThresholdSchema = z
  .object({
    severity: SeveritySchema,
    direction: z.enum(['above', 'at-or-above', 'below']),
    basis: z.enum(['absolute', 'reference-high', 'reference-low', 'uln-multiple']),
    value: z.number().optional(),
    ulnMultiple: z.number().positive().optional(),
    /** This tier applies only before an agent with this property; otherwise it counts as a warning. */
    onlyBefore: z.enum(['qt-prolonging']).optional(),
  })
  .refine((t) => t.basis !== 'uln-multiple' || t.ulnMultiple !== undefined, 'uln-multiple needs ulnMultiple')
  .refine((t) => t.basis !== 'absolute' || t.value !== undefined, 'absolute thresholds need a value');
export type Threshold = z.infer<typeof ThresholdSchema>;

export const AnalyteSchema = z.object({
  id,
  name: z.string().min(1),
  domain: DomainSchema,
  /** Canonical UCUM unit every value is converted to before the rules see it. */
  unit: z.string().min(1),
  molecularWeight: z.number().positive().optional(),
  defaultUln: z.number().positive().optional(),
  qualitative: z.boolean().optional(),
  codes: z.array(CodingSchema).min(1),
  thresholds: z.array(ThresholdSchema),
  evidence: evidenceIds,
});
export type Analyte = z.infer<typeof AnalyteSchema>;

export const CheckSchema = z.object({
  id,
  name: z.string().min(1),
  windowDays: z.number().int().positive(),
  /** all: every non-optional analyte must be current; any: one analyte suffices. */
  require: z.enum(['all', 'any']),
  analytes: z.array(z.object({ analyte: id, optional: z.boolean().optional() })).min(1),
  /** Problem-list findings read as hints: severe CKD is said; dialysis makes the check abnormal. */
  hints: z.array(z.enum(['kidney-disease'])).optional(),
  orders: z.array(
    z.object({
      coding: CodingSchema,
      category: z.enum(['laboratory', 'imaging', 'procedure']),
      covers: z.array(id).min(1),
    }),
  ),
  evidence: evidenceIds,
});
export type CheckDefinition = z.infer<typeof CheckSchema>;

export const ChecksFileSchema = z.object({
  analytes: z.array(AnalyteSchema),
  checks: z.array(CheckSchema),
  geneBaselineChecks: z.array(
    z.object({ gene: GeneSchema, checks: z.array(id).min(1), why: z.string(), evidence: evidenceIds }),
  ),
  pregnancyCheck: z.object({ check: id, why: z.string() }),
});

// ---------------------------------------------------------------------------------------------
// Regimens
// ---------------------------------------------------------------------------------------------

const OptionRefSchema = z.object({
  id,
  evidence: evidenceIds,
  note: z.string().optional(),
  /** Only offered when the patient progressed on one of these (e.g. brigatinib after alectinib). */
  ifProgressedOnAny: z.array(id).optional(),
});

const AvoidRefSchema = z.object({
  id,
  reason: z.enum([
    'wrong-gene',
    'less-effective',
    'poor-cns',
    'prior-progression',
    'resistance',
    'immunotherapy',
    'no-standard-tki',
  ]),
  why: z.string().min(1),
  severity: SeveritySchema,
  evidence: evidenceIds,
});

export const RegimenRuleSchema = z.object({
  id,
  gene: GeneSchema,
  label: z.string().min(1),
  /** Higher wins when several rules match. */
  priority: z.number().int(),
  when: z.object({
    tkiNaive: z.boolean().optional(),
    cns: z.boolean().optional(),
    progressedOnAny: z.array(id).optional(),
    mutationsAny: z.array(z.string()).optional(),
    mutationsAll: z.array(z.string()).optional(),
    /** Matches when no targeted option is left (computed by the engine). */
    targetedOptionsExhausted: z.boolean().optional(),
  }),
  preferred: z.array(OptionRefSchema),
  other: z.array(OptionRefSchema),
  avoid: z.array(AvoidRefSchema),
  /** Set the "other" entries that may move up when every preferred agent is unavailable. */
  evidence: evidenceIds,
});
export type RegimenRule = z.infer<typeof RegimenRuleSchema>;

export const NonDrugOptionSchema = z.object({
  id,
  name: z.string().min(1),
  kind: z.enum(['regimen', 'trial']),
  components: z.array(z.array(id)).optional(),
  evidence: evidenceIds,
});
export type NonDrugOption = z.infer<typeof NonDrugOptionSchema>;

export const RegimensFileSchema = z.object({
  nonDrugOptions: z.array(NonDrugOptionSchema),
  geneWideAvoid: z.array(AvoidRefSchema.extend({ gene: GeneSchema })),
  /** Agents whose label gene list does not include the patient's gene are avoided with this wording. */
  wrongGene: z.object({ why: z.string(), severity: SeveritySchema, evidence: evidenceIds }),
  poorCns: z.object({ why: z.string(), severity: SeveritySchema, evidence: evidenceIds }),
  priorProgression: z.object({ why: z.string(), severity: SeveritySchema, evidence: evidenceIds }),
  rules: z.array(RegimenRuleSchema),
});

// ---------------------------------------------------------------------------------------------
// Testing and local therapy
// ---------------------------------------------------------------------------------------------

export const GuidanceFileSchema = z.object({
  testing: z.record(
    z.enum([
      'initial-testing',
      'confirm-equivocal',
      'confirm-screen',
      'review-discordant',
      'confirm-in-tissue',
      'repeat-failed',
      'resistance-testing',
      'could-not-check',
    ]),
    z.object({
      test: z.string().min(1),
      why: z.string().min(1),
      severity: SeveritySchema,
      evidence: evidenceIds,
    }),
  ),
  localTherapy: z.record(
    z.enum(['oligometastatic', 'cns-lesions', 'oligoprogression']),
    z.object({ message: z.string().min(1), evidence: evidenceIds }),
  ),
  biomarkerRules: z.record(z.string(), z.object({ text: z.string().min(1), evidence: evidenceIds })),
  /** A TKI drafted within `windowDays` of an immune checkpoint inhibitor's last dose gets a warning. */
  afterImmunotherapy: z.object({
    windowDays: z.number().int().positive(),
    why: z.string().min(1),
    evidence: evidenceIds,
  }),
});
export type Guidance = z.infer<typeof GuidanceFileSchema>;

export const EvidenceFileSchema = z.object({ evidence: z.array(EvidenceSchema) });

export const KnowledgeMetaSchema = z.object({
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  date: z.iso.date(),
  scope: z.string(),
});
