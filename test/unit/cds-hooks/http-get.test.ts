/**
 * The fallback FHIR client's transport, against real servers on loopback: connections reused,
 * compressed bodies decoded (and capped after decoding), timeouts that cover a stalled body, redirects
 * followed only within the origin (the bearer token never reaches another server), and one retry
 * when a reused idle connection turns out to be closed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchRequirements } from '../../../cds-hooks/fhir-fetch.ts';
import { type HttpGetError, type HttpGetRequest, httpGet } from '../../../cds-hooks/http-get.ts';
import { type DataRequirement, dataRequirements } from '../../../src/fhir/queries.ts';
import { getKnowledge } from '../../../src/knowledge/index.ts';

interface TestServer {
  base: string;
  /** Requests seen: path and authorization header. */
  requests: { path: string; authorization: string | undefined }[];
  /** TCP connections accepted. */
  connections: number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, requestOnSocket: number) => void,
): Promise<TestServer> {
  const seen: TestServer = { base: '', requests: [], connections: 0 };
  const perSocket = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    seen.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    handler(req, res, n);
  });
  server.on('connection', () => seen.connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  seen.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return seen;
}

const get = (url: string, over: Partial<HttpGetRequest> = {}) =>
  httpGet({
    url,
    headers: { authorization: 'Bearer tok-123' },
    timeoutMs: 1_000,
    maxBytes: 1 << 20,
    ...over,
  });

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as HttpGetError,
  );

const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 0 });

describe('httpGet', () => {
  it('reuses one keep-alive connection for requests in sequence', async () => {
    const s = await serve((_req, res) => res.end(bundle));
    for (let i = 0; i < 3; i++) expect((await get(`${s.base}/Observation?i=${i}`)).body).toBe(bundle);
    expect(s.requests).toHaveLength(3);
    expect(s.connections).toBe(1);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decodes a %s body and offers the encodings fetch offered', async (encoding, compress) => {
    let offered: string | undefined;
    const s = await serve((req, res) => {
      offered = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-encoding': encoding }).end(compress(Buffer.from(bundle)));
    });
    expect((await get(`${s.base}/Patient/p1`)).body).toBe(bundle);
    expect(offered).toBe('gzip, deflate, br');
  });

  it('an unknown content-encoding, or a body that does not decode → bad-encoding', async () => {
    const s = await serve((req, res) =>
      req.url === '/zstd'
        ? res.writeHead(200, { 'content-encoding': 'zstd' }).end('xx')
        : res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all'),
    );
    expect((await failure(get(`${s.base}/zstd`))).kind).toBe('bad-encoding');
    expect((await failure(get(`${s.base}/broken`))).kind).toBe('bad-encoding');
  });

  it('caps the body before and after decompression (a small gzip of 4 MB of zeros is refused)', async () => {
    const bomb = gzipSync(Buffer.alloc(4 << 20));
    expect(bomb.length).toBeLessThan(10_000);
    const s = await serve((req, res) =>
      req.url === '/bomb'
        ? res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb)
        : res.end(Buffer.alloc(200_000, 32)),
    );
    expect((await failure(get(`${s.base}/bomb`, { maxBytes: 100_000 }))).kind).toBe('too-large');
    expect((await failure(get(`${s.base}/plain`, { maxBytes: 100_000 }))).kind).toBe('too-large');
    expect((await get(`${s.base}/plain`, { maxBytes: 200_000 })).body).toHaveLength(200_000);
  });

  it('times out on a server that never answers, and on one that stalls in the middle of the body', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('{"resourceType":');
      }
    });
    for (const path of ['/silent', '/stall']) {
      const started = Date.now();
      const e = await failure(get(`${s.base}${path}`, { timeoutMs: 150 }));
      expect(e.kind).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  it('follows a redirect within the origin with the token, and refuses one to another server', async () => {
    const other = await serve((_req, res) => res.end(bundle));
    const s = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: '/Observation?page=1' }).end();
      else if (req.url === '/away') res.writeHead(307, { location: `${other.base}/Observation` }).end();
      else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
      else res.end(bundle);
    });
    expect((await get(`${s.base}/moved`)).body).toBe(bundle);
    expect(s.requests.at(-1)).toEqual({ path: '/Observation?page=1', authorization: 'Bearer tok-123' });

    expect((await failure(get(`${s.base}/away`))).kind).toBe('redirect');
    expect(other.requests).toEqual([]);

    expect((await failure(get(`${s.base}/loop`))).kind).toBe('redirect');
    expect(s.requests.filter((r) => r.path === '/loop')).toHaveLength(4);
  });

  it('retries once on a new connection when a reused idle connection was closed, and only then', async () => {
    // The server drops the second request on any connection, as a server does that closed an idle
    // connection the client had just picked up again.
    const s = await serve((_req, res, requestOnSocket) =>
      requestOnSocket === 2 ? res.socket?.destroy() : res.end(bundle),
    );
    expect((await get(`${s.base}/a`)).body).toBe(bundle);
    expect((await get(`${s.base}/b`)).body).toBe(bundle);
    expect(s.requests.map((r) => r.path)).toEqual(['/a', '/b', '/b']);
    expect(s.connections).toBe(2);

    // On a fresh connection the same failure is not retried.
    const fresh = await serve((_req, res) => res.socket?.destroy());
    expect((await failure(get(`${fresh.base}/c`))).kind).toBe('network');
    expect(fresh.requests).toHaveLength(1);
  });

  it('a server that is not there → network', async () => {
    const s = await serve(() => {});
    const url = `${s.base}/Patient/p1`;
    await new Promise((r) => servers.pop()?.close(r));
    expect((await failure(get(url))).kind).toBe('network');
  });
});

