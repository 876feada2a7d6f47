#!/usr/bin/env node
// Builds the dashboard into packages/dashboard/web-dist (Nx target `dashboard:build`).
import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const started = Date.now();
await build({ configFile: join(root, 'vite.config.mjs') });
console.log(`dashboard: built web-dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
