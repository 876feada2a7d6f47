#!/usr/bin/env node
// The project's whole test suite (the README's test command runs this after scripts/setup):
// type-checks and lints every package, checks the code's formatting (Prettier), then runs every package's tests and
// the end-to-end tests in test/ in one node:test run, so the last lines printed are the runner's own totals.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (res.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${res.status}).`);
    process.exit(res.status ?? 1);
  }
}
run('npx', ['nx', 'run-many', '-t', 'typecheck', 'lint', '--outputStyle=stream']);
run('npx', ['prettier', '--check', '--log-level=warn', '.']);
const dirs = readdirSync('packages').map((p) => `packages/${p}/src`);
run(process.execPath, ['scripts/run-tests.mjs', ...dirs, 'test']);
