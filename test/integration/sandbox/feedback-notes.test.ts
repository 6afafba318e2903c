/**
 * The sandbox's notes on the feedback its page sends (`POST /sandbox/api/feedback-notes`), joined
 * into the feedback log (`GET /sandbox/api/feedback?patient=<id>`): the CDS service stores CDS Hooks
 * feedback as sent (no patient), the sandbox adds what the clinician read (card summary, suggestion
 * label) and whose chart it was. Over real HTTP; the notes survive a restart of the sandbox.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../../sandbox/server.ts';

const SERVICE = 'alk-ros1-order-select';
const started: Sandbox[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sandboxAt(feedbackDataDir: string): Promise<Sandbox> {
  const s = await startSandbox({ port: 0, feedbackDataDir, logLevel: 'silent' });
  started.push(s);
  return s;
}

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** CDS Hooks feedback as the page sends it, with a one-use JWT from the sandbox. */
async function sendFeedback(base: string, item: Record<string, unknown>) {
  const aud = `${base}/cds-services/${SERVICE}/feedback`;
  const { token } = (await (await post(base, '/sandbox/api/cds-token', { aud })).json()) as { token: string };
  const res = await post(
    base,
    `/cds-services/${SERVICE}/feedback`,
    { feedback: [item] },
    {
      authorization: `Bearer ${token}`,
    },
  );
  expect(res.status).toBe(200);
}

type Entry = {
  card: string;
  outcome: string;
  summary?: string;
  patient?: { id: string; name: string };
  suggestionLabels?: string[];
  overrideReason?: { code?: string; display?: string };
};
const log = async (base: string, patient?: string): Promise<Entry[]> => {
  const res = await fetch(`${base}/sandbox/api/feedback${patient ? `?patient=${patient}` : ''}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Entry[];
};

const accepted = (card: string, at: string) => ({
  card,
  outcome: 'accepted',
  acceptedSuggestions: [{ id: `${card}-s1` }],
  outcomeTimestamp: at,
});
const overridden = (card: string, at: string) => ({
  card,
  outcome: 'overridden',
  overrideReason: {
    reason: {
      system: 'urn:alk-ros1-cds:override-reason',
      code: 'clinical-trial',
      display: 'Part of a clinical trial',
    },
  },
  outcomeTimestamp: at,
});

describe('feedback notes', () => {
  it('joins summary, suggestion label and patient into the log, and filters to one patient', async () => {
    const { base } = await sandboxAt('memory://');
    const patients = (await (await fetch(`${base}/sandbox/api/patients`)).json()) as {
      id: string;
      name: string;
    }[];
    const [p1, p2] = patients;
    if (!p1 || !p2) throw new Error('the sandbox needs two sample patients');

    await sendFeedback(base, accepted('card-a', '2026-03-01T10:00:00.000Z'));
    await sendFeedback(base, overridden('card-b', '2026-03-01T10:05:00.000Z'));
    await sendFeedback(base, accepted('card-c', '2026-03-01T10:10:00.000Z')); // no note: another client's
    const noteA = await post(base, '/sandbox/api/feedback-notes', {
      serviceId: SERVICE,
      card: 'card-a',
      outcome: 'accepted',
      outcomeTimestamp: '2026-03-01T10:00:00.000Z',
      patientId: p1.id,
      summary: 'Alectinib does not work in ROS1+ NSCLC',
      suggestionLabels: ['Replace with entrectinib'],
    });
    expect(noteA.status).toBe(201);
    const noteB = await post(base, '/sandbox/api/feedback-notes', {
      serviceId: SERVICE,
      card: 'card-b',
      outcome: 'overridden',
      outcomeTimestamp: '2026-03-01T10:05:00.000Z',
      patientId: p2.id,
      summary: 'Lorlatinib is not preferred',
    });
    expect(noteB.status).toBe(201);

    const mine = await log(base, p1.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      card: 'card-a',
      outcome: 'accepted',
      summary: 'Alectinib does not work in ROS1+ NSCLC',
      patient: { id: p1.id, name: p1.name },
      suggestionLabels: ['Replace with entrectinib'],
    });
    const theirs = await log(base, p2.id);
    expect(theirs.map((e) => e.card)).toEqual(['card-b']);
    expect(theirs[0]).toMatchObject({
      summary: 'Lorlatinib is not preferred',
      overrideReason: { code: 'clinical-trial', display: 'Part of a clinical trial' },
    });

    // Unfiltered: everything the service stored, newest first; noted entries carry their note.
    const all = await log(base);
    expect(all.map((e) => e.card)).toEqual(['card-c', 'card-b', 'card-a']);
    expect(all[0]?.summary).toBeUndefined();
    expect(all[2]?.summary).toBe('Alectinib does not work in ROS1+ NSCLC');
  });

  it('refuses notes it cannot use, in words', async () => {
    const { base } = await sandboxAt('memory://');
    const good = {
      serviceId: SERVICE,
      card: 'card-x',
      outcome: 'accepted',
      outcomeTimestamp: '2026-03-01T10:00:00.000Z',
      patientId: 'ros1-brain-mets',
      summary: 'A card',
    };
    const unknown = await post(base, '/sandbox/api/feedback-notes', { ...good, patientId: 'nobody' });
    expect(unknown.status).toBe(400);
    const outcome = (await unknown.json()) as { issue: { diagnostics: string }[] };
    expect(outcome.issue[0]?.diagnostics).toBe('no sample patient "nobody"');
    for (const bad of [
      { ...good, outcome: 'ignored' },
      { ...good, summary: '' },
      { ...good, summary: 'x'.repeat(501) },
      { ...good, suggestionLabels: 'one' },
      { card: 'card-x' },
    ]) {
      const res = await post(base, '/sandbox/api/feedback-notes', bad);
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
    }
    const notJson = await fetch(`${base}/sandbox/api/feedback-notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
  });

  it('survives a restart: the notes are kept next to the feedback data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alk-ros1-notes-'));
    dirs.push(dir);
    const dataDir = join(dir, 'sandbox-feedback');
    const first = await sandboxAt(dataDir);
    await sendFeedback(first.base, overridden('card-r', '2026-03-02T08:00:00.000Z'));
    const res = await post(first.base, '/sandbox/api/feedback-notes', {
      serviceId: SERVICE,
      card: 'card-r',
      outcome: 'overridden',
      outcomeTimestamp: '2026-03-02T08:00:00.000Z',
      patientId: 'ros1-brain-mets',
      summary: 'Lorlatinib is not preferred for this ROS1+ patient',
    });
    expect(res.status).toBe(201);
    await first.close();
    started.splice(started.indexOf(first), 1);
    expect(existsSync(join(dir, 'sandbox-feedback-notes.jsonl'))).toBe(true);

    const second = await sandboxAt(dataDir);
    const entries = await log(second.base, 'ros1-brain-mets');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      card: 'card-r',
      outcome: 'overridden',
      summary: 'Lorlatinib is not preferred for this ROS1+ patient',
      patient: { id: 'ros1-brain-mets' },
    });
  }, 60_000);
});
