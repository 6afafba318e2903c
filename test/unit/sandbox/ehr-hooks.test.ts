/**
 * The sandbox EHR's CDS Hooks client logic, pure: draft orders, order-select / order-sign requests,
 * applying create / delete / update actions, `at-most-one`, feedback bodies and redaction.
 */
import { describe, expect, it } from 'vitest';
import { describeErrorBody } from '../../../sandbox/ehr/api.ts';
import { type HookRun, usableCards } from '../../../sandbox/ehr/cds-client.ts';
import { blockingCards } from '../../../sandbox/ehr/components/Chart.tsx';
import {
  acceptedFeedback,
  applyActions,
  buildHookRequest,
  type ChartContext,
  canApply,
  cardProblem,
  draftFromOrderable,
  orderSelectContext,
  orderSignContext,
  overriddenFeedback,
  parseReference,
  RXNORM,
  redact,
  resourceLabel,
  safeHttpUrl,
  withLaunchParams,
} from '../../../sandbox/ehr/hooks.ts';
import type { Card, HookFhirResponse, Resource } from '../../../sandbox/ehr/types.ts';
import { ORDER_SELECT_ALECTINIB_ROS1, PATIENT_VIEW_ROS1 } from './ehr-fixtures.ts';

const chart: ChartContext = {
  userId: 'Practitioner/sandbox-oncologist',
  patientId: 'ros1-bm',
  encounterId: 'enc-1',
};

const ids = (...list: string[]) => {
  const queue = [...list];
  return () => queue.shift() ?? 'exhausted';
};

const alectinib = draftFromOrderable(
  { name: 'alectinib', display: 'alectinib (Alecensa)', rxnorm: '1727455', kind: 'tki' },
  chart,
  'd-alec',
);
const entrectinib = draftFromOrderable(
  { name: 'entrectinib', display: 'entrectinib (Rozlytrek)', kind: 'tki' },
  chart,
  'd-entr',
);

const fhir: HookFhirResponse = {
  fhirServer: 'http://localhost:3000/fhir',
  fhirAuthorization: {
    access_token: 'secret-access-token',
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'patient/*.rs',
    subject: 'alk-ros1-cds',
  },
  prefetch: { patient: { resourceType: 'Patient', id: 'ros1-bm' }, conditions: null },
};

describe('draft orders', () => {
  it('a picked drug becomes a draft MedicationRequest with its generic name and RxNorm coding', () => {
    expect(alectinib).toEqual({
      resourceType: 'MedicationRequest',
      id: 'd-alec',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/ros1-bm' },
      encounter: { reference: 'Encounter/enc-1' },
      requester: { reference: 'Practitioner/sandbox-oncologist' },
      medicationCodeableConcept: {
        coding: [{ system: RXNORM, code: '1727455', display: 'alectinib' }],
        text: 'alectinib',
      },
    });
  });

  it('a drug without a known RxNorm code has text only', () => {
    expect(entrectinib.medicationCodeableConcept).toEqual({ text: 'entrectinib' });
    expect(resourceLabel(entrectinib)).toBe('entrectinib');
  });

  it('a ServiceRequest is named by its code text', () => {
    expect(resourceLabel({ resourceType: 'ServiceRequest', code: { text: 'Echocardiography' } })).toBe(
      'Echocardiography',
    );
  });
});

describe('hook requests', () => {
  it('order-select: the selection as Type/id and every draft in a collection Bundle', () => {
    const context = orderSelectContext(chart, [entrectinib, alectinib], ['d-alec']);
    expect(context).toEqual({
      userId: 'Practitioner/sandbox-oncologist',
      patientId: 'ros1-bm',
      encounterId: 'enc-1',
      selections: ['MedicationRequest/d-alec'],
      draftOrders: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: entrectinib }, { resource: alectinib }],
      },
    });
  });

  it('order-sign: all drafts, no selections', () => {
    const context = orderSignContext(chart, [alectinib]);
    expect(context).not.toHaveProperty('selections');
    expect((context.draftOrders as { entry: unknown[] }).entry).toHaveLength(1);
  });

  it('no encounterId in the context when the patient has none', () => {
    const { encounterId: _, ...noEncounter } = chart;
    expect(orderSignContext(noEncounter, [])).not.toHaveProperty('encounterId');
  });

  it('carries fhirServer, fhirAuthorization and prefetch; no prefetch when the toggle is off', () => {
    const context = orderSelectContext(chart, [alectinib], ['d-alec']);
    const on = buildHookRequest({
      hook: 'order-select',
      hookInstance: 'h-1',
      context,
      fhir,
      sendPrefetch: true,
    });
    expect(on).toEqual({
      hook: 'order-select',
      hookInstance: 'h-1',
      fhirServer: fhir.fhirServer,
      fhirAuthorization: fhir.fhirAuthorization,
      context,
      prefetch: fhir.prefetch,
    });
    const off = buildHookRequest({
      hook: 'order-select',
      hookInstance: 'h-2',
      context,
      fhir,
      sendPrefetch: false,
    });
    expect(off).not.toHaveProperty('prefetch');
    expect(off.fhirServer).toBe(fhir.fhirServer);
  });
});

