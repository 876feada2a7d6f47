// What the classification task reads of a prepared classification set and what model it trains: the seam to
// @ocrops/data (prepared shards, classBatches) and @ocrops/model (classifiers), injectable for tests.
import type * as tf from '@tensorflow/tfjs';
import type { ClassBatch } from '@ocrops/data';
import type { TrainConfig } from '../config.js';

export interface ClassBatchOptions {
  batchSize: number;
  shuffle: boolean;
  seed?: number;
  augment: boolean;
  startBatch?: number;
  dropLast?: boolean;
}

export type ClassSplitName = 'train' | 'val' | 'test';

/** A prepared classification set. */
export interface ClassData {
  dir: string;
  classes: string[];
  height: number;
  width: number;
  channels: number;
  /** images per split */
  counts: Partial<Record<ClassSplitName, number>>;
  batches(split: ClassSplitName, opts: ClassBatchOptions): AsyncIterable<ClassBatch>;
  /** the source image file of an id, when known (reports link to it) */
  imagePath?(id: string): string | undefined;
}

/** A classifier as the trainer uses it. */
export interface ClassifierLike {
  readonly numClasses: number;
  readonly config: { height: number; width: number; channels: number; arch: string };
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor2D;
  getWeights(): tf.Variable[];
  namedWeights(): Map<string, tf.Variable>;
  save(dir: string, meta?: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

/** Where the classification task gets its data and model from. */
export interface ClassifyDeps {
  /** opens (preparing first when needed) the prepared set of a train config */
  openData(cfg: TrainConfig, opts: { quiet?: boolean }): Promise<ClassData>;
  /** opens a prepared set folder (evaluate) */
  openPrepared(dir: string): Promise<ClassData>;
  /** creates the classifier of the config's model section */
  createModel(cfg: TrainConfig, numClasses: number): ClassifierLike;
  /** loads a saved classifier and its metadata (`classes`) */
  loadModel(dir: string): Promise<{ model: ClassifierLike; meta: Record<string, unknown> }>;
}
