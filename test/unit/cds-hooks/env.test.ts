/** `npm run serve` configuration: the request body limit is a setting with a documented default. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../../cds-hooks/app.ts';
import { readServeConfig, readStartConfig } from '../../../cds-hooks/env.ts';

const ISSUERS = JSON.stringify([
  { iss: 'https://ehr.example.org', jwks_url: 'https://ehr.example.org/jwks' },
]);

describe('MAX_BODY_BYTES', () => {
  it('defaults to 16 MiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(16 * 1024 * 1024);
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS }).maxBodyBytes).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('takes a byte count', () => {
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, MAX_BODY_BYTES: '33554432' }).maxBodyBytes).toBe(
      33_554_432,
    );
  });

  it('refuses a value that is not a whole number of at least 64 KiB, naming the variable', () => {
    for (const bad of ['lots', '1000', '-5', '1.5e3'])
      expect(() => readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, MAX_BODY_BYTES: bad })).toThrow(
        /MAX_BODY_BYTES/,
      );
  });
});

describe('CDS_PREFETCH_INCLUDE_MEDICATIONS', () => {
  it('is off unless set to true, and refuses anything but true or false', () => {
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS }).prefetchIncludeMedications).toBe(false);
    expect(
      readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, CDS_PREFETCH_INCLUDE_MEDICATIONS: 'true' })
        .prefetchIncludeMedications,
    ).toBe(true);
    expect(() =>
      readServeConfig({ CDS_TRUSTED_ISSUERS: ISSUERS, CDS_PREFETCH_INCLUDE_MEDICATIONS: 'yes' }),
    ).toThrow(/CDS_PREFETCH_INCLUDE_MEDICATIONS/);
  });
});

describe('npm start configuration (readStartConfig)', () => {
  it('defaults to port 3000 on loopback, with nothing extra trusted or allowed', () => {
    expect(readStartConfig({})).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      extraTrustedIssuers: [],
      corsOrigins: [],
      allowedHosts: [],
      logLevel: 'warn',
      prefetchIncludeMedications: false,
    });
  });

  it('reads the same variables as serve where they mean the same', () => {
    const c = readStartConfig({
      PORT: '3100',
      HOST: '0.0.0.0',
      CDS_TRUSTED_ISSUERS: ISSUERS,
      CORS_ALLOWED_ORIGINS: 'http://localhost:8080, http://127.0.0.1:8080',
      CDS_FORMULARY_UNAVAILABLE: 'Repotrectinib',
      SANDBOX_HOSTS: 'Sandbox.Example.org',
      MAX_BODY_BYTES: '1048576',
    });
    expect(c).toMatchObject({
      port: 3100,
      host: '0.0.0.0',
      corsOrigins: ['http://localhost:8080', 'http://127.0.0.1:8080'],
      formularyUnavailable: ['repotrectinib'],
      allowedHosts: ['sandbox.example.org'],
      maxBodyBytes: 1_048_576,
    });
    expect(c.extraTrustedIssuers.map((i) => i.iss)).toEqual(['https://ehr.example.org']);
  });

  it('names every bad variable at once', () => {
    expect(() => readStartConfig({ PORT: 'x', CORS_ALLOWED_ORIGINS: '*' })).toThrow(/PORT/);
    expect(() => readStartConfig({ CORS_ALLOWED_ORIGINS: '*' })).toThrow(/CORS_ALLOWED_ORIGINS.*never \*/);
    expect(() => readStartConfig({ CORS_ALLOWED_ORIGINS: 'http://x.example/path' })).toThrow(/not an origin/);
    expect(() => readStartConfig({ CDS_TRUSTED_ISSUERS: '[{"iss":""}]' })).toThrow(/CDS_TRUSTED_ISSUERS/);
  });
});

describe('fhir_servers in CDS_TRUSTED_ISSUERS', () => {
  it('is read per issuer and must list http(s) URLs', () => {
    const withList = JSON.stringify([
      {
        iss: 'https://ehr.example.org',
        jwks_url: 'https://ehr.example.org/jwks',
        fhir_servers: ['https://ehr.example.org/fhir/r4'],
      },
    ]);
    expect(readServeConfig({ CDS_TRUSTED_ISSUERS: withList }).trustedIssuers[0]?.fhir_servers).toEqual([
      'https://ehr.example.org/fhir/r4',
    ]);
    const bad = JSON.stringify([
      { iss: 'a', jwks_url: 'https://a.example/jwks', fhir_servers: ['file:///etc'] },
    ]);
    expect(() => readServeConfig({ CDS_TRUSTED_ISSUERS: bad })).toThrow(/fhir_servers/);
  });
});
