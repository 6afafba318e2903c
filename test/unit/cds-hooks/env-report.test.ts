/**
 * Configuration of the feedback report: ADMIN_TOKEN is read as METRICS_TOKEN is (both commands, at
 * least 24 characters, the variable named when refused), and `npm run feedback-report` opens the
 * store `npm run serve` would (DATABASE_URL, else FEEDBACK_DATA_DIR with serve's default).
 */
import { describe, expect, it } from 'vitest';
import { readReportConfig, readServeConfig, readStartConfig } from '../../../cds-hooks/env.ts';

const ISSUERS = JSON.stringify([
  { iss: 'https://ehr.example.org', jwks_url: 'https://ehr.example.org/jwks' },
]);
const TOKEN = 'a-long-enough-admin-token-0123';

describe('ADMIN_TOKEN', () => {
  it('is unset by default (the report route is off)', () => {
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS }).adminToken).toBeUndefined();
    expect(readStartConfig({}).adminToken).toBeUndefined();
  });

  it('is read by both commands, trimmed', () => {
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, ADMIN_TOKEN: ` ${TOKEN} ` }).adminToken).toBe(
      TOKEN,
    );
    expect(readStartConfig({ ADMIN_TOKEN: TOKEN }).adminToken).toBe(TOKEN);
  });

  it('refuses a token shorter than 24 characters, as METRICS_TOKEN, naming the variable', () => {
    for (const name of ['ADMIN_TOKEN', 'METRICS_TOKEN']) {
      const refused = () => readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, [name]: 'too-short' });
      expect(refused).toThrow(new RegExp(`^Invalid configuration:\\n- ${name}: use at least 24 characters$`));
    }
  });
});

describe('readReportConfig (npm run feedback-report)', () => {
  it('PGlite in FEEDBACK_DATA_DIR, with the default npm run serve uses', () => {
    expect(readReportConfig({})).toEqual({ feedbackDataDir: '.data/feedback' });
    expect(readReportConfig({ FEEDBACK_DATA_DIR: '/var/lib/cds' })).toEqual({
      feedbackDataDir: '/var/lib/cds',
    });
    expect(readReportConfig({}).feedbackDataDir).toBe(
      readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS }).feedbackDataDir,
    );
  });

  it('PostgreSQL when DATABASE_URL is set; needs nothing else of serve (no trusted issuers)', () => {
    expect(readReportConfig({ DATABASE_URL: 'postgres://cds@db/cds' })).toEqual({
      databaseUrl: 'postgres://cds@db/cds',
      feedbackDataDir: '.data/feedback',
    });
  });
});
