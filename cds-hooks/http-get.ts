/**
 * HTTP GET for the fallback FHIR client, on node:http/https with pooled keep-alive connections.
 *
 * Why not the global fetch: a hook without prefetch makes a wave of 12 searches, and undici's fetch
 * (Request/Response objects, web streams, an HTTP parser in WebAssembly) took 21–25 ms of CPU for the
 * benchmark record's wave where node:http took 13–15 ms, on this project's 2-core machine.
 *
 * What fetch gave is kept: bodies decompressed (gzip, deflate and br offered, as fetch does),
 * redirects followed, connections reused. Added: a size cap on bodies, and redirects followed only
 * within the same origin, so the bearer token never goes to another server.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

export interface HttpGetRequest {
  url: string;
  headers: Record<string, string>;
  /** For the whole exchange: connection, headers, body and decompression. */
  timeoutMs: number;
  /** Largest body accepted, after decompression. */
  maxBytes: number;
}

export interface HttpGetResponse {
  status: number;
  /** A response header (lower-case name), joined with ", " when repeated. */
  header(name: string): string | undefined;
  body: string;
}

export type HttpGet = (request: HttpGetRequest) => Promise<HttpGetResponse>;

export type HttpGetErrorKind = 'timeout' | 'network' | 'too-large' | 'bad-encoding' | 'redirect';

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
    const outgoing = protocol.get(
      url,
      {
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { ...req.headers, 'accept-encoding': 'gzip, deflate, br' },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size > req.maxBytes) return;
          size += chunk.length;
          if (size > req.maxBytes) {
            // Settle first, then drop the connection without an error of its own to report.
            reject(new HttpGetError('too-large', `a body over ${req.maxBytes} bytes`));
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
        outgoing.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')
          ? new StaleConnection(e.message)
          : e,
      ),
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
    for (let redirects = 0; ; redirects++) {
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
        if (target.origin !== origin)
          throw new HttpGetError('redirect', 'redirected to another server (not followed)');
        if (redirects >= MAX_REDIRECTS) throw new HttpGetError('redirect', 'too many redirects');
        url = target;
        continue;
      }
      const header = headerOf(res.headers);
      const body = await decompress(res.body, header('content-encoding'), req.maxBytes);
      if (controller.signal.aborted) throw controller.signal.reason;
      return { status: res.status, header, body: body.toString('utf8') };
    }
  } finally {
    clearTimeout(timer);
  }
};
