import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '@ocrops/common';
import { ctcForwardBackward, ctcLoss } from './ctc.js';
import { selectBackend } from './backend.js';

await selectBackend({ quiet: true });

function randomLogits(B: number, T: number, C: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: B * T * C }, () => (r() - 0.5) * 6);
}

/** -log of the summed probability of every frame-level path that collapses to `label`, by enumeration. */
function bruteForce(logits: Float32Array, b: number, T: number, C: number, label: number[], blank: number): number {
  const lp: number[][] = [];
  for (let t = 0; t < T; t++) {
    const row = Array.from(logits.subarray((b * T + t) * C, (b * T + t + 1) * C), Number);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    lp.push(row.map((v) => v - lse));
  }
  let total = 0;
  const path = new Array<number>(T).fill(0);
  const n = C ** T;
  for (let code = 0; code < n; code++) {
    let c = code;
    for (let t = 0; t < T; t++) {
      path[t] = c % C;
      c = Math.floor(c / C);
    }
    const collapsed: number[] = [];
    for (let t = 0; t < T; t++) if (path[t] !== blank && (t === 0 || path[t] !== path[t - 1])) collapsed.push(path[t]);
    if (collapsed.length === label.length && collapsed.every((v, i) => v === label[i])) {
      let s = 0;
      for (let t = 0; t < T; t++) s += lp[t][path[t]];
      total += Math.exp(s);
    }
  }
  return -Math.log(total);
}

const cases: { T: number; C: number; labels: number[][]; blank: number }[] = [
  { T: 5, C: 3, labels: [[1, 2], [1, 1], [], [2], [2, 1, 2]], blank: 0 },
  { T: 6, C: 4, labels: [[1, 2, 3], [3, 3, 3], [2, 2], [1]], blank: 0 },
  { T: 7, C: 3, labels: [[0, 1, 0], [1, 1], [0]], blank: 2 }, // blank not at 0
];

test('ctcLoss equals brute-force path enumeration (1e-5 relative), variable-length labels, repeats, empty label', () => {
  for (const [ci, c] of cases.entries()) {
    const B = c.labels.length;
    const data = randomLogits(B, c.T, c.C, 11 + ci);
    const logits = tf.tensor3d(data, [B, c.T, c.C]);
    const losses = ctcLoss(logits, c.labels, { blank: c.blank, reduction: 'none' }).arraySync();
    for (let b = 0; b < B; b++) {
      const want = bruteForce(data, b, c.T, c.C, c.labels[b], c.blank);
      assert.ok(Math.abs(losses[b] - want) / want < 1e-5, `case ${ci} sample ${b}: ${losses[b]} vs ${want}`);
    }
    logits.dispose();
  }
});

test('reductions: mean divides by label length then averages (PyTorch), sum adds up', () => {
  const c = cases[1];
  const B = c.labels.length;
  const logits = tf.tensor3d(randomLogits(B, c.T, c.C, 5), [B, c.T, c.C]);
  const none = ctcLoss(logits, c.labels, { reduction: 'none' }).arraySync();
  const sum = ctcLoss(logits, c.labels, { reduction: 'sum' }).arraySync();
  const mean = ctcLoss(logits, c.labels).arraySync();
  assert.ok(Math.abs(sum - none.reduce((a, b) => a + b, 0)) < 1e-4);
  const want = none.reduce((a, l, b) => a + l / Math.max(c.labels[b].length, 1), 0) / B;
  assert.ok(Math.abs(mean - want) < 1e-5);
});

test('impossible alignments: zeroInfinity gives 0 loss and 0 gradient, otherwise Infinity', () => {
  const logits = tf.tensor3d(randomLogits(2, 3, 4, 9), [2, 3, 4]);
  const labels = [[1, 1, 1], [2]]; // 1,1,1 needs 5 frames
  const none = ctcLoss(logits, labels, { reduction: 'none', zeroInfinity: false }).arraySync();
  assert.equal(none[0], Infinity);
  assert.ok(Number.isFinite(none[1]));
  const g = tf.grad((x: tf.Tensor) => ctcLoss(x as tf.Tensor3D, labels, { reduction: 'sum' }))(logits);
  const ga = g.arraySync() as number[][][];
  assert.ok(ga[0].flat().every((v) => v === 0));
  assert.ok(ga[1].flat().some((v) => v !== 0));
  assert.equal(ctcLoss(logits, labels, { reduction: 'none' }).arraySync()[0], 0);
});

