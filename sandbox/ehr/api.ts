/**
 * Browser client for the sandbox server: the sandbox routes (`/sandbox/api/…`) and CDS Hooks
 * (discovery, services, feedback) with one fresh JWT per call. Everything is same-origin; the JWT
 * `aud` is the URL as the service knows itself (`session.cdsServicesUrl`). A non-2xx answer becomes
 * an `ApiError` carrying the OperationOutcome's diagnostics. Tokens never reach a log.
 */
import type {
  CdsRequest,
  CdsResponse,
  Discovery,
  FeedbackEntry,
  FeedbackNote,
  FeedbackRequest,
  HookFhirResponse,
  LaunchResponse,
  Orderable,
  SandboxPatient,
  Session,
} from './types.ts';

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    /** What the server said (OperationOutcome diagnostics), or a plain description. */
    readonly diagnostics: string,
    readonly url: string,
    /** The parsed response body, when there was one. */
    readonly body?: unknown,
    /** The exchange, for the developer panel. */
    readonly exchange?: Exchange,
  ) {
    super(status ? `HTTP ${status}: ${diagnostics}` : diagnostics);
    this.name = 'ApiError';
  }
}

/** One HTTP exchange, as the developer panel shows it (bodies are redacted there). */
export interface Exchange {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  requestBody?: unknown;
  status: number;
  responseBody?: unknown;
  durationMs: number;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** The diagnostics of an OperationOutcome (or an `error`/`message` field), else undefined. */
export function describeErrorBody(body: unknown): string | undefined {
  if (isObject(body) && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
    const parts = body.issue.flatMap((i) => {
      if (!isObject(i)) return [];
      const text =
        typeof i.diagnostics === 'string'
          ? i.diagnostics
          : isObject(i.details) && typeof i.details.text === 'string'
            ? i.details.text
            : typeof i.code === 'string'
              ? i.code
              : '';
      const where = Array.isArray(i.expression) && i.expression.length ? ` (${i.expression.join(', ')})` : '';
      return text ? [`${text}${where}`] : [];
    });
    if (parts.length) return parts.join('; ');
  }
  if (isObject(body)) {
    for (const k of ['error_description', 'error', 'message']) {
      const v = body[k];
      if (typeof v === 'string' && v) return v;
    }
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return undefined;
}

export interface ApiOptions {
  /** Origin the page talks to; default `window.location.origin`. */
  origin?: string;
  fetchImpl?: typeof fetch;
  /** Called with every CDS Hooks exchange (service and feedback calls), for the developer panel. */
  onExchange?: (kind: 'hook' | 'feedback' | 'discovery', exchange: Exchange) => void;
}

export function createApi(options: ApiOptions = {}) {
  const origin = options.origin ?? window.location.origin;
  const doFetch: typeof fetch = (...args) => (options.fetchImpl ?? fetch)(...args);
  const url = (path: string) => new URL(path, origin).href;

  async function request<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ data: T; exchange: Exchange }> {
    const target = url(path);
    const started = performance.now();
    let res: Response;
    try {
      res = await doFetch(target, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        credentials: 'same-origin',
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ApiError(0, `Could not reach ${path}: ${why}`, target);
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON: keep the text for the error message.
      }
    } else parsed = undefined;
    const exchange: Exchange = {
      method,
      url: target,
      ...(body !== undefined ? { requestBody: body } : {}),
      status: res.status,
      ...(parsed !== undefined ? { responseBody: parsed } : {}),
      durationMs: Math.round(performance.now() - started),
    };
    if (!res.ok) {
      throw new ApiError(
        res.status,
        describeErrorBody(parsed) ?? (res.statusText || 'request failed'),
        target,
        parsed,
        exchange,
      );
    }
    return { data: parsed as T, exchange };
  }

  const get = async <T>(path: string) => (await request<T>('GET', path)).data;
  const post = async <T>(path: string, body: unknown) => (await request<T>('POST', path, body)).data;

  /** A one-use JWT for exactly this audience (jti replay is refused). */
  const cdsToken = async (aud: string) =>
    (await post<{ token: string }>('/sandbox/api/cds-token', { aud })).token;

  /** Same-origin path of a URL under the CDS base (the page calls its own origin). */
  const localPath = (absolute: string) => {
    const u = new URL(absolute, origin);
    return `${u.pathname}${u.search}`;
  };

  async function cdsCall<T>(
    kind: 'hook' | 'feedback' | 'discovery',
    session: Session,
    suffix: string,
    body?: unknown,
  ): Promise<T> {
    const aud = `${session.cdsServicesUrl.replace(/\/+$/, '')}${suffix}`;
    const token = await cdsToken(aud);
    try {
      const { data, exchange } = await request<T>(body === undefined ? 'GET' : 'POST', localPath(aud), body, {
        authorization: `Bearer ${token}`,
      });
      options.onExchange?.(kind, exchange);
      return data;
    } catch (e) {
      if (e instanceof ApiError && e.exchange) options.onExchange?.(kind, e.exchange);
      throw e;
    }
  }

  return {
    session: () => get<Session>('/sandbox/api/session'),
    /** "Today is": the day every chart is replayed at, or null for today. */
    today: () => get<{ today: string | null }>('/sandbox/api/today'),
    setToday: async (today: string | null) =>
      (await request<{ today: string | null }>('PUT', '/sandbox/api/today', { today })).data,
    patients: () => get<SandboxPatient[]>('/sandbox/api/patients'),
    orderables: () => get<Orderable[]>('/sandbox/api/orderables'),
    /** The stored feedback, with the page's notes; only the patient's when `patientId` is given. */
    feedbackLog: (patientId?: string) =>
      get<FeedbackEntry[]>(
        patientId
          ? `/sandbox/api/feedback?patient=${encodeURIComponent(patientId)}`
          : '/sandbox/api/feedback',
      ),
    feedbackNote: (note: FeedbackNote) => post<unknown>('/sandbox/api/feedback-notes', note),
    launch: (body: {
      patientId: string;
      encounterId?: string;
      appContext?: string;
      /** Shown inside this page's chart (which has a banner): the app may omit its own. */
      embedded?: boolean;
    }) => post<LaunchResponse>('/sandbox/api/launch', body),
    cdsToken,
    hookFhir: (body: {
      patientId: string;
      userId: string;
      encounterId?: string;
      prefetch?: Record<string, string>;
    }) => post<HookFhirResponse>('/sandbox/api/hook-fhir', body),
    discovery: (session: Session) => cdsCall<Discovery>('discovery', session, ''),
    callService: (session: Session, serviceId: string, body: CdsRequest) =>
      cdsCall<CdsResponse>('hook', session, `/${encodeURIComponent(serviceId)}`, body),
    sendFeedback: (session: Session, serviceId: string, body: FeedbackRequest) =>
      cdsCall<unknown>('feedback', session, `/${encodeURIComponent(serviceId)}/feedback`, body),
  };
}

export type Api = ReturnType<typeof createApi>;

/** Plain words for any failure. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.status ? `HTTP ${e.status}: ${e.diagnostics}` : e.diagnostics;
  return e instanceof Error ? e.message : String(e);
}