describe('fetchRequirements over httpGet', () => {
  // The service's own laboratory search, as the fallback wave makes it.
  const labs = dataRequirements(getKnowledge()).find((r) => r.id === 'labs') as DataRequirement;
  const fetchLabs = (fhirServer: string, maxPageBytes?: number) =>
    fetchRequirements([labs], {
      fhirServer,
      accessToken: 'tok-123',
      patientId: 'p1',
      timeoutMs: 500,
      deadline: Date.now() + 1_000,
      maxPages: 3,
      ...(maxPageBytes ? { maxPageBytes } : {}),
    });

  it('a page over the size cap → the query is truncated; a redirect elsewhere → an error gap', async () => {
    const other = await serve((_req, res) => res.end(bundle));
    const s = await serve((req, res) =>
      req.url?.startsWith('/big/')
        ? res.end(JSON.stringify({ resourceType: 'Bundle', entry: [], pad: 'x'.repeat(50_000) }))
        : res.writeHead(302, { location: `${other.base}/fhir/Observation` }).end(),
    );
    const big = await fetchLabs(`${s.base}/big`, 10_000);
    expect(big.gaps).toEqual([
      { domains: labs.domains, query: 'labs', reason: 'truncated', detail: 'a body over 10000 bytes' },
    ]);
    const away = await fetchLabs(`${s.base}/away`);
    expect(away.gaps).toEqual([expect.objectContaining({ reason: 'error' })]);
    expect(away.gaps[0]?.detail).toContain('outside the FHIR server');
    expect(other.requests).toEqual([]);
  });

  it('a redirect on the same host but outside the FHIR base path is not followed either', async () => {
    const seen: string[] = [];
    const s = await serve((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/fhir/')) res.writeHead(302, { location: '/admin/export' }).end();
      else res.end(bundle);
    });
    const away = await fetchLabs(`${s.base}/fhir`);
    expect(away.gaps[0]?.detail).toContain('outside the FHIR server');
    expect(seen.filter((u) => u.startsWith('/admin'))).toEqual([]);
  });
});
