/**
 * Build of the sandbox EHR page (`sandbox/ehr`), served at `/` by `npm start`:
 * `npx vite build --config vite.sandbox.config.ts` → dist/sandbox. Relative asset URLs (`base: './'`).
 * Tests run from vite.config.ts.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  root: 'sandbox/ehr',
  base: './',
  build: {
    outDir: fileURLToPath(new URL('./dist/sandbox', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
  },
});
