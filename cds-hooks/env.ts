/**
 * Configuration for `npm run serve`, read from the environment once and validated (contract:
 * PORT, PUBLIC_BASE_URL, CDS_TRUSTED_ISSUERS, CDS_FORMULARY_UNAVAILABLE). The only module that
 * reads process.env. Fails fast with a readable message; no default secrets.
 */
import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from './app.ts';
import { parseTrustedIssuers, type TrustedIssuer } from './auth/index.ts';
import { DEFAULT_MAX_TOTAL_BYTES } from './fhir-fetch.ts';

const csv = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const Env = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  CDS_TRUSTED_ISSUERS: z.string().optional(),
  CDS_FORMULARY_UNAVAILABLE: z.string().optional(),
  CORS_ALLOWED_ORIGINS: z.string().optional(),
  SMART_LAUNCH_URL: z.url().optional(),
  DATABASE_URL: z.string().optional(),
  FEEDBACK_DATA_DIR: z.string().default('.data/feedback'),
  FHIR_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  FHIR_DEADLINE_MS: z.coerce.number().int().positive().default(3000),
  FHIR_MAX_PAGES: z.coerce.number().int().positive().default(20),
  FHIR_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(DEFAULT_MAX_TOTAL_BYTES),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(DEFAULT_MAX_BODY_BYTES),
  CDS_PREFETCH_INCLUDE_MEDICATIONS: z.enum(['true', 'false']).default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface ServeConfig {
  port: number;
  host: string;
  publicBaseUrl: string;
  trustedIssuers: TrustedIssuer[];
  formularyUnavailable: string[];
  corsOrigins: string[];
  appLaunchUrl: string;
  databaseUrl?: string;
  feedbackDataDir: string;
  fhirTimeoutMs: number;
  fhirDeadlineMs: number;
  fhirMaxPages: number;
  fhirMaxBytes: number;
  maxBodyBytes: number;
  prefetchIncludeMedications: boolean;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
}

export function readServeConfig(env: Record<string, string | undefined> = process.env): ServeConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n- ${lines.join('\n- ')}`);
  }
  const e = parsed.data;
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const trustedIssuers = parseTrustedIssuers(e.CDS_TRUSTED_ISSUERS);
  if (trustedIssuers.length === 0) {
    throw new Error(
      'Invalid configuration:\n- CDS_TRUSTED_ISSUERS: production mode needs at least one trusted CDS client',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl,
    trustedIssuers,
    formularyUnavailable: csv(e.CDS_FORMULARY_UNAVAILABLE).map((x) => x.toLowerCase()),
    corsOrigins: csv(e.CORS_ALLOWED_ORIGINS),
    appLaunchUrl: e.SMART_LAUNCH_URL ?? `${publicBaseUrl}/app/launch.html`,
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    feedbackDataDir: e.FEEDBACK_DATA_DIR,
    fhirTimeoutMs: e.FHIR_TIMEOUT_MS,
    fhirDeadlineMs: e.FHIR_DEADLINE_MS,
    fhirMaxPages: e.FHIR_MAX_PAGES,
    fhirMaxBytes: e.FHIR_MAX_BYTES,
    maxBodyBytes: e.MAX_BODY_BYTES,
    prefetchIncludeMedications: e.CDS_PREFETCH_INCLUDE_MEDICATIONS === 'true',
    logLevel: e.LOG_LEVEL,
  };
}
