/**
 * Everything `npm start` runs, on one port: the CDS Hooks service (`/cds-services`, `/health`), the
 * built SMART app (`/app/`), and the local sandbox EHR: a FHIR R4 server with the sample patients
 * (`/fhir`), SMART authorization (`/auth`), the EHR page (`/`) and its back end (`/sandbox/api`).
 * The CDS service here is the production one: it verifies the sandbox's JWTs against the sandbox's
 * JWKS over HTTP, exactly as it would an EHR's.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { createApp } from '../cds-hooks/app.ts';
import { createJwtVerifier, type TrustedIssuer } from '../cds-hooks/auth/index.ts';
import { openFeedbackStore } from '../cds-hooks/feedback/index.ts';
import { createLogger } from '../cds-hooks/log.ts';
import { APP_DIST, PROJECT_ROOT, staticFiles } from '../cds-hooks/static-files.ts';
import { escapeRegExp } from '../src/escape-regexp.ts';
import { getKnowledge } from '../src/knowledge/index.ts';
import { createAuthorizationServer } from './auth/authorization-server.ts';
import { createEhrApi } from './ehr-api.ts';
import { createFhirRoutes } from './fhir/fhir-routes.ts';
import { createSandboxStore } from './fhir/repository.ts';
import { openPatientImports } from './import-patient.ts';
import { createSandboxKeys } from './keys.ts';
import { escapeHtml, renderPage } from './page.ts';
import { loadSamplePatients } from './patients/load.ts';
import { ReplayClock } from './replay.ts';

export const ROOT = PROJECT_ROOT;
export { APP_DIST };
export const EHR_DIST = join(ROOT, 'dist', 'sandbox');

const notBuilt = (dir: string) => (c: Context) =>
  c.html(
    renderPage(
      'Not built yet',
      `<p>The front end in ${escapeHtml(relative(ROOT, dir))} has not been built. Run <code>npm start</code> (it builds what is missing) or <code>npm run build</code>.</p>`,
    ),
    503,
  );

/** The SMART app's registration in the sandbox (public client, exact redirect URIs). */
export const APP_CLIENT_ID = 'alk-ros1-cds-app';
export const SANDBOX_USER = 'Practitioner/sandbox-oncologist';

export interface SandboxOptions {
  port: number;
  /** "Today is": replay every chart as it stood at this past day (YYYY-MM-DD); settable at run time. */
  replayDay?: string;
  /** Interface to listen on (default 127.0.0.1: the sandbox has no real sign-in). */
  host?: string;
  /** PGlite directory for CDS feedback (`memory://` in tests). */
  feedbackDataDir: string;
  /**
   * Where patients a developer imports (`POST /sandbox/api/patients`) are kept, one JSON file each,
   * loaded at start; undefined or `memory://` keeps them in memory (tests).
   */
  patientsDataDir?: string;
  appDist?: string;
  ehrDist?: string;
  /** More CDS clients to trust besides the sandbox itself (e.g. the public CDS Hooks sandbox). */
  extraTrustedIssuers?: TrustedIssuer[];
  formularyUnavailable?: string[];
  /** Browser origins allowed to call the CDS service besides the sandbox's own (`CORS_ALLOWED_ORIGINS`). */
  corsOrigins?: string[];
  /** Largest hook or feedback body (`MAX_BODY_BYTES`). */
  maxBodyBytes?: number;
  logLevel?: string;
  /** "Today" for the sample patients' dates. */
  today?: Date;
  /**
   * More FHIR servers the built app may be launched from (regular expressions, added to its
   * launch-config.json `issMatch`): e.g. a local SMART launcher whose proxy fronts `/open/fhir`.
   */
  appIssuers?: string[];
  /**
   * FHIR servers besides its own that the sandbox's CDS client may name in `fhirServer` (its
   * `fhir_servers`): tests put an EHR with failing searches in front of the sandbox FHIR server.
   */
  extraFhirServers?: string[];
  /**
   * Host names besides localhost, 127.0.0.1 and [::1] the sandbox answers to (`SANDBOX_HOSTS`).
   * Any other Host header gets 403: a page on another site whose name resolves to this machine
   * (DNS rebinding) cannot read `/sandbox/api/*`, which hands out tokens.
   */
  allowedHosts?: string[];
  /** Discovery's medication prefetch templates ask for `_include=…:medication` (the sandbox honours it). */
  prefetchIncludeMedications?: boolean;
  /** Discovery needs a JWT too (`CDS_DISCOVERY_REQUIRES_JWT`). */
  discoveryRequiresJwt?: boolean;
  /** Turns on `/metrics` for this bearer token (`METRICS_TOKEN`), as `npm run serve` does. */
  metricsToken?: string;
  /** Turns on `/admin/feedback-report` for this bearer token (`ADMIN_TOKEN`), as `npm run serve` does. */
  adminToken?: string;
  /**
   * Where a local build of the CDS Hooks sandbox (cds-hooks/sandbox) runs, e.g.
   * `http://localhost:8080` (`CDS_HOOKS_SANDBOX_URL`): its issuer is trusted with the keys it
   * serves there, its origin may call the service, and it may name the open FHIR endpoint.
   */
  cdsHooksSandboxUrl?: string;
}

