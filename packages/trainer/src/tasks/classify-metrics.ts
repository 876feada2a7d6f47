// Image-classification loss and metrics: cross-entropy with label smoothing, top-k accuracy, the confusion matrix with
// per-class precision/recall, and its Comet confusion-matrix JSON (what comet_ml's log_confusion_matrix uploads).
import * as tf from '@tensorflow/tfjs';

/**
 * Mean softmax cross-entropy of logits `[B, K]` against class ids, with label smoothing as PyTorch's
 * `CrossEntropyLoss(label_smoothing=e)`: the target is (1 - e) on the true class plus e / K on every class.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: readonly number[], labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => softTargetLoss(logits, smoothedTargets(labels, logits.shape[1], labelSmoothing)));
}

/**
 * The CutMix loss: cross-entropy (with label smoothing) against each image's own class weighted by `keep`, plus against
 * its partner's class weighted by 1 - `keep`; computed as one cross-entropy against the mixed targets (the loss is
 * linear in its target).
 */
export function mixedCrossEntropy(
  logits: tf.Tensor2D,
  labels: readonly number[],
  partnerLabels: readonly number[],
  keep: number,
  labelSmoothing = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const own = smoothedTargets(labels, k, labelSmoothing).mul(keep);
    const partner = smoothedTargets(partnerLabels, k, labelSmoothing).mul(1 - keep);
    return softTargetLoss(logits, own.add(partner));
  });
}

/** Target distributions `[B, K]`: one-hot class ids, smoothed toward uniform by `labelSmoothing`. */
function smoothedTargets(labels: readonly number[], k: number, labelSmoothing: number): tf.Tensor2D {
  const onehot = tf.oneHot(tf.tensor1d(labels as number[], 'int32'), k).toFloat() as tf.Tensor2D;
  return labelSmoothing > 0 ? onehot.mul(1 - labelSmoothing).add(labelSmoothing / k) : onehot;
}

/** Mean over the batch of -sum(target * log softmax(logits)). */
function softTargetLoss(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.sum(target.mul(tf.logSoftmax(logits)), 1)).mean() as tf.Scalar;
}

/** Per-example losses (no smoothing), for reports: -log p(true class). */
export function exampleLosses(probs: Float32Array, numClasses: number, labels: readonly number[]): number[] {
  return labels.map((y, i) => -Math.log(Math.max(probs[i * numClasses + y], 1e-12)));
}

/** Softmax probabilities of logits `[B, K]` as a flat row-major array. */
export function softmaxRows(logits: tf.Tensor2D): Float32Array {
  return tf.tidy(() => tf.softmax(logits).dataSync() as Float32Array);
}

/** The rank of the true class among a row's scores: 0 = top-1 (ties count against the true class). */
export function rankOf(row: ArrayLike<number>, label: number): number {
  const v = row[label];
  let rank = 0;
  for (let j = 0; j < row.length; j++) if (j !== label && row[j] >= v) rank++;
  return rank;
}

/** The arg-max class and its score of each row of a flat `[B, K]` array. */
export function argmaxRows(scores: Float32Array, numClasses: number): Array<{ cls: number; score: number }> {
  const out: Array<{ cls: number; score: number }> = [];
  for (let i = 0; i * numClasses < scores.length; i++) {
    let best = 0;
    for (let j = 1; j < numClasses; j++) if (scores[i * numClasses + j] > scores[i * numClasses + best]) best = j;
    out.push({ cls: best, score: scores[i * numClasses + best] });
  }
  return out;
}

/** How many of the batch's true classes are in the top 1 and top `k` of their rows. */
export function topCorrect(
  scores: Float32Array,
  numClasses: number,
  labels: readonly number[],
  k = 5,
): { top1: number; topk: number } {
  let top1 = 0;
  let topk = 0;
  labels.forEach((y, i) => {
    const r = rankOf(scores.subarray(i * numClasses, (i + 1) * numClasses), y);
    if (r === 0) top1++;
    if (r < k) topk++;
  });
  return { top1, topk };
}

/** A confusion matrix: `counts[truth][predicted]`. */
export class ConfusionMatrix {
  readonly counts: number[][];

  constructor(readonly classes: readonly string[]) {
    this.counts = classes.map(() => classes.map(() => 0));
  }

  add(truth: number, predicted: number): void {
    this.counts[truth][predicted] += 1;
  }

  get total(): number {
    return this.counts.reduce((a, row) => a + row.reduce((b, c) => b + c, 0), 0);
  }

  /**
   * Precision (of the predictions of the class, how many were right) and recall (of the class's examples, how many were
   * found) per class; a class never predicted has precision 0, one absent from the split recall 0 (support 0 tells).
   */
  perClass(): Array<{ class: string; precision: number; recall: number; support: number; predicted: number }> {
    return this.classes.map((name, c) => {
      const tp = this.counts[c][c];
      const support = this.counts[c].reduce((a, b) => a + b, 0);
      const predicted = this.counts.reduce((a, row) => a + row[c], 0);
      return {
        class: name,
        precision: predicted ? tp / predicted : 0,
        recall: support ? tp / support : 0,
        support,
        predicted,
      };
    });
  }

  /** Macro-averaged precision and recall over the classes present in the split. */
  macro(): { precision: number; recall: number } {
    const rows = this.perClass().filter((r) => r.support > 0);
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    return { precision: mean(rows.map((r) => r.precision)), recall: mean(rows.map((r) => r.recall)) };
  }
}

/** The JSON of a Comet confusion-matrix asset (comet_ml ConfusionMatrix.to_json, version 1). */
export interface CometConfusionMatrix {
  version: 1;
  title: string;
  labels: string[];
  matrix: number[][];
  rowLabel: string;
  columnLabel: string;
  maxSamplesPerCell: number;
  sampleMatrix: null;
  type: null;
}

/**
 * The Comet confusion-matrix JSON of a matrix. Like comet_ml's `max_categories` (25), a matrix of more classes keeps the
 * `maxCategories` classes with the fewest correct predictions (the most confused), listed in class order.
 */
export function cometConfusionMatrix(
  cm: ConfusionMatrix,
  opts: { title?: string; maxCategories?: number } = {},
): CometConfusionMatrix {
  const max = opts.maxCategories ?? 25;
  let keep = cm.classes.map((_, i) => i);
  if (keep.length > max) {
    keep = [...keep]
      .sort((a, b) => cm.counts[a][a] - cm.counts[b][b] || a - b)
      .slice(0, max)
      .sort((a, b) => a - b);
  }
  return {
    version: 1,
    title: opts.title ?? 'Confusion Matrix',
    labels: keep.map((i) => cm.classes[i]),
    matrix: keep.map((r) => keep.map((c) => cm.counts[r][c])),
    rowLabel: 'Actual Category',
    columnLabel: 'Predicted Category',
    maxSamplesPerCell: 25,
    sampleMatrix: null,
    type: null,
  };
}
