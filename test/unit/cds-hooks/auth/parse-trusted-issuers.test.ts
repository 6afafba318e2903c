import { describe, expect, it } from 'vitest';
import { parseTrustedIssuers } from '../../../../cds-hooks/auth/index.ts';

describe('parseTrustedIssuers (CDS_TRUSTED_ISSUERS)', () => {
  it('parses a valid list', () => {
    const json = JSON.stringify([
      {
        iss: 'https://sandbox.cds-hooks.org',
        jwks_url: 'https://sandbox.cds-hooks.org/.well-known/jwks.json',
      },
      { iss: 'https://cds-hooks.cerner.com', jwks_url: 'https://authorization.cerner.com/jwk' },
      {
        iss: ' https://fhir.example.org/api/FHIR/R4 ',
        jwks_url: 'http://127.0.0.1:8080/jwks',
        note: 'ignored',
      },
    ]);
    expect(parseTrustedIssuers(json)).toEqual([
      {
        iss: 'https://sandbox.cds-hooks.org',
        jwks_url: 'https://sandbox.cds-hooks.org/.well-known/jwks.json',
      },
      { iss: 'https://cds-hooks.cerner.com', jwks_url: 'https://authorization.cerner.com/jwk' },
      { iss: 'https://fhir.example.org/api/FHIR/R4', jwks_url: 'http://127.0.0.1:8080/jwks' },
    ]);
  });

  it('unset or blank → no trusted issuers (fail closed)', () => {
    expect(parseTrustedIssuers(undefined)).toEqual([]);
    expect(parseTrustedIssuers('  ')).toEqual([]);
    expect(parseTrustedIssuers('[]')).toEqual([]);
  });

  it.each([
    ['not JSON', '{oops', /not valid JSON/],
    ['an object, not an array', '{"iss":"a","jwks_url":"https://a/jwks"}', /invalid/],
    ['missing jwks_url', '[{"iss":"https://a"}]', /0\.jwks_url/],
    [
      'jwks_url not a URL',
      '[{"iss":"https://a","jwks_url":"jwks.json"}]',
      /0\.jwks_url: jwks_url must be an http\(s\) URL/,
    ],
    ['jwks_url not http(s)', '[{"iss":"https://a","jwks_url":"file:///etc/jwks.json"}]', /http\(s\)/],
    ['jwks_url javascript:', '[{"iss":"https://a","jwks_url":"javascript:alert(1)"}]', /http\(s\)/],
    ['empty iss', '[{"iss":"  ","jwks_url":"https://a/jwks"}]', /0\.iss: iss must be a non-empty string/],
    ['iss not a string', '[{"iss":42,"jwks_url":"https://a/jwks"}]', /0\.iss/],
    ['null entry', '[null]', /invalid/],
    [
      'duplicate iss (modulo one trailing slash)',
      '[{"iss":"https://a","jwks_url":"https://a/jwks"},{"iss":"https://a/","jwks_url":"https://b/jwks"}]',
      /1\.iss duplicates/,
    ],
  ])('throws a clear Error for %s', (_name, json, message) => {
    expect(() => parseTrustedIssuers(json)).toThrow(message);
    expect(() => parseTrustedIssuers(json)).toThrow(/CDS_TRUSTED_ISSUERS/);
  });
});
