// The training loop: seeded, checkpointed, resumable, tracked. Shared by every task (tasks/): the task gives the data,
// the model, the loss, the metrics and the end-of-run reports; this file runs the session around them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, ProgressBar, formatDuration, replaceDir } from '@ocrops/common';
import { selectBackend } from '@ocrops/model';
import {
  assignWeights,
  emptySums,
  freshState,
  optimizerTensors,
  readCheckpoint,
  restoreOptimizer,
  writeCheckpoint,
  type EpochRecord,
  type TrainState,
} from './checkpoint.js';
import { flatParameters, relativeToRoot, type TrainConfig } from './config.js';
import { emitEvent, type EndEvent } from './events.js';
import { hashSeed, withSeededRandom } from './rng.js';
import { folderMd5, lineageOthers, startLineage, type RunLineage } from './lineage.js';
import { WeightAverage } from './ema.js';
import { describeInit, initFromSaved, type InitReport } from './init-from.js';
import { makeOptimizer, setLearningRate } from './optimizers.js';
import { budgetSteps, freshPlateau, lrAt, plateauEpochEnd } from './schedule.js';
import { logEnvironment, openRun, type TrackedRun } from './tracking.js';
import { taskOf } from './tasks/index.js';
import type { StepBatch, TaskSession, TrainableModel } from './tasks/task.js';

export { ctcLossOf, modelConfigOf, openTrainData, taskModelConfigOf } from './tasks/ocr.js';

/** Options of `train()` beyond the config. */
export interface TrainOptions {
  /** continue from `<out>/checkpoints/last` */
  resume?: boolean;
  /** an already opened tracked run (otherwise one is opened from `cfg.tracker`) */
  tracker?: TrackedRun;
  /**
   * Called after every epoch with its record (epoch counts from 1); returning 'stop' ends the run after this epoch
   * (e.g. a sweep's early-stopping rule), like early stopping.
   */
  onEpoch?: (record: EpochRecord & { experimentKey: string }) => void | 'stop' | Promise<void | 'stop'>;
  /** extra log-other values (`--log-other key=value`), e.g. the sweep's optimizer_* values */
  logOther?: Record<string, unknown>;
  tags?: string[];
  /** handle SIGINT/SIGTERM: checkpoint, end the tracked run, throw TrainInterrupted (the CLI exits 130/143) */
  handleSignals?: boolean;
  /** in-process stop request: treated like SIGINT */
  signal?: AbortSignal;
  /** no progress bars or log lines */
  quiet?: boolean;
}

/** What `train()` returns and writes to `<out>/result.json`. */
export interface TrainResult {
  experimentKey: string;
  monitor: string;
  best: { value: number; epoch: number; step: number } | null;
  final: { metrics: Record<string, number> };
  bestModelDir: string;
  lastCheckpointDir: string;
  /** epochs completed */
  epochs: number;
  backend: string;
  wallTimeSeconds: number;
  stoppedEarly: boolean;
  /** the run ended at its time budget (`train.max_minutes`) */
  timeBudgetReached?: boolean;
  /** lines whose label needed more CTC steps than the model outputs, over the whole run */
  labelsTooLong: number;
  steps: number;
  /** dataset/config/git hashes read at the start and the best-model folder's DVC md5 at the end */
  lineage: RunLineage;
}

/** Thrown when a run stops on SIGINT/SIGTERM (or `signal`) after writing its checkpoint. */
export class TrainInterrupted extends OcropsError {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    readonly checkpointDir: string,
  ) {
    super('OCROPS_TRAIN_INTERRUPTED', `training interrupted by ${signal}; checkpoint written to ${checkpointDir}`, {
      hint: 'continue with the same command and --resume',
    });
  }
}

/**
 * The fingerprint of what a checkpoint can resume with (stored as its `configHash`): the model, optimiser, batch
 * size, seed, sampling and data config of a train config, not its epochs, patience, decoding or tracking.
 */
