/**
 * ONNX export of an ocrops image classifier, written from the model's own definition (classifier.ts): the same layers
 * in the same order, with the trained weights in ONNX's layouts.
 *
 * Graph: input `image` float32 [batch, height, width, channels] (NHWC, as model.forward takes it; batch dynamic) ->
 * NCHW -> features (cnn4: Conv + Relu + MaxPool x4, Flatten in PyTorch's [C, H, W] order; resnet_gap: Conv (batch
 * norm folded or kept) + Relu + MaxPool stem, BasicBlocks, ReduceMean over H and W) -> MatMul + Add = output `logits`
 * [batch, classes] -> Softmax = output `probabilities` [batch, classes]. With test-time augmentation (`tta`), the flipped
 * views (Slice with step -1) are concatenated along the batch axis before the features, and the logits are averaged
 * over the views (Reshape [views, batch, classes] + ReduceMean).
 */
import * as tf from '@tensorflow/tfjs';
import type { ClassifierModel } from './classifier.js';
import { CNN4_KERNELS, RESNET_GAP_STRIDES } from './classifier.js';
import { CrnnWriter, ONNX_OPSET, basicBlockGraph, weightReader, type OnnxExportOptions } from './onnx-export.js';
import { OnnxGraph } from './onnx-graph.js';
import { TTA_VIEWS } from './classifier-config.js';

/** cnn4 (classifier.ts cnn4Features): four conv + ReLU + 2x2 max pool, flattened channel-major. */
function cnn4Graph(c: CrnnWriter, x: string): string {
  let y = x;
  for (let i = 0; i < CNN4_KERNELS.length; i++)
    y = c.maxPool(c.conv(y, `conv${i}`, { pad: 'same', relu: true }), [2, 2]);
  return c.g.op('Flatten', [y], { axis: { i: 1 } });
}

/** resnet_gap (classifier.ts resnetGapFeatures): stem conv3x3/2 + BN + ReLU + max pool, 4 stages, global average pool. */
function resnetGapGraph(c: CrnnWriter, x: string, depth: number): string {
  let y = c.maxPool(c.conv(x, 'stem', { pad: 'same', strides: [2, 2], bn: 'stem_bn', relu: true }), [2, 2]);
  for (let s = 0; s < 4; s++) {
    for (let b = 0; b < depth; b++) y = basicBlockGraph(c, y, `stage${s}/${b}`, b === 0 ? RESNET_GAP_STRIDES[s] : 1);
  }
  return c.g.op('ReduceMean', [y], { axes: { ints: [2, 3] }, keepdims: { i: 0 } });
}

/** The test-time views of an NCHW batch stacked along the batch axis (model.forward's order): Slice with step -1 flips. */
function ttaBatch(g: OnnxGraph, x: string, views: ReadonlyArray<readonly [boolean, boolean]>): string {
  // from the last index down past the first (INT64_MIN, as the ONNX Slice spec advises for a reverse slice)
  const starts = g.int64s('tta_flip_starts', [-1]);
  const ends = g.int64s('tta_flip_ends', [-(2 ** 63)]);
  const steps = g.int64s('tta_flip_steps', [-1]);
  const axes = { 2: g.int64s('tta_flip_rows', [2]), 3: g.int64s('tta_flip_cols', [3]) };
  const flip = (v: string, axis: 2 | 3) => g.op('Slice', [v, starts, ends, axes[axis], steps], {}, 'flip');
  const stacked = views.map(([rows, cols]) => {
    let v = x;
    if (rows) v = flip(v, 2);
    if (cols) v = flip(v, 3);
    return v;
  });
  return g.op('Concat', stacked, { axis: { i: 0 } });
}

/**
 * Writes a classifier (inference mode: batch norm with running statistics, no dropout) as ONNX bytes: input `image`
 * [batch, height, width, channels] in [0, 1], outputs `probabilities` and `logits` [batch, classes].
 */
export function exportClassifierOnnx(model: ClassifierModel, opts: OnnxExportOptions = {}): Uint8Array {
  const cfg = model.config;
  const g = new OnnxGraph();
  const names = new Set(model.namedWeights().keys());
  const writer = new CrnnWriter(g, weightReader(model), opts.foldBatchNorm !== false, (n) => names.has(n));
  const nchw = g.op('Transpose', [g.input('image')], { perm: { ints: [0, 3, 1, 2] } }, 'nchw');
  const views = TTA_VIEWS[cfg.tta];
  const x = views.length > 1 ? ttaBatch(g, nchw, views) : nchw;
  const feats = cfg.arch === 'cnn4' ? cnn4Graph(writer, x) : resnetGapGraph(writer, x, cfg.depth ?? 2);
  let head = writer.dense(feats, 'head');
  if (views.length > 1) {
    const shape = g.int64s('tta_shape', [views.length, -1, model.numClasses]);
    head = g.op('ReduceMean', [g.op('Reshape', [head, shape])], { axes: { ints: [0] }, keepdims: { i: 0 } });
  }
  const logits = g.rename(head, 'logits');
  const probs = g.rename(g.op('Softmax', [logits], { axis: { i: 1 } }), 'probabilities');
  return g.encode({
    name: opts.name ?? `ocrops-${cfg.arch}`,
    inputs: [{ name: 'image', dims: ['batch', cfg.height, cfg.width, cfg.channels] }],
    outputs: [
      { name: probs, dims: ['batch', model.numClasses] },
      { name: logits, dims: ['batch', model.numClasses] },
    ],
    opset: ONNX_OPSET,
    producerVersion: `tfjs ${tf.version.tfjs}`,
    docString: `ocrops image classifier (${cfg.arch}): image [batch, ${cfg.height}, ${cfg.width}, ${cfg.channels}] in [0, 1] -> probabilities and logits [batch, ${model.numClasses}]`,
    metadata: opts.metadata,
  });
}
