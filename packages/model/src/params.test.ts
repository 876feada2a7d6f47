import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend.js';
import { ParamStore, batchNorm, conv, makeBatchNorm, makeConv, maxPool, relu } from './params.js';

await selectBackend({ quiet: true });

function close(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape, what);
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

test('conv layers with hand-written gradients equal tfjs autodiff of the same ops (same/valid, strides, relu, bias)', () => {
  const p = new ParamStore(5);
  const x = tf.randomNormal([2, 9, 11, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const variants = [
    makeConv(p, 'a', [3, 3], 3, 4),
    makeConv(p, 'b', [2, 2], 3, 4, { pad: 'valid' }),
    makeConv(p, 'c', [3, 3], 3, 5, { bias: false, strides: [2, 1] }),
    makeConv(p, 'd', [1, 1], 3, 2, { strides: [2, 2] }),
    makeConv(p, 'e', [1, 1], 3, 4, { strides: [2, 1], pad: 'valid', bias: false }),
    makeConv(p, 'f', [1, 1], 3, 4),
  ];
  for (const [i, c] of variants.entries()) {
    for (const useRelu of [true, false]) {
      const ref = (xi: tf.Tensor4D) => {
        let y = tf.conv2d(xi, c.kernel as tf.Tensor4D, c.strides, c.pad) as tf.Tensor;
        if (c.bias) y = tf.add(y, c.bias);
        return useRelu ? tf.relu(y) : y;
      };
      const w = tf.randomNormal(ref(x).shape, 0, 1, 'float32', 2);
      const vars = [c.kernel, ...(c.bias ? [c.bias] : [])];
      const ours = tf.variableGrads(() => tf.sum(tf.mul(conv(x, c, useRelu), w)) as tf.Scalar, vars);
      const theirs = tf.variableGrads(() => tf.sum(tf.mul(ref(x), w)) as tf.Scalar, vars);
      close(ours.value, theirs.value, 1e-4, `value ${i}`);
      for (const v of vars) close(ours.grads[v.name], theirs.grads[v.name], 1e-3, `grad ${v.name} relu=${useRelu}`);
      const dxOurs = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(conv(xi as tf.Tensor4D, c, useRelu), w)))(x);
      const dxTheirs = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref(xi as tf.Tensor4D), w)))(x);
      close(dxOurs, dxTheirs, 1e-3, `input grad ${i}`);
      // without the input gradient, weight gradients are unchanged
      const noInput = tf.variableGrads(() => tf.sum(tf.mul(conv(x, c, useRelu, false), w)) as tf.Scalar, vars);
      for (const v of vars) close(noInput.grads[v.name], theirs.grads[v.name], 1e-3, `grad ${v.name} (no input grad)`);
    }
  }
  p.dispose();
});

test('a strided 1x1 conv with few channels on a wide map: its filter gradient summed by hand over the pixels it reads', () => {
  // the shape of the ResNet backbone's first shortcut at inner_dim 16, where TensorFlow's own kernel corrupted the heap
  const p = new ParamStore(7);
  const c = makeConv(p, 'proj', [1, 1], 2, 2, { bias: false, strides: [2, 2] });
  const [B, H, W, C] = [4, 32, 200, 2];
  const x = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 3) as tf.Tensor4D;
  const w = tf.randomNormal([B, H / 2, W / 2, 2], 0, 1, 'float32', 4);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(conv(x, c, false), w)) as tf.Scalar, [c.kernel]);
  const xs = x.dataSync();
  const ws = w.dataSync();
  const want = new Float32Array(C * 2);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H / 2; i++)
      for (let j = 0; j < W / 2; j++)
        for (let ci = 0; ci < C; ci++)
          for (let co = 0; co < 2; co++)
            want[ci * 2 + co] +=
              xs[((b * H + 2 * i) * W + 2 * j) * C + ci] * ws[((b * (H / 2) + i) * (W / 2) + j) * 2 + co];
  close(grads[c.kernel.name], tf.tensor4d(want, [1, 1, C, 2]), 1e-3, 'filter gradient');
  p.dispose();
});

