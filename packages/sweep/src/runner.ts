// The sweep runner: creates or joins a sweep in the tracker's optimizer resource, runs trials in parallel child
// processes (`ocrops trainer train`), reports epochs and results, prunes hopeless trials, and publishes the best model.
// Its steps live beside it: sweep-setup (resolve/resume, open), worker-pool, trial-process, trial-report, publish.
import { hostname } from 'node:os';
import { OcropsError } from '@ocrops/common';
import { ModelRegistry, registerSource, TrackerApi, type RegistryVersion } from '@ocrops/tracker';
import type { S3RemoteConfig } from '@ocrops/versioning';
import { publishBest, type BestRecord } from './publish.js';
import type { SweepContext } from './sweep-context.js';
import { fixedSets, openSweep, resolveSweep } from './sweep-setup.js';
import type { Log } from './trial-paths.js';
import { runWorkers } from './worker-pool.js';

export { trialDirName } from './trial-paths.js';
export type { BestRecord } from './publish.js';

export interface RunSweepOptions {
  /** Sweep file (Comet optimizer config + `ocrops` section). Optional when joining with `sweepId`. */
  config?: string;
  /** Join this sweep instead of creating one (workers on other machines). */
  sweepId?: string;
  /** Continue the sweep recorded in `<out>/sweep.json`: its running trials are released and run again. */
  resume?: boolean;
  /** Parallel trials (default: the file's `ocrops.workers`). */
  workers?: number;
  /** Override `ocrops.out` / `ocrops.best`. */
  out?: string;
  best?: string;
  /** Tracker connection (default: COMET_URL_OVERRIDE / COMET_API_KEY / local defaults). */
  url?: string;
  apiKey?: string;
  workspace?: string;
  /** Start at most this many trials in this process. */
  maxTrials?: number;
  /** Register the best trial's model as a new version of this registered model, with alias `candidate`. */
  register?: string;
  /** Stop request: running trials get SIGTERM and are released to the sweep. */
  signal?: AbortSignal;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Heartbeat lease on each trial (seconds, default 60): a trial whose worker stops heartbeating is assigned again. */
  leaseSeconds?: number;
  /** This worker's name in the tracker's leases (default: the host name and pid). */
  workerName?: string;
  /** Push every completed trial's best weights here (DVC cache layout) and log where on its run. */
  weights?: S3RemoteConfig;
  /** Copy (or download from S3) the best trial's weights to `best` at the end (default true). */
  publish?: boolean;
  /** How long a worker keeps trying to deliver a result while the tracker is unreachable (ms, default 5 min). */
  deliverMillis?: number;
}

export interface SweepSummary {
  sweepId: string;
  completed: number;
  pruned: number;
  failed: number;
  running: number;
  /** Trials this process ran. */
  ran: number;
  stopped: boolean;
  best?: BestRecord;
  bestDir?: string;
  /** The registry version made with `register`. */
  registered?: RegistryVersion;
}

/** Runs (or joins, or resumes) a sweep until the optimizer has nothing left to suggest, or until stopped. */
export async function runSweep(opts: RunSweepOptions): Promise<SweepSummary> {
  const log: Log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const api = new TrackerApi({ url: opts.url, apiKey: opts.apiKey, workspace: opts.workspace });
  const sweep = await resolveSweep(api, opts);
  const out = opts.out ?? sweep.file.run.out;
  const sets = fixedSets(sweep.file);
  const id = await openSweep(api, sweep, { out, sets, resume: opts.resume, log });
  const ctx = sweepContext(api, id, sweep.file, out, sets, log, opts);
  await runWorkers(ctx, opts.signal);
  if (ctx.gaveUp) {
    throw new OcropsError('OCROPS_SWEEP_FAILING', `sweep ${id}: ${ctx.gaveUp}; stopped`, {
      hint: 'fix the cause (parameter names must be trainer aliases or dotted config keys), then run again with --resume',
    });
  }
  const summary = await finish(ctx, opts.best ?? sweep.file.run.best, opts);
  log(
    `sweep ${id}: ${summary.completed} completed, ${summary.pruned} pruned, ${summary.failed} failed` +
      (summary.running ? `, ${summary.running} running elsewhere` : '') +
      (ctx.stopping ? ' (stopped; continue with --resume)' : ''),
  );
  return summary;
}

/** The run's shared state, from the options and the sweep file's defaults. */
function sweepContext(
  api: TrackerApi,
  id: string,
  file: SweepContext['file'],
  out: string,
  sets: string[],
  log: Log,
  opts: RunSweepOptions,
): SweepContext {
  return {
    api,
    id,
    file,
    out,
    sets,
    log,
    metric: file.optimizer.spec.metric,
    maximize: file.optimizer.spec.objective === 'maximize',
    workers: opts.workers ?? file.run.workers,
    leaseSeconds: opts.leaseSeconds ?? 60,
    workerName: opts.workerName ?? `${hostname()}:${process.pid}`,
    deliverMillis: opts.deliverMillis ?? 300_000,
    maxTrials: opts.maxTrials,
    weights: opts.weights,
    runs: new Map(),
    remote: new Map(),
    stopping: Boolean(opts.signal?.aborted),
    failuresInARow: 0,
    started: 0,
    ran: 0,
  };
}

/** Final counts from the tracker; publishes (and registers) the best trial unless the run was stopped. */
async function finish(ctx: SweepContext, bestDir: string, opts: RunSweepOptions): Promise<SweepSummary> {
  const final = await ctx.api.optimizerStatus(ctx.id);
  const count = (st: string) => final.trials.filter((t) => t.status === st).length;
  const summary: SweepSummary = {
    sweepId: ctx.id,
    completed: count('completed'),
    pruned: count('pruned'),
    failed: count('failed'),
    running: count('running'),
    ran: ctx.ran,
    stopped: ctx.stopping,
  };
  if (ctx.stopping || !final.best || opts.publish === false) return summary;
  const best = await publishBest(ctx.api, final, ctx.out, bestDir, ctx.metric, ctx.maximize, ctx.log);
  if (!best) return summary;
  summary.best = best;
  summary.bestDir = bestDir;
  if (opts.register) {
    summary.registered = await registerSource(bestDir, {
      registry: new ModelRegistry(ctx.api),
      modelName: opts.register,
      aliases: ['candidate'],
    });
    ctx.log(
      `registered ${summary.registered.modelName}:${summary.registered.version} (@candidate) from trial ${best.pid.slice(0, 12)}-${best.trial}`,
    );
  }
  return summary;
}
