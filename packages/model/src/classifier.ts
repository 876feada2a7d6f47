/**
 * Image classifiers as functional code over named tf.Variables, shaped like the OCR models (model.ts): `cnn4` (the
 * reference PyTorch four-conv classifier) and `resnet_gap` (a small ResNet with global average pooling, from
 * scratch). NHWC input [B, H, W, C] in [0, 1]; output logits [B, numClasses] (pre-softmax).
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { TTA_VIEWS, type ClassifierConfig } from './classifier-config.js';
import {
  ParamStore,
  batchNorm,
  conv,
  dense,
  makeBatchNorm,
  makeConv,
  makeDense,
  maxPool,
  relu,
  type Conv,
} from './params.js';
import { basicBlock, makeBasicBlock, type BasicBlock } from './basic-block.js';

/** `x` [B, H, W, C] with its rows and/or its columns in reverse order. */
function flipped(x: tf.Tensor4D, rows: boolean, cols: boolean): tf.Tensor4D {
  const axes = [...(rows ? [1] : []), ...(cols ? [2] : [])];
  return axes.length ? tf.reverse(x, axes) : x;
}

/** An image classifier: features, optional dropout, one linear layer to the classes. */
export interface ClassifierModel {
  readonly task: 'classify';
  readonly config: ClassifierConfig;
  readonly numClasses: number;
  /** [B, height, width, channels] float32 images in [0, 1] -> logits [B, numClasses]. */
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** Trainable variables (what an optimizer updates; batch-norm running statistics are not included). */
  getWeights(): tf.Variable[];
  /** Every variable by name, including batch-norm running statistics (what `save` writes). */
  namedWeights(): Map<string, tf.Variable>;
  /** Writes `model.json` + `weights.bin` and `ocrops.json` (config, `task: 'classify'`, and `meta`, e.g. `classes`). */
  save(dir: string, meta?: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

type Features = (x: tf.Tensor4D, training: boolean) => tf.Tensor2D; // -> [B, F]

/** Kernel sizes of the reference classifier's four convolutions. */
export const CNN4_KERNELS = [5, 5, 3, 5] as const;

/**
 * The reference PyTorch classifier's features: four Conv2d ('same' padding, kernels 5, 5, 3, 5, channels base x 1, 2,
 * 4, 8) each followed by ReLU and a 2x2 max pool, flattened in PyTorch's [C, H, W] order. Output dim 8 base x
 * floor(H/16) x floor(W/16).
 */
function cnn4Features(p: ParamStore, cfg: ClassifierConfig): { fn: Features; dim: number } {
  const convs: Conv[] = [];
  let cin: number = cfg.channels;
  for (let i = 0; i < 4; i++) {
    const cout = cfg.baseChannels * 2 ** i;
    const k = CNN4_KERNELS[i];
    convs.push(makeConv(p, `conv${i}`, [k, k], cin, cout));
    cin = cout;
  }
  let h = cfg.height;
  let w = cfg.width;
  for (let i = 0; i < 4; i++) {
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  const fn: Features = (x) => {
    let y = x;
    convs.forEach((c, i) => {
      y = maxPool(conv(y, c, true, i > 0), [2, 2]);
    });
    const [B] = y.shape;
    return y.transpose([0, 3, 1, 2]).reshape([B, cin * h * w]) as tf.Tensor2D;
  };
  return { fn, dim: cin * h * w };
}

/** Strides of resnet_gap's four stages (the stem has already divided the image by 4). */
export const RESNET_GAP_STRIDES = [1, 2, 2, 2] as const;

/**
 * A small ResNet: stem conv3x3/2 (base channels) + BN + ReLU + 2x2 max pool, four stages of `depth` BasicBlocks with
 * channels base x 1, 2, 4, 8 (the first block of stages 2-4 has stride 2), global average pooling. Output dim 8 base.
 */
function resnetGapFeatures(p: ParamStore, cfg: ClassifierConfig): { fn: Features; dim: number } {
  const base = cfg.baseChannels;
  const depth = cfg.depth ?? 2;
  const stem = makeConv(p, 'stem', [3, 3], cfg.channels, base, { bias: false, strides: [2, 2] });
  const stemBn = makeBatchNorm(p, 'stem_bn', base);
  const blocks: BasicBlock[] = [];
  let cin = base;
  for (let s = 0; s < 4; s++) {
    const cout = base * 2 ** s;
    for (let b = 0; b < depth; b++) {
      blocks.push(makeBasicBlock(p, `stage${s}/${b}`, cin, cout, b === 0 ? RESNET_GAP_STRIDES[s] : 1));
      cin = cout;
    }
  }
  const fn: Features = (x, training) => {
    let y = maxPool(relu(batchNorm(conv(x, stem, false, false), stemBn, training)), [2, 2]);
    for (const blk of blocks) y = basicBlock(y, blk, training);
    return tf.mean(y, [1, 2]) as tf.Tensor2D;
  };
  return { fn, dim: cin };
}

function featuresOf(p: ParamStore, cfg: ClassifierConfig): { fn: Features; dim: number } {
  switch (cfg.arch) {
    case 'cnn4':
      return cnn4Features(p, cfg);
    case 'resnet_gap':
      return resnetGapFeatures(p, cfg);
  }
}

/**
 * Builds a classifier with freshly initialised weights (PyTorch's default initialisers).
 * @param numClasses number of classes (>= 2)
 */
export function createClassifier(
  cfg: ClassifierConfig,
  numClasses: number,
  opts: { seed?: number } = {},
): ClassifierModel {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new OcropsError('OCROPS_MODEL_CONFIG', `numClasses must be an integer >= 2, got ${numClasses}`);
  }
  const p = new ParamStore(opts.seed ?? 1234);
  const feats = featuresOf(p, cfg);
  const head = makeDense(p, 'head', feats.dim, numClasses);
  const model: ClassifierModel = {
    task: 'classify',
    config: cfg,
    numClasses,
    forward(images, training) {
      return tf.tidy(() => {
        const [, h, w, c] = images.shape;
        if (images.rank !== 4 || h !== cfg.height || w !== cfg.width || c !== cfg.channels) {
          throw new OcropsError(
            'OCROPS_MODEL_INPUT',
            `classifier expects images [B, ${cfg.height}, ${cfg.width}, ${cfg.channels}], got [${images.shape}]`,
            {
              hint: 'resize images to the model config height x width (data config image size) and its channel count',
            },
          );
        }
        if (training || cfg.tta === 'none') {
          let f = feats.fn(images, training);
          if (training && cfg.dropout > 0) f = tf.dropout(f, cfg.dropout) as tf.Tensor2D;
          return dense(f, head);
        }
        // test-time augmentation: the flipped views in one batch, their logits averaged per image
        const views = TTA_VIEWS[cfg.tta];
        const batch = tf.concat(views.map(([rows, cols]) => flipped(images, rows, cols)));
        const logits = dense(feats.fn(batch, false), head);
        return logits.reshape([views.length, images.shape[0], numClasses]).mean(0) as tf.Tensor2D;
      });
    },
    getWeights: () => p.trainable(),
    namedWeights: () => new Map(p.vars),
    save: async (dir, meta = {}) => {
      const { saveClassifier } = await import('./classifier-io.js');
      await saveClassifier(model, dir, meta);
    },
    dispose: () => p.dispose(),
  };
  return model;
}
