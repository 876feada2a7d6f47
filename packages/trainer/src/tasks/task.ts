// The task seam of the trainer: what differs between OCR and image classification (data, model, loss, metrics,
// model metadata, end-of-run reports). The training loop in train.ts is shared and knows nothing else about a task.
import type * as tf from '@tensorflow/tfjs';
import type { ProgressBar } from '@ocrops/common';
import type { EpochSums, TrainState } from '../checkpoint.js';
import type { TrainConfig } from '../config.js';
import type { TrackedRun } from '../tracking.js';

/** Task names accepted by a train config's `task` field. */
export type TaskName = 'ocr' | 'classify';

/** What the loop needs of a model: both the OCR model and the classifiers of @ocrops/model have this shape. */
export interface TrainableModel {
  /** [B, H, W, C] float32 images -> logits ([B, T, classes] for OCR, [B, classes] for a classifier) */
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor;
  /** trainable variables (what the optimiser updates) */
  getWeights(): tf.Variable[];
  /** every variable, batch-norm running statistics too (what checkpoints hold) */
  namedWeights(): Map<string, tf.Variable>;
  save(dir: string, meta?: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

/** One training batch as the loop sees it. */
export interface StepBatch {
  images: Float32Array;
  shape: [number, number, number, number];
  ids: string[];
  /** examples in the batch */
  size: number;
  /** the loss of the model output for this batch (called inside the gradient tape) */
  loss(output: tf.Tensor): tf.Scalar;
  /** adds this batch's task counters (accuracy sums...) to the epoch sums, from the training forward pass's output */
  tally(output: tf.Tensor, sums: EpochSums): void;
  /** examples whose loss the task had to zero (OCR: labels longer than the CTC steps); counted in labels_too_long */
  skipped: number;
}

/** Options of a validation pass. */
export interface ValidateOptions {
  bar?: ProgressBar;
  shouldStop: () => boolean;
}

/** Context of the end-of-run hook: the finished run's folder, tracker and history. */
export interface FinishContext {
  run: TrackedRun;
  out: string;
  state: TrainState;
  log: (msg: string) => void;
  quiet?: boolean;
}

/** A task opened for one training session: its prepared data and model. */
export interface TaskSession {
  /** the prepared dataset folder (lineage hashes it) */
  dataDir: string;
  model: TrainableModel;
  trainCount: number;
  valCount: number;
  /** what one example is called in progress bars ('line', 'image') */
  unit: string;
  /** log-other values at the start of a run (train_lines, num_classes, ...) */
  environment: Record<string, unknown>;
  /** the training batches of `epoch` from batch `startBatch` on (seeded shuffle and augmentation) */
  trainBatches(epoch: number, startBatch: number): AsyncIterable<StepBatch>;
  /** the epoch's training metrics besides train_loss, from the sums */
  trainMetrics(sums: EpochSums): Record<string, number>;
  /** metrics appended after lr/images_per_second/epoch_time (OCR: labels_too_long) */
  epochExtras(sums: EpochSums): Record<string, number>;
  /** validation metrics with the `val_` prefix; undefined when stopped */
  validate(opts: ValidateOptions): Promise<Record<string, number> | undefined>;
  /** the subset of validation metrics logged by mid-epoch evaluations (`train.evalEvery`) */
  stepEvalKeys: readonly string[];
  /** task metadata saved with the best model (charset and decoding, or classes) */
  modelMeta(): Record<string, unknown>;
  /** files written beside the best model's weights (name -> contents), e.g. the OCR decoder's language model */
  modelFiles?(): Record<string, string>;
  /** the output layer's weights (one row per label): `train.init_from` copies them only when the labels are the same */
  outputWeights: readonly string[];
  /** whether a saved model's metadata (`ocrops.json`) has this run's labels in the same order */
  sameLabels(meta: Record<string, unknown>): boolean;
  /** the end of a run, best weights in the model: task reports and assets */
  finish(ctx: FinishContext): Promise<void>;
}

/** A trainable task. */
export interface Task {
  name: TaskName;
  /** the metric that selects the best model when the config names none, and its direction */
  monitor: { metric: string; mode: 'min' | 'max' };
  open(
    cfg: TrainConfig,
    opts: { quiet?: boolean; seed: number; labelsTooLong: number; log: (msg: string) => void },
  ): Promise<TaskSession>;
  /** prepares the config's data when its prepared folder does not exist yet (a sweep does it once before its trials) */
  prepareData(cfg: TrainConfig, opts: { quiet?: boolean }): Promise<void>;
}
