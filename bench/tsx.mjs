// Shared by the benchmarks written as .mjs that import the workspace's TypeScript packages: re-runs the calling script
// under tsx with the `@ocrops/source` export condition (no build step), then exits with its status.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Call at the top of a benchmark: returns in the re-run child; the parent process exits with the child's status. */
export function reexecUnderTsx(scriptUrl) {
  if (process.env.OCROPS_BENCH_CHILD) return;
  const r = spawnSync(
    process.execPath,
    [
      '--conditions=@ocrops/source',
      '--import',
      import.meta.resolve('tsx'),
      fileURLToPath(scriptUrl),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, OCROPS_BENCH_CHILD: '1' } },
  );
  process.exit(r.status ?? 1);
}