export function configHash(cfg: TrainConfig): string {
  // options added later enter the fingerprint only when set, so checkpoints written before them still resume
  const { amsgrad, schedule, ...optim } = cfg.optim;
  const optimKey = {
    ...optim,
    ...(amsgrad ? { amsgrad } : {}),
    ...(schedule.type !== 'constant' || schedule.warmupSteps > 0 ? { schedule } : {}),
    ...(cfg.loss.reduction !== 'mean' ? { reduction: cfg.loss.reduction } : {}),
    ...(cfg.train.ema > 0 ? { ema: cfg.train.ema } : {}),
    ...(cfg.loss.labelSmoothing > 0 ? { labelSmoothing: cfg.loss.labelSmoothing } : {}),
  };
  const init = cfg.train.initFrom ? { initFrom: relativeToRoot(cfg.train.initFrom) } : {};
  const essential = {
    model: cfg.model,
    optim: optimKey,
    batchSize: cfg.train.batchSize,
    seed: cfg.train.seed,
    augment: cfg.train.augment,
    maxStepsPerEpoch: cfg.train.maxStepsPerEpoch,
    bucketWindow: cfg.train.bucketWindow,
    ...(cfg.train.repeatThreshold > 0 ? { repeatThreshold: cfg.train.repeatThreshold } : {}),
    ...(cfg.train.realRepeat !== 1 ? { realRepeat: cfg.train.realRepeat } : {}),
    data: relativeToRoot(cfg.data),
    ...(cfg.task !== 'ocr' ? { task: cfg.task } : {}),
    ...init,
  };
  return createHash('sha256').update(JSON.stringify(essential)).digest('hex').slice(0, 16);
}

function isBetter(value: number, best: number | undefined, mode: 'min' | 'max'): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === undefined) return true;
  return mode === 'min' ? value < best : value > best;
}

/** Saves the model folder atomically (temp folder + rename), with `files` (name -> contents) beside the weights. */
async function saveModelAtomic(
  model: TrainableModel,
  dir: string,
  meta: Record<string, unknown>,
  files: Record<string, string> = {},
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await model.save(tmp, meta);
  for (const [name, contents] of Object.entries(files)) writeFileSync(join(tmp, name), contents);
  replaceDir(tmp, dir);
}

/** Stop requests (SIGINT/SIGTERM when handled, `opts.signal`), acted on at the next safe point between steps. */
interface StopSignals {
  signal: 'SIGINT' | 'SIGTERM' | undefined;
  requested(): boolean;
  dispose(): void;
}

function watchStopSignals(opts: TrainOptions, log: (msg: string) => void): StopSignals {
  const stop: StopSignals = {
    signal: undefined,
    requested: () => Boolean(stop.signal) || Boolean(opts.signal?.aborted),
    dispose: () => {
      if (opts.handleSignals) {
        process.off('SIGINT', sigint);
        process.off('SIGTERM', sigterm);
      }
      opts.signal?.removeEventListener('abort', sigint);
    },
  };
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (stop.signal) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: give up at once
    stop.signal = sig;
    log(`\n${sig}: writing a checkpoint and ending the run...`);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  if (opts.handleSignals) {
    process.on('SIGINT', sigint);
    process.on('SIGTERM', sigterm);
  }
  opts.signal?.addEventListener('abort', sigint);
  return stop;
}

/** Everything one training session holds: config, task, model, optimiser, tracked run, loop state. */
interface Session {
  cfg: TrainConfig;
  opts: TrainOptions;
  log: (msg: string) => void;
  out: string;
  lastDir: string;
  bestCkptDir: string;
  bestModelDir: string;
  state: TrainState;
  backend: { name: string; detail?: string };
  task: TaskSession;
  model: TrainableModel;
  lineage: RunLineage;
  optimizer: tf.Optimizer;
  /** every model variable (checkpoints) and the trainable ones (the optimiser) */
  allVars: tf.Variable[];
  trainable: tf.Variable[];
  ema?: WeightAverage;
  run: TrackedRun;
  stop: StopSignals;
  /** batches per epoch */
  nBatches: number;
  lrOf(step: number): number;
  /** an lr schedule is configured (its lr is logged at every step) */
  scheduled: boolean;
  /** training wall time of the run over all its sessions, seconds */
  wall(): number;
  /** the time budget (`train.max_minutes`) is used up */
  overBudget(): boolean;
  timeBudgetReached: boolean;
}

