// The training loop: seeded, checkpointed, resumable, tracked.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, ProgressBar, formatDuration, replaceDir } from '@ocrops/common';
import {
  batches, loadDataConfig, openPrepared, prepare, type Charset, type DataConfig, type PreparedDataset,
} from '@ocrops/data';
import { accByChar, createModel, ctcLoss, readModelConfig, selectBackend, type ModelConfig, type OcrModel } from '@ocrops/model';
import {
  assignWeights, emptySums, freshState, optimizerTensors, readCheckpoint, restoreOptimizer, writeCheckpoint,
  type EpochRecord, type TrainState,
} from './checkpoint.js';
import { flatParameters, relativeToRoot, type TrainConfig } from './config.js';
import { decodeLogits, evaluateSplit } from './evaluate-split.js';
import { emitEvent, type EndEvent } from './events.js';
import { encodeLabels, frameLengths, labelsTooLong } from './labels.js';
import { hashSeed, withSeededRandom } from './rng.js';
import { folderMd5, lineageOthers, startLineage, type RunLineage } from './lineage.js';
import { WeightAverage } from './ema.js';
import { makeOptimizer, setLearningRate } from './optimizers.js';
import { freshPlateau, lrAt, plateauEpochEnd } from './schedule.js';
import { logEnvironment, openRun, type TrackedRun } from './tracking.js';

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

/** Validates the inline model section with @ocrops/model's reader (errors name the config file). */
export function modelConfigOf(cfg: TrainConfig): ModelConfig {
  return readModelConfig(cfg.model, `${cfg.modelSource ?? cfg.source} (model)`);
}

/** Opens the prepared dataset of a train config, preparing it first when its folder does not exist yet. */
export async function openTrainData(
  cfg: TrainConfig,
  opts: { quiet?: boolean } = {},
): Promise<{ data: PreparedDataset; dataCfg: DataConfig }> {
  const dataCfg = loadDataConfig(cfg.data);
  const dir = cfg.prepared ?? dataCfg.output;
  if (!existsSync(join(dir, 'meta.json')) && !existsSync(join(dir, 'stats.json'))) {
    if (cfg.prepared) {
      throw new OcropsError('OCROPS_TRAIN_DATA', `prepared dataset ${cfg.prepared} does not exist`, {
        hint: `run: ocrops data prepare --config ${relativeToRoot(cfg.data)}`,
      });
    }
    if (!opts.quiet) process.stderr.write(`preparing ${relativeToRoot(cfg.data)} into ${relativeToRoot(dir)}\n`);
    const report = await prepare(dataCfg, { progress: !opts.quiet });
    if (report.skipped.length > 0 && !opts.quiet) process.stderr.write(`prepare skipped ${report.skipped.length} item(s); see ${relativeToRoot(dir)}/stats.json\n`);
  }
  return { data: await openPrepared(dir), dataCfg };
}

function configHash(cfg: TrainConfig): string {
  // options added later enter the fingerprint only when set, so checkpoints written before them still resume
  const { amsgrad, schedule, ...optim } = cfg.optim;
  const optimKey = {
    ...optim,
    ...(amsgrad ? { amsgrad } : {}),
    ...(schedule.type !== 'constant' || schedule.warmupSteps > 0 ? { schedule } : {}),
    ...(cfg.loss.reduction !== 'mean' ? { reduction: cfg.loss.reduction } : {}),
    ...(cfg.train.ema > 0 ? { ema: cfg.train.ema } : {}),
  };
  const essential = { model: cfg.model, optim: optimKey, batchSize: cfg.train.batchSize, seed: cfg.train.seed,
    augment: cfg.train.augment, maxStepsPerEpoch: cfg.train.maxStepsPerEpoch, bucketWindow: cfg.train.bucketWindow,
    data: relativeToRoot(cfg.data) };
  return createHash('sha256').update(JSON.stringify(essential)).digest('hex').slice(0, 16);
}

function isBetter(value: number, best: number | undefined, mode: 'min' | 'max'): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === undefined) return true;
  return mode === 'min' ? value < best : value > best;
}

/** Saves the model folder atomically (temp folder + rename). */
async function saveModelAtomic(model: OcrModel, dir: string, meta: Record<string, unknown>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await model.save(tmp, meta);
  replaceDir(tmp, dir);
}

