/**
 * The CDS Hooks HTTP service (Hono). `createApp` takes every dependency, so tests run it in-process
 * with `app.request()` and over real HTTP alike. Non-2xx answers are OperationOutcomes without
 * internal detail; 401s say nothing about why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Knowledge } from '../src/knowledge/index.ts';
import type { JwtVerifier, VerifyResult } from './auth/index.ts';
import { sameSecret } from './auth/same-secret.ts';
import { discoveryDocument } from './discovery.ts';
import { type FeedbackStore, FeedbackStoreError } from './feedback/index.ts';
import { formatReport, REPORT_CONTENT_TYPES, ReportQuery, reportFromStore } from './feedback/report.ts';
import { fhirServerAccess } from './fhir-server-policy.ts';
import { fromZodError, HttpError, operationOutcome } from './http-error.ts';
import type { HttpGet } from './http-get.ts';
import type { Logger, RequestLog } from './log.ts';
import { Metrics } from './metrics.ts';
import { FeedbackRequest } from './schemas.ts';
import { type ServiceDefinition, serviceById } from './services/definitions.ts';
import { type HookConfig, handleHook } from './services/handle-hook.ts';
import { inProcessSharedState, type SharedState } from './shared-state/index.ts';

export interface AppConfig extends HookConfig {
  publicBaseUrl: string;
  corsOrigins: string[];
  /** Request bodies above this are refused with 413 (`MAX_BODY_BYTES`). */
  maxBodyBytes?: number;
  /** Medication prefetch templates ask for `_include=…:medication` (`CDS_PREFETCH_INCLUDE_MEDICATIONS`). */
  prefetchIncludeMedications?: boolean;
  /**
   * Discovery needs a JWT too (`CDS_DISCOVERY_REQUIRES_JWT`). Off by default: discovery holds no
   * patient data, and CDS clients and browsers fetch it plainly [CDS Hooks 2.0 §Discovery].
   */
  discoveryRequiresJwt?: boolean;
  /**
   * Other URLs this same service is reached at (the local sandbox: http://localhost:P and
   * http://127.0.0.1:P). A JWT's `aud` must name the one the request was sent to (its Host).
   */
  otherBaseUrls?: string[];
  /** Turns on `/metrics`, for this bearer token only (`METRICS_TOKEN`). */
  metricsToken?: string;
  /** Turns on `/admin/feedback-report`, for this bearer token only (`ADMIN_TOKEN`). */
  adminToken?: string;
}

/**
 * 16 MiB: a hook with a prefetch of about 30,000 Observations (5 MiB, the old fixed limit, refused
 * charts of more than about 9,000). Parsing a body this size takes about 0.1 s of CPU here.
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface AppDeps {
  kb: Knowledge;
  config: AppConfig;
  /** null only in tests of the clinical behaviour: production always verifies. */
  verifier: JwtVerifier | null;
  feedback: FeedbackStore;
  logger: Logger;
  now?: () => Date;
  httpGet?: HttpGet;
  /**
   * The cards shown at order-select, shared by every replica with `DATABASE_URL`; in process by
   * default. (Its replay set goes to the verifier.)
   */
  sharedState?: SharedState;
}

/** What the middleware hands the route handlers. */
export type AppEnv = {
  Variables: {
    log: Partial<Omit<RequestLog, 'route' | 'method' | 'status' | 'durationMs'>>;
    auth: Extract<VerifyResult, { ok: true }>;
    service: ServiceDefinition;
  };
};

const FHIR_JSON = 'application/fhir+json';
/** Seconds a client is asked to wait before retrying when a store (feedback, jti replay) could not answer. */
const STORE_RETRY_AFTER_SEC = 5;

function outcomeResponse(
  status: number,
  body: ReturnType<typeof operationOutcome>,
  extraHeaders: Record<string, string> = {},
) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': FHIR_JSON, ...extraHeaders },
  });
}

/**
 * The base URL a request was sent to, by its Host header, among the URLs this server answers at
 * (tokens name the URL the client called); the first one otherwise.
 */
