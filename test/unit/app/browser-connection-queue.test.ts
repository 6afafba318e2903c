/**
 * Over HTTP/1.1 a browser sends at most 6 requests per server at once and queues the rest. When six
 * searches hang, the ones queued behind them must get their own time once they are sent, not be
 * reported as "no answer" without ever reaching the server.
 */
import { describe, expect, it } from 'vitest';
import { loadPatientData, type SmartClient } from '../../../src/app/smart/load-patient-data.ts';
import { dataRequirements } from '../../../src/fhir/queries.ts';

const PID = 'queue-patient';
/** Chromium, Firefox and Safari: 6 connections per server over HTTP/1.1. */
const BROWSER_CONNECTIONS_PER_HOST = 6;
const BASE = 'https://fhir.example.test/r4';

/** A client behind a browser-like queue: `connections` requests in flight, the rest wait for a free one. */
function queuedClient(connections: number, hangs: (url: string) => boolean) {
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  const sent: string[] = [];
  const release = () => {
    inFlight -= 1;
    waiting.shift()?.();
  };
  const client: SmartClient = {
    patient: { id: PID },
    state: { serverUrl: BASE, tokenResponse: { patient: PID, scope: '' } },
    async request<T>(options: string | { url: string; signal?: AbortSignal }): Promise<T> {
      const { url: absolute, signal } =
        typeof options === 'string' ? { url: options, signal: undefined } : options;
      // The loader asks for absolute URLs under the server's base.
      const url = absolute.slice(BASE.length + 1);
      if (inFlight >= connections) await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight += 1;
      sent.push(url);
      try {
        return await new Promise<T>((resolve, reject) => {
          const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          if (signal?.aborted) return abort();
          signal?.addEventListener('abort', abort, { once: true });
          if (hangs(url)) return;
          const body = url.startsWith('Patient/')
            ? { resourceType: 'Patient', id: PID }
            : { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] };
          setTimeout(() => resolve(body as T), 20);
        });
      } finally {
        release();
      }
    },
  };
  return { client, sent };
}

const hangsObservation = (url: string) => url.startsWith('Observation');
const observationQueries = dataRequirements()
  .filter((r) => r.resourceType === 'Observation')
  .map((r) => r.id)
  .sort();

describe('requests queued behind hung searches', () => {
  it('are answered, and only the hung searches become timeout gaps', async () => {
    expect(observationQueries.length).toBeGreaterThanOrEqual(BROWSER_CONNECTIONS_PER_HOST);
    const { client, sent } = queuedClient(BROWSER_CONNECTIONS_PER_HOST, hangsObservation);
    const started = Date.now();
    const data = await loadPatientData(client, { requestTimeoutMs: 300 });
    expect(data.gaps.map((g) => g.query).sort()).toEqual(observationQueries);
    expect(data.gaps.every((g) => g.reason === 'timeout')).toBe(true);
    // Every declared search reached the server.
    expect(sent).toHaveLength(dataRequirements().length);
    // Bounded: at most one timeout per batch of six requests.
    const batches = Math.ceil(dataRequirements().length / BROWSER_CONNECTIONS_PER_HOST);
    expect(Date.now() - started).toBeLessThan(batches * 300 + 1_000);
  });

  it('still time out when the server hangs on everything', async () => {
    const { client } = queuedClient(BROWSER_CONNECTIONS_PER_HOST, () => true);
    const data = await loadPatientData(client, { requestTimeoutMs: 200 });
    expect(data.gaps.map((g) => g.query).sort()).toEqual(
      dataRequirements()
        .map((r) => r.id)
        .sort(),
    );
    expect(data.gaps.every((g) => g.reason === 'timeout')).toBe(true);
  });

  it('leave all at once when the server takes them in parallel (HTTP/2): one wave', async () => {
    const { client } = queuedClient(Number.POSITIVE_INFINITY, () => false);
    const data = await loadPatientData(client, { requestTimeoutMs: 300 });
    expect(data.gaps).toEqual([]);
    expect(data.waves).toBe(1);
  });
});
