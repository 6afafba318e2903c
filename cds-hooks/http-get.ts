/**
 * HTTP GET for the fallback FHIR client, on node:http/https with pooled keep-alive connections.
 *
 * Why not the global fetch: a hook without prefetch makes a wave of 12 searches, and undici's fetch
 * (Request/Response objects, web streams, an HTTP parser in WebAssembly) took 21–25 ms of CPU for the
 * benchmark record's wave where node:http took 13–15 ms, on this project's 2-core machine.
 *
 * What fetch gave is kept: bodies decompressed (gzip, deflate and br offered, as fetch does),
 * redirects followed, connections reused. Added: a size cap on bodies and a byte budget shared by
 * the requests of one hook call, redirects followed only where the caller allows (the FHIR base),
 * so the bearer token never goes to another server, and optionally no connection to a loopback,
 * link-local or unspecified address, checked on the addresses DNS answers, not the host name.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';

/** Bytes the requests of one hook call may still receive, all together (after decompression). */
export interface ByteBudget {
  remaining: number;
  readonly total: number;
}

export interface HttpGetRequest {
  url: string;
  headers: Record<string, string>;
  /** For the whole exchange: connection, headers, body and decompression. */
  timeoutMs: number;
  /** Largest body accepted, after decompression. */
  maxBytes: number;
  /** Shared with the other requests of the same hook call; a body past it is refused. */
  budget?: ByteBudget;
  /** Whether a redirect may be followed to this URL (default: the same origin only). */
  mayFollow?: (url: URL) => boolean;
  /** Refuse to connect to loopback, link-local or unspecified addresses (SSRF guard). */
  publicTargetsOnly?: boolean;
}

export interface HttpGetResponse {
  status: number;
  /** A response header (lower-case name), joined with ", " when repeated. */
  header(name: string): string | undefined;
  body: string;
}

export type HttpGet = (request: HttpGetRequest) => Promise<HttpGetResponse>;

export type HttpGetErrorKind =
  | 'timeout'
  | 'network'
  | 'too-large'
  | 'bad-encoding'
  | 'redirect'
  | 'refused-address';

export class HttpGetError extends Error {
  constructor(
    readonly kind: HttpGetErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const MAX_REDIRECTS = 3;

// Idle connections close after 4 s, as with undici's default; the EHR may close them sooner, which
// the one retry on a reused connection covers.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }),
};
// Guarded requests get their own pools: a kept-alive socket opened for an allowed loopback server
// must never carry a request that is not allowed there.
const guardedAgents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

/**
 * Addresses a CDS service must not be made to call: loopback (127.0.0.0/8, ::1), link-local
 * (169.254.0.0/16 with cloud metadata at 169.254.169.254, fe80::/10), unspecified (0.0.0.0, ::),
 * and IPv4-mapped forms of those. Private ranges stay allowed: EHRs live there.
 */
export function isRefusedAddress(ip: string): boolean {
  const v = ip.toLowerCase();
  // IPv4-mapped IPv6, dotted (::ffff:127.0.0.1) or as the URL parser writes it (::ffff:7f00:1).
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (dotted?.[1]) return isRefusedAddress(dotted[1]);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v);
  if (hex?.[1] && hex[2]) {
    const hi = Number.parseInt(hex[1], 16);
    const lo = Number.parseInt(hex[2], 16);
    return isRefusedAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (net.isIPv4(v)) {
    const [a = 0, b = 0] = v.split('.').map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  if (net.isIPv6(v)) return v === '::1' || v === '::' || /^fe[89ab][0-9a-f]:/.test(v);
  return true;
}

/** dns.lookup that fails when any answer is a refused address (so no socket is ever opened to it). */
const guardedLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    if (!list.length || list.some((a) => isRefusedAddress(a.address)))
      return callback(
        Object.assign(new Error(`${hostname} resolves to a refused address`), { code: 'EREFUSEDADDRESS' }),
        '',
        0,
      );
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0] as dns.LookupAddress;
    callback(null, first.address, first.family);
  });
};

/** The host names no DNS answer is needed to refuse: IP literals and `localhost`. */
function refusedByName(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return net.isIP(host) !== 0 && isRefusedAddress(host);
}

const DECOMPRESS: Record<string, (buf: Buffer, opts: zlib.ZlibOptions, cb: zlib.CompressCallback) => void> = {
  gzip: zlib.gunzip,
  'x-gzip': zlib.gunzip,
  deflate: zlib.inflate,
  br: zlib.brotliDecompress,
};

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** The request failed on a reused idle connection that the server had closed: GET is safe to repeat. */
class StaleConnection extends Error {}

