// The sweep runner: creates or joins a sweep in the tracker's optimizer resource, runs trials in parallel child
// processes (`ocrops trainer train`), reports epochs and results, prunes hopeless trials, and publishes the best model.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { OcropsError, repoRoot } from '@ocrops/common';
import { ModelRegistry, TrackerApi, TrackerHttpError, registerSource, type OptimizerStatus, type RegistryVersion } from '@ocrops/tracker';
import { loadTrainConfig, openTrainData, parseEventLine } from '@ocrops/trainer';
import type { S3RemoteConfig } from '@ocrops/versioning';
import { isConflict, persist, TrialHeartbeat, type LeaseGone } from './lease.js';
import { bestUpTo, shouldPrune, type History } from '@ocrops/search';
import { loadSweepFile, parseSweepFile, type SweepFile } from './sweep-config.js';
import { bestWeights, installBest, pushTrialWeights, weightsOthers } from './weights.js';

/**
 * TensorFlow thread counts for one trial process: the machine's cores shared by the parallel workers (at least 1
 * each), so N workers do not oversubscribe the CPU. TF_NUM_INTRAOP_THREADS/TF_NUM_INTEROP_THREADS set in the
 * environment win (they are spread after this).
 */
function trialThreadEnv(workers: number): Record<string, string> {
  const threads = String(Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers))));
  return { TF_NUM_INTRAOP_THREADS: threads, TF_NUM_INTEROP_THREADS: threads };
}

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

/** `best.json` beside the best model's weights. */
export interface BestRecord {
  sweepId: string;
  pid: string;
  trial: number;
  parameters: Record<string, unknown>;
  metric: string;
  objective: 'minimize' | 'maximize';
  value: number;
  experimentKey?: string;
  trialDir: string;
  modelDir: string;
  createdAt: string;
  /** The best trial's lineage (dataset/config/git hashes, modelMd5 = DVC md5 of the weights without best.json). */
  lineage?: Record<string, unknown>;
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

interface TrialRun {
  pid: string;
  trial: number;
  history: History;
  /** Set when the trial's process has ended. */
  status?: 'completed' | 'failed' | 'pruned';
  experimentKey?: string;
  child?: ChildProcess;
}

const here = dirname(fileURLToPath(import.meta.url));

/** A path for records and messages: relative to the repository when inside it, else absolute. */
function shownPath(p: string): string {
  const r = relative(repoRoot(), p);
  return r.startsWith('..') || isAbsolute(r) ? p : r;
}
/** The runner gives up after this many trials in a row failed for good (a broken config would fail every trial). */
const MAX_FAILURES_IN_A_ROW = 3;

/** Folder of a trial inside the sweep folder. */
export function trialDirName(pid: string, trial: number): string {
  return `${pid.slice(0, 12)}-${trial}`;
}

/** Formats a parameter value for the trainer's `--set key=value` (JSON is valid YAML). */
function setValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
}