/** One optimiser step on a batch. Returns the loss and the decoded training predictions. */
function trainStep(
  model: OcrModel,
  optimizer: tf.Optimizer,
  trainable: tf.Variable[],
  images: Float32Array,
  shape: [number, number, number, number],
  encoded: number[][],
  lengths: number[],
  cfg: TrainConfig,
  charset: Charset,
  seed: number,
  where: () => string,
): { loss: number; texts: string[] } {
  return withSeededRandom(seed, () => {
    let logits: tf.Tensor3D | undefined;
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(images, shape);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(x, true);
        logits = tf.keep(out);
        return ctcLossOf(out, encoded, lengths, cfg.loss.reduction);
      }, trainable);
      let list = trainable.map((v) => grads[v.name]);
      if (cfg.optim.weightDecay > 0) list = list.map((g, i) => g.add(trainable[i].mul(cfg.optim.weightDecay)));
      const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
      // The CTC loss zeroes only impossible alignments (+Infinity, zeroInfinity) and lets NaN through; still check the
      // logits and the gradient norm too, so the error says where the divergence shows first.
      const lossValue = value.dataSync()[0];
      const logitsFinite = tf.all(tf.isFinite(logits as tf.Tensor3D)).dataSync()[0] === 1;
      const normValue = norm.dataSync()[0];
      if (!Number.isFinite(lossValue) || !logitsFinite || !Number.isFinite(normValue)) {
        const what = !Number.isFinite(lossValue) ? `training loss is ${lossValue}`
          : !logitsFinite ? 'model outputs (logits) hold NaN/Infinity' : `gradient norm is ${normValue}`;
        throw new OcropsError('OCROPS_TRAIN_NAN', `${what} at ${where()}`, {
          hint: 'lower optim.lr, set optim.clip_norm (e.g. 5), lower optim.weight_decay, or check the batch\'s images and labels',
        });
      }
      if (cfg.optim.clipNorm > 0) {
        const scale = tf.minimum(1, tf.div(cfg.optim.clipNorm, tf.add(norm, 1e-6)));
        list = list.map((g) => g.mul(scale));
      }
      optimizer.applyGradients(trainable.map((v, i) => ({ name: v.name, tensor: list[i] })));
      return lossValue;
    });
    const l = logits as tf.Tensor3D | undefined;
    try {
      const texts = l ? decodeLogits(l, charset, { method: 'greedy', beamWidth: 1 }, lengths).texts : [];
      return { loss, texts };
    } finally {
      l?.dispose();
    }
  });
}

/**
 * CTC loss as trained here: zeroInfinity, each line over its own frames; `mean` (the reference recipe's setup: per-line loss
 * over label length, batch-averaged) or `sum` (the Synth90k CRNN recipe).
 */
export function ctcLossOf(
  logits: tf.Tensor3D, encoded: number[][], lengths: number[], reduction: 'mean' | 'sum' = 'mean',
): tf.Scalar {
  return ctcLoss(logits, encoded, { zeroInfinity: true, reduction, inputLengths: lengths });
}

/**
 * Trains a model as the config says. Writes `<out>/checkpoints/{last,best}`, `<out>/best/` (model folder),
 * `<out>/plots.json` (per-epoch records) and `<out>/result.json`, and tracks the run.
 */
