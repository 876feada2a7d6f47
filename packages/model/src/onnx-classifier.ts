/**
 * ONNX export of an ocrops image classifier, written from the model's own definition (classifier.ts): the same layers
 * in the same order, with the trained weights in ONNX's layouts.
 *
 * Graph: input `image` float32 [batch, height, width, channels] (NHWC, as model.forward takes it; batch dynamic) ->
 * NCHW -> features (cnn4: Conv + Relu + MaxPool x4, Flatten in PyTorch's [C, H, W] order; resnet_gap: Conv (batch
 * norm folded or kept) + Relu + MaxPool stem, BasicBlocks, ReduceMean over H and W) -> MatMul + Add = output `logits`
 * [batch, classes] -> Softmax = output `probabilities` [batch, classes].
 */
import * as tf from '@tensorflow/tfjs';
import type { ClassifierModel } from './classifier.js';
import { CNN4_KERNELS, RESNET_GAP_STRIDES } from './classifier.js';
import { CrnnWriter, ONNX_OPSET, basicBlockGraph, weightReader, type OnnxExportOptions } from './onnx-export.js';
import { OnnxGraph } from './onnx-graph.js';

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

/**
 * Writes a classifier (inference mode: batch norm with running statistics, no dropout) as ONNX bytes: input `image`
 * [batch, height, width, channels] in [0, 1], outputs `probabilities` and `logits` [batch, classes].
 */
export function exportClassifierOnnx(model: ClassifierModel, opts: OnnxExportOptions = {}): Uint8Array {
  const cfg = model.config;
  const g = new OnnxGraph();
  const names = new Set(model.namedWeights().keys());
  const writer = new CrnnWriter(g, weightReader(model), opts.foldBatchNorm !== false, (n) => names.has(n));
  const x = g.op('Transpose', [g.input('image')], { perm: { ints: [0, 3, 1, 2] } }, 'nchw');
  const feats = cfg.arch === 'cnn4' ? cnn4Graph(writer, x) : resnetGapGraph(writer, x, cfg.depth ?? 2);
  const logits = g.rename(writer.dense(feats, 'head'), 'logits');
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
