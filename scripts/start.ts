/**
 * `npm start`: the whole product offline on one port (default 3000): the CDS Hooks service, the
 * built SMART app and the local sandbox EHR with sample patients. Builds the two front ends first
 * when their sources are newer than the build; sample data is reloaded (dates relative to today) at
 * every start, while CDS feedback persists in `.data/sandbox-feedback` and the patients a developer
 * imports (`POST /sandbox/api/patients`) in `.data/sandbox-patients`, one JSON file each.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { readStartConfig, type StartConfig } from '../cds-hooks/env.ts';
import { APP_DIST, EHR_DIST, ROOT, startSandbox } from '../sandbox/server.ts';

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Builds `outDir` with `configFile` unless its index.html is newer than every input. */
async function buildIfStale(label: string, configFile: string, outDir: string, inputs: string[]) {
  const built = existsSync(join(outDir, 'index.html')) ? statSync(join(outDir, 'index.html')).mtimeMs : 0;
  const newest = Math.max(...inputs.map((p) => newestMtime(join(ROOT, p))));
  if (built > newest) return;
  const started = performance.now();
  process.stdout.write(`Building the ${label}… `);
  await build({ configFile: join(ROOT, configFile), root: undefined, logLevel: 'error', mode: 'production' });
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

async function main() {
  let config: StartConfig;
  try {
    config = readStartConfig();
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const { port } = config;

  await buildIfStale('SMART app', 'vite.config.ts', APP_DIST, [
    'index.html',
    'public',
    'src',
    'vite.config.ts',
    'scripts/app-bundle.ts',
    'package-lock.json',
  ]);
  await buildIfStale('sandbox EHR page', 'vite.sandbox.config.ts', EHR_DIST, [
    'sandbox/ehr',
    'vite.sandbox.config.ts',
    'package-lock.json',
  ]);

  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({
      port,
      host: config.host,
      feedbackDataDir: config.feedbackDataDir ?? join(ROOT, '.data', 'sandbox-feedback'),
      patientsDataDir: join(ROOT, '.data', 'sandbox-patients'),
      extraTrustedIssuers: config.extraTrustedIssuers,
      formularyUnavailable: config.formularyUnavailable,
      corsOrigins: config.corsOrigins,
      allowedHosts: config.allowedHosts,
      ...(config.replayDay ? { replayDay: config.replayDay } : {}),
      maxBodyBytes: config.maxBodyBytes,
      prefetchIncludeMedications: config.prefetchIncludeMedications,
      discoveryRequiresJwt: config.discoveryRequiresJwt,
      ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
      ...(config.adminToken ? { adminToken: config.adminToken } : {}),
      appIssuers: config.appIssuers,
      ...(config.cdsHooksSandboxUrl ? { cdsHooksSandboxUrl: config.cdsHooksSandboxUrl } : {}),
      logLevel: config.logLevel,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE')
      fail(`port ${port} is in use. Stop the other program or set PORT, e.g. PORT=3100 npm start`);
    if (code === 'EADDRNOTAVAIL') fail(`HOST ${config.host} is not an address of this machine.`);
    throw e;
  }
  const { base } = sandbox;
  const hooksSandbox = config.cdsHooksSandboxUrl?.replace(/\/+$/, '') ?? 'http://localhost:8080';
  const tryIt = new URL(hooksSandbox);
  tryIt.searchParams.set('fhirServiceUrl', `${base}/open/fhir`);
  tryIt.searchParams.set('serviceDiscoveryURL', `${base}/cds-services`);
  tryIt.searchParams.set('patientId', 'ros1-brain-mets');
  console.log(`
ALK / ROS1 NSCLC decision support: running offline with a local sandbox EHR (synthetic patients).

  Sandbox EHR:            ${base}/
  SMART app launch URL:   ${base}/app/launch.html   (the sandbox EHR makes the launch: Chart → SMART app)
  FHIR R4, SMART:         ${base}/fhir   (${base}/fhir/.well-known/smart-configuration)
  FHIR R4, open:          ${base}/open/fhir   (no token: for the CDS Hooks sandbox and a SMART launcher's proxy)
  CDS Hooks discovery:    ${base}/cds-services

  CDS Hooks sandbox (cds-hooks/sandbox, built locally):${
    config.cdsHooksSandboxUrl
      ? ` trusted at ${hooksSandbox}. Open:
    ${tryIt.href}`
      : ` start with CDS_HOOKS_SANDBOX_URL=<its URL> npm start,
    then give it FHIR server ${base}/open/fhir and discovery ${base}/cds-services`
  }
  SMART launcher (smart-on-fhir/smart-launcher-v2, built locally): FHIR_SERVER_R4=${base}/open/fhir for it,
    SMART_LAUNCHER_URL=<its URL> for npm start, app launch URL ${base}/app/launch.html

Press Ctrl+C to stop.`);

  const stop = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error('npm start failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