export function baseForHost(primary: string, others: readonly string[] = []) {
  const bases = [primary, ...others].map((b) => b.replace(/\/+$/, ''));
  const byHost = new Map(bases.map((b) => [new URL(b).host, b]));
  return (host: string | undefined): string => byHost.get((host ?? '').toLowerCase()) ?? (bases[0] as string);
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { kb, config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const sharedState = deps.sharedState ?? inProcessSharedState();
  const metrics = new Metrics();
  const baseFor = baseForHost(config.publicBaseUrl, config.otherBaseUrls ?? []);
  const baseOf = (c: Context<AppEnv>) => baseFor(c.req.header('host'));
  // Depends on configuration only: built once.
  const discovery = discoveryDocument(kb, { includeMedications: config.prefetchIncludeMedications === true });
  const app = new Hono<AppEnv>();

  const allowOrigin = (origin: string) => (config.corsOrigins.includes(origin) ? origin : null);
  const preflight = cors({
    origin: allowOrigin,
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  // Preflights go through hono/cors. Other requests get the same two headers it would add, set on
  // the response in place: its c.header() after the handler rebuilt every response as a web
  // stream, which cost more than building the cards.
  app.use('*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    const allowed = allowOrigin(c.req.header('origin') || '');
    if (allowed) c.res.headers.set('Access-Control-Allow-Origin', allowed);
    c.res.headers.append('Vary', 'Origin');
  });
  const maxBody = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  async function authorise(header: string | undefined, audiences: string[]): Promise<VerifyResult> {
    if (!deps.verifier) return { ok: true, iss: 'unauthenticated', jti: '-', alg: 'none' };
    return deps.verifier.verify(header, audiences);
  }

  const unauthorized = () =>
    outcomeResponse(401, operationOutcome('security', 'unauthorized'), { 'www-authenticate': 'Bearer' });

  /**
   * The request body, refused with 413 past the limit. On Node the bytes are read straight from the
   * IncomingMessage: a 300 KiB prefetch through web streams costs more than the clinical work.
   */
  async function readBody(c: Context): Promise<string> {
    const declared = Number(c.req.header('content-length') ?? '0');
    if (declared > maxBody) throw new HttpError(413, 'too-long', 'request body too large');
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) {
      const text = await c.req.text();
      if (Buffer.byteLength(text) > maxBody) throw new HttpError(413, 'too-long', 'request body too large');
      return text;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of incoming) {
      size += (chunk as Buffer).length;
      if (size > maxBody) throw new HttpError(413, 'too-long', 'request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function readJson(c: Context): Promise<unknown> {
    const text = await readBody(c);
    if (text.trim() === '') throw new HttpError(400, 'structure', 'empty request body');
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'structure', 'request body is not valid JSON');
    }
  }

  function log(entry: RequestLog) {
    const level = entry.status >= 500 ? 'error' : entry.status >= 400 ? 'warn' : 'info';
    logger[level](entry, 'request');
    metrics.request(entry);
  }

  /**
   * Off (404) unless `token` is set; then only for `Authorization: Bearer <token>`, compared in
   * constant time; 401 otherwise. For the operator's endpoints (/metrics, the feedback report).
   */
  const bearerOnly =
    (token: string | undefined): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      if (!token) return c.notFound();
      const given = c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ?? '';
      if (!sameSecret(given, token)) return unauthorized();
      await next();
    };

  app.get('/metrics', bearerOnly(config.metricsToken), async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );

  // Liveness: this process answers. Readiness (/health below) also needs the stores: a database
  // outage takes replicas out of the balancer, and should not get them restarted.
  app.get('/health/live', (c) => c.json({ status: 'ok', knowledgeBase: kb.version }));

  app.get('/health', async (c) => {
    const [store, state] = await Promise.all([deps.feedback.health(), sharedState.health()]);
    return c.json(
      {
        status: store && state ? 'ok' : 'degraded',
        knowledgeBase: kb.version,
        feedbackStore: store ? 'ok' : 'unavailable',
        // Which mode is running: 'postgres' (replicas share it) or 'in-process' (one instance).
        sharedState: sharedState.kind,
        ...(state ? {} : { sharedStateStore: 'unavailable' }),
      },
      store && state ? 200 : 503,
    );
  });

  // Request logging and authentication as middleware: one JSON line per request, written once the
  // answer is known; the route fills in what it learned (service, cards, feedback counts).
  const logged =
    (route: RequestLog['route']): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const started = performance.now();
      c.set('log', {});
      await next();
      const { outcome = c.res.ok ? 'ok' : 'error', ...fields } = c.get('log');
      log({
        route,
        method: c.req.method,
        ...fields,
        status: c.res.status,
        durationMs: performance.now() - started,
        outcome,
      });
    };

  /** 404 for an unknown service id, before any token is looked at. */
  const knownService: MiddlewareHandler<AppEnv> = async (c, next) => {
    const id = c.req.param('id') ?? '';
    const service = serviceById(id);
    if (!service) return outcomeResponse(404, operationOutcome('not-found', `no CDS service "${id}"`));
    c.set('service', service);
    Object.assign(c.get('log'), {
      service: id,
      ...(c.req.path.endsWith('/feedback') ? {} : { hook: service.hook }),
    });
    await next();
  };

  /** A JWT whose `aud` is one of `audiences(c)`; a bare 401 otherwise (the reason goes to the log only). */
  const authenticated =
    (audiences: (c: Context<AppEnv>) => string[]): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const auth = await authorise(c.req.header('authorization'), audiences(c));
      if (!auth.ok) {
        c.get('log').outcome = auth.reason;
        if (auth.unavailable) {
          metrics.storeError('jti');
          return outcomeResponse(
            503,
            operationOutcome('transient', 'the token could not be checked now; try again'),
            { 'retry-after': String(STORE_RETRY_AFTER_SEC) },
          );
        }
        return unauthorized();
      }
      c.set('auth', auth);
      Object.assign(c.get('log'), { iss: auth.iss, jti: auth.jti });
      await next();
    };

  // The governance report of feedback (feedback/report.ts): off unless ADMIN_TOKEN is set; then only
  // with that bearer token, compared in constant time, as /metrics. A read-only view of the store.
  app.get('/admin/feedback-report', logged('other'), bearerOnly(config.adminToken), async (c) => {
    const query = ReportQuery.safeParse(c.req.query());
    if (!query.success)
      return failure(
        c,
        new HttpError(400, 'invalid', 'invalid report query', undefined, fromZodError(query.error)),
      );
    const { format = 'json', since, service } = query.data;
    try {
      const report = await reportFromStore(
        deps.feedback,
        { ...(since ? { since } : {}), ...(service ? { serviceId: service } : {}) },
        now().toISOString(),
      );
      c.get('log').outcome = `report (${report.rows.length} rows)`;
      return c.body(formatReport(report, format), 200, {
        'content-type': REPORT_CONTENT_TYPES[format],
        'cache-control': 'no-store',
      });
    } catch (e) {
      return failure(c, e, 'the feedback store is unavailable; try again later');
    }
  });

  app.get(
    '/cds-services',
    logged('discovery'),
    ...(config.discoveryRequiresJwt ? [authenticated((c) => [`${baseOf(c)}/cds-services`])] : []),
    (c) => c.json(discovery),
  );

  app.post(
    '/cds-services/:id/feedback',
    logged('feedback'),
    knownService,
    authenticated((c) => [
      `${baseOf(c)}/cds-services/${c.get('service').id}/feedback`,
      `${baseOf(c)}/cds-services/${c.get('service').id}`,
    ]),
    async (c) => {
      const id = c.get('service').id;
      const auth = c.get('auth');
      try {
        const parsed = FeedbackRequest.safeParse(await readJson(c));
        if (!parsed.success)
          throw new HttpError(400, 'invalid', 'invalid feedback', undefined, fromZodError(parsed.error));
        const receivedAt = now().toISOString();
        const result = await deps.feedback.save(
          parsed.data.feedback.map((f) => ({
            serviceId: id,
            card: f.card,
            outcome: f.outcome,
            acceptedSuggestions: (f.acceptedSuggestions ?? []).map((s) => s.id).sort(),
            ...(f.overrideReason
              ? {
                  overrideReason: {
                    ...(f.overrideReason.reason?.system ? { system: f.overrideReason.reason.system } : {}),
                    ...(f.overrideReason.reason?.code ? { code: f.overrideReason.reason.code } : {}),
                    ...(f.overrideReason.reason?.display ? { display: f.overrideReason.reason.display } : {}),
                    ...(f.overrideReason.userComment ? { userComment: f.overrideReason.userComment } : {}),
                  },
                }
              : {}),
            outcomeTimestamp: f.outcomeTimestamp,
            receivedAt,
            ...(auth.iss !== 'unauthenticated' ? { clientIss: auth.iss } : {}),
          })),
        );
        Object.assign(c.get('log'), { feedback: result, outcome: 'stored' });
        return c.body(null, 200);
      } catch (e) {
        return failure(c, e);
      }
    },
  );

  app.post(
    '/cds-services/:id',
    logged('service'),
    knownService,
    authenticated((c) => [`${baseOf(c)}/cds-services/${c.get('service').id}`]),
    async (c) => {
      const auth = c.get('auth');
      try {
        const outcome = await handleHook(c.get('service'), await readJson(c), {
          kb,
          config,
          shownCards: sharedState.shownCards,
          clientScope: JSON.stringify([auth.iss, auth.tenant ?? '']),
          now,
          ...(deps.httpGet ? { httpGet: deps.httpGet } : {}),
          // Which FHIR servers this client may name (`fhir_servers`), from its verified token.
          fhirAccess: (url: string) => fhirServerAccess(deps.verifier ? auth : undefined, url),
        });
        const notes = [
          outcome.ignoredDrafts ? `${outcome.ignoredDrafts} drafts ignored` : '',
          outcome.fhirServerRefused ?? '',
        ].filter(Boolean);
        metrics.hook(
          c.get('service').id,
          outcome.cards.map((card) => ({ indicator: card.indicator, topic: card.source.topic?.code })),
          outcome.gapReasons,
        );
        if (outcome.shownCardsUnavailable) {
          metrics.storeError('shown-cards');
          notes.push('shown-cards memory unavailable');
        }
        Object.assign(c.get('log'), {
          hookInstance: outcome.hookInstance,
          cards: outcome.cards.length,
          fhirCalls: outcome.fhirCalls,
          gaps: outcome.gaps,
          outcome: notes.length ? `ok (${notes.join('; ')})` : 'ok',
        });
        if (outcome.shownKeys) await rememberOnceDelivered(c, outcome.shownKeys);
        return c.json({ cards: outcome.cards });
      } catch (e) {
        return failure(c, e);
      }
    },
  );

  /**
   * Records order-select's findings as shown only once its answer has been written to the client:
   * an answer lost on the way (the client gave up, the replica died) must not hide its cards at
   * order-sign. Not on the response path; a failure only means a card may be shown once more.
   * Without a Node response (in-process `app.request()`), before answering. Behind a proxy,
   * "written" means handed to the proxy: an EHR that gives up while the proxy still reads the
   * answer is not seen here (critical cards are repeated at order-sign regardless).
   */
  async function rememberOnceDelivered(c: Context<AppEnv>, keys: string[]) {
    const write = () =>
      Promise.resolve()
        .then(() => sharedState.shownCards.remember(keys))
        .catch(() => {
          metrics.storeError('shown-cards');
          logger.warn(
            { hookInstance: c.get('log').hookInstance },
            'cards shown at order-select not recorded',
          );
        });
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    // 'finish': the whole answer was handed to the network (not emitted when the client went away
    // first). Only a 200 carried the cards: a later failure (500) recorded nothing.
    if (outgoing)
      outgoing.once('finish', () => {
        if (outgoing.statusCode === 200) void write();
      });
    else await write();
  }

  /** An HttpError becomes its OperationOutcome; anything else a 500 that says nothing more. */
  function failure(
    c: Context<AppEnv> | undefined,
    e: unknown,
    storeUnavailable = 'the feedback store is unavailable; nothing was stored, send it again later',
  ) {
    const entry = c?.get('log');
    if (e instanceof HttpError) {
      if (entry) entry.outcome = e.message;
      return outcomeResponse(e.status, e.toOperationOutcome(), e.headers);
    }
    if (e instanceof FeedbackStoreError) {
      // The store is down or refusing: nothing was changed, so the client may send the same request
      // again; say when, instead of a 500 it cannot act on.
      if (entry) entry.outcome = e.message;
      metrics.storeError('feedback');
      logger.error({ err: { name: e.name, message: e.message } }, 'feedback store unavailable');
      return outcomeResponse(503, operationOutcome('transient', storeUnavailable), {
        'retry-after': String(STORE_RETRY_AFTER_SEC),
      });
    }
    if (entry) entry.outcome = 'internal error';
    logger.error(
      { err: e instanceof Error ? { name: e.name, message: e.message } : 'unknown' },
      'unhandled error',
    );
    return outcomeResponse(500, operationOutcome('exception', 'internal error'));
  }

  const methodNotAllowed = (allow: string) => () =>
    outcomeResponse(405, operationOutcome('not-supported', 'method not allowed'), { allow });
  app.all('/cds-services', methodNotAllowed('GET, OPTIONS'));
  app.all('/cds-services/:id', methodNotAllowed('POST, OPTIONS'));
  app.all('/cds-services/:id/feedback', methodNotAllowed('POST, OPTIONS'));
  app.notFound(() => outcomeResponse(404, operationOutcome('not-found', 'not found')));
  app.onError((e) => failure(undefined, e));
  return app;
}
