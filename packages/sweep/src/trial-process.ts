// One trial as a child process: `ocrops trainer train` with the trial's parameters, its epoch events followed on
// stdout (tracker updates, pruning), its lease kept by heartbeats, until it exits.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawnOcrops } from '@ocrops/common';
import { shouldPrune, type History } from '@ocrops/search';
import { parseEventLine } from '@ocrops/trainer';
import { isConflict, TrialHeartbeat, type LeaseGone } from './lease.js';
import type { SweepContext, TrialRun, TrialSuggestion } from './sweep-context.js';
import { setValue } from './sweep-setup.js';
import { trialDirName, type Log } from './trial-paths.js';

/** How a trial's process ended. */
export interface TrialExit {
  code: number | null;
  pruned: boolean;
  /** Set when the tracker took the trial away (its result came from another worker). */
  gone?: LeaseGone;
}

/**
 * TensorFlow thread counts for one trial process: the machine's cores shared by the parallel workers (at least 1
 * each), so N workers do not oversubscribe the CPU. TF_NUM_INTRAOP_THREADS/TF_NUM_INTEROP_THREADS set in the
 * environment win (they are spread after this).
 */
function trialThreadEnv(workers: number): Record<string, string> {
  const threads = String(Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers))));
  return { TF_NUM_INTRAOP_THREADS: threads, TF_NUM_INTEROP_THREADS: threads };
}

/** The `ocrops trainer train` arguments of a trial: its folder, name, fixed and suggested overrides, optimizer others. */
export function trialArgs(ctx: SweepContext, s: TrialSuggestion, dir: string): string[] {
  const { optimizer } = ctx.file;
  const others: Record<string, unknown> = {
    optimizer_id: ctx.id,
    optimizer_pid: s.pid,
    optimizer_trial: s.trial,
    optimizer_count: s.count,
    optimizer_metric: ctx.metric,
    optimizer_objective: optimizer.spec.objective,
    optimizer_name: optimizer.name ?? '',
    optimizer_parameters: JSON.stringify(s.parameters),
    optimizer_version: 'ocrops-sweep',
  };
  const args = [
    'trainer',
    'train',
    '--config',
    ctx.file.run.train,
    '--out',
    dir,
    '--experiment-name',
    `${optimizer.name ?? 'sweep'}-${s.count}`,
    '--tag',
    'sweep',
    '--quiet',
    ...ctx.sets.flatMap((x) => ['--set', x]),
    ...Object.entries(s.parameters).flatMap(([k, v]) => ['--set', `${k}=${setValue(v)}`]),
    ...Object.entries(others).flatMap(([k, v]) => ['--log-other', `${k}=${String(v)}`]),
  ];
  if (existsSync(join(dir, 'checkpoints', 'last'))) args.push('--resume');
  return args;
}

/** Starts the trial's training; it reports to this sweep's tracker and stops when this process dies (stdin closes). */
function startTrialProcess(ctx: SweepContext, args: string[], dir: string): ChildProcess {
  const child = spawnOcrops(args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...trialThreadEnv(ctx.workers),
      ...process.env,
      OCROPS_EVENTS: '1',
      OCROPS_STOP_WITH_PARENT: '1',
      COMET_URL_OVERRIDE: ctx.api.http.url,
      ...(ctx.api.http.apiKey ? { COMET_API_KEY: ctx.api.http.apiKey } : {}),
      COMET_WORKSPACE: ctx.api.workspace,
    },
  });
  writeFileSync(join(dir, 'worker.pid'), String(child.pid ?? ''));
  return child;
}

/**
 * The competitors the pruner compares a trial with (this process's trials, plus finished ones from the tracker): the
 * completed trials for the median rule, every other trial for ASHA.
 */
async function peerHistories(ctx: SweepContext, self: TrialRun): Promise<History[]> {
  const { pruner } = ctx.file.run;
  const completedOnly = pruner.type === 'median';
  const local = [...ctx.runs.values()]
    .filter((r) => r !== self && (!completedOnly || r.status === 'completed'))
    .map((r) => r.history);
  if (pruner.type === 'none') return local;
  try {
    const st = await ctx.api.optimizerStatus(ctx.id);
    for (const t of st.trials) {
      const k = `${t.pid}-${t.trial}`;
      if (ctx.runs.has(k) || ctx.remote.has(k) || !t.experimentKey || t.status === 'running') continue;
      if (completedOnly && t.status !== 'completed') continue;
      const points = await ctx.api.getMetric(t.experimentKey, ctx.metric);
      const h: History = [];
      for (const p of points) if (p.epoch !== null && p.epoch >= 1) h[p.epoch - 1] = Number(p.metricValue);
      ctx.remote.set(
        k,
        Array.from(h, (v) => (v === undefined ? NaN : v)),
      );
    }
  } catch (err) {
    ctx.log(`warning: could not read other trials from the tracker: ${(err as Error).message}`);
  }
  return [...local, ...ctx.remote.values()];
}

