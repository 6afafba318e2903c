/**
 * Child-process servers for the CDS benchmark, so the load generator never shares their event loop:
 *   tsx bench/cds-servers.ts service      the CDS Hooks service (JWT off: the figure is the clinical path)
 *   tsx bench/cds-servers.ts bare         node:http reading and JSON.parse-ing the body, answering a fixed card
 *   tsx bench/cds-servers.ts bare-fallback   the same, then the service's 12 FHIR searches in one wave on
 *                                         node:http keep-alive, each answer JSON.parse-d: the floor of the
 *                                         no-prefetch path on this machine, with no clinical work
 *   tsx bench/cds-servers.ts fhir <ms>    a FHIR server holding the benchmark record, answering after <ms>
 * Each prints `READY <port>` once listening on 127.0.0.1.
 *
 * For the soak run (bench/soak.ts), `service` also reads two optional environment variables:
 *   CDS_SERVER_REPORT_RSS=1   print `RSS <rss> <heapUsed>` (bytes) every second and on SIGUSR2
 *   CDS_FEEDBACK_DIR=<dir>    store feedback durably in a file-backed PGlite there (default: a no-op store)
 * For bench/cds.bench.ts, `service`, `bare` and `bare-fallback` read:
 *   CDS_SERVER_REPORT_CPU=1   print `CPU <microseconds>` (the process's user + system CPU time, all
 *                             threads) on SIGUSR2: CPU per request is steadier than wall-clock
 *                             throughput on a machine shared with other work
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FeedbackStore } from '../cds-hooks/feedback/index.ts';

// Each mode loads only what it runs (imports below are per mode): the test helpers behind the
// benchmark record (msw, graphql, fixtures: ~10 MB of heap) would otherwise sit in the service's
// and the bare server's old generation, making every major GC of theirs longer than in production.

const ready = (port: number) => console.log(`READY ${port}`);

/** Feedback is not exercised by the benchmark; a store that holds nothing keeps start-up fast. */
const noFeedback: FeedbackStore = {
  kind: 'pglite',
  save: async (records) => ({ inserted: records.length, duplicates: 0 }),
  list: async () => [],
  scan: async function* () {},
  count: async () => 0,
  health: async () => true,
  close: async () => {},
};

const FIXED_CARD = JSON.stringify({
  cards: [
    {
      uuid: '00000000-0000-4000-8000-000000000000',
      summary: 'Fixed card',
      indicator: 'info',
      source: { label: 'bench', topic: { system: 'urn:alk-ros1-cds:topic', code: 'therapy-selection' } },
    },
  ],
});

/** One memory sample on stdout, for the parent to parse. */
const reportRss = () => {
  const m = process.memoryUsage();
  console.log(`RSS ${m.rss} ${m.heapUsed}`);
};

const mode = process.argv[2];
if (process.env.CDS_SERVER_REPORT_CPU === '1' && mode !== 'fhir') {
  process.on('SIGUSR2', () => {
    const c = process.cpuUsage();
    console.log(`CPU ${c.user + c.system}`);
  });
}
if (mode === 'service') {
  if (process.env.CDS_SERVER_REPORT_RSS === '1') {
    setInterval(reportRss, 1000).unref();
    process.on('SIGUSR2', reportRss);
  }
  const { serve } = await import('@hono/node-server');
  const { createApp } = await import('../cds-hooks/app.ts');
  const { openFeedbackStore } = await import('../cds-hooks/feedback/index.ts');
  const { createLogger } = await import('../cds-hooks/log.ts');
  const { getKnowledge } = await import('../src/knowledge/index.ts');
  const feedbackDir = process.env.CDS_FEEDBACK_DIR;
  const feedback = feedbackDir ? await openFeedbackStore({ dataDir: feedbackDir }) : noFeedback;
  const app = createApp({
    kb: getKnowledge(),
    config: {
      publicBaseUrl: 'http://127.0.0.1',
      corsOrigins: [],
      appLaunchUrl: 'http://127.0.0.1/launch.html',
      formularyUnavailable: [],
      fhirTimeoutMs: 2000,
      fhirDeadlineMs: 3000,
      fhirMaxPages: 20,
    },
    verifier: null,
    feedback,
    logger: createLogger('silent'),
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  server.once('listening', () => ready((server.address() as AddressInfo).port));
} else if (mode === 'bare') {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(FIXED_CARD);
    });
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else if (mode === 'bare-fallback') {
  const { Agent, get } = await import('node:http');
  const { dataRequirements, toSearchUrl } = await import('../src/fhir/queries.ts');
  const { getKnowledge } = await import('../src/knowledge/index.ts');
  const requirements = dataRequirements(getKnowledge());
  const agent = new Agent({ keepAlive: true });
  // The hook request and each search answer are read the same way: bytes, then JSON.parse.
  const readJson = (stream: NodeJS.ReadableStream) =>
    new Promise<unknown>((resolve, reject) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      stream.on('error', reject);
    });
  const getJson = (url: string) =>
    new Promise<unknown>((resolve, reject) => {
      get(url, { agent, headers: { accept: 'application/fhir+json' } }, (res) =>
        readJson(res).then(resolve, reject),
      ).on('error', reject);
    });
  const server = createServer(async (req, res) => {
    const hook = (await readJson(req)) as { fhirServer: string; context: { patientId: string } };
    const patientId = hook.context.patientId;
    await Promise.all(requirements.map((r) => getJson(`${hook.fhirServer}/${toSearchUrl(r, patientId)}`)));
    res.writeHead(200, { 'content-type': 'application/json' }).end(FIXED_CARD);
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else if (mode === 'fhir') {
  const { search, searchset } = await import('../test/integration/cds-hooks/fhir-search.ts');
  const { benchRecord } = await import('./cds-record.ts');
  const delay = Number(process.argv[3] ?? '50');
  const { resources } = benchRecord();
  // Each distinct URL is answered from a body computed once: the in-memory search and the stringify
  // of the 286 KB Observation bundle cost this server ~50 ms of CPU per wave of 12, which on a 2-core
  // machine competed with the service and was counted as if it were the service's own time. A real
  // FHIR server's work is what the added latency stands for.
  const bodies = new Map<string, { status: number; body: string }>();
  const answer = (path: string) => {
    const url = new URL(path, 'http://x');
    const [type, id] = url.pathname.replace(/^\/fhir\//, '').split('/');
    const found = id
      ? resources.find((r) => r.resourceType === type && r.id === id)
      : searchset(search(resources, String(type), url.searchParams));
    return { status: found ? 200 : 404, body: JSON.stringify(found ?? {}) };
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    let reply = bodies.get(path);
    if (!reply) {
      reply = answer(path);
      bodies.set(path, reply);
    }
    const { status, body } = reply;
    setTimeout(() => res.writeHead(status, { 'content-type': 'application/fhir+json' }).end(body), delay);
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as AddressInfo).port));
} else {
  console.error('usage: cds-servers.ts service|bare|bare-fallback|fhir <delay-ms>');
  process.exit(2);
}
