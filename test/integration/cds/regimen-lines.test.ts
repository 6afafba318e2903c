/**
 * Regimens, not drugs, make lines, through the wire: an ALK-positive patient on carboplatin +
 * pemetrexed + pembrolizumab, carboplatin stopped after 4 cycles (status `completed`, no reason
 * recorded) while pemetrexed + pembrolizumab continue as maintenance. The record is served by a FHIR
 * server over HTTP on loopback; the CDS service (over HTTP, JWT on) reads it itself for patient-view,
 * and the SMART app's own pipeline (fhirclient → loader → evaluate → the summary it renders) reads it
 * too. Both must read one line of therapy, on maintenance, not three lines and no progression.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import smart from 'fhirclient/lib/entry/node.js';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { Summary } from '../../../src/app/App.tsx';
import { assess } from '../../../src/app/hooks/use-assessment.ts';
import type { SmartClient } from '../../../src/app/smart/load-patient-data.ts';
import {
  checkResults,
  daysAgo,
  fusionVariant,
  NOW,
  nsclcStageIv,
  patient,
} from '../../fixtures/cds/records.ts';
import { search, searchset } from '../cds-hooks/fhir-search.ts';
import { type JwtService, startJwtService } from '../cds-hooks/jwt-service.ts';

type R = Record<string, any>;
const PID = 'chemo-io-maintenance';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/** A MedicationRequest as an EHR keeps an infusion order: RxNorm ingredient, dose, q21d cycles. */
function infusionOrder(
  id: string,
  rxnorm: string,
  name: string,
  dose: string,
  opts: { status: 'active' | 'completed'; startDays: number; endDays?: number },
): R {
  return {
    resourceType: 'MedicationRequest',
    id: `${PID}-${id}`,
    status: opts.status,
    intent: 'order',
    subject: { reference: `Patient/${PID}` },
    medicationCodeableConcept: {
      coding: [{ system: RXNORM, code: rxnorm, display: name }],
      text: `${name} ${dose}`,
    },
    authoredOn: daysAgo(opts.startDays),
    dosageInstruction: [
      {
        text: `${dose} IV on day 1 of each 21-day cycle`,
        timing: {
          repeat: {
            frequency: 1,
            period: 21,
            periodUnit: 'd',
            boundsPeriod: {
              start: daysAgo(opts.startDays),
              ...(opts.endDays !== undefined ? { end: daysAgo(opts.endDays) } : {}),
            },
          },
        },
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous' }] },
      },
    ],
  };
}

// Chemo-immunotherapy started 150 days ago (before the ALK result came back), the same day for all
// three; carboplatin's 4th and last cycle 87 days ago; the ALK fusion reported 60 days ago.
const record: R[] = [
  patient(PID, 'male', '1966-02-11'),
  nsclcStageIv(PID),
  fusionVariant(PID, 'ALK', { days: 60 }),
  ...checkResults(PID),
  infusionOrder('carboplatin', '40048', 'carboplatin', 'AUC 5', {
    status: 'completed',
    startDays: 150,
    endDays: 87,
  }),
  infusionOrder('pemetrexed', '68446', 'pemetrexed', '500 mg/m2', { status: 'active', startDays: 150 }),
  infusionOrder('pembrolizumab', '1547545', 'pembrolizumab', '200 mg', { status: 'active', startDays: 150 }),
];

let fhir: Server;
let fhirBase = '';
let feedback: FeedbackStore;
let service: JwtService;

beforeAll(async () => {
  // The EHR's FHIR server: search (as the CDS Hooks tests search) and read, over HTTP.
  fhir = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [type, id] = url.pathname.replace(/^\/fhir\//, '').split('/');
    const body = id
      ? record.find((r) => r.resourceType === type && r.id === id)
      : searchset(search(record, String(type), url.searchParams));
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/fhir+json' });
    res.end(
      JSON.stringify(
        body ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] },
      ),
    );
  });
  await new Promise<void>((resolve) => fhir.listen(0, '127.0.0.1', resolve));
  fhirBase = `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir`;
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  // The sandbox-style client is bound to this one FHIR server (loopback is allowed by name only).
  service = await startJwtService({ feedback, fhirServers: { sandbox: [fhirBase] } });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await new Promise<void>((resolve) => fhir.close(() => resolve()));
  await feedback?.close();
});

const glanceText = (html: string) =>
  (html.match(/<section[^>]*aria-labelledby="glance-h"[^>]*>([\s\S]*?)<\/section>/)?.[1] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

describe('ALK+ on carboplatin + pemetrexed + pembrolizumab, carboplatin stopped after 4 cycles, read over HTTP', () => {
  it('the CDS service, reading the FHIR server itself for patient-view, offers first-line TKIs and reads no progression on carboplatin', async () => {
    const { status, body } = await service.call('sandbox', '/cds-services/alk-ros1-patient-view', {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: fhirBase,
      fhirAuthorization: {
        access_token: 'ehr-token',
        token_type: 'Bearer',
        expires_in: 300,
        scope: 'patient/*.read',
        subject: 'cds-service',
        patient: PID,
      },
      context: { userId: 'Practitioner/onc-1', patientId: PID },
    });
    expect(status).toBe(200);
    const card = (
      body.cards as { summary: string; detail?: string; source: { topic: { code: string } } }[]
    ).find((c) => c.source.topic.code === 'therapy-selection');
    expect(card?.summary).toMatch(/^ALK\+ NSCLC, first-line TKI/);
    // Read as three lines, carboplatin's stop (no reason recorded) was presumed progression: the card
    // then listed it under Avoid as a drug the disease had progressed on.
    const avoid = card?.detail?.split('**Avoid**')[1]?.split('**Sources**')[0] ?? '';
    expect(avoid).not.toMatch(/Carboplatin/);
    expect(card?.detail).not.toMatch(/presumed/i);
  });

  it('the SMART app (fhirclient and its loader over HTTP) shows line 1 on maintenance, one timeline row', async () => {
    const client = smart({} as never, {} as never).client({
      serverUrl: fhirBase,
      tokenResponse: { access_token: 'app-token', patient: PID, expires_in: 3600 },
    }) as unknown as SmartClient;
    const ready = await assess(client, { now: NOW });
    const { therapy } = ready.assessment;
    expect(therapy.lines).toHaveLength(3);
    expect(therapy.regimens.map((r) => [r.number, r.agents])).toEqual([
      [1, ['carboplatin', 'pemetrexed', 'pembrolizumab']],
    ]);
    expect(therapy.lineNumber).toBe(1);

    const html = renderToStaticMarkup(createElement(Summary, { ready, now: NOW }));
    expect(glanceText(html)).toContain('On line 1 (pemetrexed + pembrolizumab maintenance) — TKI-naive');
    expect(glanceText(html)).not.toMatch(/next/);
    // The timeline: one row for the regimen, its maintenance part drawn and named.
    expect([...html.matchAll(/data-line="([^"]*)"/g)].map((m) => m[1])).toEqual([
      'Line 1: carboplatin + pemetrexed + pembrolizumab',
    ]);
    expect(html).toContain('tl-bar-maintenance');
    expect(html).toContain('maintenance pemetrexed + pembrolizumab');
  });
});