/** The loop state of a new run, or the checkpoint's when resuming (same config fingerprint required). */
function startState(
  cfg: TrainConfig,
  resume: boolean,
  lastDir: string,
): { state: TrainState; restored?: ReturnType<typeof readCheckpoint> } {
  const hash = configHash(cfg);
  if (!resume) return { state: freshState(hash) };
  const restored = readCheckpoint(lastDir);
  const state = restored.state;
  if (state.configHash !== hash) {
    throw new OcropsError(
      'OCROPS_TRAIN_RESUME_MISMATCH',
      `cannot resume ${cfg.out}: the model, optimiser, batch size, seed or data config differ from the checkpoint's`,
      {
        hint: 'resume with the same config and --set values (only epochs and patience may change), or use a new --out',
      },
    );
  }
  // A finished run continues only if more epochs are asked for (and it did not stop early).
  state.finished = state.finished && (state.stoppedEarly || state.epoch >= cfg.train.epochs);
  return { state, restored };
}

/** Opens a session: backend, the task's data and model, optimiser (restored when resuming), tracked run. */
async function openSession(cfg: TrainConfig, opts: TrainOptions, stop: StopSignals): Promise<Session> {
  const log = (msg: string) => {
    if (!opts.quiet) process.stderr.write(`${msg}\n`);
  };
  const out = cfg.out;
  const lastDir = join(out, 'checkpoints', 'last');
  mkdirSync(out, { recursive: true });
  const { state, restored } = startState(cfg, Boolean(opts.resume), lastDir);

  const backend = await selectBackend({ prefer: cfg.backend, quiet: true });
  log(`backend: ${backend.name}${backend.detail ? ` (${backend.detail})` : ''}`);
  const task = await taskOf(cfg.task).open(cfg, {
    quiet: opts.quiet,
    seed: cfg.train.seed,
    labelsTooLong: state.labelsTooLong,
    log,
  });
  const lineage = await startLineage(task.dataDir, cfg.source);
  const model = task.model;
  // before the optimiser and the weight average see the weights; a resumed run takes its checkpoint's instead
  const init = cfg.train.initFrom && !restored ? await initFromSaved(cfg.train.initFrom, task, cfg.task) : undefined;
  if (init) log(describeInit(init));
  const optimizer = makeOptimizer(cfg.optim);
  // Checkpoints hold every variable (batch-norm running statistics too); the optimiser updates the trainable ones.
  const allVars = [...model.namedWeights().values()];
  const trainable = model.getWeights();
  const ema = cfg.train.ema > 0 ? new WeightAverage(trainable, cfg.train.ema) : undefined;
  if (restored) {
    assignWeights(allVars, restored.model, lastDir);
    await restoreOptimizer(
      optimizer,
      restored.optimizer.filter((t) => !WeightAverage.owns(t.name)),
    );
    ema?.restore(restored.optimizer, lastDir);
    log(`resuming ${relativeToRoot(out)} at epoch ${state.epoch + 1}, batch ${state.batchInEpoch}, step ${state.step}`);
  }
  const run = await openTrackedRun(cfg, opts, state, Boolean(restored), { backend, task, lineage, init });

  const perEpoch = Math.ceil(task.trainCount / cfg.train.batchSize);
  const nBatches = cfg.train.maxStepsPerEpoch > 0 ? Math.min(perEpoch, cfg.train.maxStepsPerEpoch) : perEpoch;
  const totalSteps = nBatches * cfg.train.epochs;
  state.plateau ??= freshPlateau();
  const sessionStart = Date.now();
  const baseWall = state.wallTimeSeconds;
  const wall = () => baseWall + (Date.now() - sessionStart) / 1000;
  // `horizon: time`: the schedule spans the steps that fit in the time budget at the pace so far
  const scheduleSpan = (step: number) =>
    cfg.optim.schedule.horizon === 'time'
      ? budgetSteps(step, wall(), cfg.train.maxMinutes * 60, totalSteps)
      : totalSteps;
  return {
    cfg,
    opts,
    log,
    out,
    lastDir,
    bestCkptDir: join(out, 'checkpoints', 'best'),
    bestModelDir: join(out, 'best'),
    state,
    backend,
    task,
    model,
    lineage,
    optimizer,
    allVars,
    trainable,
    ema,
    run,
    stop,
    nBatches,
    lrOf: (step) => lrAt(cfg.optim.schedule, cfg.optim.lr, step, scheduleSpan(step), state.plateau),
    scheduled: cfg.optim.schedule.type !== 'constant' || cfg.optim.schedule.warmupSteps > 0,
    wall,
    overBudget: () => cfg.train.maxMinutes > 0 && wall() >= cfg.train.maxMinutes * 60,
    timeBudgetReached: false,
  };
}

