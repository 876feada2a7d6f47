// Starting the `ocrops` command as a child process: the one place that knows how (node with the workspace's source
// condition and tsx, running @ocrops/cli's main.ts in one process, so the child's pid is the command's own).
import { spawn, spawnSync, type ChildProcess, type SpawnOptions, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface OcropsSpawnOptions extends SpawnOptions {
  /** Checkout whose `ocrops` runs (default: this one), e.g. a copy of the repository made by a test. */
  root?: string;
}

/**
 * The command line of `ocrops <args>`: `[node, [...flags, <root>/packages/cli/src/main.ts, ...args]]`, as the
 * `packages/cli/bin/ocrops.mjs` launcher runs it. For callers that hand the command to another runner (execa, ip netns).
 */
export function ocropsCommand(args: string[], opts: { root?: string } = {}): [string, string[]] {
  const main = join(opts.root ?? repoRoot(), 'packages', 'cli', 'src', 'main.ts');
  return [
    process.execPath,
    [
      '--conditions=@ocrops/source',
      '--import',
      import.meta.resolve('tsx'),
      '--no-warnings=ExperimentalWarning',
      main,
      ...args,
    ],
  ];
}

/** Environment of an `ocrops` child: TensorFlow's C++ log quiet unless the caller's environment says otherwise. */
function ocropsEnv(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  return { TF_CPP_MIN_LOG_LEVEL: '2', ...(env ?? process.env) };
}

/** Starts `ocrops <args>` (e.g. `['tracker', 'serve', '--port', '0']`) as a child process; cwd defaults to the checkout. */
export function spawnOcrops(args: string[], opts: OcropsSpawnOptions = {}): ChildProcess {
  const { root, env, ...rest } = opts;
  const [cmd, argv] = ocropsCommand(args, { root });
  return spawn(cmd, argv, { cwd: root ?? repoRoot(), ...rest, env: ocropsEnv(env) });
}

/** Runs `ocrops <args>` to its end and returns its exit status and output (UTF-8). */
export function spawnOcropsSync(
  args: string[],
  opts: Omit<OcropsSpawnOptions, 'stdio'> & { input?: string; timeout?: number } = {},
): SpawnSyncReturns<string> {
  const { root, env, ...rest } = opts;
  const [cmd, argv] = ocropsCommand(args, { root });
  return spawnSync(cmd, argv, { cwd: root ?? repoRoot(), encoding: 'utf8', ...rest, env: ocropsEnv(env) });
}
