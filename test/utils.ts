// Shared helpers of the end-to-end tests: drive the real `ocrops` command (spawnOcrops from @ocrops/common) as a user
// would, to its end (`runOcrops`) or as a long-running server (`startOcrops`); run a Python client (`runPython`, `tritonclientPython`) and
// POST to a server under test (`postForJson`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnOcrops, venvBin, type OcropsSpawnOptions } from '@ocrops/common';

export interface OcropsResult {
  /** Exit code (null when a signal ended it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOcropsOptions extends Omit<OcropsSpawnOptions, 'stdio'> {
  /** Variables added to this process's environment. */
  extraEnv?: Record<string, string>;
  /** Kill the command (SIGKILL) after this long (default 10 min). */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed. */
  input?: string;
}

function environment(opts: { env?: NodeJS.ProcessEnv; extraEnv?: Record<string, string> }): NodeJS.ProcessEnv {
  return { ...(opts.env ?? process.env), ...opts.extraEnv };
}

/** Runs `ocrops <args>` to its end; never throws for a non-zero exit (the test asserts on `code`). */
export function runOcrops(args: string[], opts: RunOcropsOptions = {}): Promise<OcropsResult> {
  const { extraEnv, timeoutMs = 600_000, input, env, ...rest } = opts;
  const child = spawnOcrops(args, { ...rest, env: environment({ env, extraEnv }), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningOcrops {
  child: ChildProcess;
  /** The command's own pid (no launcher in between). */
  pid: number;
  /** Output so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects when the command exits first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts `ocrops <args>` as a long-running process (a server). */
export function startOcrops(args: string[], opts: Omit<RunOcropsOptions, 'input' | 'timeoutMs'> = {}): RunningOcrops {
  const { extraEnv, env, ...rest } = opts;
  const child = spawnOcrops(args, { ...rest, env: environment({ env, extraEnv }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    waitFor(re, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (!m) return;
          done();
          resolve(m);
        };
        const fail = (why: string) => {
          done();
          reject(new Error(`ocrops ${args.join(' ')}: ${why}; output:\n${out}`));
        };
        const onExit = () => fail(`exited (${child.exitCode ?? child.signalCode}) before ${re}`);
        const timer = setTimeout(() => fail(`no ${re} within ${timeoutMs} ms`), timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** `ocrops tracker serve` on a free port with data in `dataDir`; resolves once it listens. */
export async function startOcropsTracker(
  dataDir: string,
  opts: { args?: string[] } & Omit<RunOcropsOptions, 'input' | 'timeoutMs'> = {},
): Promise<RunningOcrops & { url: string }> {
  const { args = [], ...rest } = opts;
  const server = startOcrops(['tracker', 'serve', '--port', '0', '--data-dir', dataDir, ...args], rest);
  try {
    const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/);
    return { ...server, url };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * Runs `python <args>` asynchronously (a server under test answers from this process's event loop meanwhile), killed
 * after two minutes; never throws for a non-zero exit (the test asserts on `status`).
 */
export function runPython(
  python: string,
  args: string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** POSTs `body` as content-type `type` to `url`: the reply's status and JSON body. */
export async function postForJson(
  url: string,
  body: RequestInit['body'],
  type: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The project venv's python when it can import the official tritonclient[http]; undefined when it cannot. */
export function tritonclientPython(): string | undefined {
  const python = venvBin('python');
  if (!existsSync(python)) return undefined;
  return spawnSync(python, ['-c', 'import tritonclient.http'], { encoding: 'utf8' }).status === 0 ? python : undefined;
}

/** Writes `<dir>/data.yaml` for `count` synthetic lines at height 32 (prepared into `<dir>/prepared` on first use). */
export function tinyDataConfig(dir: string, count = 120, maxWidth = 320): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'data.yaml');
  writeFileSync(
    file,
    [
      'name: tiny',
      'source: { format: synthetic }',
      'charset: vietnamese',
      `image: { height: 32, channels: 1, max_width: ${maxWidth} }`,
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      `synthetic: { count: ${count}, seed: 3 }`,
      'augment: { geometry_p: 0.5, noise_p: 0.5 }',
      `output: ${join(dir, 'prepared')}`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Overrides of configs/train/synthetic.yaml for an untracked run of one 2-step epoch of a tiny model on `data`. */
export function oneEpochSets(data: string, out: string): string[] {
  return [
    `data=${data}`,
    `out=${out}`,
    'epochs=1',
    'batch_size=8',
    'hidden=16',
    'model.embed_dim=16',
    'tracker.enabled=false',
    'train.max_steps_per_epoch=2',
  ];
}
