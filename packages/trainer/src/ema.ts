// Exponential moving average of the trainable weights (Polyak averaging), updated after every optimiser step.
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import type { StoredTensor } from './checkpoint.js';

const PREFIX = '__ema/';
let instances = 0;

/**
 * Shadow copies of the trainable variables: shadow = d * shadow + (1 - d) * weight, with the decay warming up as
 * min(decay, (1 + step) / (10 + step)) (TensorFlow's ExponentialMovingAverage with num_updates), so early averages
 * are not dominated by the random initialisation. `swapIn`/`swapOut` put the averages into the model and back.
 */
export class WeightAverage {
  private readonly shadows: tf.Variable[];
  private saved: tf.Tensor[] | null = null;

  constructor(
    private readonly vars: tf.Variable[],
    readonly decay: number,
  ) {
    const id = instances++;
    this.shadows = vars.map((v, i) => tf.tidy(() => v.clone().variable(false, `ema${id}/${i}`)));
  }

  /** True for checkpoint tensors written by `tensors()`. */
  static owns(name: string): boolean {
    return name.startsWith(PREFIX);
  }

  /** Decay used after optimiser step `step` (0-based). */
  decayAt(step: number): number {
    return Math.min(this.decay, (1 + step) / (10 + step));
  }

  /** Folds the current weights into the averages (call after the optimiser step `step`). */
  update(step: number): void {
    const d = this.decayAt(step);
    tf.tidy(() => {
      this.vars.forEach((v, i) => this.shadows[i].assign(tf.add(tf.mul(this.shadows[i], d), tf.mul(v, 1 - d))));
    });
  }

  /** The averages as named tensors for a checkpoint's optimizer group, in the order of the trainable variables. */
  tensors(): Array<{ name: string; tensor: tf.Tensor }> {
    return this.shadows.map((t, i) => ({ name: `${PREFIX}${i}`, tensor: t }));
  }

  /** Restores the averages from a checkpoint's optimizer group (`dir` names it in errors). */
  restore(stored: StoredTensor[], dir: string): void {
    const byName = new Map(stored.filter((t) => WeightAverage.owns(t.name)).map((t) => [t.name, t]));
    this.vars.forEach((v, i) => {
      const t = byName.get(`${PREFIX}${i}`);
      if (!t || t.shape.join('x') !== v.shape.join('x')) {
        throw new OcropsError('OCROPS_TRAIN_RESUME_MISMATCH', `checkpoint ${dir} has no weight average of ${v.name}`, {
          hint: 'the checkpoint was written without train.ema; resume with the same config or start a new --out',
        });
      }
      this.shadows[i].assign(tf.tensor(t.data, t.shape, t.dtype));
    });
  }

  /** Puts the averages into the model variables, keeping the trained values for `swapOut`. */
  swapIn(): void {
    if (this.saved) return;
    this.saved = this.vars.map((v) => v.clone());
    this.vars.forEach((v, i) => v.assign(this.shadows[i]));
  }

  /** Puts the trained values back after `swapIn`. */
  swapOut(): void {
    if (!this.saved) return;
    this.vars.forEach((v, i) => v.assign(this.saved![i]));
    tf.dispose(this.saved);
    this.saved = null;
  }

  dispose(): void {
    if (this.saved) tf.dispose(this.saved);
    tf.dispose(this.shadows);
  }
}