/** Runs (or joins, or resumes) a sweep until the optimizer has nothing left to suggest, or until stopped. */
export async function runSweep(opts: RunSweepOptions): Promise<SweepSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const api = new TrackerApi({ url: opts.url, apiKey: opts.apiKey, workspace: opts.workspace });
  let file: SweepFile | undefined = opts.config ? loadSweepFile(opts.config) : undefined;
  let sweepId = opts.sweepId;
  const outOf = (f: SweepFile) => opts.out ?? f.run.out;
  if (!sweepId && opts.resume) {
    if (!file) throw new OcropsError('OCROPS_USAGE', '--resume needs --config (or --sweep-id)');
    const statePath = join(outOf(file), 'sweep.json');
    if (!existsSync(statePath)) {
      throw new OcropsError('OCROPS_SWEEP_RESUME', `nothing to resume: ${statePath} does not exist`, {
        hint: 'start the sweep without --resume, or pass --sweep-id <id>',
      });
    }
    sweepId = (JSON.parse(readFileSync(statePath, 'utf8')) as { sweepId: string }).sweepId;
  }
  let status: OptimizerStatus | undefined;
  if (sweepId) {
    try {
      status = await api.optimizerStatus(sweepId);
    } catch (err) {
      if (err instanceof TrackerHttpError && err.code === 'OCROPS_TRACKER_HTTP_404') {
        throw new OcropsError('OCROPS_SWEEP_UNKNOWN', `sweep ${sweepId} is not known to the tracker at ${api.http.url}`, {
          hint: 'check --sweep-id and COMET_URL_OVERRIDE / COMET_WORKSPACE',
        });
      }
      throw err;
    }
    file ??= parseSweepFile(status.config, `sweep ${sweepId} (config stored in the tracker)`);
  }
  if (!file) throw new OcropsError('OCROPS_USAGE', 'give --config <sweep.yaml> or --sweep-id <id>');
  const run = file.run;
  const out = outOf(file);
  const bestDir = opts.best ?? run.best;
  const metric = file.optimizer.spec.metric;
  const maximize = file.optimizer.spec.objective === 'maximize';
  const sets = Object.entries(run.set).map(([k, v]) => `${k}=${setValue(v)}`);
  if (/^(train|val)_[a-z_]+$/.test(metric)) sets.push(`train.monitor=${metric}`, `train.mode=${maximize ? 'max' : 'min'}`);
  const trainCfg = loadTrainConfig(run.train, sets);
  const project = run.project ?? trainCfg.tracker.project;

  if (!sweepId) {
    sweepId = await api.optimizerCreate(file.raw, { projectName: project });
    log(`sweep ${sweepId} created (${file.optimizer.algorithm}, metric ${metric} ${file.optimizer.spec.objective})`);
  } else {
    log(`sweep ${sweepId} joined`);
  }
  mkdirSync(join(out, 'trials'), { recursive: true });
  writeFileSync(join(out, 'sweep.json'), `${JSON.stringify({
    sweepId, config: shownPath(file.source), tracker: api.http.url, workspace: api.workspace, project,
  }, null, 2)}\n`);
  if (opts.resume && status) {
    for (const t of status.trials.filter((x) => x.status === 'running')) {
      await api.optimizerRelease(sweepId, t.pid, t.trial);
      log(`released trial ${t.pid.slice(0, 12)}-${t.trial} of the interrupted sweep: it runs again`);
    }
  }
  // prepare the data once, before parallel workers would race to do it
  await openTrainData(trainCfg, { quiet: true });

  const id = sweepId;
  const runs = new Map<string, TrialRun>();
  const remote = new Map<string, History>();
  let stopping = Boolean(opts.signal?.aborted);
  let failuresInARow = 0;
  const leaseSeconds = opts.leaseSeconds ?? 60;
  const workerName = opts.workerName ?? `${hostname()}:${process.pid}`;
  const deliverMillis = opts.deliverMillis ?? 300_000;
  let gaveUp: string | undefined;
  let started = 0;
  let ran = 0;
  const onAbort = () => {
    stopping = true;
    for (const r of runs.values()) r.child?.kill('SIGTERM');
  };
  opts.signal?.addEventListener('abort', onAbort);

  /**
   * The competitors the pruner compares a trial with (this process's trials, plus finished ones from the tracker): the
   * completed trials for the median rule, every other trial for ASHA.
   */
  const peerHistories = async (self: TrialRun): Promise<History[]> => {
    const completedOnly = run.pruner.type === 'median';
    const local = [...runs.values()]
      .filter((r) => r !== self && (!completedOnly || r.status === 'completed'))
      .map((r) => r.history);
    if (run.pruner.type === 'none') return local;
    try {
      const st = await api.optimizerStatus(id);
      for (const t of st.trials) {
        const k = `${t.pid}-${t.trial}`;
        if (runs.has(k) || remote.has(k) || !t.experimentKey || t.status === 'running') continue;
        if (completedOnly && t.status !== 'completed') continue;
        const points = await api.getMetric(t.experimentKey, metric);
        const h: History = [];
        for (const p of points) if (p.epoch !== null && p.epoch >= 1) h[p.epoch - 1] = Number(p.metricValue);
        remote.set(k, Array.from(h, (v) => (v === undefined ? NaN : v)));
      }
    } catch (err) {
      log(`warning: could not read other trials from the tracker: ${(err as Error).message}`);
    }
    return [...local, ...remote.values()];
  };

  const runTrial = async (s: { pid: string; trial: number; count: number; parameters: Record<string, unknown>; lease?: string }, w: number) => {
    const key = `${s.pid}-${s.trial}`;
    const tr: TrialRun = { pid: s.pid, trial: s.trial, history: [] };
    runs.set(key, tr);
    const dir = join(out, 'trials', trialDirName(s.pid, s.trial));
    mkdirSync(dir, { recursive: true });
    await waitForStaleWorker(dir, log);
    const name = `${file!.optimizer.name ?? 'sweep'}-${s.count}`;
    const others: Record<string, unknown> = {
      optimizer_id: id, optimizer_pid: s.pid, optimizer_trial: s.trial, optimizer_count: s.count,
      optimizer_metric: metric, optimizer_objective: file!.optimizer.spec.objective,
      optimizer_name: file!.optimizer.name ?? '', optimizer_parameters: JSON.stringify(s.parameters),
      optimizer_version: 'ocrops-sweep',
    };
    const args = [
      '--config', run.train, '--out', dir, '--experiment-name', name, '--tag', 'sweep', '--quiet',
      ...sets.flatMap((x) => ['--set', x]),
      ...Object.entries(s.parameters).flatMap(([k, v]) => ['--set', `${k}=${setValue(v)}`]),
      ...Object.entries(others).flatMap(([k, v]) => ['--log-other', `${k}=${String(v)}`]),
    ];
    if (existsSync(join(dir, 'checkpoints', 'last'))) args.push('--resume');
    const shown = Object.entries(s.parameters).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toPrecision(4) : v}`).join(' ');
    log(`[worker ${w}] trial ${s.count} (${trialDirName(s.pid, s.trial)}) ${shown}`);
    const logFile = createWriteStream(join(dir, 'train.log'), { flags: 'a' });
    const child = spawn(
      process.execPath,
      ['--conditions=@ocrops/source', '--import', import.meta.resolve('tsx'), '--no-warnings=ExperimentalWarning', join(here, 'trial-main.ts'), ...args],
      {
        cwd: repoRoot(),
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          TF_CPP_MIN_LOG_LEVEL: '2', ...trialThreadEnv(nWorkers), ...process.env, OCROPS_EVENTS: '1',
          COMET_URL_OVERRIDE: api.http.url, ...(api.http.apiKey ? { COMET_API_KEY: api.http.apiKey } : {}),
          COMET_WORKSPACE: api.workspace,
        },
      },
    );
    tr.child = child;
    writeFileSync(join(dir, 'worker.pid'), String(child.pid ?? ''));
    if (stopping) child.kill('SIGTERM');
    let pruned = false;
    let gone: LeaseGone | undefined;
    const heartbeat = s.lease
      ? new TrialHeartbeat(api, { id, pid: s.pid, trial: s.trial, lease: s.lease }, leaseSeconds, log, (state) => {
        gone = state;
        if (state === 'reassigned') {
          // this worker was presumed dead: it goes on, and whichever run finishes first is the trial's result
          log(`[worker ${w}] trial ${s.count} was assigned to another worker meanwhile (lease expired); training on`);
        } else {
          log(`[worker ${w}] trial ${s.count} has its result from another worker (${state}): stopping this run`);
          child.kill('SIGTERM');
        }
      }).start()
      : undefined;
    let chain = Promise.resolve();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const ev = parseEventLine(line);
      if (!ev) {
        logFile.write(`${line}\n`);
        return;
      }
      tr.experimentKey = ev.experimentKey || tr.experimentKey;
      if (ev.type !== 'epoch') return;
      const value = ev.metrics[metric];
      tr.history[ev.epoch - 1] = typeof value === 'number' && Number.isFinite(value) ? value : NaN;
      chain = chain.then(async () => {
        log(`[worker ${w}] trial ${s.count} epoch ${ev.epoch}: ${metric}=${Number.isFinite(value) ? value.toFixed(4) : value}`);
        await api.optimizerUpdate({
          id, pid: s.pid, trial: s.trial, status: 'running', epoch: ev.epoch, experimentKey: ev.experimentKey,
          ...(Number.isFinite(value) ? { score: value } : {}), ...(s.lease ? { lease: s.lease } : {}),
        }).catch((err) => {
          if (!isConflict(err)) log(`warning: update of trial ${s.count} failed: ${(err as Error).message}`);
        });
        if (!pruned && !stopping && shouldPrune(run.pruner, tr.history, await peerHistories(tr), ev.epoch, maximize)) {
          pruned = true;
          log(`[worker ${w}] trial ${s.count} pruned after epoch ${ev.epoch} (${run.pruner.type})`);
          child.kill('SIGTERM');
        }
      });
    });
    child.stderr!.on('data', (d) => logFile.write(d));
    const code = await new Promise<number | null>((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : null))));
    heartbeat?.stop();
    await chain;
    logFile.end();
    rmSync(join(dir, 'worker.pid'), { force: true });
    tr.child = undefined;
    ran++;
    const result = readResult(dir);
    tr.experimentKey ??= result?.experimentKey;
    let score = bestUpTo(tr.history, tr.history.length, maximize);
    if (result?.best && result.monitor === metric && Number.isFinite(result.best.value)) score = result.best.value;
    if (gone && gone !== 'reassigned') return;
    if (stopping && !pruned && code !== 0) {
      await api.optimizerRelease(id, s.pid, s.trial).catch(() => undefined);
      log(`[worker ${w}] trial ${s.count} stopped and released (it runs again on --resume)`);
      return;
    }
    let status: 'completed' | 'pruned' | 'failed' = pruned ? 'pruned' : code === 0 && Number.isFinite(score) ? 'completed' : 'failed';
    let why = '';
    if (status === 'completed' && opts.weights) {
      // the weights go to S3 before the result is reported: a reported best trial always has its weights there
      const modelDir = result?.bestModelDir ?? join(dir, 'best');
      try {
        const pushed = await pushTrialWeights(modelDir, opts.weights);
        const others = weightsOthers(pushed, opts.weights);
        for (const [key, value] of Object.entries(others)) {
          await persist(() => api.post('/write/experiment/log-other', { experimentKey: tr.experimentKey, key, value }), deliverMillis);
        }
        log(`[worker ${w}] trial ${s.count} weights -> ${pushed.url} (${pushed.files} files, ${pushed.skipped} already there)`);
      } catch (err) {
        status = 'failed';
        why = ` (weights not pushed: ${(err as Error).message})`;
      }
    }
    let recorded: Awaited<ReturnType<typeof api.optimizerUpdate>>;
    try {
      recorded = await persist(() => api.optimizerUpdate({
        id, pid: s.pid, trial: s.trial, status, experimentKey: tr.experimentKey, ...(s.lease ? { lease: s.lease } : {}),
        ...(Number.isFinite(score) ? { score } : {}), ...(tr.history.length ? { epoch: tr.history.length } : {}),
      }), deliverMillis, (err) => log(`warning: reporting trial ${s.count} failed (${err.message}); retrying`));
    } catch (err) {
      if (!isConflict(err)) throw err;
      log(`[worker ${w}] trial ${s.count} ${status} here, but not recorded: ${err.message.replace(/^.*-> 409: /, '')}`);
      return;
    }
    tr.status = status;
    if (tr.experimentKey && Number.isFinite(score)) {
      await api.post('/write/experiment/log-other', { experimentKey: tr.experimentKey, key: 'optimizer_metric_value', value: score })
        .catch(() => undefined);
    }
    // the stopped trial's run ended cleanly (status finished): a tag says why it is short
    if (tr.experimentKey && status === 'pruned') {
      await api.post('/write/experiment/tags', { experimentKey: tr.experimentKey, addedTags: ['pruned'] }).catch(() => undefined);
    }
    // a failed trial the tracker assigns again (retryAssignLimit) does not count as failed for good
    failuresInARow = status === 'failed' && recorded.status === 'failed' ? failuresInARow + 1 : status === 'failed' ? failuresInARow : 0;
    if (failuresInARow >= MAX_FAILURES_IN_A_ROW && !stopping) {
      stopping = true;
      gaveUp = `${failuresInARow} trials in a row failed (last: ${shownPath(join(dir, 'train.log'))})`;
    }
    log(`[worker ${w}] trial ${s.count} ${status}${Number.isFinite(score) ? `: ${metric}=${score.toFixed(4)}` : ''}` +
      (status === 'failed' ? ` (exit ${code}; see ${shownPath(join(dir, 'train.log'))})${why}` : '') +
      (status === 'failed' && recorded.status !== 'failed' ? '; it will be assigned again (retryAssignLimit)' : ''));
  };

  const worker = async (w: number) => {
    while (!stopping && (opts.maxTrials === undefined || started < opts.maxTrials)) {
      started++;
      const s = await api.optimizerNext(id, { leaseSeconds, worker: workerName });
      if (!s) break;
      if (stopping) {
        await api.optimizerRelease(id, s.pid, s.trial);
        break;
      }
      // a re-issued trial keeps its place: number trials by their order in the sweep, not by hand-out count
      const order = await api.optimizerStatus(id).then((st) => st.trials.findIndex((t) => t.pid === s.pid && t.trial === s.trial))
        .catch(() => -1);
      await runTrial({ ...s, count: order >= 0 ? order + 1 : s.count }, w);
    }
  };
  const nWorkers = opts.workers ?? run.workers;
  try {
    await Promise.all(Array.from({ length: nWorkers }, (_, i) => worker(i + 1)));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }

  if (gaveUp) {
    throw new OcropsError('OCROPS_SWEEP_FAILING', `sweep ${id}: ${gaveUp}; stopped`, {
      hint: 'fix the cause (parameter names must be trainer aliases or dotted config keys), then run again with --resume',
    });
  }
  const final = await api.optimizerStatus(id);
  const count = (st: string) => final.trials.filter((t) => t.status === st).length;
  const summary: SweepSummary = {
    sweepId: id, completed: count('completed'), pruned: count('pruned'), failed: count('failed'), running: count('running'),
    ran, stopped: stopping,
  };
  if (!stopping && final.best && opts.publish !== false) {
    const best = await publishBest(api, final, out, bestDir, metric, maximize, log);
    if (best) {
      summary.best = best;
      summary.bestDir = bestDir;
      if (opts.register) {
        summary.registered = await registerSource(bestDir, { registry: new ModelRegistry(api), modelName: opts.register, aliases: ['candidate'] });
        log(`registered ${summary.registered.modelName}:${summary.registered.version} (@candidate) from trial ${best.pid.slice(0, 12)}-${best.trial}`);
      }
    }
  }
  log(`sweep ${id}: ${summary.completed} completed, ${summary.pruned} pruned, ${summary.failed} failed` +
    (summary.running ? `, ${summary.running} running elsewhere` : '') + (stopping ? ' (stopped; continue with --resume)' : ''));
  return summary;
}

interface ResultJson {
  experimentKey?: string;
  monitor?: string;
  best?: { value: number; epoch: number } | null;
  bestModelDir?: string;
  lineage?: Record<string, unknown>;
}

function readResult(dir: string): ResultJson | undefined {
  const p = join(dir, 'result.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ResultJson;
  } catch {
    return undefined;
  }
}

/** A trial re-issued after its runner died may still have a live orphan trainer: wait for it (it stops on EOF). */
async function waitForStaleWorker(dir: string, log: (l: string) => void): Promise<void> {
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

/**
 * Copies the best completed trial's weights to `bestDir` and writes `bestDir/best.json`: from this host's trial folder
 * when that trial's run is the recorded one, else from S3 where the host that trained it pushed them.
 */
async function publishBest(
  api: TrackerApi, st: OptimizerStatus, out: string, bestDir: string, metric: string, maximize: boolean, log: (l: string) => void,
): Promise<BestRecord | undefined> {
  const b = st.best!;
  const trialDir = join(out, 'trials', trialDirName(b.pid, b.trial));
  const result = readResult(trialDir);
  const modelDir = result?.bestModelDir ?? join(trialDir, 'best');
  const record: BestRecord = {
    sweepId: st.id, pid: b.pid, trial: b.trial, parameters: b.parameters, metric,
    objective: maximize ? 'maximize' : 'minimize', value: b.score!, experimentKey: b.experimentKey,
    trialDir: shownPath(trialDir), modelDir: shownPath(modelDir), createdAt: new Date().toISOString(), lineage: result?.lineage,
  };
  if (!existsSync(modelDir) || (b.experimentKey && result?.experimentKey && result.experimentKey !== b.experimentKey)) {
    const w = await bestWeights(api, st).catch(() => undefined);
    if (!w) {
      log(`best trial ${trialDirName(b.pid, b.trial)} ran elsewhere (no ${modelDir} here, no weights in S3): ${bestDir} not updated`);
      return undefined;
    }
    record.modelDir = `s3://${w.remote.bucket}/${w.remote.prefix ? `${w.remote.prefix}/` : ''}files/md5/ (${w.md5})`;
    await installBest(w, bestDir, record as unknown as Record<string, unknown>);
    log(`best: trial ${trialDirName(b.pid, b.trial)} ${metric}=${b.score} -> ${shownPath(bestDir)}/ (from S3, ${w.md5})`);
    return record;
  }
  // write beside, then swap, so a reader never sees a half-copied folder
  const tmp = `${bestDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(bestDir), { recursive: true });
  cpSync(modelDir, tmp, { recursive: true });
  writeFileSync(join(tmp, 'best.json'), `${JSON.stringify(record, null, 2)}\n`);
  rmSync(bestDir, { recursive: true, force: true });
  renameSync(tmp, bestDir);
  log(`best: trial ${trialDirName(b.pid, b.trial)} ${metric}=${b.score} -> ${shownPath(bestDir)}/ (best.json)`);
  return record;
}