/** Opens (or continues) the tracked run; a new run logs its parameters, tags and environment. */
async function openTrackedRun(
  cfg: TrainConfig,
  opts: TrainOptions,
  state: TrainState,
  resumed: boolean,
  ctx: { backend: { name: string; detail?: string }; task: TaskSession; lineage: RunLineage; init?: InitReport },
): Promise<TrackedRun> {
  const run = opts.tracker ?? (await openRun(cfg.tracker, { name: cfg.name, experimentKey: state.experimentKey }));
  state.experimentKey = run.key;
  if (!resumed) {
    run.logParameters(flatParameters(cfg));
    if (opts.tags?.length) run.addTags(opts.tags);
    logEnvironment(run, {
      backend: ctx.backend.name,
      backend_detail: ctx.backend.detail ?? '',
      ...ctx.task.environment,
      out: relativeToRoot(cfg.out),
      ...(ctx.init
        ? { init_from: relativeToRoot(ctx.init.dir), init_from_weights: `${ctx.init.loaded}/${ctx.init.total}` }
        : {}),
    });
  } else {
    run.logOther('resumed_at_step', state.step);
  }
  for (const [k, v] of Object.entries(lineageOthers(ctx.lineage))) run.logOther(k, v);
  for (const [k, v] of Object.entries(opts.logOther ?? {})) run.logOther(k, v);
  return run;
}

/** The optimiser's tensors plus the weight average's (what checkpoints store besides the model). */
async function optimizerState(s: Session): Promise<Array<{ name: string; tensor: tf.Tensor }>> {
  return [...(await optimizerTensors(s.optimizer)), ...(s.ema?.tensors() ?? [])];
}

async function saveLast(s: Session): Promise<void> {
  s.state.wallTimeSeconds = s.wall();
  await writeCheckpoint(s.lastDir, { state: s.state, model: s.allVars, optimizer: await optimizerState(s) });
}

function endEvent(s: Session, status: EndEvent['status'], error?: string): EndEvent {
  const { state } = s;
  return {
    type: 'end',
    status,
    experimentKey: s.run.key,
    monitor: s.cfg.train.monitor,
    best: state.best,
    final: { metrics: state.history.at(-1)?.metrics ?? {} },
    epochs: state.history.length,
    resultPath: status === 'finished' || status === 'stopped_early' ? join(s.out, 'result.json') : undefined,
    error,
  };
}

/** Stops on a signal: checkpoint, end the tracked run, throw TrainInterrupted. */
async function interrupt(s: Session): Promise<never> {
  await saveLast(s);
  const sig = s.stop.signal ?? 'SIGINT';
  s.run.logOther('interrupted', `${sig} at step ${s.state.step}`);
  emitEvent(endEvent(s, 'interrupted'));
  await s.run.end();
  throw new TrainInterrupted(sig, s.lastDir);
}

