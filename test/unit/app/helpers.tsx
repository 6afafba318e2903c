/**
 * Shared set-up for the app tests: an msw FHIR server over in-memory resources (the same search as
 * the CDS Hooks tests), a fhirclient Client built from a token response (no OAuth), and a render
 * helper that waits for the summary or the error page.
 */
import { render, waitFor } from '@testing-library/react';
import FHIR from 'fhirclient';
import { HttpResponse, http } from 'msw';
import { App } from '../../../src/app/App.tsx';
import type { SmartClient, TokenContext } from '../../../src/app/smart/load-patient-data.ts';
import { checkResults, fusionVariant, NOW, nsclcStageIv, patient } from '../../fixtures/cds/records.ts';
import { type FhirServerLog, fhirServer } from '../../integration/cds-hooks/fhir-search.ts';

export const BASE = 'https://fhir.example.test/r4';
export { NOW };

type R = Record<string, unknown>;

export function makeClient(patientId: string, token: Partial<TokenContext> = {}): SmartClient {
  return FHIR.client({
    serverUrl: BASE,
    tokenResponse: {
      access_token: 'test-token-abc',
      token_type: 'Bearer',
      patient: patientId,
      expires_in: 3600,
      ...token,
    },
  }) as unknown as SmartClient;
}

export function fhirHandlers(
  resources: readonly R[],
  log: FhirServerLog = { requests: [] },
  fail: Record<string, number> = {},
) {
  return fhirServer(BASE, resources, log, fail);
}

/** A bundle fixture's resources (test/fixtures/patients/*.json). */
export const entriesOf = (bundle: { entry?: { resource: R }[] }): R[] =>
  (bundle.entry ?? []).map((e) => e.resource);

export async function renderApp(
  client: SmartClient,
  props: { now?: string; formularyUnavailable?: string[]; pageCap?: number; requestTimeoutMs?: number } = {},
) {
  const view = render(<App getClient={async () => client} now={props.now ?? NOW} {...props} />);
  await waitFor(
    () => {
      if (!document.querySelector('[data-testid="summary"], .error-page')) throw new Error('still loading');
    },
    { timeout: 15_000 },
  );
  return view;
}

export const alkFirstLineRecord = (pid = 'alk-1l'): R[] => [
  patient(pid, 'male', '1968-03-03'),
  nsclcStageIv(pid),
  fusionVariant(pid, 'ALK'),
  ...checkResults(pid),
];

/** 401 everywhere, as a FHIR server answers an expired bearer token. */
export const expiredTokenHandlers = [
  http.get(`${BASE}/*`, () =>
    HttpResponse.json(
      {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'expired', diagnostics: 'token expired' }],
      },
      {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' },
      },
    ),
  ),
];
