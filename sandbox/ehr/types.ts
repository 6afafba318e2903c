/**
 * What the sandbox EHR page exchanges with the server: the sandbox routes (`/sandbox/api/…`) and
 * CDS Hooks 2.0 as a client sees it. Card types are deliberately loose (an EHR must cope with what a
 * service sends: unknown indicators, missing uuids, unknown selection behaviours), so they are not
 * the service's own zod schema.
 */

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

/** A FHIR resource as a draft order: only what the page reads is typed. */
export interface Resource {
  resourceType: string;
  id?: string;
  [key: string]: unknown;
}

export interface Action {
  type: string;
  description?: string;
  resource?: Resource;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
  extension?: Record<string, unknown>;
}

export interface Link {
  label: string;
  url: string;
  type: string;
  appContext?: string;
  autolaunchable?: boolean;
}

export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: string;
  source: { label: string; url?: string; icon?: string; topic?: Coding };
  suggestions?: Suggestion[];
  selectionBehavior?: string;
  overrideReasons?: Coding[];
  links?: Link[];
}

export interface CdsResponse {
  cards: Card[];
  systemActions?: Action[];
}

export type HookName = 'patient-view' | 'order-select' | 'order-sign';

export interface CdsRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: Record<string, unknown>;
  prefetch?: Record<string, unknown>;
}

export interface FhirAuthorization {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface FeedbackItem {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  outcomeTimestamp: string;
}

export interface FeedbackRequest {
  feedback: FeedbackItem[];
}

// --- Sandbox routes ------------------------------------------------------------------------------

export interface Session {
  base: string;
  fhirServer: string;
  appLaunchUrl: string;
  cdsServicesUrl: string;
  user: { reference: string; name: string };
}

export interface SandboxPatient {
  id: string;
  name: string;
  scenario: string;
  description: string;
  birthDate?: string;
  gender?: string;
  encounterId?: string;
}

export type OrderableKind = 'tki' | 'immunotherapy' | 'chemotherapy' | 'other';

export interface Orderable {
  /** Lower-case generic name. */
  name: string;
  display: string;
  rxnorm?: string;
  kind: OrderableKind;
}

export interface LaunchResponse {
  launch: string;
  iss: string;
  launchUrl: string;
}

export interface HookFhirResponse {
  fhirServer: string;
  fhirAuthorization: FhirAuthorization;
  prefetch?: Record<string, unknown>;
}

/** A feedback row as the service stored it (override reason flat, or as CDS Hooks sends it). */
export interface FeedbackEntry {
  serviceId: string;
  card: string;
  outcome: string;
  acceptedSuggestions?: string[];
  overrideReason?: Coding & { userComment?: string; reason?: Coding };
  outcomeTimestamp?: string;
  receivedAt?: string;
  /** From the sandbox's note on the feedback it sent: what the clinician read. */
  summary?: string;
  patient?: { id: string; name: string };
  suggestionLabels?: string[];
}

/** The page's note on feedback it sent (`POST /sandbox/api/feedback-notes`). */
export interface FeedbackNote {
  serviceId: string;
  card: string;
  outcome: 'accepted' | 'overridden';
  outcomeTimestamp: string;
  patientId: string;
  summary: string;
  suggestionLabels?: string[];
}

export interface DiscoveryService {
  id: string;
  hook: string;
  title?: string;
  description?: string;
  prefetch?: Record<string, string>;
}

export interface Discovery {
  services: DiscoveryService[];
}
