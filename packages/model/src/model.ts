/**
 * CRNN models as functional code over named tf.Variables: `vgg` (the reference PyTorch CTCModel), `small` (the Keras captcha recipe) and `resnet`
 * (a residual backbone after the licence-plate recipe, trained from scratch). NHWC input [B, H, W, C] in [0, 1];
 * output logits [B, T, numClasses] (pre-softmax, blank = class 0 by convention of the charsets).
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import type { ModelConfig } from './config.js';
import {
  ParamStore,
  batchNorm,
  maxPool,
  relu,
  conv,
  dense,
  makeBatchNorm,
  makeConv,
  makeDense,
  type BatchNorm,
  type Conv,
  type Dense,
} from './params.js';
import { basicBlock, makeBasicBlock, type BasicBlock } from './basic-block.js';
import { makeRnnLayer, rnnLayer, type RnnLayer } from './rnn.js';

/** An OCR model: a convolutional extractor, recurrent layers and a per-frame classifier. */
export interface OcrModel {
  readonly config: ModelConfig;
  readonly numClasses: number;
  /** [B, H, W, C] float32 images (H = config.height) -> logits [B, T, numClasses], T = outputLength(W). */
  forward(images: tf.Tensor4D, training: boolean): tf.Tensor3D;
  /** Number of frames T the model outputs for an input of this width (pixels). */
  outputLength(width: number): number;
  /** Trainable variables (what an optimizer updates; batch-norm running statistics are not included). */
  getWeights(): tf.Variable[];
  /** Every variable by name, including batch-norm running statistics (what `save` writes). */
  namedWeights(): Map<string, tf.Variable>;
  /** Writes `model.json` + `weights.bin` (TensorFlow.js weights-manifest format) and `ocrops.json` (config + meta). */
  save(dir: string, meta?: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Seed of the weight initialisers (default 1234). */
  seed?: number;
  /** Recurrent implementation: `fused` (default; GRU with hand-written BPTT) or `autodiff` (per-step tf ops). */
  rnnImpl?: 'fused' | 'autodiff';
}

type Features = (x: tf.Tensor4D, training: boolean) => tf.Tensor3D; // -> [T, B, F]

/**
 * The VGG trunk of vgg and crnn: seven convs, each followed by ReLU, batch norm between conv 4 and 5 and their ReLU,
 * 2x2 pooling after conv 0 and 1 and 2x1 after conv 3 and 5. [B,H,W,C] -> [B, H/16 - 1, W/4 - 1, C'].
 */
function vggTrunk(x: tf.Tensor4D, c: Conv[], bn4: BatchNorm, bn5: BatchNorm, training: boolean): tf.Tensor4D {
  let y = maxPool(conv(x, c[0], true, false), [2, 2]);
  y = maxPool(conv(y, c[1], true), [2, 2]);
  y = maxPool(conv(conv(y, c[2], true), c[3], true), [2, 1]);
  y = relu(batchNorm(conv(y, c[4], false), bn4, training));
  y = relu(batchNorm(conv(y, c[5], false), bn5, training));
  return conv(maxPool(y, [2, 1]), c[6], true);
}

/** The reference CTCModel's VGG_FeatureExtractor + height average pool. [B,H,W,C] -> [T,B,innerDim], T = floor(W/4) - 1. */
function vggExtractor(p: ParamStore, cfg: ModelConfig): { fn: Features; dim: number; length: (w: number) => number } {
  const d = cfg.innerDim ?? 128;
  const ch = [d / 8, d / 4, d / 2, d];
  const c0 = makeConv(p, 'conv0', [3, 3], cfg.channels, ch[0]);
  const c1 = makeConv(p, 'conv1', [3, 3], ch[0], ch[1]);
  const c2 = makeConv(p, 'conv2', [3, 3], ch[1], ch[2]);
  const c3 = makeConv(p, 'conv3', [3, 3], ch[2], ch[2]);
  const c4 = makeConv(p, 'conv4', [3, 3], ch[2], ch[3], { bias: false });
  const bn4 = makeBatchNorm(p, 'bn4', ch[3]);
  const c5 = makeConv(p, 'conv5', [3, 3], ch[3], ch[3], { bias: false });
  const bn5 = makeBatchNorm(p, 'bn5', ch[3]);
  const c6 = makeConv(p, 'conv6', [2, 2], ch[3], ch[3], { pad: 'valid' });
  const fn: Features = (x, training) => {
    const y = vggTrunk(x, [c0, c1, c2, c3, c4, c5, c6], bn4, bn5, training); // [B, H', T, d]
    return tf.mean(y, 1).transpose([1, 0, 2]) as tf.Tensor3D;
  };
  return { fn, dim: d, length: (w) => Math.floor(Math.floor(w / 2) / 2) - 1 };
}

/** The Keras captcha recipe's two conv blocks, columns flattened, dense + ReLU + dropout. T = floor(W/4). */
function smallExtractor(p: ParamStore, cfg: ModelConfig): { fn: Features; dim: number; length: (w: number) => number } {
  const c0 = makeConv(p, 'conv0', [3, 3], cfg.channels, 32, { init: 'he' });
  const c1 = makeConv(p, 'conv1', [3, 3], 32, 64, { init: 'he' });
  const h4 = Math.floor(Math.floor(cfg.height / 2) / 2);
  const embed = cfg.embedDim ?? 64;
  const d0 = makeDense(p, 'dense0', h4 * 64, embed, 'glorot');
  const fn: Features = (x, training) => {
    let y = maxPool(conv(x, c0, true, false), [2, 2]);
    y = maxPool(conv(y, c1, true), [2, 2]); // [B, H/4, W/4, 64]
    const [B, H4, T, C] = y.shape;
    const cols = y.transpose([2, 0, 1, 3]).reshape([T * B, H4 * C]) as tf.Tensor2D;
    let e = dense(cols, d0, 'relu');
    if (training && (cfg.dropout ?? 0) > 0) e = tf.dropout(e, cfg.dropout ?? 0) as tf.Tensor2D;
    return e.reshape([T, B, embed]) as tf.Tensor3D;
  };
  return { fn, dim: embed, length: (w) => Math.floor(Math.floor(w / 2) / 2) };
}

/**
 * Residual backbone (ResNet BasicBlocks, from scratch): stem conv3x3 + BN + ReLU, then four blocks with channels
 * [d/8, d/4, d/2, d] and strides (2,2), (2,2), (2,1), (2,1); height averaged to 1. T = ceil(ceil(W/2)/2).
 */
function resnetExtractor(
  p: ParamStore,
  cfg: ModelConfig,
): { fn: Features; dim: number; length: (w: number) => number } {
  const d = cfg.innerDim ?? 256;
  const ch = [d / 8, d / 4, d / 2, d];
  const stem = makeConv(p, 'stem', [3, 3], cfg.channels, ch[0], { bias: false });
  const stemBn = makeBatchNorm(p, 'stem_bn', ch[0]);
  const strides: [number, number][] = [
    [2, 2],
    [2, 2],
    [2, 1],
    [2, 1],
  ];
  const blocks: BasicBlock[] = [];
  let cin = ch[0];
  for (let i = 0; i < 4; i++) {
    blocks.push(makeBasicBlock(p, `block${i}`, cin, ch[i], strides[i], 'proj'));
    cin = ch[i];
  }
  const fn: Features = (x, training) => {
    let y = relu(batchNorm(conv(x, stem, false, false), stemBn, training));
    for (const blk of blocks) y = basicBlock(y, blk, training);
    return tf.mean(y, 1).transpose([1, 0, 2]) as tf.Tensor3D;
  };
  return { fn, dim: d, length: (w) => Math.ceil(Math.ceil(w / 2) / 2) };
}

/**
 * The licence-plate recipe's backbone: torchvision ResNet-18 without its last two stages (conv7x7/2 64 + BN + ReLU,
 * maxpool 3x3/2, layer1 = 2 BasicBlocks of 64, layer2 = 2 BasicBlocks of 128 with stride 2), averaged over the height,
 * then a 1x1 convolution over the width axis (PyTorch Conv1d(W/8, steps, 1) with the columns as its channels) maps
 * the W/8 columns to `steps` frames. Input width fixed (`width`); T = steps. 'same' padding gives the recipe's output
 * sizes (ceil(x/2) at each stride 2).
 */
function resnet18Extractor(
  p: ParamStore,
  cfg: ModelConfig,
): { fn: Features; dim: number; length: (w: number) => number } {
  const width = cfg.width ?? 128;
  const steps = cfg.steps ?? 20;
  const down = (x: number) => Math.ceil(x / 2);
  const cols = down(down(down(width)));
  const stem = makeConv(p, 'conv1', [7, 7], cfg.channels, 64, { bias: false, strides: [2, 2] });
  const stemBn = makeBatchNorm(p, 'bn1', 64);
  const blocks = [
    makeBasicBlock(p, 'layer1/0', 64, 64, 1),
    makeBasicBlock(p, 'layer1/1', 64, 64, 1),
    makeBasicBlock(p, 'layer2/0', 64, 128, 2),
    makeBasicBlock(p, 'layer2/1', 128, 128, 1),
  ];
  const bound = 1 / Math.sqrt(cols);
  const projW = p.uniform('width_proj/kernel', [cols, steps], bound);
  const projB = p.uniform('width_proj/bias', [steps], bound);
  const fn: Features = (x, training) => {
    if (x.shape[2] !== width) {
      throw new OcropsError(
        'OCROPS_MODEL_INPUT',
        `arch 'resnet18' expects images ${width} px wide (model.width), got ${x.shape[2]}`,
        {
          hint: `set the data config's image.width to ${width} (or model.width to the images' width)`,
        },
      );
    }
    let y = relu(batchNorm(conv(x, stem, false, false), stemBn, training));
    y = tf.maxPool(y, 3, 2, 'same');
    for (const blk of blocks) y = basicBlock(y, blk, training);
    const [B, , W, C] = y.shape;
    const seq = tf.mean(y, 1) as tf.Tensor3D; // [B, W/8, 128]
    // 1x1 conv over the width axis: frames[b, t, c] = sum_w seq[b, w, c] * projW[w, t] + projB[t]
    const byCol = seq.transpose([0, 2, 1]).reshape([B * C, W]) as tf.Tensor2D;
    const frames = tf.matMul(byCol, projW).add(projB).reshape([B, C, steps]); // [B, 128, T]
    return frames.transpose([2, 0, 1]) as tf.Tensor3D; // [T, B, 128]
  };
  return { fn, dim: 128, length: () => steps };
}

/**
 * The Synth90k recipe's CRNN (Shi et al. 2015 as commonly reproduced): gray 32 x W, VGG with batch norm on conv 5 and 6
 * (64, pool 2x2, 128, pool 2x2, 256, 256, pool 2x1, 512 + BN, 512 + BN, pool 2x1, conv2x2 valid 512), each conv with
 * bias and ReLU; the H/16 - 1 rows x 512 channels of each column mapped to `embed_dim` (64) by a linear layer
 * (map-to-sequence). T = floor(W/4) - 1 (24 at width 100).
 */
function crnnExtractor(p: ParamStore, cfg: ModelConfig): { fn: Features; dim: number; length: (w: number) => number } {
  const ch = [cfg.channels, 64, 128, 256, 256, 512, 512, 512];
  const convs = ch
    .slice(0, 7)
    .map((cin, i) =>
      makeConv(p, `conv${i}`, i === 6 ? [2, 2] : [3, 3], cin, ch[i + 1], i === 6 ? { pad: 'valid' } : {}),
    );
  const bn4 = makeBatchNorm(p, 'bn4', 512);
  const bn5 = makeBatchNorm(p, 'bn5', 512);
  const rows = Math.floor(cfg.height / 16) - 1;
  const embed = cfg.embedDim ?? 64;
  const mapToSeq = makeDense(p, 'map_to_seq', 512 * rows, embed);
  const fn: Features = (x, training) => {
    const y = vggTrunk(x, convs, bn4, bn5, training); // [B, H/16 - 1, T, 512]
    const [B, H, T, C] = y.shape;
    // each column's rows x channels, PyTorch's [C, H] order (channel-major), to the map-to-sequence layer
    const colsIn = y.transpose([2, 0, 3, 1]).reshape([T * B, C * H]) as tf.Tensor2D;
    return dense(colsIn, mapToSeq).reshape([T, B, embed]) as tf.Tensor3D;
  };
  return { fn, dim: embed, length: (w) => Math.floor(Math.floor(w / 2) / 2) - 1 };
}

/** Minimum input height of each architecture (the extractor must leave at least one row). */
export function minHeight(cfg: ModelConfig): number {
  switch (cfg.arch) {
    case 'vgg':
    case 'crnn':
      return 32;
    case 'resnet':
      return 9;
    case 'resnet18':
      return 8;
    default:
      return 4;
  }
}

/** The extractor of an architecture. */
function extractorOf(p: ParamStore, cfg: ModelConfig): { fn: Features; dim: number; length: (w: number) => number } {
  switch (cfg.arch) {
    case 'vgg':
      return vggExtractor(p, cfg);
    case 'small':
      return smallExtractor(p, cfg);
    case 'resnet':
      return resnetExtractor(p, cfg);
    case 'resnet18':
      return resnet18Extractor(p, cfg);
    case 'crnn':
      return crnnExtractor(p, cfg);
  }
}

/**
 * Builds a model with freshly initialised weights (PyTorch's default initialisers; He normal in `small` like
 * the Keras captcha recipe's code).
 * @param numClasses classes including the blank (Charset.numClasses)
 */
export function createModel(cfg: ModelConfig, numClasses: number, opts: CreateModelOptions = {}): OcrModel {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new OcropsError(
      'OCROPS_MODEL_CONFIG',
      `numClasses must be an integer >= 2 (blank + characters), got ${numClasses}`,
    );
  }
  if (cfg.height < minHeight(cfg)) {
    throw new OcropsError(
      'OCROPS_MODEL_CONFIG',
      `model height ${cfg.height} is below the minimum ${minHeight(cfg)} of arch '${cfg.arch}'`,
    );
  }
  const p = new ParamStore(opts.seed ?? 1234);
  const impl = opts.rnnImpl ?? 'fused';
  const ext = extractorOf(p, cfg);
  const dirs = cfg.rnn.bidirectional ? 2 : 1;
  const rnn: RnnLayer[] = [];
  let dim = ext.dim;
  for (let i = 0; i < cfg.rnn.layers; i++) {
    const hidden = cfg.rnn.hiddenPerLayer?.[i] ?? cfg.rnn.hidden;
    rnn.push(makeRnnLayer(p, `rnn${i}`, cfg.rnn.type, dim, hidden, cfg.rnn.bidirectional));
    dim = hidden * dirs;
  }
  let embed: Dense | undefined;
  if (cfg.arch === 'vgg') {
    embed = makeDense(p, 'embedding', dim, cfg.embedDim ?? 256);
    dim = cfg.embedDim ?? 256;
  }
  const decoder = makeDense(p, 'decoder', dim, numClasses, cfg.arch === 'small' ? 'glorot' : 'torch');
  if (cfg.blankBias) {
    const b = decoder.bias.dataSync().slice();
    b[0] = cfg.blankBias;
    decoder.bias.assign(tf.tensor1d(b));
  }

