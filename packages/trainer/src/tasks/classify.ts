// The image-classification task: one class per image, cross-entropy (label smoothing), top-1/top-5, and at the end of
// a run the loss/accuracy curves (curves.png), the validation confusion matrix (Comet confusion-matrix asset) and the
// most confident mistakes (mistakes.png).
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { cutMixBatch, rngFor, type ClassBatch } from '@ocrops/data';
import type { EpochSums } from '../checkpoint.js';
import { relativeToRoot, type TrainConfig } from '../config.js';
import { hashSeed } from '../rng.js';
import type { ClassData, ClassifyDeps } from './classify-data.js';
import { evaluateClassSplit } from './classify-eval.js';
import { crossEntropy, mixedCrossEntropy, softmaxRows, topCorrect } from './classify-metrics.js';
import { logConfusionMatrix, logCurves, logMistakes } from './classify-report.js';
import { sameList } from '../init-from.js';
import type { StepBatch, Task, TaskSession } from './task.js';

/** Most confident validation mistakes shown in mistakes.png. */
export const MISTAKES_SHOWN = 16;

function checkData(cfg: TrainConfig, data: ClassData): void {
  if (!data.counts.train) {
    throw new OcropsError('OCROPS_TRAIN_DATA', `${relativeToRoot(data.dir)} has no training images`, {
      hint: 'check the data config split shares and the prepare report',
    });
  }
  if (cfg.train.monitor.startsWith('val_') && !data.counts.val) {
    throw new OcropsError(
      'OCROPS_TRAIN_DATA',
      `${relativeToRoot(data.dir)} has no validation images to compute ${cfg.train.monitor}`,
      {
        hint: 'give the data config a val share, or set train.monitor to a train_* metric',
      },
    );
  }
}

function checkInput(data: ClassData, model: { config: { height: number; width: number; channels: number } }): void {
  const m = model.config;
  if (m.height !== data.height || m.width !== data.width || m.channels !== data.channels) {
    throw new OcropsError(
      'OCROPS_TRAIN_INPUT_MISMATCH',
      `model expects ${m.height}x${m.width} x ${m.channels} channel(s) but ${relativeToRoot(data.dir)} holds ` +
        `${data.height}x${data.width} x ${data.channels}`,
      {
        hint: `set model.height/model.width/model.channels (e.g. --set model.height=${data.height}) or change the data config`,
      },
    );
  }
}

/** The classification task over the given data and model sources. */
export function makeClassifyTask(deps: ClassifyDeps): Task {
  async function open(cfg: TrainConfig, opts: Parameters<Task['open']>[1]): Promise<TaskSession> {
    const data = await deps.openData(cfg, opts);
    checkData(cfg, data);
    const numClasses = data.classes.length;
    const model = deps.createModel(cfg, numClasses);
    checkInput(data, model);
    const smoothing = cfg.loss.labelSmoothing;

    /** CutMix of a share of the training batches in place, drawn per (seed, epoch, batch) so a resumed run redraws it. */
    function cutMix(batch: ClassBatch, epoch: number, index: number) {
      if (!(cfg.loss.cutmix > 0)) return undefined;
      const rng = rngFor(hashSeed(cfg.train.seed, 'cutmix', epoch), index);
      if (!rng.chance(cfg.loss.cutmix)) return undefined;
      const [n, h, w, c] = batch.shape;
      const d = cutMixBatch(batch.images, n, h, w, c, cfg.loss.cutmixAlpha, rng);
      return { keep: d.keep, partnerLabels: d.partner.map((j) => batch.labels[j]) };
    }

    async function* trainBatches(epoch: number, startBatch: number): AsyncIterable<StepBatch> {
      const iter = data.batches('train', {
        batchSize: cfg.train.batchSize,
        shuffle: true,
        seed: hashSeed(cfg.train.seed, 'epoch', epoch),
        augment: cfg.train.augment,
        startBatch,
      });
      let index = startBatch;
      for await (const batch of iter) {
        const mix = cutMix(batch, epoch, index++);
        yield {
          images: batch.images,
          shape: batch.shape,
          ids: batch.ids,
          size: batch.labels.length,
          skipped: 0,
          loss: (out) =>
            mix
              ? mixedCrossEntropy(out as tf.Tensor2D, batch.labels, mix.partnerLabels, mix.keep, smoothing)
              : crossEntropy(out as tf.Tensor2D, batch.labels, smoothing),
          tally: (out, s) => {
            const { top1, topk } = topCorrect(softmaxRows(out as tf.Tensor2D), numClasses, batch.labels, 5);
            s.top1 = (s.top1 ?? 0) + top1;
            s.top5 = (s.top5 ?? 0) + topk;
          },
        };
      }
    }

    return {
      dataDir: data.dir,
      model,
      trainCount: data.counts.train ?? 0,
      valCount: data.counts.val ?? 0,
      unit: 'image',
      environment: { train_images: data.counts.train ?? 0, val_images: data.counts.val ?? 0, num_classes: numClasses },
      trainBatches,
      trainMetrics: (s: EpochSums) => ({
        train_top1: s.samples ? (s.top1 ?? 0) / s.samples : 0,
        train_top5: s.samples ? (s.top5 ?? 0) / s.samples : 0,
      }),
      epochExtras: () => ({}),
      async validate({ bar, shouldStop }): Promise<Record<string, number> | undefined> {
        const r = await evaluateClassSplit(model, data, 'val', {
          batchSize: cfg.train.batchSize,
          maxSamples: cfg.train.maxValSamples,
          shouldStop,
          onBatch: (n) => bar?.update(n),
        });
        if (!r) return undefined;
        return { val_loss: r.metrics.loss, val_top1: r.metrics.top1, val_top5: r.metrics.top5 };
      },
      stepEvalKeys: ['val_loss', 'val_top1', 'val_top5'],
      modelMeta: () => ({ classes: data.classes }),
      outputWeights: ['head/kernel', 'head/bias'],
      sameLabels: (meta) => sameList(meta.classes, data.classes),
      async finish({ run, out, state, log }) {
        if (state.history.length > 0) await logCurves(run, state.history, join(out, 'curves.png'));
        if (!data.counts.val) return;
        // the best weights are in the model: their validation confusion matrix and most confident mistakes
        const r = await evaluateClassSplit(model, data, 'val', {
          batchSize: cfg.train.batchSize,
          maxSamples: cfg.train.maxValSamples,
          keepMistakes: MISTAKES_SHOWN,
        });
        if (!r) return;
        const epoch = state.best?.epoch ?? state.history.length;
        await logConfusionMatrix(run, r.confusion, join(out, 'confusion-matrix.json'), {
          title: `Validation confusion matrix (epoch ${epoch})`,
          step: state.best?.step ?? state.step,
          epoch,
        });
        const macro = r.confusion.macro();
        run.logOther('val_macro_precision', macro.precision);
        run.logOther('val_macro_recall', macro.recall);
        if (r.mistakes.length > 0) await logMistakes(run, r.mistakes, data.classes, join(out, 'mistakes.png'));
        log(
          `validation of the best model: top1 ${r.metrics.top1.toFixed(4)}, top5 ${r.metrics.top5.toFixed(4)}; ` +
            `confusion matrix and ${r.mistakes.length} mistake(s) in ${relativeToRoot(out)}`,
        );
      },
    };
  }
  return {
    name: 'classify',
    monitor: { metric: 'val_top1', mode: 'max' },
    open,
    prepareData: async (cfg, opts) => {
      await deps.openData(cfg, opts);
    },
  };
}
