/**
 * ONNX export of an ocrops CRNN, written from the model's own definition (model.ts, rnn.ts): the same layers in the
 * same order, with the trained weights rearranged into ONNX's layouts.
 *
 * Graph: input `image` float32 [batch, height, width, channels] (NHWC, as model.forward takes it; batch and width
 * dynamic, except resnet18's fixed width) -> (1 - x when the config inverts) -> NCHW -> extractor (Conv,
 * BatchNormalization or folded into the conv, Relu, MaxPool, ReduceMean over height; crnn and small: Reshape + MatMul
 * map-to-sequence; resnet18: MatMul width projection) -> GRU/LSTM ops (PyTorch gate semantics: GRU linear_before_reset = 1) ->
 * MatMul + Add -> output `logits` float32 [batch, frames, classes] (pre-softmax).
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import type { OcrModel } from './model.js';
import { OnnxGraph } from './onnx-graph.js';

/** Opset of exported graphs (ReduceMean still takes `axes` as an attribute in 17). */
export const ONNX_OPSET = 17;

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Fold batch-norm statistics into the preceding convolution (default true) or keep BatchNormalization nodes. */
  foldBatchNorm?: boolean;
  /** Key/value metadata stored in the model (e.g. the contract as JSON). */
  metadata?: Record<string, string>;
  /** Graph name (default `ocrops-<arch>`). */
  name?: string;
}

const BN_EPS = 1e-5;

interface W {
  data: Float32Array;
  shape: number[];
}

/** Reads the model's weights once, by name. */
export function weightReader(model: Pick<OcrModel, 'namedWeights'>): (name: string) => W {
  const vars = model.namedWeights();
  return (name) => {
    const v = vars.get(name);
    if (!v)
      throw new OcropsError('OCROPS_EXPORT_ONNX', `the model has no weight '${name}' (config and weights disagree)`);
    return { data: Float32Array.from(v.dataSync() as Float32Array), shape: [...v.shape] };
  };
}

/** tf conv kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
function convKernelToOihw(k: W): W {
  const [kh, kw, cin, cout] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < cin; c++) {
        for (let o = 0; o < cout; o++)
          out[((o * cin + c) * kh + i) * kw + j] = k.data[((i * kw + j) * cin + c) * cout + o];
      }
    }
  }
  return { data: out, shape: [cout, cin, kh, kw] };
}

/** Writes the extractor, recurrent and dense layers of one model into an OnnxGraph (the classifier exporter reuses its conv, pool and dense writers). */
export class CrnnWriter {
  private mergeShape?: string;

  constructor(
    readonly g: OnnxGraph,
    readonly w: (name: string) => W,
    readonly fold: boolean,
    readonly has: (name: string) => boolean,
  ) {}

