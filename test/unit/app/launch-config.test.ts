/**
 * launch-config.json is edited by site teams without a rebuild: every mistake must be named, and the
 * defaults must be what the README promises.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseLaunchConfig } from '../../../src/app/config.ts';

const minimal = { clientId: 'alk-ros1-cds-app', issMatch: ['https://ehr\\.example\\.org/fhir/r4'] };

describe('parseLaunchConfig', () => {
  it('applies the defaults to a minimal file', () => {
    const c = parseLaunchConfig(minimal);
    expect(c).toEqual({
      clientId: 'alk-ros1-cds-app',
      issMatch: ['https://ehr\\.example\\.org/fhir/r4'],
      scope: expect.stringContaining('patient/Observation.rs'),
      redirectUri: 'index.html',
      formularyUnavailable: [],
      pageCap: 50,
      requestTimeoutMs: 8_000,
    });
    expect(c.scope.split(' ')).toEqual(expect.arrayContaining(['launch', 'openid', 'fhirUser']));
    expect('scopeV1' in c).toBe(false);
  });

  it('keeps every field a site sets', () => {
    const full = {
      ...minimal,
      scope: 'launch patient/Observation.rs',
      scopeV1: 'launch patient/Observation.read',
      redirectUri: 'app/index.html',
      formularyUnavailable: ['lorlatinib'],
      pageCap: 200,
      requestTimeoutMs: 100,
    };
    expect(parseLaunchConfig(full)).toEqual(full);
  });

  it.each([
    ['no clientId', { issMatch: minimal.issMatch }, /clientId: required/],
    ['an empty clientId', { ...minimal, clientId: '' }, /clientId: expected a non-empty string/],
    ['no issMatch', { clientId: 'x' }, /issMatch: expected an array/],
    ['an empty issMatch', { ...minimal, issMatch: [] }, /issMatch: expected at least 1/],
    ['an empty issuer pattern', { ...minimal, issMatch: ['ok', ''] }, /issMatch\.1: expected a non-empty/],
    ['a numeric scope', { ...minimal, scope: 42 }, /scope: expected a non-empty string/],
    ['a formulary string', { ...minimal, formularyUnavailable: 'lorlatinib' }, /formularyUnavailable/],
    ['a fractional pageCap', { ...minimal, pageCap: 2.5 }, /pageCap: expected an integer from 1 to 200/],
    ['a pageCap over 200', { ...minimal, pageCap: 500 }, /pageCap/],
    ['a timeout under 100 ms', { ...minimal, requestTimeoutMs: 10 }, /requestTimeoutMs/],
    ['a timeout as text', { ...minimal, requestTimeoutMs: '8000' }, /requestTimeoutMs/],
  ])('refuses %s', (_, raw, message) => {
    expect(() => parseLaunchConfig(raw)).toThrow(ConfigError);
    expect(() => parseLaunchConfig(raw)).toThrow(message);
  });

  it('names every problem at once', () => {
    expect(() => parseLaunchConfig({ clientId: '', issMatch: [], pageCap: 0 })).toThrow(
      /clientId.*issMatch.*pageCap/,
    );
  });

  it.each([null, [], 'text', 3])('refuses a file that is not an object (%j)', (raw) => {
    expect(() => parseLaunchConfig(raw)).toThrow(/\(root\): expected an object/);
  });
});
