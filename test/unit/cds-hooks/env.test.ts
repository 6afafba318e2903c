/** `npm run serve` configuration: the request body limit is a setting with a documented default. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../../cds-hooks/app.ts';
import { readServeConfig } from '../../../cds-hooks/env.ts';

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
