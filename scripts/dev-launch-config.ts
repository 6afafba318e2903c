/**
 * `npm run dev` only: the app's launch-config.json with the local sandbox's FHIR servers added to
 * `issMatch`, so the app on the Vite dev server can be launched by the sandbox EHR (`npm start`,
 * whose authorization server registers http://localhost:5173/index.html). Production builds ship
 * `public/launch-config.json` unchanged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/** The sandbox's own FHIR server, on either loopback name and any port. */
export const LOCAL_SANDBOX_ISS = 'http://(localhost|127\\.0\\.0\\.1):\\d+/fhir';

export function devLaunchConfig(): Plugin {
  return {
    name: 'alk-ros1-dev-launch-config',
    apply: 'serve',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!req.url?.split('?')[0]?.endsWith('/launch-config.json')) return next();
        const shipped = JSON.parse(
          readFileSync(join(server.config.root, 'public', 'launch-config.json'), 'utf8'),
        );
        res.setHeader('content-type', 'application/json');
        res.setHeader('cache-control', 'no-cache');
        res.end(JSON.stringify({ ...shipped, issMatch: [...(shipped.issMatch ?? []), LOCAL_SANDBOX_ISS] }));
      });
    },
  };
}
