// Vite build of the dashboard single-page app into web-dist/ (served by the tracker server at `/`).
// No React plugin: Vite's built-in Oxc transform compiles TSX with the automatic JSX runtime.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { defaultClientConditions } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default {
  root: here,
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  // workspace packages resolve to their TypeScript sources (the tracker's wire contract, @ocrops/tracker/api)
  resolve: { conditions: ['@ocrops/source', ...defaultClientConditions] },
  build: {
    outDir: join(here, 'web-dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
};
