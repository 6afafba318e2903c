/**
 * Three `npm run serve` replicas behind nginx, one PostgreSQL (DATABASE_URL on every replica), real
 * processes (test/support/replica-cluster.ts). What one replica knows, the others must know:
 *  1. a JWT replayed to another replica is refused (contract, "JWT replay": across every replica);
 *  2. order-sign on replica B does not repeat the card order-select showed on replica A;
 *  3. feedback acknowledged by a replica that is then SIGKILLed is in the database;
 *  4. under mixed load through nginx with one replica SIGKILLed mid-run, every acknowledged feedback
 *     is stored, replays stay refused, and the only failures are requests the dead replica held.
 * Skipped, with the reason, where PostgreSQL or nginx is not installed; under CI that is a failure.
 */
import { createHash, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../cds-hooks/app.ts';
import { type FeedbackStore, openFeedbackStore } from '../../cds-hooks/feedback/index.ts';
import { createLogger } from '../../cds-hooks/log.ts';
import type { Card } from '../../cds-hooks/schemas.ts';
import { getKnowledge } from '../../src/knowledge/index.ts';
import { draftMedicationRequest, ros1BrainMetsRecord } from '../fixtures/cds/records.ts';
import { prefetchFor } from '../integration/cds-hooks/fhir-search.ts';
import { findClusterBinaries, type ReplicaCluster, startReplicaCluster } from '../support/replica-cluster.ts';

const PATIENT_VIEW = '/cds-services/alk-ros1-patient-view';
const ORDER_SELECT = '/cds-services/alk-ros1-order-select';
const ORDER_SIGN = '/cds-services/alk-ros1-order-sign';
const FEEDBACK = '/cds-services/alk-ros1-patient-view/feedback';

const CLIENTS = 6;
/** Load before the kill (at least; until the victim has answered a few), and after it. */
const BEFORE_KILL_MS = 1_500;
const AFTER_KILL_MS = 2_500;
/** Every REPLAY_EVERY-th request of a load client re-sends its previous request, token and all. */
const REPLAY_EVERY = 8;

// ---- Fixtures, named by scenario ----

/** ROS1+ stage IV NSCLC with brain metastases, as the EHR prefetches it. */
const ros1BrainMetsChart = (pid: string) => prefetchFor(ros1BrainMetsRecord(pid), pid);

const bundleOf = (...resources: Record<string, unknown>[]) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: resources.map((resource) => ({ resource })),
});

function patientViewOfRos1BrainMets(pid: string) {
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/onc-1', patientId: pid },
    prefetch: ros1BrainMetsChart(pid),
  };
}

/**
 * Crizotinib drafted for a ROS1+ patient with brain metastases: order-select warns that crizotinib
 * has poor CNS penetration (order-concordance); at order-sign, beside it, pembrolizumab (immunotherapy
 * not recommended in ROS1+), a finding order-select never showed.
 */
function crizotinibForRos1BrainMets(pid: string) {
  const crizotinib = draftMedicationRequest(pid, 'draft-crizotinib', 'crizotinib');
  const pembrolizumab = draftMedicationRequest(pid, 'draft-pembrolizumab', 'pembrolizumab 200 mg IV');
  const context = { userId: 'Practitioner/onc-1', patientId: pid };
  return {
    select: {
      hook: 'order-select',
      hookInstance: randomUUID(),
      context: {
        ...context,
        selections: ['MedicationRequest/draft-crizotinib'],
        draftOrders: bundleOf(crizotinib),
      },
      prefetch: ros1BrainMetsChart(pid),
    },
    sign: {
      hook: 'order-sign',
      hookInstance: randomUUID(),
      context: { ...context, draftOrders: bundleOf(crizotinib, pembrolizumab) },
      prefetch: ros1BrainMetsChart(pid),
    },
  };
}
const CRIZOTINIB_CNS = /Crizotinib has poor CNS penetration/;
const IMMUNOTHERAPY_IN_ROS1 = /Immunotherapy is not recommended in ROS1\+/;

