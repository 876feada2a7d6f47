/**
 * Named tf.Variables of a model with PyTorch-style initialisers (seeded, so a model is reproducible), and the small
 * functional layers built on them (convolution, batch norm, dense). Layouts are TensorFlow's: NHWC activations,
 * convolution kernels [kh, kw, in, out], dense weights [in, out].
 */
import * as tf from '@tensorflow/tfjs';
import { attr, dtypeAttr, nativeBackend, reluGrad } from './native.js';

let storeCount = 0;

/** A model's variables by name (`conv1/kernel`, `rnn0/wh`, ...), in creation order. */
export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  private seed: number;
  /** Prefix that keeps tf variable names unique when several models live in one process. */
  private readonly scope = `m${storeCount++}`;

  constructor(seed = 1234) {
    this.seed = seed;
  }

  private add(name: string, value: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter ${name}`);
    const v = tf.variable(value, trainable, `${this.scope}/${name}`);
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** Uniform(-bound, bound) initialised variable. */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    return this.add(name, tf.randomUniform(shape, -bound, bound, 'float32', this.seed++), true);
  }

  /** Normal(0, std) initialised variable (He normal: std = sqrt(2 / fanIn)). */
  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.add(name, tf.randomNormal(shape, 0, std, 'float32', this.seed++), true);
  }

  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable);
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`unknown parameter ${name}`);
    return v;
  }

  trainable(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** 2-D convolution layer (optionally + bias), NHWC. */
export interface Conv {
  kernel: tf.Variable;
  bias?: tf.Variable;
  strides: [number, number];
  pad: 'same' | 'valid';
}

/**
 * Creates a conv layer with PyTorch's default init (kaiming-uniform a=sqrt(5): bound 1/sqrt(fanIn)) or He normal.
 * @param k kernel size [kh, kw]
 */
export function makeConv(
  p: ParamStore,
  name: string,
  k: [number, number],
  cin: number,
  cout: number,
  opts: { bias?: boolean; strides?: [number, number]; pad?: 'same' | 'valid'; init?: 'torch' | 'he' } = {},
): Conv {
  const fanIn = k[0] * k[1] * cin;
  const kernel =
    opts.init === 'he'
      ? p.normal(`${name}/kernel`, [k[0], k[1], cin, cout], Math.sqrt(2 / fanIn))
      : p.uniform(`${name}/kernel`, [k[0], k[1], cin, cout], 1 / Math.sqrt(fanIn));
  const conv: Conv = { kernel, strides: opts.strides ?? [1, 1], pad: opts.pad ?? 'same' };
  if (opts.bias !== false) {
    conv.bias =
      opts.init === 'he'
        ? p.constant(`${name}/bias`, [cout], 0)
        : p.uniform(`${name}/bias`, [cout], 1 / Math.sqrt(fanIn));
  }
  return conv;
}

/**
 * The filter gradient of a 1x1 convolution: one matmul of the input read at the strides (the only pixels a 1x1 kernel
 * sees, 'same' or 'valid' alike) with the output gradient. TensorFlow's oneDNN Conv2DBackpropFilter corrupts the heap
 * for strided 1x1 kernels with few channels on some CPUs (AVX-512 EPYC, TensorFlow 2.21), and the matmul is exact.
 */
function pointwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, strides: [number, number]): tf.Tensor4D {
  const [B, H, W, cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  const read =
    strides[0] > 1 || strides[1] > 1 ? tf.stridedSlice(x, [0, 0, 0, 0], [B, H, W, cin], [1, ...strides, 1]) : x;
  return tf
    .matMul(read.reshape([B * ho * wo, cin]), dy.reshape([B * ho * wo, cout]), true, false)
    .reshape([1, 1, cin, cout]);
}

type ConvAttrs = { strides: [number, number]; pad: 'same' | 'valid'; dataFormat: 'NHWC'; dimRoundingMode?: undefined };

/**
 * Applies a conv layer: [B,H,W,Cin] -> [B,H',W',Cout]. Forward is one fused op (conv + bias + ReLU); the backward
 * pass is written out (tf.customGrad): ReLU gradient from the output (one native op on tfjs-node), then the input and
 * filter gradients as single kernels and the bias gradient as one sum. `inputGrad: false` skips the input gradient
 * (first layer: nothing upstream needs it).
 */
export function conv(x: tf.Tensor4D, c: Conv, relu: boolean, inputGrad = true): tf.Tensor4D {
  const attrs: ConvAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
  const forward = (xi: tf.Tensor4D, k: tf.Tensor4D, b?: tf.Tensor) =>
    tf.fused.conv2d({
      x: xi,
      filter: k,
      strides: c.strides,
      pad: c.pad,
      bias: b,
      activation: relu ? 'relu' : 'linear',
    });
  const backward = (
    dy: tf.Tensor,
    y: tf.Tensor,
    xi: tf.Tensor4D,
    k: tf.Tensor4D,
    withInput: boolean,
    withBias: boolean,
  ) => {
    const dyr = relu ? reluGrad(dy, y) : dy;
    if (tf.getBackend() === 'wasm' && c.strides[0] === 1 && c.strides[1] === 1) {
      return wasmConvBackward(dyr as tf.Tensor4D, xi, k, c.pad, withInput, withBias);
    }
    const grads: tf.Tensor[] = [];
    if (withInput) {
      grads.push(
        tf.engine().runKernel('Conv2DBackpropInput', { dy: dyr, filter: k }, {
          ...attrs,
          inputShape: xi.shape,
        } as never) as tf.Tensor,
      );
    }
    grads.push(
      k.shape[0] === 1 && k.shape[1] === 1
        ? pointwiseFilterGrad(xi, dyr as tf.Tensor4D, c.strides)
        : (tf.engine().runKernel('Conv2DBackpropFilter', { x: xi, dy: dyr }, {
            ...attrs,
            filterShape: k.shape,
          } as never) as tf.Tensor),
    );
    if (withBias) grads.push(tf.sum(dyr, [0, 1, 2]));
    return grads;
  };
  type Save = tf.GradSaveFunc;
  const hasBias = c.bias !== undefined;
  if (inputGrad) {
    const f = tf.customGrad(((xi: tf.Tensor4D, k: tf.Tensor4D, ...rest: unknown[]) => {
      const b = hasBias ? (rest[0] as tf.Tensor) : undefined;
      const save = rest[hasBias ? 1 : 0] as Save;
      const value = forward(xi, k, b);
      save([xi, k, value]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) =>
          backward(dy, s[2], s[0] as tf.Tensor4D, s[1] as tf.Tensor4D, true, hasBias),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return (hasBias ? f(x, c.kernel, c.bias!) : f(x, c.kernel)) as tf.Tensor4D;
  }
  const f = tf.customGrad(((k: tf.Tensor4D, ...rest: unknown[]) => {
    const b = hasBias ? (rest[0] as tf.Tensor) : undefined;
    const save = rest[hasBias ? 1 : 0] as Save;
    const value = forward(x, k, b);
    // x is saved too: it may be an intermediate (e.g. the inverted input) that the caller's tidy disposes
    save([k, value, x]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) =>
        backward(dy, s[1], s[2] as tf.Tensor4D, s[0] as tf.Tensor4D, false, hasBias),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (hasBias ? f(c.kernel, c.bias!) : f(c.kernel)) as tf.Tensor4D;
}

/**
 * Stride-1 convolution gradients in the forms the wasm backend runs fast (references.md §6): the filter gradient as
 * one im2col matMul with both operands untransposed ([kh*kw*Cin, N] x [N, Cout]), the input gradient as a forward
 * convolution of the padded output gradient with the flipped, in/out-swapped kernel.
 */
function wasmConvBackward(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  k: tf.Tensor4D,
  pad: 'same' | 'valid',
  withInput: boolean,
  withBias: boolean,
): tf.Tensor[] {
  const [B, , , Cin] = x.shape;
  const [KH, KW, , Cout] = k.shape;
  const [, OH, OW] = dy.shape;
  const pt = pad === 'same' ? Math.floor((KH - 1) / 2) : 0;
  const pb = pad === 'same' ? KH - 1 - pt : 0;
  const pl = pad === 'same' ? Math.floor((KW - 1) / 2) : 0;
  const pr = pad === 'same' ? KW - 1 - pl : 0;
  const grads: tf.Tensor[] = [];
  if (withInput) {
    const dyp = tf.pad(dy, [
      [0, 0],
      [KH - 1 - pt, KH - 1 - pb],
      [KW - 1 - pl, KW - 1 - pr],
      [0, 0],
    ]);
    const kf = tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    grads.push(tf.conv2d(dyp as tf.Tensor4D, kf, 1, 'valid'));
  }
  const xp =
    pad === 'same'
      ? tf.pad(x, [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ])
      : x;
  const N = B * OH * OW;
  const cols: tf.Tensor[] = [];
  for (let i = 0; i < KH; i++) {
    for (let j = 0; j < KW; j++) cols.push(xp.slice([0, i, j, 0], [B, OH, OW, Cin]).reshape([N, Cin]));
  }
  const im2colT = tf.transpose(cols.length === 1 ? cols[0] : tf.concat(cols, 1)) as tf.Tensor2D; // [KH*KW*Cin, N]
  grads.push(tf.matMul(im2colT, dy.reshape([N, Cout]) as tf.Tensor2D).reshape([KH, KW, Cin, Cout]));
  if (withBias) grads.push(tf.sum(dy, [0, 1, 2]));
  return grads;
}

/** Batch normalisation over N, H, W of NHWC input, with running statistics (PyTorch momentum 0.1, eps 1e-5). */
export interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

export function makeBatchNorm(p: ParamStore, name: string, channels: number): BatchNorm {
  return {
    gamma: p.constant(`${name}/gamma`, [channels], 1),
    beta: p.constant(`${name}/beta`, [channels], 0),
    mean: p.constant(`${name}/moving_mean`, [channels], 0, false),
    variance: p.constant(`${name}/moving_variance`, [channels], 1, false),
  };
}

/**
 * Batch norm: in training, normalises with the batch's statistics and updates the running ones (unbiased variance,
 * like PyTorch); otherwise uses the running statistics. [B,H,W,C] -> same shape.
 */
export function batchNorm(x: tf.Tensor4D, bn: BatchNorm, training: boolean): tf.Tensor4D {
  const eps = 1e-5;
  const m = 0.1;
  if (!training)
    return tf.batchNorm4d(
      x,
      bn.mean as tf.Tensor1D,
      bn.variance as tf.Tensor1D,
      bn.beta as tf.Tensor1D,
      bn.gamma as tf.Tensor1D,
      eps,
    );
  const nb = nativeBackend();
  if (nb) {
    // TensorFlow's fused kernels: one op forward (y, batch mean, Bessel-corrected batch variance, saved statistics),
    // one op backward.
    const attrs = [
      dtypeAttr('T'),
      dtypeAttr('U'),
      attr(nb, 'epsilon', 'float', eps),
      attr(nb, 'data_format', 'string', 'NHWC'),
      attr(nb, 'is_training', 'bool', true),
    ];
    const f = tf.customGrad(((xi: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
      const empty = tf.tensor1d([]);
      const outs = nb.executeMultipleOutputs(
        'FusedBatchNormV3',
        [...attrs, attr(nb, 'exponential_avg_factor', 'float', 1)],
        [xi, gamma, beta, empty, empty],
        6,
      );
      const [value, mean, variance, r1, r2, r3] = outs;
      tf.tidy(() => {
        bn.mean.assign(tf.add(tf.mul(bn.mean, 1 - m), tf.mul(mean, m)));
        bn.variance.assign(tf.add(tf.mul(bn.variance, 1 - m), tf.mul(variance, m)));
      });
      save([xi, gamma, r1, r2, r3]);
      const gradFunc = (dy: tf.Tensor, s: tf.Tensor[]) => {
        const g = nb.executeMultipleOutputs('FusedBatchNormGradV3', attrs, [dy, ...s], 5);
        tf.dispose(g.slice(3));
        return g.slice(0, 3);
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return f(x, bn.gamma, bn.beta) as tf.Tensor4D;
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  tf.tidy(() => {
    bn.mean.assign(bn.mean.mul(1 - m).add(mean.mul(m)));
    bn.variance.assign(bn.variance.mul(1 - m).add(variance.mul((m * n) / Math.max(n - 1, 1))));
  });
  return tf.batchNorm4d(
    x,
    mean as tf.Tensor1D,
    variance as tf.Tensor1D,
    bn.beta as tf.Tensor1D,
    bn.gamma as tf.Tensor1D,
    eps,
  );
}

/** ReLU whose gradient is computed from its output by {@link reluGrad} (tfjs's own goes through `Step`). */
export function relu<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const value = tf.relu(xi);
    save([value]);
    return { value, gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => [reluGrad(dy, s[0])] };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as T;
}

/**
 * Non-overlapping max pooling (window = stride, 'valid') with a mask-based gradient: dy goes to the first input of
 * each window (in row-major order) equal to the window's maximum, as in PyTorch and TensorFlow, computed with equal,
 * one max pool of the ranked mask and mul on [B, H/ph, ph, W/pw, pw, C] views instead of TensorFlow's MaxPoolGrad,
 * which costs more than the convolutions it sits between on one thread. Ties are common: flat image regions (a white
 * page, a plain background, an edge-filled border) give equal positive activations, and a window that passed dy to
 * each of them would multiply the gradient of those regions by up to ph x pw.
 * [B,H,W,C] -> [B, floor(H/ph), floor(W/pw), C]
 */
export function maxPool(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  const [ph, pw] = size;
  const f = tf.customGrad(((xi: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const value = tf.maxPool(xi, size, size, 'valid');
    save([xi, value]);
    const gradFunc = (dy: tf.Tensor, s: tf.Tensor[]) => {
      const [xs, y] = s as tf.Tensor4D[];
      const [B, H, W, C] = xs.shape;
      const [, H2, W2] = y.shape;
      const crop = H2 * ph !== H || W2 * pw !== W;
      const xc = crop ? xs.slice([0, 0, 0, 0], [B, H2 * ph, W2 * pw, C]) : xs;
      const isMax = tf.cast(tf.equal(xc.reshape([B, H2, ph, W2, pw, C]), y.reshape([B, H2, 1, W2, 1, C])), 'float32');
      const mask = ph * pw === 1 ? isMax : firstInWindow(isMax, [B, H2, W2, C], size);
      let dx = tf.mul(mask, dy.reshape([B, H2, 1, W2, 1, C])).reshape([B, H2 * ph, W2 * pw, C]);
      if (crop)
        dx = tf.pad(dx, [
          [0, 0],
          [0, H - H2 * ph],
          [0, W - W2 * pw],
          [0, 0],
        ]);
      return [dx];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}

/**
 * Of a 0/1 mask [B, H2, ph, W2, pw, C] of each window's maxima, keeps only the first one of each window in row-major
 * order: each maximum is ranked by a weight that falls along the window (ph x pw for the first position, 1 for the
 * last), and the one whose weight is the window's largest (a max pool of the weighted mask) is kept.
 */
function firstInWindow(isMax: tf.Tensor, [B, H2, W2, C]: number[], [ph, pw]: [number, number]): tf.Tensor {
  const rank = tf.tensor(
    Array.from({ length: ph * pw }, (_, k) => ph * pw - k),
    [1, 1, ph, 1, pw, 1],
  );
  const weighted = tf.mul(isMax, rank);
  const best = tf.maxPool(weighted.reshape([B, H2 * ph, W2 * pw, C]) as tf.Tensor4D, [ph, pw], [ph, pw], 'valid');
  return tf.cast(tf.equal(weighted, best.reshape([B, H2, 1, W2, 1, C])), 'float32');
}

/** Fully connected layer [.., in] -> [.., out]. */
export interface Dense {
  kernel: tf.Variable;
  bias: tf.Variable;
}

export function makeDense(
  p: ParamStore,
  name: string,
  din: number,
  dout: number,
  init: 'torch' | 'glorot' = 'torch',
): Dense {
  if (init === 'glorot') {
    const b = Math.sqrt(6 / (din + dout));
    return { kernel: p.uniform(`${name}/kernel`, [din, dout], b), bias: p.constant(`${name}/bias`, [dout], 0) };
  }
  const bound = 1 / Math.sqrt(din);
  return { kernel: p.uniform(`${name}/kernel`, [din, dout], bound), bias: p.uniform(`${name}/bias`, [dout], bound) };
}

/** Applies a dense layer to [N, in] -> [N, out] (bias and activation fused). */
export function dense(x: tf.Tensor2D, d: Dense, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: d.kernel as tf.Tensor2D, bias: d.bias, activation }) as tf.Tensor2D;
}