/** The CDS Hooks sandbox signs as this issuer and names this JWKS URL in `jku`, wherever it runs. */
const CDS_HOOKS_SANDBOX_ISS = 'https://sandbox.cds-hooks.org';
const CDS_HOOKS_SANDBOX_JKU = 'https://sandbox.cds-hooks.org/.well-known/jwks.json';

export interface Sandbox {
  base: string;
  server: Server;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const today = options.today ?? new Date();
  const samples = loadSamplePatients(today);
  const [store, keys, feedback] = await Promise.all([
    createSandboxStore(samples.resources),
    createSandboxKeys(),
    openFeedbackStore({ dataDir: options.feedbackDataDir }),
  ]);
  const imports = await openPatientImports({ store, dataDir: options.patientsDataDir });

  // Listen first: the URLs every part hands out depend on the port actually bound (PORT=0 in tests).
  let handler: Hono | undefined;
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: (req, env) =>
          handler
            ? handler.fetch(req, env)
            : new Response('starting', { status: 503, headers: { 'retry-after': '1' } }),
        port: options.port,
        hostname: options.host ?? '127.0.0.1',
      },
      () => resolve(s as Server),
    ) as Server;
    s.once('error', (e) => {
      void feedback.close();
      reject(e);
    });
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://localhost:${port}`;
  const fhirBase = `${base}/fhir`;
  const openFhirBase = `${base}/open/fhir`;
  // The same sandbox by its other loopback name: a browser tool may be pointed at either.
  const otherBase = `http://127.0.0.1:${port}`;
  const appLaunchUrl = `${base}/app/launch.html`;
  const cdsIssuer = `${base}/sandbox`;
  const kb = getKnowledge();
  const logger = createLogger(options.logLevel ?? 'info');
  for (const { file, problems } of imports.skipped)
    logger.warn({ file, problems }, 'an imported patient could not be loaded; its file is kept');
  const practitioner = samples.resources.find(
    (r) => r.resourceType === 'Practitioner' && `Practitioner/${r.id}` === SANDBOX_USER,
  ) as { name?: { text?: string; given?: string[]; family?: string }[] } | undefined;
  const nameParts = practitioner?.name?.[0];
  const userName =
    nameParts?.text ??
    ([nameParts?.given?.join(' '), nameParts?.family].filter(Boolean).join(' ') || 'Sandbox oncologist');

  const auth = createAuthorizationServer({
    base,
    fhirBase,
    clients: [
      {
        clientId: APP_CLIENT_ID,
        name: 'ALK / ROS1 NSCLC decision support',
        redirectUris: [
          `${base}/app/index.html`,
          // The app on the Vite dev server (`npm run dev`), launched against this sandbox.
          'http://localhost:5173/index.html',
        ],
      },
    ],
    patients: () => [...samples.patients, ...imports.list()],
    defaultUser: SANDBOX_USER,
    keys,
    smartStyleUrl: `${base}/sandbox/smart-style.json`,
  });
  const replay = new ReplayClock(options.replayDay);
  const fhir = createFhirRoutes({
    store,
    fhirBase,
    replayDay: () => replay.get(),
    access: { kind: 'smart', introspect: auth.introspect, smartConfiguration: auth.smartConfiguration },
  });
  const openFhir = createFhirRoutes({
    store,
    fhirBase: openFhirBase,
    access: { kind: 'open' },
    replayDay: () => replay.get(),
  });
  // The sandbox EHR names its own FHIR server, on loopback: allowed by name, and nothing else.
  const trustedIssuers: TrustedIssuer[] = [
    {
      iss: cdsIssuer,
      jwks_url: `${cdsIssuer}/jwks.json`,
      fhir_servers: [fhirBase, ...(options.extraFhirServers ?? [])],
    },
    ...(options.cdsHooksSandboxUrl
      ? [
          {
            iss: CDS_HOOKS_SANDBOX_ISS,
            jwks_url: `${options.cdsHooksSandboxUrl.replace(/\/+$/, '')}/.well-known/jwks.json`,
            jku: [CDS_HOOKS_SANDBOX_JKU],
            fhir_servers: [openFhirBase, `${otherBase}/open/fhir`],
          },
        ]
      : []),
    ...(options.extraTrustedIssuers ?? []),
  ];
  const cds = createApp({
    kb,
    // The service evaluates at the replay day when one is set.
    now: () => replay.now(),
    config: {
      publicBaseUrl: base,
      corsOrigins: [
        base,
        otherBase,
        ...(options.cdsHooksSandboxUrl ? [new URL(options.cdsHooksSandboxUrl).origin] : []),
        ...(options.corsOrigins ?? []),
      ],
      otherBaseUrls: [otherBase],
      ...(options.discoveryRequiresJwt ? { discoveryRequiresJwt: true } : {}),
      ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
      appLaunchUrl,
      formularyUnavailable: options.formularyUnavailable ?? [],
      fhirTimeoutMs: 2000,
      fhirDeadlineMs: 3000,
      fhirMaxPages: 20,
      prefetchIncludeMedications: options.prefetchIncludeMedications === true,
    },
    verifier: createJwtVerifier({ trustedIssuers }),
    feedback,
    logger,
  });
  const ehrApi = createEhrApi({
    base,
    otherBases: [otherBase],
    fhirBase,
    appLaunchUrl,
    cdsIssuer,
    user: { reference: SANDBOX_USER, name: userName },
    patients: samples.patients,
    imports,
    auth,
    keys,
    kb,
    feedback,
    // Next to the feedback data: `.data/sandbox-feedback` → `.data/sandbox-feedback-notes.jsonl`.
    ...(options.feedbackDataDir.includes('://')
      ? {}
      : { feedbackNotesFile: `${options.feedbackDataDir.replace(/[\\/]+$/, '')}-notes.jsonl` }),
    fhirRequest: async (url, token) => fhir.request(url, { headers: { authorization: `Bearer ${token}` } }),
    replay,
  });

  const root = new Hono();
  const hosts = new Set(
    ['localhost', '127.0.0.1', '[::1]', ...(options.allowedHosts ?? [])].map((h) => h.toLowerCase()),
  );
  root.use('*', async (c, next) => {
    const host = (c.req.header('host') ?? '').toLowerCase().replace(/:\d+$/, '');
    if (!hosts.has(host))
      return c.html(
        renderPage(
          'Unknown host name',
          `<p>This sandbox answers only to ${escapeHtml([...hosts].join(', '))}. Set SANDBOX_HOSTS to add a name.</p>`,
        ),
        403,
      );
    await next();
  });
  const cdsHandler = (c: { req: { raw: Request }; env: unknown }) => cds.fetch(c.req.raw, c.env);
  root.all('/cds-services', cdsHandler);
  root.all('/cds-services/*', cdsHandler);
  root.get('/health', cdsHandler);
  root.get('/health/live', cdsHandler);
  // Both answer 404 unless their token is set (METRICS_TOKEN, ADMIN_TOKEN).
  root.get('/metrics', cdsHandler);
  root.get('/admin/feedback-report', cdsHandler);
  root.all('/fhir', (c) => c.redirect('/fhir/metadata'));
  root.all('/fhir/*', (c) => fhir.fetch(c.req.raw, c.env));
  root.all('/open/fhir', (c) => c.redirect('/open/fhir/metadata'));
  root.all('/open/fhir/*', (c) => openFhir.fetch(c.req.raw, c.env));
  root.get('/auth/jwks.json', (c) => c.json(keys.jwks()));
  root.route('/auth', auth.routes);
  root.get('/sandbox/jwks.json', (c) => c.json(keys.jwks()));
  root.get('/sandbox/smart-style.json', (c) =>
    c.json({ color_background: '#ffffff', color_highlight: '#0b5cad', dim_border_radius: '6px' }),
  );
  root.all('/sandbox/api/*', (c) => ehrApi.fetch(c.req.raw, c.env));

  // The SMART app's launch configuration for this sandbox: its own FHIR server is an allowed issuer.
  root.get('/app/launch-config.json', async (c) => {
    const file = join(options.appDist ?? APP_DIST, 'launch-config.json');
    const shipped = existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : {};
    return c.json(
      {
        ...shipped,
        clientId: APP_CLIENT_ID,
        issMatch: [escapeRegExp(fhirBase), ...(options.appIssuers ?? []), ...(shipped.issMatch ?? [])],
        // The app evaluates at the replay day too, so it shows what the cards show.
        ...(replay.get() ? { evaluateAt: replay.get() } : {}),
      },
      200,
      { 'cache-control': 'no-cache' },
    );
  });
  root.get('/app', (c) => c.redirect('/app/'));
  root.use('/app/*', staticFiles(options.appDist ?? APP_DIST, '/app', notBuilt(options.appDist ?? APP_DIST)));
  root.use('/*', staticFiles(options.ehrDist ?? EHR_DIST, '', notBuilt(options.ehrDist ?? EHR_DIST)));
  root.notFound((c) =>
    c.html(
      renderPage(
        'Not found',
        `<p>Nothing at ${escapeHtml(new URL(c.req.url).pathname)}. <a href="/">Open the sandbox EHR</a>.</p>`,
      ),
      404,
    ),
  );
  handler = root;

  return {
    base,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections?.();
        server.close(() => {
          void feedback.close().then(() => done());
        });
      }),
  };
}
