/**
 * `/metrics` in Prometheus format over real HTTP: off unless METRICS_TOKEN is set, then only with
 * that bearer token; after hooks called with signed JWTs it counts requests per service and status,
 * their latency, cards by topic and indicator, and searches that could not be read by reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeedbackStore, openFeedbackStore } from '../../../cds-hooks/feedback/index.ts';
import { alkNaiveRecord } from '../../fixtures/cds/records.ts';
import { prefetchFor } from './fhir-search.ts';
import { type JwtService, startJwtService } from './jwt-service.ts';

const TOKEN = 'metrics-token-0123456789abcdef';
let feedback: FeedbackStore;
let withMetrics: JwtService;
let without: JwtService;

beforeAll(async () => {
  feedback = await openFeedbackStore({ dataDir: 'memory://' });
  [withMetrics, without] = await Promise.all([
    startJwtService({ feedback, metricsToken: TOKEN }),
    startJwtService({ feedback }),
  ]);
});
afterAll(async () => {
  await Promise.all([withMetrics?.close(), without?.close()]);
  await feedback?.close();
});

const scrape = (service: JwtService, token?: string) =>
  fetch(`${service.base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** The value of one sample line, e.g. `cds_requests_total{route="service",…} 2`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}

let n = 0;
const patientView = (pid: string, prefetch: Record<string, unknown>) => ({
  hook: 'patient-view',
  hookInstance: `7d1a3c5e-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  context: { userId: 'Practitioner/onc-1', patientId: pid },
  prefetch,
});

describe('/metrics', () => {
  it('is off (404) unless METRICS_TOKEN is set', async () => {
    expect((await scrape(without, TOKEN)).status).toBe(404);
  });

  it('needs the bearer token: none or a wrong one gets 401 and no figures', async () => {
    const none = await scrape(withMetrics);
    expect(none.status).toBe(401);
    expect(await none.text()).not.toMatch(/cds_requests_total/);
    expect((await scrape(withMetrics, `${TOKEN}x`)).status).toBe(401);
  });

  it('counts patient-view calls, their cards by topic and indicator, and a search that could not be read', async () => {
    const pid = 'p-metrics';
    const good = prefetchFor(alkNaiveRecord(pid), pid);
    expect(
      (await withMetrics.call('sandbox', '/cds-services/alk-ros1-patient-view', patientView(pid, good)))
        .status,
    ).toBe(200);
    // The optional lab search answered with an OperationOutcome instead of a Bundle.
    const failed = {
      ...good,
      'biomarker-lab-observations': {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'exception', diagnostics: 'timeout' }],
      },
    };
    expect(
      (await withMetrics.call('epic', '/cds-services/alk-ros1-patient-view', patientView(pid, failed)))
        .status,
    ).toBe(200);
    // A call without a token: counted as a 401.
    expect(
      (await fetch(`${withMetrics.base}/cds-services/alk-ros1-patient-view`, { method: 'POST', body: '{}' }))
        .status,
    ).toBe(401);

    const res = await scrape(withMetrics, TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const service = 'alk-ros1-patient-view';
    expect(sample(text, 'cds_requests_total', { route: 'service', service, status: '200' })).toBe(2);
    expect(sample(text, 'cds_requests_total', { route: 'service', service, status: '401' })).toBe(1);
    expect(sample(text, 'cds_request_duration_seconds_count', { route: 'service', service })).toBe(3);
    expect(sample(text, 'cds_cards_total', { service, topic: 'therapy-selection', indicator: 'info' })).toBe(
      2,
    );
    const gaps = text
      .split('\n')
      .filter((l) => l.startsWith('cds_fhir_gaps_total{') && l.includes(`service="${service}"`));
    expect(gaps.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)).toBe(1);
    // No patient data in any label.
    expect(text).not.toContain(pid);
  });
});
