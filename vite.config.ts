import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';
import { appBundle } from './scripts/app-bundle.ts';
import { devLaunchConfig } from './scripts/dev-launch-config.ts';

export default defineConfig({
  // appBundle: production build only (knowledge parsed at build time, smaller UCUM table, no polyfills).
  // devLaunchConfig: `npm run dev` only (the local sandbox may launch the app on the dev server).
  plugins: [react(), appBundle(), devLaunchConfig()],
  root: '.',
  // Relative asset URLs: the app is served under a path (`/app/` by `npm start` and `npm run serve`).
  base: './',
  build: { outDir: 'dist/app', emptyOutDir: true, sourcemap: true },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    reporters: ['default'],
    // Vitest resolves dependencies with Node's `main`; fhirclient's browser entry is the one the app uses.
    alias: [{ find: /^fhirclient$/, replacement: 'fhirclient/lib/entry/browser' }],
    // PGlite (the embedded feedback database) takes seconds to boot on a loaded 2-core machine.
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
});