describe('applying actions', () => {
  it('the service’s replace suggestion: delete the draft by Type/id, create the alternative with a new id', () => {
    const card = structuredClone(ORDER_SELECT_ALECTINIB_ROS1.cards[0]) as Card;
    const actions = card.suggestions?.[0]?.actions ?? [];
    const drafts = [{ ...alectinib, id: 'draft-1' }, entrectinib];
    const r = applyActions(drafts, actions, ids('new-1'));
    expect(r.deleted.map((d) => d.id)).toEqual(['draft-1']);
    expect(r.created).toHaveLength(1);
    expect(r.created[0]).toMatchObject({
      resourceType: 'MedicationRequest',
      id: 'new-1',
      status: 'draft',
      medicationCodeableConcept: { text: 'entrectinib' },
    });
    expect(r.drafts.map((d) => d.id)).toEqual(['d-entr', 'new-1']);
    expect(r.skipped).toEqual([]);
  });

  it('delete accepts a bare id, a Type/id, an absolute URL, and (deprecated) a resource with an id', () => {
    const drafts = [alectinib, entrectinib];
    expect(applyActions(drafts, [{ type: 'delete', resourceId: 'd-alec' }], ids()).drafts).toEqual([
      entrectinib,
    ]);
    expect(
      applyActions(drafts, [{ type: 'delete', resourceId: 'MedicationRequest/d-entr' }], ids()).drafts,
    ).toEqual([alectinib]);
    expect(
      applyActions(drafts, [{ type: 'delete', resourceId: 'http://x/fhir/MedicationRequest/d-entr' }], ids())
        .drafts,
    ).toEqual([alectinib]);
    expect(
      applyActions(
        drafts,
        [{ type: 'delete', resource: { resourceType: 'MedicationRequest', id: 'd-alec' } }],
        ids(),
      ).drafts,
    ).toEqual([entrectinib]);
  });

  it('delete with the wrong type or an unknown id changes nothing and says so', () => {
    const r = applyActions([alectinib], [{ type: 'delete', resourceId: 'ServiceRequest/d-alec' }], ids());
    expect(r.drafts).toEqual([alectinib]);
    expect(r.skipped).toEqual(['delete: no draft ServiceRequest/d-alec']);
  });

  it('create keeps an id the resource already has', () => {
    const sr: Resource = { resourceType: 'ServiceRequest', id: 'sr-1', status: 'draft' };
    const r = applyActions([], [{ type: 'create', resource: sr }], ids('unused'));
    expect(r.drafts).toEqual([sr]);
  });

  it('update replaces the draft with the same id in place', () => {
    const changed = { ...alectinib, note: [{ text: 'with food' }] };
    const r = applyActions([alectinib, entrectinib], [{ type: 'update', resource: changed }], ids());
    expect(r.drafts).toEqual([changed, entrectinib]);
    expect(r.updated).toEqual([changed]);
  });

  it('deletes run before creates and updates, whatever the order in the suggestion', () => {
    const recreated = { ...alectinib, id: 'd-alec', note: [{ text: 'again' }] };
    const r = applyActions(
      [alectinib],
      [
        { type: 'create', resource: recreated },
        { type: 'delete', resourceId: 'MedicationRequest/d-alec' },
      ],
      ids(),
    );
    expect(r.drafts).toEqual([recreated]);
  });

  it('never mutates the draft list it was given', () => {
    const drafts = [alectinib];
    applyActions(drafts, [{ type: 'delete', resourceId: 'd-alec' }], ids());
    expect(drafts).toEqual([alectinib]);
  });
});

describe('which suggestions can be applied', () => {
  const card = ORDER_SELECT_ALECTINIB_ROS1.cards[0] as Card;
  const [first, second] = (card.suggestions ?? []).map((s) => s.uuid as string);

  it('at-most-one: once one suggestion is accepted, none of the others can be', () => {
    expect(card.selectionBehavior).toBe('at-most-one');
    expect(canApply(card, undefined, first as string)).toBe(true);
    const outcome = { kind: 'accepted' as const, suggestions: [first as string] };
    expect(canApply(card, outcome, first as string)).toBe(false);
    expect(canApply(card, outcome, second as string)).toBe(false);
  });

  it('any: others stay available, the accepted one does not repeat', () => {
    const anyCard = { ...card, selectionBehavior: 'any' };
    const outcome = { kind: 'accepted' as const, suggestions: [first as string] };
    expect(canApply(anyCard, outcome, first as string)).toBe(false);
    expect(canApply(anyCard, outcome, second as string)).toBe(true);
  });

  it('a dismissed card offers nothing', () => {
    expect(canApply(card, { kind: 'overridden' }, first as string)).toBe(false);
  });

  it('suggestions without a selectionBehavior, or with an unknown one, make the card an error', () => {
    const { selectionBehavior: _, ...none } = card;
    expect(cardProblem(none)).toMatch(/no selectionBehavior/);
    expect(cardProblem({ ...card, selectionBehavior: 'exactly-one' })).toMatch(/Unknown selectionBehavior/);
    expect(canApply({ ...card, selectionBehavior: 'exactly-one' }, undefined, first as string)).toBe(false);
    expect(cardProblem(card)).toBeUndefined();
  });

  it('undecided critical (and warning) cards are what blocks signing; an info card never does', () => {
    const critical = { ...card, uuid: 'c1' };
    const info = { ...(PATIENT_VIEW_ROS1.cards[0] as Card), indicator: 'info' as const, uuid: 'c2' };
    const run: HookRun = {
      serviceId: 'alk-ros1-order-sign',
      hook: 'order-sign',
      hookInstance: 'h1',
      cards: [critical, info],
      malformed: 0,
      at: '2026-12-06T09:00:00Z',
    };
    expect(blockingCards([], run, {}).map((e) => e.card)).toEqual([critical]);
    expect(blockingCards([], run, { c1: { kind: 'overridden' } })).toEqual([]);
  });
});