  /**
   * Conv (+ bias) (+ batch norm folded or kept) (+ ReLU), NCHW. TensorFlow's 'same' padding puts the odd pixel at the
   * end, which is ONNX's SAME_UPPER.
   */
  conv(
    x: string,
    name: string,
    o: { pad: 'same' | 'valid'; strides?: [number, number]; bn?: string; relu: boolean },
  ): string {
    const k = convKernelToOihw(this.w(`${name}/kernel`));
    const cout = k.shape[0];
    let bias = this.has(`${name}/bias`) ? this.w(`${name}/bias`).data : undefined;
    let keepBn: string | undefined;
    if (o.bn && this.fold) {
      const { scale, shift } = this.bnAffine(o.bn);
      const per = k.data.length / cout;
      for (let c = 0; c < cout; c++)
        for (let i = 0; i < per; i++) k.data[c * per + i] = Math.fround(k.data[c * per + i] * scale[c]);
      const b = new Float32Array(cout);
      for (let c = 0; c < cout; c++) b[c] = (bias ? bias[c] : 0) * scale[c] + shift[c];
      bias = b;
    } else if (o.bn) keepBn = o.bn;
    const inputs = [x, this.g.floats(`${name}.weight`, k.data, k.shape)];
    if (bias) inputs.push(this.g.floats(`${name}.bias`, bias, [cout]));
    const attrs: Record<string, { ints: number[] } | { s: string }> = {
      kernel_shape: { ints: k.shape.slice(2) },
      strides: { ints: o.strides ?? [1, 1] },
    };
    if (o.pad === 'same') attrs.auto_pad = { s: 'SAME_UPPER' };
    else attrs.pads = { ints: [0, 0, 0, 0] };
    let y = this.g.op('Conv', inputs, attrs, name.replace(/\//g, '.'));
    if (keepBn) y = this.batchNorm(y, keepBn);
    return o.relu ? this.g.op('Relu', [y]) : y;
  }

  /** Inference batch norm as a per-channel affine map: y = x * scale + shift (float64, then float32). */
  bnAffine(name: string): { scale: Float32Array; shift: Float32Array } {
    const gamma = this.w(`${name}/gamma`).data;
    const beta = this.w(`${name}/beta`).data;
    const mean = this.w(`${name}/moving_mean`).data;
    const variance = this.w(`${name}/moving_variance`).data;
    const scale = new Float32Array(gamma.length);
    const shift = new Float32Array(gamma.length);
    for (let c = 0; c < gamma.length; c++) {
      const s = gamma[c] / Math.sqrt(variance[c] + BN_EPS);
      scale[c] = s;
      shift[c] = beta[c] - mean[c] * s;
    }
    return { scale, shift };
  }

  /** BatchNormalization node with the running statistics (inference mode). */
  batchNorm(x: string, name: string): string {
    const p = name.replace(/\//g, '.');
    const ins = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((k) => {
      const v = this.w(`${name}/${k}`);
      return this.g.floats(`${p}.${k}`, v.data, v.shape);
    });
    return this.g.op('BatchNormalization', [x, ...ins], { epsilon: { f: BN_EPS } }, p);
  }

  maxPool(x: string, size: [number, number]): string {
    return this.g.op('MaxPool', [x], { kernel_shape: { ints: size }, strides: { ints: size } });
  }

  /** NCHW -> mean over height -> time-major [T, B, C]. */
  heightMeanToSequence(x: string): string {
    const m = this.g.op('ReduceMean', [x], { axes: { ints: [2] }, keepdims: { i: 0 } });
    return this.g.op('Transpose', [m], { perm: { ints: [2, 0, 1] } });
  }

  /** Dense layer on [.., in] -> [.., out]: MatMul + Add (+ Relu). */
  dense(x: string, name: string, relu = false): string {
    const k = this.w(`${name}/kernel`);
    const b = this.w(`${name}/bias`);
    const y = this.g.op('Add', [
      this.g.op('MatMul', [x, this.g.floats(`${name}.kernel`, k.data, k.shape)]),
      this.g.floats(`${name}.bias`, b.data, b.shape),
    ]);
    return relu ? this.g.op('Relu', [y]) : y;
  }

  /** Reshape keeping the first two axes and merging the rest: [A, B, ...] -> [A, B, prod(...)]. */
  mergeTail(x: string): string {
    this.mergeShape ??= this.g.int64s('shape_merge_tail', [0, 0, -1]);
    return this.g.op('Reshape', [x, this.mergeShape]);
  }

  /**
   * One recurrent layer, time-major [T, B, D] -> [T, B, dirs*H] (forward direction's features first).
   * ocrops's gate blocks (GRU r|z|n, LSTM i|f|o|g) are reordered to ONNX's (GRU z|r|h, LSTM i|o|f|c).
   */
  rnn(x: string, name: string, type: 'gru' | 'lstm', hidden: number, dirs: 1 | 2): string {
    const G = type === 'gru' ? 3 : 4;
    const H = hidden;
    const order = type === 'gru' ? [1, 0, 2] : [0, 2, 1, 3]; // ONNX gate block k = ocrops gate block order[k]
    const wx = this.w(`${name}/wx`); // [D, dirs*G*H]
    const bx = this.w(`${name}/bx`); // [dirs*G*H]
    const wh = this.w(`${name}/wh`); // [dirs, H, G*H]
    const bh = this.w(`${name}/bh`); // [dirs, 1, G*H]
    const D = wx.shape[0];
    const W = new Float32Array(dirs * G * H * D);
    const R = new Float32Array(dirs * G * H * H);
    const B = new Float32Array(dirs * 2 * G * H);
    for (let d = 0; d < dirs; d++) {
      for (let k = 0; k < G; k++) {
        const src = order[k];
        for (let j = 0; j < H; j++) {
          const row = (d * G + k) * H + j; // ONNX row within [dirs, G*H, *]
          const col = src * H + j; // ocrops column within one direction's G*H
          for (let i = 0; i < D; i++) W[row * D + i] = wx.data[i * dirs * G * H + d * G * H + col];
          for (let i = 0; i < H; i++) R[row * H + i] = wh.data[(d * H + i) * G * H + col];
          B[d * 2 * G * H + k * H + j] = bx.data[d * G * H + col];
          B[d * 2 * G * H + G * H + k * H + j] = bh.data[d * G * H + col];
        }
      }
    }
    const attrs: Record<string, { i: number } | { s: string }> = {
      hidden_size: { i: H },
      direction: { s: dirs === 2 ? 'bidirectional' : 'forward' },
    };
    if (type === 'gru') attrs.linear_before_reset = { i: 1 };
    const ins = [
      x,
      this.g.floats(`${name}.W`, W, [dirs, G * H, D]),
      this.g.floats(`${name}.R`, R, [dirs, G * H, H]),
      this.g.floats(`${name}.B`, B, [dirs, 2 * G * H]),
    ];
    const [y] = this.g.node(type === 'gru' ? 'GRU' : 'LSTM', ins, attrs, { prefix: name }); // Y [T, dirs, B, H]
    const t = this.g.op('Transpose', [y], { perm: { ints: [0, 2, 1, 3] } });
    return this.mergeTail(t);
  }
}

/**
 * The VGG trunk that vgg and crnn share (model.ts vggTrunk; BN after conv 4 and 5, ReLU after every conv): NCHW in
 * -> [B, C, H/16 - 1, W/4].
 */
function vggTrunk(c: CrnnWriter, x: string): string {
  let y = c.maxPool(c.conv(x, 'conv0', { pad: 'same', relu: true }), [2, 2]);
  y = c.maxPool(c.conv(y, 'conv1', { pad: 'same', relu: true }), [2, 2]);
  y = c.conv(c.conv(y, 'conv2', { pad: 'same', relu: true }), 'conv3', { pad: 'same', relu: true });
  y = c.maxPool(y, [2, 1]);
  y = c.conv(y, 'conv4', { pad: 'same', bn: 'bn4', relu: true });
  y = c.conv(y, 'conv5', { pad: 'same', bn: 'bn5', relu: true });
  y = c.maxPool(y, [2, 1]);
  return c.conv(y, 'conv6', { pad: 'valid', relu: true });
}

/** vgg extractor (model.ts vggExtractor), NCHW in -> [T, B, innerDim]. */
function vggFeatures(c: CrnnWriter, x: string): string {
  return c.heightMeanToSequence(vggTrunk(c, x));
}

/** small extractor (model.ts smallExtractor): two conv blocks, columns flattened (h, c order), dense + ReLU. */
function smallFeatures(c: CrnnWriter, x: string): string {
  let y = c.maxPool(c.conv(x, 'conv0', { pad: 'same', relu: true }), [2, 2]);
  y = c.maxPool(c.conv(y, 'conv1', { pad: 'same', relu: true }), [2, 2]); // [B, 64, H4, T]
  const cols = c.mergeTail(c.g.op('Transpose', [y], { perm: { ints: [3, 0, 2, 1] } })); // [T, B, H4*64]
  return c.dense(cols, 'dense0', true);
}

/** resnet extractor (model.ts resnetExtractor): stem + four BasicBlocks with projection shortcuts. */
function resnetFeatures(c: CrnnWriter, x: string): string {
  let y = c.conv(x, 'stem', { pad: 'same', bn: 'stem_bn', relu: true });
  const strides: [number, number][] = [
    [2, 2],
    [2, 2],
    [2, 1],
    [2, 1],
  ];
  for (let i = 0; i < 4; i++) {
    y = basicBlockGraph(c, y, `block${i}`, strides[i], 'proj');
  }
  return c.heightMeanToSequence(y);
}

/**
 * One BasicBlock (basic-block.ts, used by the OCR resnet/resnet18 and the resnet_gap classifier): conv3x3(stride) BN
 * ReLU conv3x3 BN, plus the input (through the `projName` 1x1 conv + BN when the model has one), ReLU.
 */
export function basicBlockGraph(
  c: CrnnWriter,
  x: string,
  name: string,
  stride: number | [number, number],
  projName = 'downsample',
): string {
  const s: [number, number] = typeof stride === 'number' ? [stride, stride] : stride;
  const a = c.conv(x, `${name}/conv1`, { pad: 'same', strides: s, bn: `${name}/bn1`, relu: true });
  const b = c.conv(a, `${name}/conv2`, { pad: 'same', bn: `${name}/bn2`, relu: false });
  const short = c.has(`${name}/${projName}/kernel`)
    ? c.conv(x, `${name}/${projName}`, { pad: 'same', strides: s, bn: `${name}/${projName}_bn`, relu: false })
    : x;
  return c.g.op('Relu', [c.g.op('Add', [b, short])]);
}

/**
 * resnet18 extractor (model.ts resnet18Extractor): conv7x7/2 + BN + ReLU, max pool 3x3/2 ('same': SAME_UPPER, the
 * padding never wins a max), layer1 and layer2 of ResNet-18, mean over height -> [B, 128, W/8], then the 1x1 projection
 * over the width axis as a MatMul with the [W/8, steps] kernel (+ bias per frame) -> [steps, B, 128].
 */
function resnet18Features(c: CrnnWriter, x: string): string {
  let y = c.conv(x, 'conv1', { pad: 'same', strides: [2, 2], bn: 'bn1', relu: true });
  y = c.g.op('MaxPool', [y], {
    kernel_shape: { ints: [3, 3] },
    strides: { ints: [2, 2] },
    auto_pad: { s: 'SAME_UPPER' },
  });
  y = basicBlockGraph(c, y, 'layer1/0', 1);
  y = basicBlockGraph(c, y, 'layer1/1', 1);
  y = basicBlockGraph(c, y, 'layer2/0', 2);
  y = basicBlockGraph(c, y, 'layer2/1', 1);
  const byCol = c.g.op('ReduceMean', [y], { axes: { ints: [2] }, keepdims: { i: 0 } }); // [B, 128, W/8]
  const k = c.w('width_proj/kernel');
  const b = c.w('width_proj/bias');
  const frames = c.g.op('Add', [
    c.g.op('MatMul', [byCol, c.g.floats('width_proj.kernel', k.data, k.shape)]),
    c.g.floats('width_proj.bias', b.data, b.shape),
  ]); // [B, 128, T]
  return c.g.op('Transpose', [frames], { perm: { ints: [2, 0, 1] } });
}

/**
 * crnn extractor (model.ts crnnExtractor): the VGG trunk, then each column's channels x rows (channel-major, PyTorch's order) through the map-to-sequence linear layer -> [T, B, embed].
 */
function crnnFeatures(c: CrnnWriter, x: string): string {
  const y = vggTrunk(c, x); // [B, 512, H/16 - 1, T]
  const cols = c.mergeTail(c.g.op('Transpose', [y], { perm: { ints: [3, 0, 1, 2] } })); // [T, B, 512 * rows]
  return c.dense(cols, 'map_to_seq');
}

/** The extractor writer of an architecture: NCHW image in, time-major sequence [T, B, F] out. */
function featuresOf(arch: OcrModel['config']['arch']): (c: CrnnWriter, x: string) => string {
  switch (arch) {
    case 'vgg':
      return vggFeatures;
    case 'small':
      return smallFeatures;
    case 'resnet':
      return resnetFeatures;
    case 'resnet18':
      return resnet18Features;
    case 'crnn':
      return crnnFeatures;
  }
}

/**
 * Writes `model` (in inference mode: batch norm with running statistics, no dropout) as ONNX bytes: input `image`
 * [batch, height, width, channels], output `logits` [batch, frames, classes].
 */
export function exportOnnx(model: OcrModel, opts: OnnxExportOptions = {}): Uint8Array {
  const cfg = model.config;
  const g = new OnnxGraph();
  const names = new Set(model.namedWeights().keys());
  const writer = new CrnnWriter(g, weightReader(model), opts.foldBatchNorm !== false, (n) => names.has(n));
  let x = g.input('image');
  if (cfg.invert) x = g.op('Sub', [g.floats('one', Float32Array.of(1), []), x], {}, 'invert');
  x = g.op('Transpose', [x], { perm: { ints: [0, 3, 1, 2] } }, 'nchw');
  let seq = featuresOf(cfg.arch)(writer, x);
  const dirs = cfg.rnn.bidirectional ? 2 : 1;
  for (let i = 0; i < cfg.rnn.layers; i++) {
    const hidden = cfg.rnn.hiddenPerLayer?.[i] ?? cfg.rnn.hidden;
    seq = writer.rnn(seq, `rnn${i}`, cfg.rnn.type, hidden, dirs);
  }
  if (cfg.arch === 'vgg') seq = writer.dense(seq, 'embedding');
  const scores = writer.dense(seq, 'decoder'); // [T, B, C]
  const logits = g.rename(g.op('Transpose', [scores], { perm: { ints: [1, 0, 2] } }), 'logits');
  return g.encode({
    name: opts.name ?? `ocrops-${cfg.arch}`,
    // resnet18 takes one fixed width (model.width) and always gives `steps` frames; the others any width
    inputs: [
      {
        name: 'image',
        dims: ['batch', cfg.height, cfg.arch === 'resnet18' ? (cfg.width as number) : 'width', cfg.channels],
      },
    ],
    outputs: [
      { name: logits, dims: ['batch', cfg.arch === 'resnet18' ? (cfg.steps as number) : 'frames', model.numClasses] },
    ],
    opset: ONNX_OPSET,
    producerVersion: `tfjs ${tf.version.tfjs}`,
    docString: `ocrops CRNN (${cfg.arch}, ${cfg.rnn.layers}x${cfg.rnn.bidirectional ? 'bi' : ''}${cfg.rnn.type}): image [batch, ${cfg.height}, ${cfg.width ?? 'width'}, ${cfg.channels}] in [0, 1] -> logits [batch, frames, ${model.numClasses}]`,
    metadata: opts.metadata,
  });
}