/** A clinician overriding a card, as CDS Hooks 2.0 feedback. */
const overriddenFeedback = (card: string) => ({
  feedback: [
    {
      card,
      outcome: 'overridden',
      overrideReason: {
        reason: { system: 'urn:alk-ros1-cds:override-reason', code: 'clinical-judgement' },
        userComment: 'multi-replica test',
      },
      outcomeTimestamp: new Date().toISOString(),
    },
  ],
});

// ---- HTTP ----

interface Answer {
  status: number;
  /** nginx's X-Upstream: the replica(s) tried, in order; empty when sent to a replica directly. */
  upstream: string;
  body: string;
}

async function post(url: string, body: unknown, token: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, upstream: res.headers.get('x-upstream') ?? '', body: await res.text() };
}

/** Rows in the shared shown-cards table now. */
async function shownRows(): Promise<number> {
  const client = new pg.Client({ connectionString: cluster.databaseUrl });
  await client.connect();
  try {
    return (
      (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM cds_shown_card')).rows[0]?.n ?? 0
    );
  } finally {
    await client.end();
  }
}

/** Waits (5 s at most) until more than `before` shown-card rows are there. */
async function shownRecorded(before: number) {
  const deadline = Date.now() + 5000;
  while ((await shownRows()) <= before) {
    if (Date.now() > deadline) throw new Error('order-select did not record the cards it showed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const cardsOf = (a: Answer): Card[] => (JSON.parse(a.body) as { cards: Card[] }).cards;

// ---- The cluster ----

const binaries = findClusterBinaries();
// Under CI a missing binary fails every test below (beforeAll throws), never skips them.
const mustRun = Boolean(process.env.CI);
const skipReason = binaries.ok || mustRun ? '' : ` (skipped: ${binaries.reason})`;
if (skipReason) console.warn(`[multi-replica]${skipReason}`);

let cluster: ReplicaCluster;

describe.skipIf(Boolean(skipReason))(
  `3 replicas of npm run serve behind nginx, one PostgreSQL${skipReason}`,
  () => {
    beforeAll(async () => {
      if (!binaries.ok)
        throw new Error(
          `CI must run the multi-replica tests, but ${binaries.reason} (.ci/run installs them)`,
        );
      cluster = await startReplicaCluster(binaries.bin, { replicas: 3 });
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 30_000);

    const replica = (i: number) => {
      const r = cluster.replicas[i];
      if (!r) throw new Error(`no replica ${i}`);
      return r;
    };

    it('every replica reports its shared state in PostgreSQL (/health sharedState)', async () => {
      for (const r of cluster.replicas) {
        const res = await fetch(`${r.base}/health`);
        const health = (await res.json()) as { sharedState?: string };
        expect.soft(health.sharedState, `replica ${r.index} /health`).toBe('postgres');
      }
    });

    it('a token replayed to another replica is refused: directly (A then B) and through the balancer', async () => {
      const url = (base: string) => `${base}${PATIENT_VIEW}`;
      const direct = await cluster.token(PATIENT_VIEW);
      const body = patientViewOfRos1BrainMets('replay-direct');
      expect((await post(url(replica(0).base), body, direct)).status).toBe(200);
      expect.soft((await post(url(replica(1).base), body, direct)).status, 'replayed on replica B').toBe(401);

      // Through nginx: round robin sends the repeats to the other replicas.
      const balanced = await cluster.token(PATIENT_VIEW);
      const viaNginx = patientViewOfRos1BrainMets('replay-balanced');
      const answers: Answer[] = [];
      for (let i = 0; i < 3; i++) answers.push(await post(url(cluster.balancer), viaNginx, balanced));
      expect
        .soft(
          answers.map((a) => a.status),
          'sent three times through nginx',
        )
        .toEqual([200, 401, 401]);
      expect(new Set(answers.map((a) => a.upstream)).size, 'the replays reached other replicas').toBe(3);
    });

    it('a replay check the database cannot finish in time answers 503 and is rolled back: the same token is accepted once after', async () => {
      const token = await cluster.token(PATIENT_VIEW);
      const { iss, jti } = decodeJwt(token);
      const key = createHash('sha256')
        .update(JSON.stringify([iss, jti]))
        .digest();
      const body = patientViewOfRos1BrainMets('replay-check-stalled');
      // Another session holds the token's row uncommitted: the replica's INSERT waits on it.
      const holder = new pg.Client({ connectionString: cluster.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(
          "INSERT INTO cds_jti_seen (key, expires_at) VALUES ($1, now() + interval '1 hour')",
          [key],
        );
        const stalled = await post(`${replica(0).base}${PATIENT_VIEW}`, body, token);
        expect(stalled.status, 'the check could not finish: refused, never accepted').toBe(503);
        await holder.query('ROLLBACK');
      } finally {
        await holder.end();
      }
      // Were the cancelled INSERT still waiting in the database, it would now commit, and this
      // first real use of the token would be refused as a replay.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await post(`${replica(1).base}${PATIENT_VIEW}`, body, token)).status).toBe(200);
      expect((await post(`${replica(0).base}${PATIENT_VIEW}`, body, token)).status).toBe(401);
    });

    it('order-sign through replica B does not repeat the card order-select showed through replica A', async () => {
      const scenario = crizotinibForRos1BrainMets('crizotinib-two-replicas');

      // Without the memory (a fresh single in-process instance), order-sign shows the card again: so
      // this test can fail.
      const store: FeedbackStore = await openFeedbackStore({ dataDir: 'memory://' });
      try {
        const fresh = createApp({
          kb: getKnowledge(),
          config: {
            publicBaseUrl: cluster.balancer,
            corsOrigins: [],
            appLaunchUrl: `${cluster.balancer}/app/launch.html`,
            formularyUnavailable: [],
            fhirTimeoutMs: 1000,
            fhirDeadlineMs: 2000,
            fhirMaxPages: 5,
          },
          verifier: null,
          feedback: store,
          logger: createLogger('silent'),
        });
        const res = await fresh.request(`${cluster.balancer}${ORDER_SIGN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(scenario.sign),
        });
        expect(res.status).toBe(200);
        const summaries = ((await res.json()) as { cards: Card[] }).cards.map((c) => c.summary);
        expect(
          summaries.some((s) => CRIZOTINIB_CNS.test(s)),
          'a fresh instance repeats it',
        ).toBe(true);
      } finally {
        await store.close();
      }

      const shownBefore = await shownRows();
      const select = await post(
        `${replica(0).base}${ORDER_SELECT}`,
        scenario.select,
        await cluster.token(ORDER_SELECT),
      );
      expect(select.status).toBe(200);
      const shown = cardsOf(select).find((c) => CRIZOTINIB_CNS.test(c.summary));
      expect(shown?.source.topic.code).toBe('order-concordance');
      // Replica A records what it showed once its answer has gone out; the clinician reads the cards
      // before signing: wait (5 s at most) until the rows are there.
      await shownRecorded(shownBefore);

      const sign = await post(
        `${replica(1).base}${ORDER_SIGN}`,
        scenario.sign,
        await cluster.token(ORDER_SIGN),
      );
      expect(sign.status).toBe(200);
      const signed = cardsOf(sign).map((c) => c.summary);
      expect(
        signed.filter((s) => CRIZOTINIB_CNS.test(s)),
        'repeated on replica B',
      ).toEqual([]);
      expect(
        signed.some((s) => IMMUNOTHERAPY_IN_ROS1.test(s)),
        'a new finding is still shown',
      ).toBe(true);
    });

    it('feedback acknowledged (200) by a replica that is then SIGKILLed is in the database', async () => {
      const victim = 2;
      const card = `acknowledged-then-killed-${randomUUID()}`;
      const ack = await post(
        `${replica(victim).base}${FEEDBACK}`,
        overriddenFeedback(card),
        await cluster.token(FEEDBACK),
      );
      expect(ack.status).toBe(200);
      await cluster.kill(victim);

      const store = await openFeedbackStore({ databaseUrl: cluster.databaseUrl, poolMax: 1 });
      try {
        const rows = await store.list({ serviceId: 'alk-ros1-patient-view', card });
        expect(rows.map((r) => r.outcome)).toEqual(['overridden']);
      } finally {
        await store.close();
      }
      // Back in the rotation for the load test.
      await cluster.restart(victim);
    }, 30_000);

    it('mixed load through nginx, one replica SIGKILLed mid-run: acknowledged feedback stored, replays refused, failures only where the dead replica held requests', async () => {
      for (const r of cluster.replicas) if (!r.process) await cluster.restart(r.index);
      const victim = replica(0);

      interface Sent {
        kind: 'patient-view' | 'feedback';
        /** Re-sent the client's previous request unchanged (same token). */
        replayOf?: Sent;
        card?: string;
        start: number;
        end: number;
        status: number | 'connection error';
        upstream: string;
      }
      const sent: Sent[] = [];
      const started = performance.now();
      let stopAt = Number.POSITIVE_INFINITY;

      async function send(
        kind: Sent['kind'],
        path: string,
        body: string,
        token: string,
        extra: Partial<Sent>,
      ) {
        const s: Sent = {
          kind,
          start: performance.now(),
          end: 0,
          status: 'connection error',
          upstream: '',
          ...extra,
        };
        try {
          const a = await post(`${cluster.balancer}${path}`, body, token);
          s.status = a.status;
          s.upstream = a.upstream;
        } catch {
          // refused, reset or timed out between this client and nginx
        }
        s.end = performance.now();
        sent.push(s);
        return s;
      }

      async function client(c: number) {
        let previous:
          | { kind: Sent['kind']; path: string; body: string; token: string; sent: Sent }
          | undefined;
        for (let i = 0; performance.now() < stopAt; i++) {
          if (previous && i % REPLAY_EVERY === REPLAY_EVERY - 1) {
            await send(previous.kind, previous.path, previous.body, previous.token, {
              replayOf: previous.sent,
            });
            continue;
          }
          const kind = i % 2 === 0 ? 'patient-view' : 'feedback';
          const card = `load-${c}-${i}-${randomUUID()}`;
          const path = kind === 'feedback' ? FEEDBACK : PATIENT_VIEW;
          const body = JSON.stringify(
            kind === 'feedback' ? overriddenFeedback(card) : patientViewOfRos1BrainMets(`load-${c}`),
          );
          const token = await cluster.token(path);
          const s = await send(kind, path, body, token, kind === 'feedback' ? { card } : {});
          previous = { kind, path, body, token, sent: s };
        }
      }

      const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
      const answeredByVictim = () =>
        sent.filter((s) => s.status === 200 && s.upstream === victim.address).length;
      await new Promise((r) => setTimeout(r, BEFORE_KILL_MS));
      for (let i = 0; i < 60 && answeredByVictim() < 5; i++) await new Promise((r) => setTimeout(r, 50));
      const kill = await cluster.kill(victim.index);
      stopAt = kill.done + AFTER_KILL_MS;
      await Promise.all(clients);

      // Feedback in the database, by card.
      const db = new pg.Client({ connectionString: cluster.databaseUrl });
      await db.connect();
      const fresh = sent.filter((s) => !s.replayOf);
      const feedback = fresh.filter((s) => s.kind === 'feedback');
      const acknowledged = feedback.filter((s) => s.status === 200).map((s) => s.card as string);
      const unknown = feedback.filter((s) => s.status !== 200).map((s) => s.card as string);
      const storedOf = async (cards: string[]) =>
        new Set(
          (
            await db.query<{ card: string }>('SELECT card FROM cds_feedback WHERE card = ANY($1)', [cards])
          ).rows.map((r) => r.card),
        );
      const storedAcked = await storedOf(acknowledged);
      const storedUnknown = await storedOf(unknown);
      await db.end();

      // In flight on the victim at the kill: sent before the kill completed, not answered before it was
      // sent, and nginx's first try was the victim (or no answer came from nginx at all).
      const firstUpstream = (s: Sent) => s.upstream.split(',')[0]?.trim() ?? '';
      const onVictim = (s: Sent) => s.status === 'connection error' || firstUpstream(s) === victim.address;
      const inFlight = sent.filter((s) => s.start < kill.done && s.end >= kill.sent && onVictim(s));
      const failed = sent.filter((s) => s.status === 'connection error' || (s.status as number) >= 500);
      const unexplained = failed.filter((s) => !inFlight.includes(s));

      const replays = sent.filter((s) => s.replayOf);
      // A replay of a request the dead replica held may be accepted: its jti may never have been recorded.
      const replaysOfAnswered = replays.filter((s) => s.replayOf?.status === 200);
      const replayedAccepted = replaysOfAnswered.filter((s) => s.status === 200);
      const freshRefused = fresh.filter((s) => s.status === 401);

      const byStatus = new Map<string, number>();
      for (const s of sent) byStatus.set(String(s.status), (byStatus.get(String(s.status)) ?? 0) + 1);
      const servedBy = (address: string, after: boolean) =>
        sent.filter(
          (s) => s.status === 200 && firstUpstream(s) === address && (after ? s.start > kill.done : true),
        ).length;
      const seconds = (performance.now() - started) / 1000;
      console.log(
        [
          `[multi-replica load] ${CLIENTS} clients through nginx for ${seconds.toFixed(1)} s (patient-view + feedback, a fresh JWT each; every ${REPLAY_EVERY}th request a replay); replica ${victim.index} SIGKILLed at ${((kill.sent - started) / 1000).toFixed(2)} s (dead ${(kill.done - kill.sent).toFixed(0)} ms later)`,
          `  requests: ${sent.length} (${(sent.length / seconds).toFixed(0)}/s); by status: ${[...byStatus].map(([k, v]) => `${k} × ${v}`).join(', ')}`,
          `  served (200) per replica: ${cluster.replicas.map((r) => `#${r.index} ${servedBy(r.address, false)}`).join(', ')}; after the kill: ${cluster.replicas.map((r) => `#${r.index} ${servedBy(r.address, true)}`).join(', ')}`,
          `  replays refused: ${replaysOfAnswered.length - replayedAccepted.length} of ${replaysOfAnswered.length} (plus ${replays.length - replaysOfAnswered.length} replays of unanswered requests: ${
            replays
              .filter((s) => s.replayOf?.status !== 200)
              .map((s) => s.status)
              .join(', ') || 'none'
          }); fresh tokens refused: ${freshRefused.length}`,
          `  feedback writes: ${feedback.length} sent, ${acknowledged.length} acknowledged (200), ${storedAcked.size} of those stored; ${unknown.length} unanswered, of which ${storedUnknown.size} stored anyway`,
          `  5xx + connection errors: ${failed.length}; in flight on the killed replica at the kill: ${inFlight.length} (${inFlight.filter((s) => s.status === 200).length} answered 200 all the same); failures not explained by the kill: ${unexplained.length}`,
        ].join('\n'),
      );

      expect.soft(acknowledged.length, 'feedback acknowledged').toBeGreaterThan(20);
      expect.soft(storedAcked.size, 'acknowledged feedback stored').toBe(acknowledged.length);
      expect.soft(servedBy(victim.address, false), 'the victim served before the kill').toBeGreaterThan(0);
      expect
        .soft(
          cluster.replicas.filter((r) => r !== victim && servedBy(r.address, true) > 0).length,
          'the other replicas served after the kill',
        )
        .toBe(2);
      expect
        .soft(failed.length, '5xx and connection errors vs in flight on the killed replica')
        .toBeLessThanOrEqual(inFlight.length);
      expect
        .soft(
          unexplained.map((s) => `${s.kind} ${s.status} via ${s.upstream || '-'}`),
          'failures not explained by the kill',
        )
        .toEqual([]);
      expect.soft(freshRefused.length, 'fresh tokens refused').toBe(0);
      expect.soft(replaysOfAnswered.length, 'replays attempted').toBeGreaterThan(5);
      expect
        .soft(
          replayedAccepted.map((s) => `${s.kind} replay accepted via ${s.upstream}`),
          'replays accepted',
        )
        .toEqual([]);
    }, 30_000);
  },
);
