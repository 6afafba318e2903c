/**
 * `npm start` with ADMIN_TOKEN: the sandbox's CDS service answers the governance report as
 * `npm run serve` does, counting the feedback its page sent, by the topic and indicator each card
 * uuid carries. Over real HTTP, with the sandbox's own one-use CDS tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagCardUuid } from '../../../cds-hooks/cards/card-tag.ts';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';

const SERVICE = 'alk-ros1-patient-view';
const ADMIN_TOKEN = 'sandbox-admin-token-0123456789';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    feedbackDataDir: 'memory://',
    logLevel: 'silent',
    adminToken: ADMIN_TOKEN,
  });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

async function sendFeedback(item: Record<string, unknown>) {
  const aud = `${sandbox.base}/cds-services/${SERVICE}/feedback`;
  const tokenRes = await fetch(`${sandbox.base}/sandbox/api/cds-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ aud }),
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await fetch(aud, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ feedback: [item] }),
  });
  expect(res.status).toBe(200);
}

describe('governance report under npm start', () => {
  it('counts the feedback sent through the sandbox, and only for the admin token', async () => {
    const therapy = tagCardUuid('2f1e0d3c-4b5a-5987-8a6b-5c4d3e2f1a0b', 'therapy-selection', 'info');
    const checks = tagCardUuid('7a6b5c4d-3e2f-5a1b-9c8d-7e6f5a4b3c2d', 'pretherapy-checks', 'warning');
    await sendFeedback({
      card: therapy,
      outcome: 'accepted',
      acceptedSuggestions: [{ id: 's1' }],
      outcomeTimestamp: '2026-12-01T10:00:00Z',
    });
    await sendFeedback({
      card: checks,
      outcome: 'overridden',
      overrideReason: { reason: { system: 'urn:alk-ros1-cds:override-reason', code: 'already-arranged' } },
      outcomeTimestamp: '2026-12-02T10:00:00Z',
    });

    const url = `${sandbox.base}/admin/feedback-report?format=json`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      rows: { serviceId: string; topic: string; indicator: string; accepted: number; overridden: number }[];
    };
    const row = (topic: string) => report.rows.find((r) => r.serviceId === SERVICE && r.topic === topic);
    expect(row('therapy-selection')).toMatchObject({ indicator: 'info', accepted: 1, overridden: 0 });
    expect(row('pretherapy-checks')).toMatchObject({ indicator: 'warning', accepted: 0, overridden: 1 });
  });
});
