/**
 * Prometheus metrics (prom-client), one registry per app: request counts and latency per route and
 * service, fallback FHIR calls and the searches that failed by reason, cards by topic and indicator,
 * and store errors. Served at `/metrics` only when `METRICS_TOKEN` is set, behind that bearer token.
 * Labels carry no patient data: service ids, route names, status codes, gap reasons, card topics.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { RequestLog } from './log.ts';

export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'cds_requests_total',
    help: 'HTTP requests answered, by route, service and status code.',
    labelNames: ['route', 'service', 'status'] as const,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'cds_request_duration_seconds',
    help: 'Time to answer, by route and service.',
    labelNames: ['route', 'service'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly fhirCalls = new Counter({
    name: 'cds_fhir_fallback_calls_total',
    help: 'FHIR requests the service made itself (prefetch missing or incomplete), by service.',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  private readonly fhirFailures = new Counter({
    name: 'cds_fhir_gaps_total',
    help: 'Searches that could not be read (prefetch or fallback), by service and reason.',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly cards = new Counter({
    name: 'cds_cards_total',
    help: 'Cards returned, by service, topic and indicator.',
    labelNames: ['service', 'topic', 'indicator'] as const,
    registers: [this.registry],
  });

  private readonly storeErrors = new Counter({
    name: 'cds_store_errors_total',
    help: 'Requests a store could not serve (feedback writes, JWT replay checks, the shown-cards memory), by store.',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** One answered request, from the same record as its log line. */
  request(entry: RequestLog): void {
    const service = entry.service ?? '';
    this.requests.inc({ route: entry.route, service, status: String(entry.status) });
    this.duration.observe({ route: entry.route, service }, entry.durationMs / 1000);
    if (entry.fhirCalls) this.fhirCalls.inc({ service }, entry.fhirCalls);
  }

  hook(
    service: string,
    cards: readonly { indicator: string; topic?: string }[],
    gapReasons: readonly string[],
  ): void {
    for (const c of cards) this.cards.inc({ service, topic: c.topic ?? '', indicator: c.indicator });
    for (const reason of gapReasons) this.fhirFailures.inc({ service, reason });
  }

  storeError(store: 'feedback' | 'jti' | 'shown-cards'): void {
    this.storeErrors.inc({ store });
  }
}