describe('feedback', () => {
  const at = new Date('2026-11-22T09:30:00.000Z');

  it('accepted: the card uuid and the suggestion uuid', () => {
    expect(acceptedFeedback('card-1', ['sug-1'], at)).toEqual({
      feedback: [
        {
          card: 'card-1',
          outcome: 'accepted',
          acceptedSuggestions: [{ id: 'sug-1' }],
          outcomeTimestamp: '2026-11-22T09:30:00.000Z',
        },
      ],
    });
  });

  it('overridden: the reason Coding and the comment; no empty comment', () => {
    const reason = {
      system: 'urn:alk-ros1-cds:override-reason',
      code: 'clinical-trial',
      display: 'Part of a clinical trial',
    };
    expect(overriddenFeedback('card-1', reason, '  per protocol ', at).feedback[0]).toEqual({
      card: 'card-1',
      outcome: 'overridden',
      overrideReason: { reason, userComment: 'per protocol' },
      outcomeTimestamp: '2026-11-22T09:30:00.000Z',
    });
    expect(overriddenFeedback('card-1', reason, '   ', at).feedback[0]?.overrideReason).toEqual({ reason });
    expect(overriddenFeedback('card-1', undefined, '', at).feedback[0]).not.toHaveProperty('overrideReason');
  });
});

describe('links, errors, redaction', () => {
  it('only absolute http(s) URLs are opened or framed', () => {
    expect(safeHttpUrl('https://example.org/a')).toBe('https://example.org/a');
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl('data:text/html,<script>')).toBeUndefined();
    expect(safeHttpUrl('/relative')).toBeUndefined();
  });

  it('a SMART link gets iss and launch appended, keeping its own query', () => {
    const url = withLaunchParams(
      'http://localhost:3000/app/launch.html?x=1',
      'http://localhost:3000/fhir',
      'L1',
    );
    const u = new URL(url as string);
    expect(u.searchParams.get('x')).toBe('1');
    expect(u.searchParams.get('iss')).toBe('http://localhost:3000/fhir');
    expect(u.searchParams.get('launch')).toBe('L1');
    expect(withLaunchParams('javascript:alert(1)', 'i', 'l')).toBeUndefined();
  });

  it('parseReference reads Type/id and bare ids', () => {
    expect(parseReference('MedicationRequest/abc')).toEqual({ type: 'MedicationRequest', id: 'abc' });
    expect(parseReference('abc')).toEqual({ id: 'abc' });
  });

  it('an OperationOutcome becomes its diagnostics, with where', () => {
    expect(
      describeErrorBody({
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'incomplete', diagnostics: 'No patient data could be obtained' },
          {
            severity: 'error',
            code: 'invalid',
            diagnostics: 'expected a FHIR id',
            expression: ['context.patientId'],
          },
        ],
      }),
    ).toBe('No patient data could be obtained; expected a FHIR id (context.patientId)');
    expect(describeErrorBody('')).toBeUndefined();
  });

  it('redaction removes every token and leaves the rest', () => {
    const body = buildHookRequest({
      hook: 'patient-view',
      hookInstance: 'h',
      context: {},
      fhir,
      sendPrefetch: true,
    });
    const shown = JSON.stringify(redact(body));
    expect(shown).not.toContain('secret-access-token');
    expect(shown).toContain('"access_token":"[redacted]"');
    expect(shown).toContain('"scope":"patient/*.rs"');
    expect(redact({ headers: { Authorization: 'Bearer x' } })).toEqual({
      headers: { Authorization: '[redacted]' },
    });
  });

  it('cards without a summary, indicator or source are left out and counted', () => {
    const good = PATIENT_VIEW_ROS1.cards[0];
    expect(usableCards([good, { summary: 'x' }, null]).malformed).toBe(2);
  });
});