test('max pooling with the mask gradient equals tf.maxPool gradients (odd sizes cropped like PyTorch floor mode)', () => {
  for (const [shape, size] of [
    [
      [2, 8, 10, 3],
      [2, 2],
    ],
    [
      [1, 9, 7, 2],
      [2, 2],
    ],
    [
      [2, 7, 5, 4],
      [2, 1],
    ],
  ] as [[number, number, number, number], [number, number]][]) {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const ref = (xi: tf.Tensor4D) => tf.maxPool(xi, size, size, 'valid');
    const w = tf.randomNormal(ref(x).shape, 0, 1, 'float32', 4);
    close(maxPool(x, size), ref(x), 0, 'pool value');
    const a = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(maxPool(xi as tf.Tensor4D, size), w)))(x);
    const b = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref(xi as tf.Tensor4D), w)))(x);
    close(a, b, 1e-6, `pool grad ${shape} ${size}`);
  }
});

test('max pooling passes the gradient of a tied window to its first maximum only, as tf.maxPool (flat regions)', () => {
  // a flat image region: every window holds equal positive values (and one window a tie of two of its four)
  const x = tf.tensor4d([1, 1, 2, 0, 1, 1, 2, 2, 3, 3, 0, 5, 3, 3, 5, 1], [1, 4, 4, 1]);
  const ref = (xi: tf.Tensor4D) => tf.maxPool(xi, [2, 2], [2, 2], 'valid');
  const w = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const a = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(maxPool(xi as tf.Tensor4D, [2, 2]), w)))(x);
  const b = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref(xi as tf.Tensor4D), w)))(x);
  assert.deepEqual(Array.from(a.dataSync()), [1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4, 0, 0, 0, 0]);
  close(a, b, 0, 'tied pool grad');
  // a plain 3-channel batch quantised to 8 levels (many ties), odd size
  const q = tf.round(tf.randomUniform([2, 9, 11, 3], 0, 8, 'float32', 5)) as tf.Tensor4D;
  const wq = tf.randomNormal(ref(q).shape, 0, 1, 'float32', 6);
  const aq = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(maxPool(xi as tf.Tensor4D, [2, 2]), wq)))(q);
  const bq = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(ref(xi as tf.Tensor4D), wq)))(q);
  close(aq, bq, 1e-6, 'quantised pool grad');
  assert.equal(
    tf.sum(aq).dataSync()[0].toFixed(4),
    tf.sum(wq).dataSync()[0].toFixed(4),
    'each window passes its dy once',
  );
});

test('relu and batch norm gradients equal tfjs autodiff; running statistics follow PyTorch (momentum 0.1, unbiased)', () => {
  const x = tf.randomNormal([3, 4, 5, 6], 0.5, 2, 'float32', 7) as tf.Tensor4D;
  const w = tf.randomNormal([3, 4, 5, 6], 0, 1, 'float32', 8);
  close(
    tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(relu(xi), w)))(x),
    tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(tf.relu(xi), w)))(x),
    0,
    'relu grad',
  );
  const p = new ParamStore(1);
  const bn = makeBatchNorm(p, 'bn', 6);
  const refBn = (xi: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, 1e-5))), bn.gamma), bn.beta);
  };
  const vars = [bn.gamma, bn.beta];
  const ours = tf.variableGrads(() => tf.sum(tf.mul(batchNorm(x, bn, true), w)) as tf.Scalar, vars);
  const theirs = tf.variableGrads(() => tf.sum(tf.mul(refBn(x), w)) as tf.Scalar, vars);
  close(ours.value, theirs.value, 1e-4, 'bn value');
  for (const v of vars) close(ours.grads[v.name], theirs.grads[v.name], 1e-3, `bn grad ${v.name}`);
  close(
    tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(batchNorm(xi as tf.Tensor4D, bn, true), w)))(x),
    tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(refBn(xi as tf.Tensor4D), w)))(x),
    1e-3,
    'bn input grad',
  );
  // two training calls so far: running mean = (1 - 0.9^2) * batch mean
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const n = 3 * 4 * 5;
  close(bn.mean, tf.mul(mean, 1 - 0.9 ** 2), 1e-4, 'running mean');
  close(bn.variance, tf.add(tf.mul(variance, (1 - 0.9 ** 2) * (n / (n - 1))), 0.9 ** 2), 1e-4, 'running variance');
  p.dispose();
});
