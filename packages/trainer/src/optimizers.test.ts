import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AmsgradOptimizer, learningRateOf, makeOptimizer, setLearningRate } from './optimizers.js';
import { constantSchedule } from './schedule.js';

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Applies the gradients one step at a time to a scalar variable starting at 1 and returns its values after each. */
function run(opt: tf.Optimizer, grads: number[], name: string): number[] {
  const w = tf.scalar(1).variable(true, name);
  const out: number[] = [];
  for (const g of grads) {
    opt.applyGradients({ [name]: tf.scalar(g) });
    out.push(w.dataSync()[0]);
  }
  w.dispose();
  return out;
}

test('AMSGrad matches a hand computation (lr 0.1, betas 0.9/0.99, gradients 1, 0.01, 0.01)', () => {
  // t=1: m = 0.1, v = 0.01, vmax = 0.01; step = 0.1 * (0.1/0.1) / (sqrt(0.01/0.01) + 1e-8)          -> w = 0.900000001
  // t=2: m = 0.091, v = 0.009901, vmax stays 0.01; step = 0.1 * (0.091/0.19) / sqrt(0.01/0.0199)   -> w = 0.832436161
  // t=3: m = 0.0829, v = 0.00980299, vmax 0.01; step = 0.1 * (0.0829/0.271) / sqrt(0.01/0.029701) -> w = 0.779716724
  // Plain Adam uses v itself (0.009901, 0.00980299): w = 0.900000001, 0.832099216, 0.778852665.
  const ams = run(new AmsgradOptimizer(0.1, 0.9, 0.99, 1e-8), [1, 0.01, 0.01], 'ams_w');
  [0.900000001, 0.8324361612083897, 0.7797167236770653].forEach((x, i) =>
    near(ams[i], x, 2e-6, `AMSGrad step ${i + 1}`),
  );
  const adam = run(tf.train.adam(0.1, 0.9, 0.99, 1e-8), [1, 0.01, 0.01], 'adam_w');
  [0.900000001, 0.8320992163160585, 0.7788526645519338].forEach((x, i) => near(adam[i], x, 2e-6, `Adam step ${i + 1}`));
  assert.ok(ams[2] - adam[2] > 5e-4, 'the running maximum makes AMSGrad take smaller steps once gradients shrink');
});

test('AMSGrad state round-trips through getWeights/setWeights (a resumed run continues identically)', async () => {
  const a = new AmsgradOptimizer(0.05);
  const wa = tf.tensor1d([1, -2]).variable(true, 'rt_a');
  const grads = [
    [0.5, -1],
    [0.1, 0.2],
    [-0.3, 0.05],
    [0.2, 0.2],
  ];
  for (const g of grads.slice(0, 2)) a.applyGradients({ rt_a: tf.tensor1d(g) });
  const saved = await a.getWeights();
  assert.deepEqual(
    saved.map((s) => s.name),
    ['iter', 'rt_a/m', 'rt_a/v', 'rt_a/vmax'],
  );
  const copies = saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() }));
  const b = new AmsgradOptimizer(0.05);
  await b.setWeights(copies);
  assert.equal(b.iterations, 2);
  const wb = wa.clone().variable(true, 'rt_b');
  for (const g of grads.slice(2)) {
    a.applyGradients({ rt_a: tf.tensor1d(g) });
    b.applyGradients({ rt_b: tf.tensor1d(g) });
  }
  assert.deepEqual(Array.from(wb.dataSync()), Array.from(wa.dataSync()));
  a.dispose();
  b.dispose();
});

test('setLearningRate changes the step the optimisers take next (schedules act on Adam, AMSGrad and RMSprop)', () => {
  for (const name of ['adam', 'amsgrad', 'rmsprop'] as const) {
    const opt = makeOptimizer({
      name: name === 'rmsprop' ? 'rmsprop' : 'adam',
      lr: 0.1,
      amsgrad: name === 'amsgrad',
      weightDecay: 0,
      clipNorm: 0,
      schedule: constantSchedule(),
    });
    assert.equal(learningRateOf(opt), 0.1);
    const v = tf.scalar(0).variable(true, `lr_${name}`);
    opt.applyGradients({ [`lr_${name}`]: tf.scalar(1) });
    const first = -v.dataSync()[0];
    setLearningRate(opt, 0);
    opt.applyGradients({ [`lr_${name}`]: tf.scalar(1) });
    near(-v.dataSync()[0], first, 1e-7, `${name}: lr 0 leaves the weight where it was`);
    setLearningRate(opt, 0.01);
    opt.applyGradients({ [`lr_${name}`]: tf.scalar(1) });
    const third = -v.dataSync()[0] - first;
    assert.ok(third > 0 && third < first / 3, `${name}: a 10x smaller lr takes a smaller step (${third} vs ${first})`);
    if (name === 'adam' || name === 'amsgrad') near(first, 0.1, 1e-5, `${name}: Adam's first step is lr * sign(g)`);
    opt.dispose();
    v.dispose();
  }
});
