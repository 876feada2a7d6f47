// The OCR task: text lines, CRNN + CTC, metrics acc_by_char / acc_by_field / CER / WER, greedy or beam decoding.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import {
  batches,
  epochLines,
  loadDataConfig,
  openPrepared,
  prepare,
  repeatFactors,
  repeatedLength,
  type Charset,
  type DataConfig,
  type PreparedDataset,
  type PreparedSplit,
} from '@ocrops/data';
import {
  CharNgramLm,
  GREEDY_DECODING,
  LM_FILE,
  accByChar,
  lmGroupsProblem,
  createModel,
  ctcLoss,
  readModelConfig,
  readTaskModelConfig,
  type ClassifierConfig,
  type CtcDecoding,
  type ModelConfig,
} from '@ocrops/model';
import type { EpochSums } from '../checkpoint.js';
import { ctcDecodingOf, relativeToRoot, type TrainConfig } from '../config.js';
import { decodeLogits, evaluateSplit } from '../evaluate-split.js';
import { encodeLabels, frameLengths, labelsTooLong } from '../labels.js';
import { hashSeed } from '../rng.js';
import { sameList } from '../init-from.js';
import type { StepBatch, Task, TaskSession } from './task.js';

/** Validates the inline OCR model section with @ocrops/model's reader (errors name the config file). */
export function modelConfigOf(cfg: TrainConfig): ModelConfig {
  return readModelConfig(cfg.model, `${cfg.modelSource ?? cfg.source} (model)`);
}

/** Validates the model section of a train config of either task (a classifier's for `task: classify`). */
export function taskModelConfigOf(cfg: TrainConfig): ModelConfig | ClassifierConfig {
  return readTaskModelConfig(cfg.model, `${cfg.modelSource ?? cfg.source} (model)`, cfg.task);
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
    if (report.skipped.length > 0 && !opts.quiet)
      process.stderr.write(`prepare skipped ${report.skipped.length} item(s); see ${relativeToRoot(dir)}/stats.json\n`);
  }
  return { data: await openPrepared(dir), dataCfg };
}

/**
 * CTC loss as trained here: zeroInfinity, each line over its own frames; `mean` (the reference recipe's setup: per-line loss
 * over label length, batch-averaged) or `sum` (the Synth90k CRNN recipe).
 */
export function ctcLossOf(
  logits: tf.Tensor3D,
  encoded: number[][],
  lengths: number[],
  reduction: 'mean' | 'sum' = 'mean',
): tf.Scalar {
  return ctcLoss(logits, encoded, { zeroInfinity: true, reduction, inputLengths: lengths });
}

/**
 * The repeat factors of the training lines when `train.repeat_threshold` (rare characters drawn more often) or
 * `train.real_repeat` (read lines drawn more often than generated ones) is set.
 */
function repeatsOf(cfg: TrainConfig, split: PreparedSplit, log: (msg: string) => void): Float64Array | undefined {
  const { repeatThreshold: t, realRepeat: k } = cfg.train;
  if (!(t > 0) && k === 1) return undefined;
  const repeats = repeatFactors(split.labels, t);
  if (t > 0) {
    const above = repeats.filter((r) => r > 1);
    log(
      `repeat-factor sampling (threshold ${t}): ${above.length} of ${split.count} training lines have a factor above ` +
        `1 (up to ${above.reduce((m, r) => Math.max(m, r), 1).toFixed(2)})`,
    );
  }
  if (k !== 1) weighReadLines(repeats, split, k, log);
  log(`${repeatedLength(repeats)} training lines per epoch (${split.count} in the split)`);
  return repeats;
}

/**
 * Multiplies the factors of a split's read lines (those before its generated ones) by `train.real_repeat`.
 * @throws OcropsError OCROPS_TRAIN_DATA when the split does not mix read and generated lines
 */