/** One optimiser step on a batch. Returns the loss; the task tallies its counters from the training output. */
function trainStep(s: Session, batch: StepBatch, seed: number, where: () => string): number {
  const { cfg, model, optimizer, trainable } = s;
  return withSeededRandom(seed, () => {
    let logits: tf.Tensor | undefined;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(batch.images, batch.shape);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(x, true);
        logits = tf.keep(out);
        return batch.loss(out);
      }, trainable);
      let list = trainable.map((v) => grads[v.name]);
      if (cfg.optim.weightDecay > 0) list = list.map((g, i) => g.add(trainable[i].mul(cfg.optim.weightDecay)));
      const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
      // The CTC loss zeroes only impossible alignments (+Infinity, zeroInfinity) and lets NaN through; still check the
      // logits and the gradient norm too, so the error says where the divergence shows first.
      const lossValue = value.dataSync()[0];
      const logitsFinite = tf.all(tf.isFinite(logits as tf.Tensor)).dataSync()[0] === 1;
      const normValue = norm.dataSync()[0];
      if (!Number.isFinite(lossValue) || !logitsFinite || !Number.isFinite(normValue)) {
        const what = !Number.isFinite(lossValue)
          ? `training loss is ${lossValue}`
          : !logitsFinite
            ? 'model outputs (logits) hold NaN/Infinity'
            : `gradient norm is ${normValue}`;
        throw new OcropsError('OCROPS_TRAIN_NAN', `${what} at ${where()}`, {
          hint: "lower optim.lr, set optim.clip_norm (e.g. 5), lower optim.weight_decay, or check the batch's images and labels",
        });
      }
      if (cfg.optim.clipNorm > 0) {
        const scale = tf.minimum(1, tf.div(cfg.optim.clipNorm, tf.add(norm, 1e-6)));
        list = list.map((g) => g.mul(scale));
      }
      optimizer.applyGradients(trainable.map((v, i) => ({ name: v.name, tensor: list[i] })));
      return lossValue;
    });
    try {
      if (logits) batch.tally(logits, s.state.sums);
      return loss;
    } finally {
      logits?.dispose();
    }
  });
}

/** Adds a finished step to the epoch sums and the loop position; returns the epoch's training images/s so far. */
function countStep(s: Session, batch: StepBatch, loss: number, seconds: number): number {
  const { state } = s;
  const sums = state.sums;
  sums.lossSum += loss;
  sums.batches += 1;
  sums.samples += batch.size;
  sums.tooLong += batch.skipped;
  state.labelsTooLong += batch.skipped;
  sums.seconds += seconds;
  state.step += 1;
  state.batchInEpoch += 1;
  return sums.seconds > 0 ? sums.samples / sums.seconds : 0;
}

/**
 * What runs between steps as configured: step metrics (every `logEvery`, the lr of every step under a schedule),
 * a mid-epoch validation (`evalEvery`) and a `last` checkpoint (`checkpointEvery`). Returns whether it took time
 * that is not training (the step clock restarts).
 */
async function betweenSteps(s: Session, lr: number, ips: number): Promise<boolean> {
  const { cfg, state, run } = s;
  const at = { step: state.step, epoch: state.epoch + 1 };
  if (state.step % cfg.train.logEvery === 0) {
    run.logMetrics({ train_loss: state.sums.lossSum / state.sums.batches, lr, images_per_second: ips }, at);
  } else if (s.scheduled) {
    // a schedule's lr is logged at every step (the lr the step just used)
    run.logMetrics({ lr }, at);
  }
  let paused = false;
  if (
    cfg.train.evalEvery > 0 &&
    state.step % cfg.train.evalEvery === 0 &&
    state.batchInEpoch < s.nBatches &&
    s.task.valCount > 0
  ) {
    const m = await withAveraged(s.ema, () => s.task.validate({ shouldStop: s.stop.requested }));
    if (m) run.logMetrics(Object.fromEntries(s.task.stepEvalKeys.filter((k) => k in m).map((k) => [k, m[k]])), at);
    paused = true;
  }
  if (cfg.train.checkpointEvery > 0 && state.step % cfg.train.checkpointEvery === 0) {
    await saveLast(s);
    paused = true;
  }
  return paused;
}

