/**
 * The one configuration reader: `npm run serve` (`readServeConfig`), `npm start`
 * (`readStartConfig`) and `npm run feedback-report` (`readReportConfig`) read the environment
 * here, once, validated by zod (contract: PORT, HOST, PUBLIC_BASE_URL, CDS_TRUSTED_ISSUERS,
 * CORS_ALLOWED_ORIGINS, CDS_FORMULARY_UNAVAILABLE). The only module that reads process.env. Fails
 * fast with a message naming each bad variable; no default secrets.
 */
import { z } from 'zod';
import { escapeRegExp } from '../src/escape-regexp.ts';
import { DEFAULT_MAX_BODY_BYTES } from './app.ts';
import { parseTrustedIssuers, type TrustedIssuer } from './auth/index.ts';
import { DEFAULT_MAX_TOTAL_BYTES } from './fhir-fetch.ts';

type Environment = Record<string, string | undefined>;

const csv = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const bytes = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(fallback);

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
type LogLevel = z.infer<typeof LogLevel>;

/** A bearer token for an operator's endpoint: long enough not to be guessed. */
const operatorToken = z.string().trim().min(24, 'use at least 24 characters').optional();

/** What both commands read the same way. */
const Common = z.object({
  CDS_TRUSTED_ISSUERS: z.string().optional(),
  CDS_FORMULARY_UNAVAILABLE: z.string().optional(),
  CORS_ALLOWED_ORIGINS: z.string().optional(),
  MAX_BODY_BYTES: bytes(DEFAULT_MAX_BODY_BYTES),
  CDS_PREFETCH_INCLUDE_MEDICATIONS: flag,
  CDS_DISCOVERY_REQUIRES_JWT: flag,
  /** Turns on `/metrics`, readable with this bearer token only. */
  METRICS_TOKEN: operatorToken,
  /** Turns on `/admin/feedback-report`, readable with this bearer token only. */
  ADMIN_TOKEN: operatorToken,
});

const ServeEnv = Common.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMART_LAUNCH_URL: z.url().optional(),
  DATABASE_URL: z.string().optional(),
  FEEDBACK_DATA_DIR: z.string().default('.data/feedback'),
  FHIR_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  FHIR_DEADLINE_MS: z.coerce.number().int().positive().default(3000),
  FHIR_MAX_PAGES: z.coerce.number().int().positive().default(20),
  FHIR_MAX_BYTES: bytes(DEFAULT_MAX_TOTAL_BYTES),
  LOG_LEVEL: LogLevel.default('info'),
});

const StartEnv = Common.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // The sandbox has no real sign-in: loopback unless an operator says otherwise.
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  FEEDBACK_DATA_DIR: z.string().optional(),
  SANDBOX_HOSTS: z.string().optional(),
  /** "Today is": replay every sample chart as it stood at this past day (YYYY-MM-DD). */
  SANDBOX_TODAY: z.iso.date().optional(),
  CDS_HOOKS_SANDBOX_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMART_LAUNCHER_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOG_LEVEL: LogLevel.default('warn'),
});

function parse<T extends z.ZodType>(schema: T, env: Environment): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n- ${lines.join('\n- ')}`);
  }
  return parsed.data;
}

function trustedIssuersOf(value: string | undefined): TrustedIssuer[] {
  try {
    return parseTrustedIssuers(value);
  } catch (e) {
    throw new Error(`Invalid configuration:\n- ${e instanceof Error ? e.message : String(e)}`);
  }
}

const lowerCsv = (v: string | undefined) => csv(v).map((x) => x.toLowerCase());

/** Browser origins, each exactly `scheme://host[:port]`; `*` is refused (credentials-bearing calls). */
function originsOf(value: string | undefined): string[] {
  const origins = csv(value);
  const bad = origins.filter((o) => {
    try {
      return o === '*' || new URL(o).origin !== o;
    } catch {
      return true;
    }
  });
  if (bad.length)
    throw new Error(
      `Invalid configuration:\n- CORS_ALLOWED_ORIGINS: not an origin (scheme://host[:port], never *): ${bad.join(', ')}`,
    );
  return origins;
}

/** Settings both commands share, read from `Common`. */
interface CommonConfig {
  formularyUnavailable: string[];
  /** Browser origins allowed (for `npm start`: besides the sandbox's own). */
  corsOrigins: string[];
  maxBodyBytes: number;
  prefetchIncludeMedications: boolean;
  discoveryRequiresJwt: boolean;
  metricsToken?: string;
  adminToken?: string;
}