function weighReadLines(repeats: Float64Array, split: PreparedSplit, k: number, log: (msg: string) => void): void {
  const read = split.count - split.generated;
  if (split.generated === 0 || read === 0) {
    throw new OcropsError(
      'OCROPS_TRAIN_DATA',
      `train.real_repeat: the training split ${relativeToRoot(split.dir)} holds ${read === 0 ? 'only generated' : 'no generated'} lines, so there is nothing to weigh its read lines against`,
      {
        hint:
          read === 0
            ? 'real_repeat weighs a read set against its synthetic.mix_train lines; drop it for format: synthetic'
            : 'give the data config synthetic.mix_train > 0 (or prepare it again: sets prepared before ocrops recorded generated lines count as none), or drop train.real_repeat',
      },
    );
  }
  for (let i = 0; i < read; i++) repeats[i] *= k;
  log(`read lines drawn ${k}x: ${read} read and ${split.generated} generated training lines`);
}

/** The character language model a decoding asks for, estimated from the training split's labels. */
function trainingLm(
  decoding: CtcDecoding,
  groups: readonly string[],
  split: PreparedSplit,
  log: (msg: string) => void,
): CharNgramLm | undefined {
  if (!decoding.lm) return undefined;
  const lm = CharNgramLm.estimate(
    split.labels.map((l) => split.charset.encode(l)),
    decoding.lm.order,
    split.charset.numClasses,
    lmGroupIds(groups, split.charset),
  );
  log(
    `language model: ${lm.order}-gram over the ${split.count} training lines, weight ${decoding.lm.weight}, ` +
      `bonus ${decoding.lm.bonus}${groups.length ? `, groups ${groups.join(' ')}` : ''} (saved with the model as ${LM_FILE})`,
  );
  return lm;
}

/**
 * The class ids of the `decode.lm.groups` entries (each without repeats).
 * @throws OcropsError OCROPS_CONFIG_INVALID when a character is not in the charset, a group has fewer than 2
 * distinct characters, or two groups share one
 */
function lmGroupIds(groups: readonly string[], charset: Charset): number[][] {
  const field = (i: number) => `decode.lm.groups[${i}] ('${groups[i]}')`;
  const ids = groups.map((group, i) => {
    const missing = charset.missing(group);
    if (missing.length) {
      throw new OcropsError(
        'OCROPS_CONFIG_INVALID',
        `${field(i)}: ${missing.map((c) => `'${c}'`).join(', ')} not in the dataset's charset`,
        { hint: 'list only characters the model reads (its charset), or drop the group' },
      );
    }
    return [...new Set(charset.encode(group))];
  });
  const problem = lmGroupsProblem(ids, charset.numClasses, field);
  if (problem) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', problem, {
      hint: "list each group's interchangeable characters once, e.g. '0123456789', and a character in one group only",
    });
  }
  return ids;
}