export async function train(cfg: TrainConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const log = (msg: string) => {
    if (!opts.quiet) process.stderr.write(`${msg}\n`);
  };
  const out = cfg.out;
  const lastDir = join(out, 'checkpoints', 'last');
  const bestCkptDir = join(out, 'checkpoints', 'best');
  const bestModelDir = join(out, 'best');
  mkdirSync(out, { recursive: true });

  const hash = configHash(cfg);
  let state: TrainState = freshState(hash);
  let restored: ReturnType<typeof readCheckpoint> | undefined;
  if (opts.resume) {
    restored = readCheckpoint(lastDir);
    state = restored.state;
    if (state.configHash !== hash) {
      throw new OcropsError(
        'OCROPS_TRAIN_RESUME_MISMATCH',
        `cannot resume ${out}: the model, optimiser, batch size, seed or data config differ from the checkpoint's`,
        { hint: 'resume with the same config and --set values (only epochs and patience may change), or use a new --out' },
      );
    }
    // A finished run continues only if more epochs are asked for (and it did not stop early).
    state.finished = state.finished && (state.stoppedEarly || state.epoch >= cfg.train.epochs);
  }

  const backend = await selectBackend({ prefer: cfg.backend, quiet: true });
  log(`backend: ${backend.name}${backend.detail ? ` (${backend.detail})` : ''}`);
  const { data, dataCfg } = await openTrainData(cfg, opts);
  const charset = data.charset;
  const lineage = await startLineage(data.dir, cfg.source);
  const modelCfg = modelConfigOf(cfg);
  if (modelCfg.height !== data.height || modelCfg.channels !== data.channels) {
    throw new OcropsError(
      'OCROPS_TRAIN_INPUT_MISMATCH',
      `model expects height ${modelCfg.height} x ${modelCfg.channels} channel(s) but ${relativeToRoot(data.dir)} holds ` +
        `height ${data.height} x ${data.channels}`,
      { hint: 'set model.height/model.channels (e.g. --set model.height=' + data.height + ') or change the data config' },
    );
  }
  const trainSplit = data.splits.train;
  const valSplit = data.splits.val;
  if (!trainSplit || trainSplit.count === 0) {
    throw new OcropsError('OCROPS_TRAIN_DATA', `${relativeToRoot(data.dir)} has no training lines`, {
      hint: 'check the data config split shares and the prepare report',
    });
  }
  if (cfg.train.monitor.startsWith('val_') && (!valSplit || valSplit.count === 0)) {
    throw new OcropsError('OCROPS_TRAIN_DATA', `${relativeToRoot(data.dir)} has no validation lines to compute ${cfg.train.monitor}`, {
      hint: 'give the data config a val share, or set train.monitor to a train_* metric',
    });
  }

  const model = createModel(modelCfg, charset.numClasses, { seed: cfg.train.seed });
  const optimizer = makeOptimizer(cfg.optim);
  // Checkpoints hold every variable (batch-norm running statistics too); the optimiser updates the trainable ones.
  const allVars = [...model.namedWeights().values()];
  const trainable = model.getWeights();
  const ema = cfg.train.ema > 0 ? new WeightAverage(trainable, cfg.train.ema) : undefined;
  if (restored) {
    assignWeights(allVars, restored.model, lastDir);
    await restoreOptimizer(optimizer, restored.optimizer.filter((t) => !WeightAverage.owns(t.name)));
    ema?.restore(restored.optimizer, lastDir);
    log(`resuming ${relativeToRoot(out)} at epoch ${state.epoch + 1}, batch ${state.batchInEpoch}, step ${state.step}`);
  }

  const run = opts.tracker ?? (await openRun(cfg.tracker, {
    name: cfg.name, experimentKey: state.experimentKey,
  }));
  state.experimentKey = run.key;
  if (!restored) {
    run.logParameters(flatParameters(cfg));
    if (opts.tags?.length) run.addTags(opts.tags);
    logEnvironment(run, {
      backend: backend.name, backend_detail: backend.detail ?? '', train_lines: trainSplit.count,
      val_lines: valSplit?.count ?? 0, num_classes: charset.numClasses, out: relativeToRoot(out),
    });
  } else {
    run.logOther('resumed_at_step', state.step);
  }
  for (const [k, v] of Object.entries(lineageOthers(lineage))) run.logOther(k, v);
  for (const [k, v] of Object.entries(opts.logOther ?? {})) run.logOther(k, v);

  const perEpoch = Math.ceil(trainSplit.count / cfg.train.batchSize);
  const nBatches = cfg.train.maxStepsPerEpoch > 0 ? Math.min(perEpoch, cfg.train.maxStepsPerEpoch) : perEpoch;
  const totalSteps = nBatches * cfg.train.epochs;
  state.plateau ??= freshPlateau();
  const lrOf = (step: number) => lrAt(cfg.optim.schedule, cfg.optim.lr, step, totalSteps, state.plateau);
  const scheduled = cfg.optim.schedule.type !== 'constant' || cfg.optim.schedule.warmupSteps > 0;
  const augment = cfg.train.augment ? dataCfg.augment : false;
  const sessionStart = Date.now();
  const baseWall = state.wallTimeSeconds;
  const wall = () => baseWall + (Date.now() - sessionStart) / 1000;

  // Signals: remember the request, act on it at the next safe point (between steps).
  let stopSignal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143); // second signal: give up at once
    stopSignal = sig;
    log(`\n${sig}: writing a checkpoint and ending the run...`);
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  if (opts.handleSignals) {
    process.on('SIGINT', sigint);
    process.on('SIGTERM', sigterm);
  }
  const abort = () => onSignal('SIGINT');
  opts.signal?.addEventListener('abort', abort);
  const stopRequested = () => Boolean(stopSignal) || Boolean(opts.signal?.aborted);

  const optimizerState = async () => [...(await optimizerTensors(optimizer)), ...(ema?.tensors() ?? [])];
  const saveLast = async () => {
    state.wallTimeSeconds = wall();
    await writeCheckpoint(lastDir, { state, model: allVars, optimizer: await optimizerState() });
  };
  const interrupt = async (): Promise<never> => {
    await saveLast();
    const sig = stopSignal ?? 'SIGINT';
    run.logOther('interrupted', `${sig} at step ${state.step}`);
    emitEvent(endEvent('interrupted'));
    await run.end();
    throw new TrainInterrupted(sig, lastDir);
  };
  const endEvent = (status: EndEvent['status'], error?: string): EndEvent => ({
    type: 'end', status, experimentKey: run.key, monitor: cfg.train.monitor, best: state.best,
    final: { metrics: state.history.at(-1)?.metrics ?? {} }, epochs: state.history.length,
    resultPath: status === 'finished' || status === 'stopped_early' ? join(out, 'result.json') : undefined, error,
  });
  const evalOpts = (bar?: ProgressBar) => ({
    batchSize: cfg.train.batchSize, decode: cfg.decode, maxSamples: cfg.train.maxValSamples,
    shouldStop: stopRequested, onBatch: (n: number) => bar?.update(n),
  });

  try {
    while (!state.finished && state.epoch < cfg.train.epochs) {
      const epoch = state.epoch;
      const bar = new ProgressBar(`epoch ${epoch + 1}/${cfg.train.epochs}`, nBatches, { unit: 'batch', silent: opts.quiet });
      bar.update(state.batchInEpoch);
      if (state.batchInEpoch < nBatches) {
        const iter = batches(trainSplit, {
          batchSize: cfg.train.batchSize, shuffle: true, seed: hashSeed(cfg.train.seed, 'epoch', epoch),
          augment, startBatch: state.batchInEpoch, bucketWindow: cfg.train.bucketWindow,
        });
        let t0 = Date.now();
        for await (const batch of iter) {
          if (state.batchInEpoch >= nBatches) break;
          const b = state.batchInEpoch;
          const encoded = encodeLabels(batch.labels, batch.ids, charset);
          const lengths = frameLengths(model, batch.widths, batch.shape[2]);
          const tooLong = labelsTooLong(encoded, lengths);
          if (tooLong.length > 0 && state.labelsTooLong === 0) {
            const i = tooLong[0];
            log(`warning: ${tooLong.length} label(s) need more CTC steps than their image gives (e.g. ${batch.ids[i]}: ` +
              `${encoded[i].length} characters, T=${lengths[i]}); ` +
              'their loss is zeroed (counted in labels_too_long)');
          }
          const lr = lrOf(state.step);
          setLearningRate(optimizer, lr);
          const { loss, texts } = trainStep(
            model, optimizer, trainable, batch.images, batch.shape, encoded, lengths, cfg, charset,
            hashSeed(cfg.train.seed, 'step', state.step),
            () => `step ${state.step} (epoch ${epoch + 1}, batch ${b}: ${batch.ids.slice(0, 4).join(', ')}` +
              `${batch.ids.length > 4 ? ', ...' : ''})`,
          );
          ema?.update(state.step);
          const s = state.sums;
          s.lossSum += loss;
          s.batches += 1;
          s.samples += batch.labels.length;
          s.tooLong += tooLong.length;
          state.labelsTooLong += tooLong.length;
          texts.forEach((p, i) => {
            s.charAccSum += accByChar(p, batch.labels[i]);
            if (p.normalize('NFC') === batch.labels[i].normalize('NFC')) s.fieldCorrect += 1;
          });
          const now = Date.now();
          s.seconds += (now - t0) / 1000;
          t0 = now;
          state.step += 1;
          state.batchInEpoch += 1;
          const ips = s.seconds > 0 ? s.samples / s.seconds : 0;
          bar.tick(1, `loss ${(s.lossSum / s.batches).toFixed(4)} | ${ips.toFixed(1)} img/s`);
          if (state.step % cfg.train.logEvery === 0) {
            run.logMetrics(
              { train_loss: s.lossSum / s.batches, lr, images_per_second: ips },
              { step: state.step, epoch: epoch + 1 },
            );
          } else if (scheduled) {
            // a schedule's lr is logged at every step (the lr the step just used)
            run.logMetrics({ lr }, { step: state.step, epoch: epoch + 1 });
          }
          if (cfg.train.evalEvery > 0 && state.step % cfg.train.evalEvery === 0 && state.batchInEpoch < nBatches && valSplit) {
            const r = await withAveraged(ema, () => evaluateSplit(model, valSplit, charset, evalOpts()));
            if (r) {
              run.logMetrics(
                { val_loss: r.metrics.loss, val_acc_by_char: r.metrics.acc_by_char, val_acc_by_field: r.metrics.acc_by_field,
                  val_cer: r.metrics.cer },
                { step: state.step, epoch: epoch + 1 },
              );
            }
            t0 = Date.now();
          }
          if (cfg.train.checkpointEvery > 0 && state.step % cfg.train.checkpointEvery === 0) {
            await saveLast();
            t0 = Date.now();
          }
          // Let the event loop run (signal handlers, the tracker client's flush timers and heartbeats): the batch
          // reads and the step are synchronous, so without this nothing else would run until the epoch ends.
          await new Promise((r) => setImmediate(r));
          if (stopRequested()) await interrupt();
        }
      }
      bar.done();

      // End of epoch: validation, logging, best model, early stopping.
      const s = state.sums;
      const metrics: Record<string, number> = {
        train_loss: s.batches ? s.lossSum / s.batches : NaN,
        train_acc_by_char: s.samples ? s.charAccSum / s.samples : 0,
        train_acc_by_field: s.samples ? s.fieldCorrect / s.samples : 0,
      };
      if (valSplit && valSplit.count > 0) {
        const vbar = new ProgressBar('  validation', Math.min(valSplit.count, cfg.train.maxValSamples || Infinity), {
          unit: 'line', silent: opts.quiet,
        });
        const r = await withAveraged(ema, () => evaluateSplit(model, valSplit, charset, evalOpts(vbar)));
        if (!r) await interrupt();
        vbar.done();
        const m = r!.metrics;
        Object.assign(metrics, {
          val_loss: m.loss, val_acc_by_char: m.acc_by_char, val_acc_by_field: m.acc_by_field, val_cer: m.cer, val_wer: m.wer,
        });
      }
      Object.assign(metrics, {
        lr: lrOf(Math.max(state.step - 1, 0)),
        images_per_second: s.seconds > 0 ? s.samples / s.seconds : 0,
        epoch_time: s.seconds,
        labels_too_long: s.tooLong,
      });
      const record: EpochRecord = { epoch: epoch + 1, step: state.step, metrics };
      state.history.push(record);
      run.logMetrics(metrics, { step: state.step, epoch: epoch + 1 });
      log(`epoch ${epoch + 1}: ${Object.entries(metrics).filter(([k]) => /loss|acc|cer/.test(k))
        .map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}  (${formatDuration(s.seconds)})`);

      const value = metrics[cfg.train.monitor];
      if (value === undefined) {
        throw new OcropsError('OCROPS_CONFIG_INVALID', `${cfg.source}: train.monitor '${cfg.train.monitor}' is not a logged metric`, {
          hint: `use one of ${Object.keys(metrics).join(', ')}`,
        });
      }
      if (cfg.optim.schedule.type === 'plateau' && plateauEpochEnd(cfg.optim.schedule, state.plateau!, value, cfg.train.mode)) {
        log(`${cfg.train.monitor} has not improved for ${cfg.optim.schedule.patience + 1} epoch(s): lr -> ${lrOf(state.step)}`);
      }
      if (isBetter(value, state.best?.value, cfg.train.mode)) {
        state.best = { value, epoch: epoch + 1, step: state.step };
        state.badEpochs = 0;
        await withAveraged(ema, () => saveModelAtomic(model, bestModelDir, {
          charset: charset.toJSON(), epoch: epoch + 1, step: state.step, monitor: cfg.train.monitor, value, metrics,
          experimentKey: run.key, trainConfig: relativeToRoot(cfg.source), backend: backend.name, decode: cfg.decode,
          ...(ema ? { ema: cfg.train.ema } : {}),
        }));
        await writeCheckpoint(bestCkptDir, { state, model: allVars, optimizer: await optimizerState() });
      } else {
        state.badEpochs += 1;
      }
      state.epoch += 1;
      state.batchInEpoch = 0;
      state.sums = emptySums();
      let stop = cfg.train.patience > 0 && state.badEpochs >= cfg.train.patience;
      if (opts.onEpoch && (await opts.onEpoch({ ...record, experimentKey: run.key })) === 'stop') stop = true;
      if (stop) {
        state.stoppedEarly = true;
        log(`stopping early after epoch ${epoch + 1}: no ${cfg.train.monitor} improvement for ${state.badEpochs} epoch(s); ` +
          `best was epoch ${state.best?.epoch}`);
      }
      if (stop || state.epoch >= cfg.train.epochs) state.finished = true;
      writeFileSync(join(out, 'plots.json'), JSON.stringify(plotRecords(state.history), null, 1));
      await saveLast();
      emitEvent({ type: 'epoch', epoch: epoch + 1, step: state.step, metrics, experimentKey: run.key });
      if (stopRequested()) await interrupt();
    }

    // Restore the best weights (early stopping semantics) so in-process callers get the best model.
    if (state.best && existsSync(join(bestCkptDir, 'state.json'))) {
      const best = readCheckpoint(bestCkptDir);
      assignWeights(allVars, best.model, bestCkptDir);
      // with an average, the best model is the averaged weights (what validation scored and bestModelDir holds)
      if (ema) {
        ema.restore(best.optimizer, bestCkptDir);
        ema.swapIn();
      }
    }
    if (existsSync(bestModelDir)) lineage.modelMd5 = await folderMd5(bestModelDir);
    const result: TrainResult = {
      experimentKey: run.key,
      monitor: cfg.train.monitor,
      best: state.best,
      final: { metrics: state.history.at(-1)?.metrics ?? {} },
      bestModelDir,
      lastCheckpointDir: lastDir,
      epochs: state.history.length,
      backend: backend.name,
      wallTimeSeconds: Math.round(wall() * 10) / 10,
      stoppedEarly: state.stoppedEarly,
      labelsTooLong: state.labelsTooLong,
      steps: state.step,
      lineage,
    };
    writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 2));
    if (state.best) {
      run.logOther('best_epoch', state.best.epoch);
      run.logOther(`best_${cfg.train.monitor}`, state.best.value);
      if (lineage.modelMd5) run.logOther('model_md5', lineage.modelMd5);
      await run.logModel(cfg.name, bestModelDir);
    }
    run.logOther('labels_too_long', state.labelsTooLong);
    await run.logAsset(join(out, 'result.json'), { name: 'result.json' });
    if (existsSync(join(out, 'plots.json'))) await run.logAsset(join(out, 'plots.json'), { name: 'plots.json' });
    emitEvent(endEvent(state.stoppedEarly ? 'stopped_early' : 'finished'));
    await run.end();
    log(`done: best ${cfg.train.monitor} ${state.best?.value.toFixed(4) ?? '-'} at epoch ${state.best?.epoch ?? '-'}; ` +
      `model in ${relativeToRoot(bestModelDir)}; experiment ${run.key}`);
    return result;
  } catch (err) {
    if (!(err instanceof TrainInterrupted)) {
      emitEvent(endEvent('failed', (err as Error).message));
      try {
        await run.end({ crashed: true, error: (err as Error).message });
      } catch {
        // the original error matters more
      }
    }
    throw err;
  } finally {
    if (opts.handleSignals) {
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
    }
    opts.signal?.removeEventListener('abort', abort);
    optimizer.dispose();
    ema?.dispose();
    model.dispose();
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