/** Trains the rest of the current epoch (from `state.batchInEpoch`); stops early at the time budget. */
async function trainEpoch(s: Session): Promise<void> {
  const { cfg, state } = s;
  const epoch = state.epoch;
  const bar = new ProgressBar(`epoch ${epoch + 1}/${cfg.train.epochs}`, s.nBatches, {
    unit: 'batch',
    silent: s.opts.quiet,
  });
  bar.update(state.batchInEpoch);
  if (state.batchInEpoch < s.nBatches) {
    let t0 = Date.now();
    for await (const batch of s.task.trainBatches(epoch, state.batchInEpoch)) {
      if (state.batchInEpoch >= s.nBatches) break;
      if (s.overBudget()) {
        s.timeBudgetReached = true;
        break;
      }
      const b = state.batchInEpoch;
      const lr = s.lrOf(state.step);
      setLearningRate(s.optimizer, lr);
      const loss = trainStep(
        s,
        batch,
        hashSeed(cfg.train.seed, 'step', state.step),
        () =>
          `step ${state.step} (epoch ${epoch + 1}, batch ${b}: ${batch.ids.slice(0, 4).join(', ')}` +
          `${batch.ids.length > 4 ? ', ...' : ''})`,
      );
      s.ema?.update(state.step);
      const now = Date.now();
      const ips = countStep(s, batch, loss, (now - t0) / 1000);
      t0 = now;
      bar.tick(1, `loss ${(state.sums.lossSum / state.sums.batches).toFixed(4)} | ${ips.toFixed(1)} img/s`);
      if (await betweenSteps(s, lr, ips)) t0 = Date.now();
      // Let the event loop run (signal handlers, the tracker client's flush timers and heartbeats): the batch
      // reads and the step are synchronous, so without this nothing else would run until the epoch ends.
      await new Promise((r) => setImmediate(r));
      if (s.stop.requested()) await interrupt(s);
    }
  }
  bar.done();
}

/** The epoch's metrics: training sums, validation (with the averaged weights if any), lr and speed. */
async function epochMetrics(s: Session): Promise<Record<string, number>> {
  const { cfg, state } = s;
  const sums = state.sums;
  const metrics: Record<string, number> = {
    train_loss: sums.batches ? sums.lossSum / sums.batches : NaN,
    ...s.task.trainMetrics(sums),
  };
  if (s.task.valCount > 0) {
    const vbar = new ProgressBar('  validation', Math.min(s.task.valCount, cfg.train.maxValSamples || Infinity), {
      unit: s.task.unit,
      silent: s.opts.quiet,
    });
    const m = await withAveraged(s.ema, () => s.task.validate({ bar: vbar, shouldStop: s.stop.requested }));
    if (!m) await interrupt(s);
    vbar.done();
    Object.assign(metrics, m);
  }
  return Object.assign(metrics, {
    lr: s.lrOf(Math.max(state.step - 1, 0)),
    images_per_second: sums.seconds > 0 ? sums.samples / sums.seconds : 0,
    epoch_time: sums.seconds,
    ...s.task.epochExtras(sums),
  });
}

/** Saves the best model folder (averaged weights if any) and the `best` checkpoint. */
async function saveBest(s: Session, value: number, metrics: Record<string, number>): Promise<void> {
  const { cfg, state } = s;
  await withAveraged(s.ema, () =>
    saveModelAtomic(
      s.model,
      s.bestModelDir,
      {
        ...s.task.modelMeta(),
        task: cfg.task,
        epoch: state.epoch + 1,
        step: state.step,
        monitor: cfg.train.monitor,
        value,
        metrics,
        experimentKey: s.run.key,
        trainConfig: relativeToRoot(cfg.source),
        backend: s.backend.name,
        ...(s.ema ? { ema: cfg.train.ema } : {}),
      },
      s.task.modelFiles?.(),
    ),
  );
  await writeCheckpoint(s.bestCkptDir, { state, model: s.allVars, optimizer: await optimizerState(s) });
}

