/**
 * App configuration: build-time flags from `import.meta.env` and the runtime launch configuration
 * (`public/launch-config.json`: client id, scopes, allowed issuers), fetched once and zod-validated so
 * a site can change it without a rebuild.
 */
import { z } from 'zod';

/** `?fhirServiceUrl=` (a fake launch without OAuth) is only honoured by the dev server [§6 item 40]. */
export const IS_DEV: boolean = import.meta.env.DEV === true;

const V2_SCOPE =
  'launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs patient/MedicationStatement.rs patient/MedicationAdministration.rs patient/Medication.rs patient/DiagnosticReport.rs';

export const LaunchConfigSchema = z.object({
  clientId: z.string().min(1),
  /** SMART v2 scopes (`.rs`), requested when the server advertises `permission-v2` or nothing. */
  scope: z.string().min(1).default(V2_SCOPE),
  /** SMART v1 scopes (`.read`), requested when the server advertises only `permission-v1`. */
  scopeV1: z.string().min(1).optional(),
  /** Allowed FHIR servers (`iss`), as anchored regular expressions. An unlisted issuer is refused. */
  issMatch: z.array(z.string().min(1)).min(1),
  /** Where the authorization server sends the browser back; relative to the launch page. */
  redirectUri: z.string().min(1).default('index.html'),
  /** Generic names of agents not on this site's formulary. */
  formularyUnavailable: z.array(z.string()).default([]),
  /** Pages followed per search before the result is marked truncated. */
  pageCap: z.number().int().positive().max(200).default(50),
  /** Milliseconds one FHIR request may take before its query is shown as "could not check" (timeout). */
  requestTimeoutMs: z.number().int().min(100).max(120_000).default(8_000),
});

export type LaunchConfig = z.infer<typeof LaunchConfigSchema>;

/** v2 → v1 scope syntax (`.rs` → `.read`) when no explicit v1 string is configured. */
export function toV1Scope(scope: string): string {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => s.replace(/^((?:patient|user|system)\/[A-Za-z*]+)\.c?r?u?d?s?$/, '$1.read'))
    .join(' ');
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fetches and validates `launch-config.json` (relative to the page, so the app can live under a path). */
export async function loadLaunchConfig(
  url = 'launch-config.json',
  fetchImpl: typeof fetch = fetch,
): Promise<LaunchConfig> {
  let raw: unknown;
  try {
    const res = await fetchImpl(url, { cache: 'no-cache' });
    if (!res.ok) throw new ConfigError(`launch-config.json: HTTP ${res.status}`);
    raw = await res.json();
  } catch (e) {
    throw e instanceof ConfigError
      ? e
      : new ConfigError(`launch-config.json could not be read (${String(e)})`);
  }
  const parsed = LaunchConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`launch-config.json is invalid: ${where}`);
  }
  return parsed.data;
}

/** True when `iss` matches one allowlist entry (each entry is anchored: the whole URL must match). */
export function isAllowedIssuer(iss: string, issMatch: readonly string[]): boolean {
  return issMatch.some((pattern) => {
    try {
      return new RegExp(`^(?:${pattern})$`).test(iss);
    } catch {
      return false;
    }
  });
}