/** Keeps the trial's lease; stops the child when another worker's run of it has already been recorded. */
function keepLease(
  ctx: SweepContext,
  s: TrialSuggestion,
  w: number,
  child: ChildProcess,
  onGone: (g: LeaseGone) => void,
) {
  if (!s.lease) return undefined;
  return new TrialHeartbeat(
    ctx.api,
    { id: ctx.id, pid: s.pid, trial: s.trial, lease: s.lease },
    ctx.leaseSeconds,
    ctx.log,
    (state) => {
      onGone(state);
      if (state === 'reassigned') {
        // this worker was presumed dead: it goes on, and whichever run finishes first is the trial's result
        ctx.log(`[worker ${w}] trial ${s.count} was assigned to another worker meanwhile (lease expired); training on`);
      } else {
        ctx.log(`[worker ${w}] trial ${s.count} has its result from another worker (${state}): stopping this run`);
        child.kill('SIGTERM');
      }
    },
  ).start();
}

/**
 * Follows the trial's stdout: event lines update its history and the tracker, and may prune it; other lines go to its
 * log. Resolves (after the last update) when stdout ends, with whether the trial was pruned.
 */
function followEpochs(
  ctx: SweepContext,
  tr: TrialRun,
  s: TrialSuggestion,
  w: number,
  child: ChildProcess,
  logLine: (l: string) => void,
): Promise<boolean> {
  let pruned = false;
  let chain = Promise.resolve();
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const ev = parseEventLine(line);
    if (!ev) {
      logLine(line);
      return;
    }
    tr.experimentKey = ev.experimentKey || tr.experimentKey;
    if (ev.type !== 'epoch') return;
    const value = ev.metrics[ctx.metric];
    tr.history[ev.epoch - 1] = typeof value === 'number' && Number.isFinite(value) ? value : NaN;
    chain = chain.then(async () => {
      ctx.log(
        `[worker ${w}] trial ${s.count} epoch ${ev.epoch}: ${ctx.metric}=${Number.isFinite(value) ? value.toFixed(4) : value}`,
      );
      await ctx.api
        .optimizerUpdate({
          id: ctx.id,
          pid: s.pid,
          trial: s.trial,
          status: 'running',
          epoch: ev.epoch,
          experimentKey: ev.experimentKey,
          ...(Number.isFinite(value) ? { score: value } : {}),
          ...(s.lease ? { lease: s.lease } : {}),
        })
        .catch((err) => {
          if (!isConflict(err)) ctx.log(`warning: update of trial ${s.count} failed: ${(err as Error).message}`);
        });
      if (
        !pruned &&
        !ctx.stopping &&
        shouldPrune(ctx.file.run.pruner, tr.history, await peerHistories(ctx, tr), ev.epoch, ctx.maximize)
      ) {
        pruned = true;
        ctx.log(`[worker ${w}] trial ${s.count} pruned after epoch ${ev.epoch} (${ctx.file.run.pruner.type})`);
        child.kill('SIGTERM');
      }
    });
  });
  return new Promise((resolve) => lines.once('close', () => resolve(chain.then(() => pruned))));
}

/** Runs the trial's training to its end in `dir` and returns how it ended. */
export async function runTrialProcess(
  ctx: SweepContext,
  tr: TrialRun,
  s: TrialSuggestion,
  w: number,
  dir: string,
): Promise<TrialExit> {
  mkdirSync(dir, { recursive: true });
  await waitForStaleWorker(dir, ctx.log);
  const shown = Object.entries(s.parameters)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`)
    .join(' ');
  ctx.log(`[worker ${w}] trial ${s.count} (${trialDirName(s.pid, s.trial)}) ${shown}`);
  const logFile = createWriteStream(join(dir, 'train.log'), { flags: 'a' });
  const child = startTrialProcess(ctx, trialArgs(ctx, s, dir), dir);
  tr.child = child;
  if (ctx.stopping) child.kill('SIGTERM');
  let gone: LeaseGone | undefined;
  const heartbeat = keepLease(ctx, s, w, child, (g) => (gone = g));
  const followed = followEpochs(ctx, tr, s, w, child, (line) => logFile.write(`${line}\n`));
  child.stderr!.on('data', (d) => logFile.write(d));
  const code = await new Promise<number | null>((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : null))));
  heartbeat?.stop();
  const pruned = await followed;
  logFile.end();
  rmSync(join(dir, 'worker.pid'), { force: true });
  tr.child = undefined;
  return { code, pruned, gone };
}

/** A trial re-issued after its runner died may still have a live orphan trainer: wait for it (it stops on EOF). */
async function waitForStaleWorker(dir: string, log: Log): Promise<void> {
  const p = join(dir, 'worker.pid');
  if (!existsSync(p)) return;
  const pid = Number(readFileSync(p, 'utf8'));
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!pid || !alive()) return;
  log(`waiting for the previous trainer of ${dir} (pid ${pid}) to stop`);
  for (let i = 0; i < 600 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}
