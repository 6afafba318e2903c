/**
 * `npm run serve`: production mode. The CDS Hooks service and the built SMART app (`/app/`, after
 * `npm run build`) only, no sandbox; JWT authentication required; configuration from the
 * environment (see env.ts).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { getKnowledge } from '../src/knowledge/index.ts';
import { createApp } from './app.ts';
import { createJwtVerifier } from './auth/index.ts';
import { readServeConfig } from './env.ts';
import { openFeedbackStore } from './feedback/index.ts';
import { issuersWithoutAllowlist } from './fhir-server-policy.ts';
import { createLogger } from './log.ts';
import { openSharedState } from './shared-state/index.ts';
import { APP_DIST, staticFiles } from './static-files.ts';

async function main() {
  let config: ReturnType<typeof readServeConfig>;
  try {
    config = readServeConfig();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const kb = getKnowledge();
  const feedback = await openFeedbackStore({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.feedbackDataDir,
  });
  // With DATABASE_URL the replay set and the shown-cards memory are shared by every replica.
  const state = await openSharedState(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {});
  const open = issuersWithoutAllowlist(config.trustedIssuers);
  if (open.length)
    logger.warn(
      { issuers: open },
      'no fhir_servers allowlist for these CDS clients: any fhirServer they name is called, except loopback and link-local addresses',
    );
  const cds = createApp({
    kb,
    config,
    verifier: createJwtVerifier({ trustedIssuers: config.trustedIssuers, replayStore: state.replay }),
    feedback,
    sharedState: state,
    logger,
  });
  // The SMART app's static files under /app/; everything else is the CDS service.
  const app = new Hono();
  app.get('/app', (c) => c.redirect('/app/'));
  app.use(
    '/app/*',
    staticFiles(APP_DIST, '/app', (c) =>
      c.text('The SMART app is not built: run `npm run build` before `npm run serve`.', 503),
    ),
  );
  app.all('*', (c) => cds.fetch(c.req.raw, c.env));
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => {
    logger.info(
      {
        host: config.host,
        port: config.port,
        base: config.publicBaseUrl,
        knowledgeBase: kb.version,
        feedbackStore: feedback.kind,
        sharedState: state.kind,
      },
      'listening',
    );
    console.log(
      state.kind === 'postgres'
        ? 'Shared state (JWT replay set, cards shown at order-select): PostgreSQL; replicas may run behind a load balancer.'
        : 'Shared state (JWT replay set, cards shown at order-select): in this process; run one instance, or set DATABASE_URL to run several.',
    );
    console.log(`CDS Hooks discovery: ${config.publicBaseUrl}/cds-services`);
  });
  server.on('error', (e: Error & { code?: string }) => {
    console.error(
      e.code === 'EADDRINUSE'
        ? `npm run serve: port ${config.port} on ${config.host} is in use. Stop the other program or set PORT.`
        : e.code === 'EADDRNOTAVAIL'
          ? `npm run serve: HOST ${config.host} is not an address of this machine.`
          : `npm run serve: cannot listen on ${config.host}:${config.port} (${e.code ?? e.message}).`,
    );
    process.exit(1);
  });
  const stop = async () => {
    server.close();
    await Promise.all([feedback.close(), state.close()]);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  // A database that cannot be reached at start: say so in one line, no stack trace.
  console.error(`npm run serve: cannot start (${e instanceof Error ? e.message : String(e)}).`);
  process.exit(1);
});