test('zeroInfinity zeroes only +Infinity losses: a NaN loss propagates to the loss and its gradient', () => {
  const data = randomLogits(3, 6, 4, 13);
  data[4] = NaN; // sample 0, frame 1: diverged logits
  const logits = tf.tensor3d(data, [3, 6, 4]);
  const labels = [[1, 2], [1, 1, 1, 1], [3]]; // sample 1 needs 7 frames: impossible
  const none = ctcLoss(logits, labels, { reduction: 'none' }).arraySync();
  assert.ok(Number.isNaN(none[0]), `NaN loss expected, got ${none[0]}`);
  assert.equal(none[1], 0);
  assert.ok(Number.isFinite(none[2]) && none[2] > 0);
  assert.ok(Number.isNaN(ctcLoss(logits, labels).arraySync()));
  assert.ok(Number.isNaN(ctcLoss(logits, labels, { reduction: 'sum' }).arraySync()));
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    const g = tf.grad((x: tf.Tensor) => tf.sum(ctcLoss(x as tf.Tensor3D, labels, { reduction })))(logits);
    const ga = g.arraySync() as number[][][];
    assert.ok(
      ga[0].flat().some((v) => Number.isNaN(v)),
      `${reduction}: NaN gradient for the NaN sample`,
    );
    assert.ok(
      ga[1].flat().every((v) => v === 0),
      `${reduction}: zero gradient for the zeroed sample`,
    );
    assert.ok(ga[2].flat().every((v) => Number.isFinite(v)) && ga[2].flat().some((v) => v !== 0));
  }
});

test('analytic gradient matches central finite differences (float64)', () => {
  const B = 3;
  const T = 6;
  const C = 5;
  const labels = [[1, 2, 2], [4], [3, 1]];
  const x = Float64Array.from(randomLogits(B, T, C, 21), Number);
  const lens = [6, 5, 4]; // incl. shorter input lengths
  const { grad } = ctcForwardBackward(x, [B, T, C], labels, 0, lens);
  const f = (v: Float64Array) => ctcForwardBackward(v, [B, T, C], labels, 0, lens).losses.reduce((a, b) => a + b, 0);
  const h = 1e-6;
  let maxErr = 0;
  for (let i = 0; i < x.length; i++) {
    const p = Float64Array.from(x);
    const m = Float64Array.from(x);
    p[i] += h;
    m[i] -= h;
    const fd = (f(p) - f(m)) / (2 * h);
    maxErr = Math.max(maxErr, Math.abs(fd - grad[i]));
  }
  assert.ok(maxErr < 1e-6, `max |fd - analytic| = ${maxErr}`);
  // frames past a sample's input length get no gradient
  for (let k = 0; k < C; k++) assert.equal(grad[(2 * T + 5) * C + k], 0);
});

test('tf.grad through ctcLoss (mean) matches finite differences of the scalar loss', () => {
  const B = 2;
  const T = 5;
  const C = 4;
  const labels = [
    [1, 3],
    [2, 2],
  ];
  const data = randomLogits(B, T, C, 33);
  const x = tf.tensor3d(data, [B, T, C]);
  const g = tf
    .grad((v: tf.Tensor) => ctcLoss(v as tf.Tensor3D, labels))(x)
    .dataSync();
  const loss = (v: Float32Array) => {
    const r = ctcForwardBackward(v, [B, T, C], labels, 0).losses;
    return (r[0] / 2 + r[1] / 2) / B;
  };
  const h = 1e-3;
  for (let i = 0; i < data.length; i += 3) {
    const p = Float32Array.from(data);
    const m = Float32Array.from(data);
    p[i] += h;
    m[i] -= h;
    const fd = (loss(p) - loss(m)) / (2 * h);
    assert.ok(Math.abs(fd - g[i]) < 2e-3, `element ${i}: ${fd} vs ${g[i]}`);
  }
});

test('same loss and gradient on the cpu and the active backend', async () => {
  const active = tf.getBackend();
  const B = 4;
  const T = 12;
  const C = 7;
  const labels = [[1, 2, 3], [6, 6], [5], [1, 2, 1, 2, 1]];
  const data = randomLogits(B, T, C, 77);
  const run = () => {
    const x = tf.tensor3d(data, [B, T, C]);
    const { value, grads } = tf.variableGrads(() => ctcLoss(tf.mul(x, v) as tf.Tensor3D, labels), [v]);
    const out = { loss: value.dataSync()[0], grad: grads[v.name].dataSync()[0] };
    tf.dispose([x, value, grads[v.name]]);
    return out;
  };
  let v = tf.variable(tf.scalar(1));
  const a = run();
  v.dispose();
  await tf.setBackend('cpu');
  try {
    v = tf.variable(tf.scalar(1));
    const b = run();
    v.dispose();
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.abs(b.loss), `${active} ${a.loss} vs cpu ${b.loss}`);
    assert.ok(Math.abs(a.grad - b.grad) < 1e-4 * Math.max(1, Math.abs(b.grad)));
  } finally {
    await tf.setBackend(active);
  }
});

test('bad input is an OcropsError naming the problem', () => {
  const x = tf.zeros([1, 4, 3]) as tf.Tensor3D;
  assert.throws(() => ctcLoss(x, [[0]]), /class 0.*other than the blank 0/);
  assert.throws(() => ctcLoss(x, [[3]]), /class 3/);
  assert.throws(() => ctcLoss(x, [[1], [2]]), /2 label sequences for a batch of 1/);
  assert.throws(() => ctcLoss(x, [[1]], { blank: 5 }), /blank index 5/);
});
