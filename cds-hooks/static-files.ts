/**
 * Static files of a front-end build (the SMART app under `/app/`), for `npm run serve` and
 * `npm start`. A missing build answers a readable 503 instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, MiddlewareHandler } from 'hono';

export const PROJECT_ROOT = join(import.meta.dirname, '..');
export const APP_DIST = join(PROJECT_ROOT, 'dist', 'app');

export function staticFiles(
  dir: string,
  prefix: string,
  notBuilt: (c: Context) => Response,
): MiddlewareHandler {
  const serveDir = serveStatic({
    // serveStatic resolves `root` against the working directory.
    root: relative(process.cwd(), dir) || '.',
    rewriteRequestPath: (path) =>
      (prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path) || '/',
  });
  return async (c, next) => {
    if (!existsSync(join(dir, 'index.html'))) return notBuilt(c);
    return serveDir(c, next);
  };
}
