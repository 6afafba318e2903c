/**
 * App configuration: build-time flags from `import.meta.env` and the runtime launch configuration
 * (`public/launch-config.json`: client id, scopes, allowed issuers), fetched once and validated so a
 * site can change it without a rebuild. Checked by hand rather than with zod: eight fields do not
 * justify shipping a schema library to every browser (issue 4's bundle budget).
 */

/** `?fhirServiceUrl=` (a fake launch without OAuth) is only honoured by the dev server [§6 item 40]. */
export const IS_DEV: boolean = import.meta.env.DEV === true;

const V2_SCOPE =
  'launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs patient/MedicationStatement.rs patient/MedicationAdministration.rs patient/Medication.rs patient/DiagnosticReport.rs';

export interface LaunchConfig {
  clientId: string;
  /** SMART v2 scopes (`.rs`), requested when the server advertises `permission-v2` or nothing. */
  scope: string;
  /** SMART v1 scopes (`.read`), requested when the server advertises only `permission-v1`. */
  scopeV1?: string;
  /** Allowed FHIR servers (`iss`), as anchored regular expressions. An unlisted issuer is refused. */
  issMatch: string[];
  /** Where the authorization server sends the browser back; relative to the launch page. */
  redirectUri: string;
  /** Generic names of agents not on this site's formulary. */
  formularyUnavailable: string[];
  /** Pages followed per search before the result is marked truncated. */
  pageCap: number;
  /** Milliseconds one FHIR request may take before its query is shown as "could not check" (timeout). */
  requestTimeoutMs: number;
  /**
   * Evaluate as at this day (YYYY-MM-DD) instead of now: a sandbox replaying a chart at a past date
   * ("today is") serves it, so the app shows what the CDS cards show.
   */
  evaluateAt?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Problems = string[];

/** A non-empty string, or `fallback` when the key is absent. */
function text(
  raw: Record<string, unknown>,
  key: string,
  problems: Problems,
  fallback?: string,
): string | undefined {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v === 'string' && v.length > 0) return v;
  problems.push(`${key}: expected a non-empty string`);
  return undefined;
}

function texts(raw: Record<string, unknown>, key: string, problems: Problems, minItems: number): string[] {
  const v = raw[key];
  if (!Array.isArray(v)) {
    problems.push(`${key}: expected an array of strings`);
    return [];
  }
  if (v.length < minItems) problems.push(`${key}: expected at least ${minItems} entry`);
  v.forEach((item, i) => {
    if (typeof item !== 'string' || item.length === 0)
      problems.push(`${key}.${i}: expected a non-empty string`);
  });
  return v as string[];
}

function integer(
  raw: Record<string, unknown>,
  key: string,
  problems: Problems,
  range: [number, number],
  fallback: number,
) {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v === 'number' && Number.isInteger(v) && v >= range[0] && v <= range[1]) return v;
  problems.push(`${key}: expected an integer from ${range[0]} to ${range[1]}`);
  return fallback;
}

/** Validates a parsed `launch-config.json` and applies defaults; throws a ConfigError naming every problem. */
export function parseLaunchConfig(input: unknown): LaunchConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ConfigError('launch-config.json is invalid: (root): expected an object');
  const raw = input as Record<string, unknown>;
  const problems: Problems = [];
  const clientId = text(raw, 'clientId', problems);
  if (raw.clientId === undefined) problems.push('clientId: required');
  const config: LaunchConfig = {
    clientId: clientId ?? '',
    scope: text(raw, 'scope', problems, V2_SCOPE) ?? V2_SCOPE,
    issMatch: texts(raw, 'issMatch', problems, 1),
    redirectUri: text(raw, 'redirectUri', problems, 'index.html') ?? 'index.html',
    formularyUnavailable:
      raw.formularyUnavailable === undefined ? [] : texts(raw, 'formularyUnavailable', problems, 0),
    pageCap: integer(raw, 'pageCap', problems, [1, 200], 50),
    requestTimeoutMs: integer(raw, 'requestTimeoutMs', problems, [100, 120_000], 8_000),
  };
  const evaluateAt = text(raw, 'evaluateAt', problems);
  if (evaluateAt !== undefined) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(evaluateAt) && !Number.isNaN(Date.parse(`${evaluateAt}T00:00:00Z`)))
      config.evaluateAt = evaluateAt;
    else problems.push('evaluateAt: expected a date (YYYY-MM-DD)');
  }
  const scopeV1 = text(raw, 'scopeV1', problems);
  if (scopeV1 !== undefined) config.scopeV1 = scopeV1;
  if (problems.length) throw new ConfigError(`launch-config.json is invalid: ${problems.join('; ')}`);
  return config;
}

/** v2 → v1 scope syntax (`.rs` → `.read`) when no explicit v1 string is configured. */
export function toV1Scope(scope: string): string {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => s.replace(/^((?:patient|user|system)\/[A-Za-z*]+)\.c?r?u?d?s?$/, '$1.read'))
    .join(' ');
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
  return parseLaunchConfig(raw);
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
