// Evaluation of a classifier on a split: loss, top-1, top-5, the confusion matrix and the most confident mistakes.
import * as tf from '@tensorflow/tfjs';
import type { ClassData, ClassSplitName, ClassifierLike } from './classify-data.js';
import { ConfusionMatrix, argmaxRows, exampleLosses, rankOf, softmaxRows } from './classify-metrics.js';

/** A wrong prediction with its image (for the mistakes grid). */
export interface Mistake {
  id: string;
  truth: number;
  predicted: number;
  /** probability of the predicted class */
  confidence: number;
  /** probability of the true class */
  truthProbability: number;
  pixels: Float32Array;
  height: number;
  width: number;
  channels: number;
}

export interface ClassSplitResult {
  /** loss (mean cross-entropy, no smoothing), top1, top5, count */
  metrics: { loss: number; top1: number; top5: number; count: number };
  confusion: ConfusionMatrix;
  /** the most confident wrong predictions, most confident first */
  mistakes: Mistake[];
}

export interface ClassEvalOptions {
  batchSize: number;
  /** stop after this many images (0 = all) */
  maxSamples?: number;
  /** how many most confident mistakes to keep (0 = none) */
  keepMistakes?: number;
  shouldStop?: () => boolean;
  onBatch?: (done: number) => void;
}

/** Runs the classifier in inference mode over a split. Returns undefined if `shouldStop` asked to stop. */
export async function evaluateClassSplit(
  model: ClassifierLike,
  data: ClassData,
  split: ClassSplitName,
  opts: ClassEvalOptions,
): Promise<ClassSplitResult | undefined> {
  const max = opts.maxSamples && opts.maxSamples > 0 ? opts.maxSamples : Infinity;
  const k = data.classes.length;
  const confusion = new ConfusionMatrix(data.classes);
  const mistakes: Mistake[] = [];
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  let count = 0;
  for await (const batch of data.batches(split, { batchSize: opts.batchSize, shuffle: false, augment: false })) {
    if (opts.shouldStop?.()) return undefined;
    const n = Math.min(batch.labels.length, max - count);
    if (n <= 0) break;
    const labels = batch.labels.slice(0, n);
    const probs = tf.tidy(() => {
      let x = tf.tensor4d(batch.images, batch.shape);
      if (n < batch.shape[0]) x = x.slice([0, 0, 0, 0], [n, -1, -1, -1]);
      return softmaxRows(model.forward(x, false));
    });
    const losses = exampleLosses(probs, k, labels);
    const best = argmaxRows(probs, k);
    const [, h, w, c] = batch.shape;
    for (let i = 0; i < n; i++) {
      lossSum += losses[i];
      const rank = rankOf(probs.subarray(i * k, (i + 1) * k), labels[i]);
      if (rank === 0) top1++;
      if (rank < 5) top5++;
      confusion.add(labels[i], best[i].cls);
      if (best[i].cls !== labels[i] && (opts.keepMistakes ?? 0) > 0) {
        const m = best[i].score;
        if (mistakes.length < opts.keepMistakes! || m > mistakes[mistakes.length - 1].confidence) {
          mistakes.push({
            id: batch.ids[i],
            truth: labels[i],
            predicted: best[i].cls,
            confidence: m,
            truthProbability: probs[i * k + labels[i]],
            pixels: batch.images.slice(i * h * w * c, (i + 1) * h * w * c),
            height: h,
            width: w,
            channels: c,
          });
          mistakes.sort((a, b) => b.confidence - a.confidence);
          mistakes.length = Math.min(mistakes.length, opts.keepMistakes!);
        }
      }
    }
    count += n;
    opts.onBatch?.(count);
    await new Promise((r) => setImmediate(r)); // let signal handlers and timers run between batches
    if (count >= max) break;
  }
  return {
    metrics: {
      loss: count ? lossSum / count : NaN,
      top1: count ? top1 / count : 0,
      top5: count ? top5 / count : 0,
      count,
    },
    confusion,
    mistakes,
  };
}