/** The end of an epoch: validation, logging, lr plateau, best model, early stopping, plots and the `last` checkpoint. */
async function endEpoch(s: Session): Promise<void> {
  const { cfg, state, run } = s;
  const epoch = state.epoch;
  const metrics = await epochMetrics(s);
  const record: EpochRecord = { epoch: epoch + 1, step: state.step, metrics };
  state.history.push(record);
  run.logMetrics(metrics, { step: state.step, epoch: epoch + 1 });
  s.log(
    `epoch ${epoch + 1}: ${Object.entries(metrics)
      .filter(([k]) => /loss|acc|cer|top/.test(k))
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join('  ')}  (${formatDuration(state.sums.seconds)})`,
  );

  const value = metrics[cfg.train.monitor];
  if (value === undefined) {
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${cfg.source}: train.monitor '${cfg.train.monitor}' is not a logged metric`,
      {
        hint: `use one of ${Object.keys(metrics).join(', ')}`,
      },
    );
  }
  if (
    cfg.optim.schedule.type === 'plateau' &&
    plateauEpochEnd(cfg.optim.schedule, state.plateau!, value, cfg.train.mode)
  ) {
    s.log(
      `${cfg.train.monitor} has not improved for ${cfg.optim.schedule.patience + 1} epoch(s): lr -> ${s.lrOf(state.step)}`,
    );
  }
  if (isBetter(value, state.best?.value, cfg.train.mode)) {
    state.best = { value, epoch: epoch + 1, step: state.step };
    state.badEpochs = 0;
    await saveBest(s, value, metrics);
  } else {
    state.badEpochs += 1;
  }
  state.epoch += 1;
  state.batchInEpoch = 0;
  state.sums = emptySums();
  let stop = cfg.train.patience > 0 && state.badEpochs >= cfg.train.patience;
  if (s.opts.onEpoch && (await s.opts.onEpoch({ ...record, experimentKey: run.key })) === 'stop') stop = true;
  if (stop) {
    state.stoppedEarly = true;
    s.log(
      `stopping early after epoch ${epoch + 1}: no ${cfg.train.monitor} improvement for ${state.badEpochs} epoch(s); ` +
        `best was epoch ${state.best?.epoch}`,
    );
  }
  if (!stop && (s.timeBudgetReached || s.overBudget())) {
    s.timeBudgetReached = true;
    s.log(`time budget of ${cfg.train.maxMinutes} minute(s) reached after epoch ${epoch + 1}`);
  }
  if (stop || s.timeBudgetReached || state.epoch >= cfg.train.epochs) state.finished = true;
  writeFileSync(join(s.out, 'plots.json'), JSON.stringify(plotRecords(state.history), null, 1));
  await saveLast(s);
  emitEvent({ type: 'epoch', epoch: epoch + 1, step: state.step, metrics, experimentKey: run.key });
  if (s.stop.requested()) await interrupt(s);
}

/** Puts the best weights back in the model (early stopping semantics) so in-process callers and reports get them. */
function restoreBest(s: Session): void {
  if (!s.state.best || !existsSync(join(s.bestCkptDir, 'state.json'))) return;
  const best = readCheckpoint(s.bestCkptDir);
  assignWeights(s.allVars, best.model, s.bestCkptDir);
  // with an average, the best model is the averaged weights (what validation scored and bestModelDir holds)
  if (s.ema) {
    s.ema.restore(best.optimizer, s.bestCkptDir);
    s.ema.swapIn();
  }
}

/** The end of a run: best weights, result.json, the task's reports, the tracked run's summary and assets. */
async function finishRun(s: Session): Promise<TrainResult> {
  const { cfg, state, run, lineage } = s;
  restoreBest(s);
  if (existsSync(s.bestModelDir)) lineage.modelMd5 = await folderMd5(s.bestModelDir);
  const result: TrainResult = {
    experimentKey: run.key,
    monitor: cfg.train.monitor,
    best: state.best,
    final: { metrics: state.history.at(-1)?.metrics ?? {} },
    bestModelDir: s.bestModelDir,
    lastCheckpointDir: s.lastDir,
    epochs: state.history.length,
    backend: s.backend.name,
    wallTimeSeconds: Math.round(s.wall() * 10) / 10,
    stoppedEarly: state.stoppedEarly,
    ...(s.timeBudgetReached ? { timeBudgetReached: true } : {}),
    labelsTooLong: state.labelsTooLong,
    steps: state.step,
    lineage,
  };
  writeFileSync(join(s.out, 'result.json'), JSON.stringify(result, null, 2));
  if (state.best) {
    run.logOther('best_epoch', state.best.epoch);
    run.logOther(`best_${cfg.train.monitor}`, state.best.value);
    if (lineage.modelMd5) run.logOther('model_md5', lineage.modelMd5);
    await run.logModel(cfg.name, s.bestModelDir);
  }
  await s.task.finish({ run, out: s.out, state, log: s.log, quiet: s.opts.quiet });
  await run.logAsset(join(s.out, 'result.json'), { name: 'result.json' });
  if (existsSync(join(s.out, 'plots.json'))) await run.logAsset(join(s.out, 'plots.json'), { name: 'plots.json' });
  emitEvent(endEvent(s, state.stoppedEarly ? 'stopped_early' : 'finished'));
  await run.end();
  s.log(
    `done: best ${cfg.train.monitor} ${state.best?.value.toFixed(4) ?? '-'} at epoch ${state.best?.epoch ?? '-'}; ` +
      `model in ${relativeToRoot(s.bestModelDir)}; experiment ${run.key}`,
  );
  return result;
}

/** Ends the tracked run as crashed (unless interrupted: that already ended it). */
async function failRun(s: Session, err: unknown): Promise<void> {
  if (err instanceof TrainInterrupted) return;
  emitEvent(endEvent(s, 'failed', (err as Error).message));
  try {
    await s.run.end({ crashed: true, error: (err as Error).message });
  } catch {
    // the original error matters more
  }
}

/**
 * Trains a model as the config says (any task). Writes `<out>/checkpoints/{last,best}`, `<out>/best/` (model folder),
 * `<out>/plots.json` (per-epoch records) and `<out>/result.json`, and tracks the run.
 */
export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const stop = watchStopSignals(opts, (msg) => {
    if (!opts.quiet) process.stderr.write(`${msg}\n`);
  });
  let s: Session | undefined;
  try {
    s = await openSession(cfg, opts, stop);
    while (!s.state.finished && s.state.epoch < cfg.train.epochs) {
      await trainEpoch(s);
      await endEpoch(s);
    }
    return await finishRun(s);
  } catch (err) {
    if (s) await failRun(s, err);
    throw err;
  } finally {
    stop.dispose();
    s?.optimizer.dispose();
    s?.ema?.dispose();
    s?.model.dispose();
  }
}

/** Runs `fn` with the averaged weights in the model (if averaging), then puts the trained weights back. */
async function withAveraged<T>(ema: WeightAverage | undefined, fn: () => Promise<T>): Promise<T> {
  if (!ema) return fn();
  ema.swapIn();
  try {
    return await fn();
  } finally {
    ema.swapOut();
  }
}

/** Per-epoch records flattened for `dvc plots show`: `[{epoch, step, train_loss, val_loss, ...}]`. */
export function plotRecords(history: EpochRecord[]): Array<Record<string, number>> {
  return history.map((h) => ({ epoch: h.epoch, step: h.step, ...h.metrics }));
}
