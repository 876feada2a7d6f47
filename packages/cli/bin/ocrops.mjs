#!/usr/bin/env node
// Launcher for the ocrops CLI: runs the TypeScript sources through tsx with the workspace's source condition,
// so no build step is needed. All arguments are passed through.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
// tsx is resolved from this file, not from the current directory, so the launcher works from any folder
const tsx = import.meta.resolve('tsx');
const child = spawn(
  process.execPath,
  ['--conditions=@ocrops/source', '--import', tsx, '--no-warnings=ExperimentalWarning', main, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env } },
);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