function commonOf(e: z.infer<typeof Common>): CommonConfig {
  return {
    formularyUnavailable: lowerCsv(e.CDS_FORMULARY_UNAVAILABLE),
    corsOrigins: originsOf(e.CORS_ALLOWED_ORIGINS),
    maxBodyBytes: e.MAX_BODY_BYTES,
    prefetchIncludeMedications: e.CDS_PREFETCH_INCLUDE_MEDICATIONS,
    discoveryRequiresJwt: e.CDS_DISCOVERY_REQUIRES_JWT,
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
    ...(e.ADMIN_TOKEN ? { adminToken: e.ADMIN_TOKEN } : {}),
  };
}

export interface ServeConfig extends CommonConfig {
  port: number;
  host: string;
  publicBaseUrl: string;
  trustedIssuers: TrustedIssuer[];
  appLaunchUrl: string;
  databaseUrl?: string;
  feedbackDataDir: string;
  fhirTimeoutMs: number;
  fhirDeadlineMs: number;
  fhirMaxPages: number;
  fhirMaxBytes: number;
  logLevel: LogLevel;
}

export function readServeConfig(env: Environment = process.env): ServeConfig {
  const e = parse(ServeEnv, env);
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const trustedIssuers = trustedIssuersOf(e.CDS_TRUSTED_ISSUERS);
  if (trustedIssuers.length === 0) {
    throw new Error(
      'Invalid configuration:\n- CDS_TRUSTED_ISSUERS: production mode needs at least one trusted CDS client',
    );
  }
  return {
    ...commonOf(e),
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl,
    trustedIssuers,
    appLaunchUrl: e.SMART_LAUNCH_URL ?? `${publicBaseUrl}/app/launch.html`,
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    feedbackDataDir: e.FEEDBACK_DATA_DIR,
    fhirTimeoutMs: e.FHIR_TIMEOUT_MS,
    fhirDeadlineMs: e.FHIR_DEADLINE_MS,
    fhirMaxPages: e.FHIR_MAX_PAGES,
    fhirMaxBytes: e.FHIR_MAX_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}

/** `npm run feedback-report`: the feedback store `npm run serve` would open, read the same way. */
const ReportEnv = ServeEnv.pick({ DATABASE_URL: true, FEEDBACK_DATA_DIR: true });

export interface ReportConfig {
  databaseUrl?: string;
  feedbackDataDir: string;
}

export function readReportConfig(env: Environment = process.env): ReportConfig {
  const e = parse(ReportEnv, env);
  return {
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    feedbackDataDir: e.FEEDBACK_DATA_DIR,
  };
}

/** The FHIR URLs a SMART launcher (smart-launcher-v2) hands out: `<url>/v/r4/fhir`, `<url>/v/r4/sim/<code>/fhir`. */
function launcherIssMatch(url: string): string {
  return `${escapeRegExp(url.replace(/\/+$/, ''))}/v/r4/(sim/[A-Za-z0-9_=-]+/)?fhir`;
}

export interface StartConfig extends CommonConfig {
  port: number;
  host: string;
  /** CDS clients to trust besides the sandbox itself. */
  extraTrustedIssuers: TrustedIssuer[];
  /** Undefined: the default under the project root. */
  feedbackDataDir?: string;
  /** Host names the sandbox answers to besides localhost, 127.0.0.1 and [::1]. */
  allowedHosts: string[];
  /** Where a local CDS Hooks sandbox runs (its issuer is then trusted). */
  cdsHooksSandboxUrl?: string;
  /** FHIR servers the built app may be launched from besides the sandbox's (issMatch patterns). */
  appIssuers: string[];
  /** "Today is" at start (`SANDBOX_TODAY`). */
  replayDay?: string;
  logLevel: LogLevel;
}

export function readStartConfig(env: Environment = process.env): StartConfig {
  const e = parse(StartEnv, env);
  return {
    ...commonOf(e),
    port: e.PORT,
    host: e.HOST,
    extraTrustedIssuers: trustedIssuersOf(e.CDS_TRUSTED_ISSUERS),
    ...(e.FEEDBACK_DATA_DIR ? { feedbackDataDir: e.FEEDBACK_DATA_DIR } : {}),
    allowedHosts: lowerCsv(e.SANDBOX_HOSTS),
    ...(e.SANDBOX_TODAY ? { replayDay: e.SANDBOX_TODAY } : {}),
    ...(e.CDS_HOOKS_SANDBOX_URL ? { cdsHooksSandboxUrl: e.CDS_HOOKS_SANDBOX_URL } : {}),
    appIssuers: e.SMART_LAUNCHER_URL ? [launcherIssMatch(e.SMART_LAUNCHER_URL)] : [],
    logLevel: e.LOG_LEVEL,
  };
}