/** One request on one connection. */
function exchange(url: URL, req: HttpGetRequest, signal: AbortSignal): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const protocol = url.protocol === 'https:' ? https : http;
    const pool = req.publicTargetsOnly ? guardedAgents : agents;
    const outgoing = protocol.get(
      url,
      {
        agent: pool[url.protocol as 'http:' | 'https:'],
        headers: { ...req.headers, 'accept-encoding': 'gzip, deflate, br' },
        signal,
        ...(req.publicTargetsOnly ? { lookup: guardedLookup } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let refused = false;
        res.on('data', (chunk: Buffer) => {
          if (refused) return;
          size += chunk.length;
          if (req.budget) req.budget.remaining -= chunk.length;
          const over =
            size > req.maxBytes
              ? `a body over ${req.maxBytes} bytes`
              : req.budget && req.budget.remaining < 0
                ? `the hook's FHIR byte budget (${req.budget.total} bytes) is used up`
                : undefined;
          if (over) {
            refused = true;
            // Settle first, then drop the connection without an error of its own to report.
            reject(new HttpGetError('too-large', over));
            outgoing.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }),
        );
        res.on('error', reject);
      },
    );
    outgoing.on('error', (e: Error & { code?: string }) =>
      reject(
        e.code === 'EREFUSEDADDRESS'
          ? new HttpGetError(
              'refused-address',
              'the FHIR server resolves to a loopback or link-local address',
            )
          : outgoing.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')
            ? new StaleConnection(e.message)
            : e,
      ),
    );
  });
}

/** Rejects with the signal's reason once it aborts: zlib's work cannot be cancelled, but waited for it need not be. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function decompress(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const coding = encoding?.trim().toLowerCase();
  if (!coding || coding === 'identity') return Promise.resolve(body);
  const inflate = DECOMPRESS[coding];
  if (!inflate) return Promise.reject(new HttpGetError('bad-encoding', `content-encoding ${coding}`));
  return new Promise((resolve, reject) =>
    inflate(body, { maxOutputLength: maxBytes }, (e, out) => {
      if (!e) resolve(out);
      else if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        reject(new HttpGetError('too-large', `a body over ${maxBytes} bytes`));
      else reject(new HttpGetError('bad-encoding', `the ${coding} body could not be decoded`));
    }),
  );
}

const headerOf =
  (headers: http.IncomingHttpHeaders) =>
  (name: string): string | undefined => {
    const v = headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };

export const httpGet: HttpGet = async (req) => {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new HttpGetError('timeout', `no answer within ${req.timeoutMs} ms`)),
    req.timeoutMs,
  );
  try {
    let url = new URL(req.url);
    const origin = url.origin;
    const mayFollow = req.mayFollow ?? ((target: URL) => target.origin === origin);
    for (let redirects = 0; ; redirects++) {
      if (req.publicTargetsOnly && refusedByName(url))
        throw new HttpGetError('refused-address', 'the FHIR server is a loopback or link-local address');
      let res: Exchange;
      try {
        res = await exchange(url, req, controller.signal).catch((e: unknown) => {
          if (e instanceof StaleConnection && !controller.signal.aborted)
            return exchange(url, req, controller.signal);
          throw e;
        });
      } catch (e) {
        if (controller.signal.aborted) throw controller.signal.reason;
        if (e instanceof HttpGetError) throw e;
        throw new HttpGetError('network', 'the server could not be reached');
      }
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        const target = new URL(location, url);
        if (!mayFollow(target))
          throw new HttpGetError('redirect', 'redirected outside the FHIR server (not followed)');
        if (redirects >= MAX_REDIRECTS) throw new HttpGetError('redirect', 'too many redirects');
        url = target;
        continue;
      }
      const header = headerOf(res.headers);
      // The decompressed size counts against the budget instead of the bytes on the wire.
      const room = req.budget ? Math.min(req.maxBytes, req.budget.remaining + res.body.length) : req.maxBytes;
      const body = await unlessAborted(
        decompress(res.body, header('content-encoding'), Math.max(room, 1)),
        controller.signal,
      );
      if (req.budget) req.budget.remaining -= body.length - res.body.length;
      return { status: res.status, header, body: body.toString('utf8') };
    }
  } finally {
    clearTimeout(timer);
  }
};