async function openOcr(cfg: TrainConfig, opts: Parameters<Task['open']>[1]): Promise<TaskSession> {
  const { data, dataCfg } = await openTrainData(cfg, opts);
  const charset = data.charset;
  const modelCfg = modelConfigOf(cfg);
  if (modelCfg.height !== data.height || modelCfg.channels !== data.channels) {
    throw new OcropsError(
      'OCROPS_TRAIN_INPUT_MISMATCH',
      `model expects height ${modelCfg.height} x ${modelCfg.channels} channel(s) but ${relativeToRoot(data.dir)} holds ` +
        `height ${data.height} x ${data.channels}`,
      {
        hint: 'set model.height/model.channels (e.g. --set model.height=' + data.height + ') or change the data config',
      },
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
    throw new OcropsError(
      'OCROPS_TRAIN_DATA',
      `${relativeToRoot(data.dir)} has no validation lines to compute ${cfg.train.monitor}`,
      {
        hint: 'give the data config a val share, or set train.monitor to a train_* metric',
      },
    );
  }
  const model = createModel(modelCfg, charset.numClasses, { seed: cfg.train.seed });
  const decoding = ctcDecodingOf(cfg.decode);
  const lm = trainingLm(decoding, cfg.decode.lm.groups, trainSplit, opts.log);
  let lmFile: string | undefined;
  const augment = cfg.train.augment ? dataCfg.augment : false;
  const repeats = repeatsOf(cfg, trainSplit, opts.log);
  const epochSize = epochLines(trainSplit, { repeats });
  // warn once per run about labels too long for the CTC steps (a resumed run that already counted some stays quiet)
  let warned = opts.labelsTooLong > 0;

  async function* trainBatches(epoch: number, startBatch: number): AsyncIterable<StepBatch> {
    const iter = batches(trainSplit!, {
      batchSize: cfg.train.batchSize,
      shuffle: true,
      seed: hashSeed(cfg.train.seed, 'epoch', epoch),
      augment,
      startBatch,
      bucketWindow: cfg.train.bucketWindow,
      repeats,
    });
    for await (const batch of iter) {
      const encoded = encodeLabels(batch.labels, batch.ids, charset);
      const lengths = frameLengths(model, batch.widths, batch.shape[2]);
      const tooLong = labelsTooLong(encoded, lengths);
      if (tooLong.length > 0 && !warned) {
        warned = true;
        const i = tooLong[0];
        opts.log(
          `warning: ${tooLong.length} label(s) need more CTC steps than their image gives (e.g. ${batch.ids[i]}: ` +
            `${encoded[i].length} characters, T=${lengths[i]}); ` +
            'their loss is zeroed (counted in labels_too_long)',
        );
      }
      yield {
        images: batch.images,
        shape: batch.shape,
        ids: batch.ids,
        size: batch.labels.length,
        skipped: tooLong.length,
        loss: (out) => ctcLossOf(out as tf.Tensor3D, encoded, lengths, cfg.loss.reduction),
        tally: (out, s) => {
          const texts = decodeLogits(out as tf.Tensor3D, charset, GREEDY_DECODING, lengths).texts;
          texts.forEach((p, i) => {
            s.charAccSum += accByChar(p, batch.labels[i]);
            if (p.normalize('NFC') === batch.labels[i].normalize('NFC')) s.fieldCorrect += 1;
          });
        },
      };
    }
  }

  return {
    dataDir: data.dir,
    model,
    trainCount: epochSize,
    valCount: valSplit?.count ?? 0,
    unit: 'line',
    environment: {
      train_lines: trainSplit.count,
      val_lines: valSplit?.count ?? 0,
      num_classes: charset.numClasses,
      ...(repeats ? { epoch_lines: epochSize } : {}),
    },
    trainBatches,
    trainMetrics: (s: EpochSums) => ({
      train_acc_by_char: s.samples ? s.charAccSum / s.samples : 0,
      train_acc_by_field: s.samples ? s.fieldCorrect / s.samples : 0,
    }),
    epochExtras: (s: EpochSums) => ({ labels_too_long: s.tooLong }),
    async validate({ bar, shouldStop }): Promise<Record<string, number> | undefined> {
      if (!valSplit || valSplit.count === 0) return {};
      const r = await evaluateSplit(model, valSplit, charset, {
        batchSize: cfg.train.batchSize,
        decode: decoding,
        lm,
        maxSamples: cfg.train.maxValSamples,
        shouldStop,
        onBatch: (n: number) => bar?.update(n),
      });
      if (!r) return undefined;
      const m = r.metrics;
      return {
        val_loss: m.loss,
        val_acc_by_char: m.acc_by_char,
        val_acc_by_field: m.acc_by_field,
        val_cer: m.cer,
        val_wer: m.wer,
      };
    },
    stepEvalKeys: ['val_loss', 'val_acc_by_char', 'val_acc_by_field', 'val_cer'],
    modelMeta: () => ({ charset: charset.toJSON(), decode: decoding }),
    modelFiles: (): Record<string, string> => (lm ? { [LM_FILE]: (lmFile ??= JSON.stringify(lm)) } : {}),
    outputWeights: ['decoder/kernel', 'decoder/bias'],
    sameLabels: (meta) => sameList((meta.charset as { chars?: unknown } | undefined)?.chars, charset.chars),
    async finish({ run, state }) {
      run.logOther('labels_too_long', state.labelsTooLong);
    },
  };
}

/** Text-line OCR: CRNN + CTC. */
export const ocrTask: Task = {
  name: 'ocr',
  monitor: { metric: 'val_loss', mode: 'min' },
  open: openOcr,
  prepareData: async (cfg, opts) => {
    await openTrainData(cfg, opts);
  },
};