  const model: OcrModel = {
    config: cfg,
    numClasses,
    forward(images, training) {
      return tf.tidy(() => {
        if (images.rank !== 4 || images.shape[1] !== cfg.height || images.shape[3] !== cfg.channels) {
          throw new OcropsError(
            'OCROPS_MODEL_INPUT',
            `model expects images [B, ${cfg.height}, W, ${cfg.channels}], got [${images.shape}]`,
            { hint: 'resize images to the model height and channel count of its config' },
          );
        }
        const T = ext.length(images.shape[2]);
        if (T < 1) {
          throw new OcropsError(
            'OCROPS_MODEL_INPUT',
            `image width ${images.shape[2]} is too small for arch '${cfg.arch}'`,
          );
        }
        let x = ext.fn(cfg.invert ? (tf.sub(1, images) as tf.Tensor4D) : images, training); // [T, B, F]
        for (let i = 0; i < rnn.length; i++) {
          x = rnnLayer(x, rnn[i], impl);
          if (training && cfg.rnn.dropout > 0 && i < rnn.length - 1) x = tf.dropout(x, cfg.rnn.dropout) as tf.Tensor3D;
        }
        const [Tn, B, F] = x.shape;
        let rows = x.reshape([Tn * B, F]) as tf.Tensor2D;
        if (embed) rows = dense(rows, embed);
        return dense(rows, decoder).reshape([Tn, B, numClasses]).transpose([1, 0, 2]) as tf.Tensor3D;
      });
    },
    outputLength: ext.length,
    getWeights: () => p.trainable(),
    namedWeights: () => new Map(p.vars),
    save: async (dir, meta = {}) => {
      const { saveModel } = await import('./io.js');
      await saveModel(model, dir, meta);
    },
    dispose: () => p.dispose(),
  };
  return model;
}
