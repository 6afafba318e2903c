/**
 * The CDS Hooks 2.0 contract as zod schemas: what the service accepts and what it returns. Types are
 * inferred from here, so the wire format is written once.
 * {@link https://cds-hooks.hl7.org/2.0/}
 */
import { z } from 'zod';

/** `Type/id` references as the hooks library requires (invariant ord-1). */
export const FhirRef = z
  .string()
  .regex(/^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/, 'expected a relative reference Type/id');

export const FhirAuthorization = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i, 'token_type must be Bearer'),
  expires_in: z.number().int().nonnegative(),
  scope: z.string(),
  subject: z.string(),
  patient: z.string().optional(),
});

const BaseContext = z.object({
  userId: FhirRef,
  patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'expected a FHIR id'),
  encounterId: z.string().optional(),
});

const BundleLike = z
  .object({ resourceType: z.literal('Bundle'), entry: z.array(z.unknown()).optional() })
  .passthrough();

export const PatientViewContext = BaseContext.passthrough();
export const OrderSelectContext = BaseContext.extend({
  selections: z.array(FhirRef).min(1),
  draftOrders: BundleLike,
}).passthrough();
export const OrderSignContext = BaseContext.extend({ draftOrders: BundleLike }).passthrough();

export const HOOKS = ['patient-view', 'order-select', 'order-sign'] as const;
export type Hook = (typeof HOOKS)[number];

export const CONTEXT_BY_HOOK = {
  'patient-view': PatientViewContext,
  'order-select': OrderSelectContext,
  'order-sign': OrderSignContext,
} as const;

export const CdsRequest = z
  .object({
    hook: z.string().min(1),
    hookInstance: z.string().min(1).max(128),
    fhirServer: z.url({ protocol: /^https?$/ }).optional(),
    fhirAuthorization: FhirAuthorization.optional(),
    context: z.record(z.string(), z.unknown()),
    prefetch: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => !r.fhirAuthorization || r.fhirServer, {
    message: 'fhirAuthorization requires fhirServer (cds-r-1)',
    path: ['fhirServer'],
  });
export type CdsRequest = z.infer<typeof CdsRequest>;

// --- Response ---------------------------------------------------------------------------------

export const Coding = z.object({
  system: z.string().min(1),
  code: z.string().min(1),
  display: z.string().min(1).optional(),
});

export const Action = z
  .object({
    type: z.enum(['create', 'update', 'delete']),
    description: z.string().min(1),
    resource: z.record(z.string(), z.unknown()).optional(),
    resourceId: z.string().min(1).optional(),
  })
  .refine(
    (a) => a.type !== 'delete' || (a.resourceId && !a.resource),
    'delete uses resourceId only (cds-resp-2)',
  )
  .refine((a) => a.type === 'delete' || a.resource, 'create/update carry a resource');

export const Suggestion = z.object({
  label: z.string().min(1),
  uuid: z.uuid(),
  isRecommended: z.boolean().optional(),
  actions: z.array(Action).min(1),
  extension: z.record(z.string(), z.unknown()).optional(),
});

export const Link = z
  .object({
    label: z.string().min(1),
    url: z.url(),
    type: z.enum(['absolute', 'smart']),
    appContext: z.string().optional(),
  })
  .refine(
    (l) => l.type === 'smart' || l.appContext === undefined,
    'appContext only on smart links (cds-resp-3)',
  );

export const Card = z
  .object({
    uuid: z.uuid(),
    summary: z.string().min(1).max(139),
    detail: z.string().min(1).optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: z.object({ label: z.string().min(1), url: z.url().optional(), topic: Coding }),
    suggestions: z.array(Suggestion).min(1).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z
      .array(Coding.extend({ display: z.string().min(1) }))
      .min(1)
      .optional(),
    links: z.array(Link).min(1).optional(),
  })
  .refine((c) => !c.suggestions || c.selectionBehavior, 'suggestions need selectionBehavior (cds-resp-6)')
  .refine(
    (c) =>
      c.selectionBehavior !== 'at-most-one' ||
      (c.suggestions ?? []).filter((s) => s.isRecommended).length <= 1,
    'at most one isRecommended on an at-most-one card (cds-resp-1)',
  );
export type Card = z.infer<typeof Card>;
export type Suggestion = z.infer<typeof Suggestion>;
export type Action = z.infer<typeof Action>;
export type Link = z.infer<typeof Link>;

export const CdsResponse = z.object({ cards: z.array(Card) });

// --- Feedback -----------------------------------------------------------------------------------

/**
 * Text that PostgreSQL (and PGlite) can store: no NUL character (refused in `text` and `jsonb`) and
 * no lone UTF-16 surrogate (not valid UTF-8). Refused with a 400 naming the field, rather than
 * stored escaped, so what is stored is what the client sent.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'contains a NUL character, which cannot be stored')
    .refine((s) => !LONE_SURROGATE.test(s), 'contains a lone UTF-16 surrogate, which cannot be stored');

const StoredCoding = z.object({
  system: storable(1000).pipe(z.string().min(1)),
  code: storable(1000).pipe(z.string().min(1)),
  display: storable(1000).pipe(z.string().min(1)).optional(),
});

export const FeedbackItem = z
  .object({
    card: storable(128).pipe(z.string().min(1)),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.object({ id: storable(128).pipe(z.string().min(1)) })).optional(),
    overrideReason: z
      .object({ reason: StoredCoding.optional(), userComment: storable(2000).optional() })
      .refine((o) => o.reason || o.userComment, 'overrideReason needs reason or userComment (cds-fb-3)')
      .optional(),
    outcomeTimestamp: z.iso.datetime({ offset: true }),
  })
  .refine((f) => f.outcome !== 'accepted' || (f.acceptedSuggestions?.length ?? 0) > 0, {
    message: 'accepted feedback needs acceptedSuggestions (cds-fb-1)',
    path: ['acceptedSuggestions'],
  });
export const FeedbackRequest = z.object({ feedback: z.array(FeedbackItem).min(1).max(100) });
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;
