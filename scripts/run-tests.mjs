#!/usr/bin/env node
// Runs the node:test files (*.test.ts) found under the given folders with TypeScript sources loaded through tsx.
// Usage: node scripts/run-tests.mjs <dir|file>... [-- extra node --test flags]
// Node 20's `node --test` does not expand globs itself, so the file list is built here.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const sep = args.indexOf('--');
const roots = sep >= 0 ? args.slice(0, sep) : args;
const extra = sep >= 0 ? args.slice(sep + 1) : [];
const skip = new Set(['node_modules', 'dist', 'web-dist', '.venv', '.git']);

function collect(path, out) {
  if (!existsSync(path)) return out;
  if (statSync(path).isFile()) {
    if (/\.test\.(ts|mts|mjs)$/.test(path)) out.push(path);
    return out;
  }
  for (const name of readdirSync(path).sort()) {
    if (skip.has(name)) continue;
    collect(join(path, name), out);
  }
  return out;
}

const files = roots.flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${roots.join(', ') || '(nothing given)'}`);
  process.exit(1);
}
const filter = process.env.OCROPS_TEST_FILTER;
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
if (selected.length === 0) {
  // node --test with no file would run every test file it finds instead
  console.error(`run-tests: OCROPS_TEST_FILTER=${filter} matches none of the ${files.length} test file(s)`);
  process.exit(1);
}
console.log(`run-tests: ${selected.length} test file(s): ${selected.map((f) => relative(process.cwd(), f)).join(' ')}`);
const res = spawnSync(
  process.execPath,
  [
    '--conditions=@ocrops/source',
    '--import',
    'tsx',
    '--test',
    // a hung test fails after 10 minutes instead of holding CI until its own limit
    `--test-timeout=${process.env.OCROPS_TEST_TIMEOUT_MS ?? 600_000}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('./summary-reporter.mjs', import.meta.url).pathname}`,
    '--test-reporter-destination=stdout',
    ...extra,
    ...selected,
  ],
  { stdio: 'inherit', env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env, OCROPS_TEST: '1' } },
);
process.exit(res.status ?? 1);
