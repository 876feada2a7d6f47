import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './random.js';

/** Mean and variance of n draws. */
function moments(draw: () => number, n: number): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

test('gamma draws have the mean and variance of Gamma(shape, 1), below and above shape 1', () => {
  for (const shape of [0.3, 1, 2.5]) {
    const rng = new Rng(7);
    const m = moments(() => rng.gamma(shape), 40_000);
    assert.ok(Math.abs(m.mean - shape) < 0.04 * Math.max(1, shape), `shape ${shape}: mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - shape) < 0.08 * Math.max(1, shape), `shape ${shape}: variance ${m.variance}`);
  }
});

test('beta draws lie in [0, 1] with the moments of Beta(a, b); the same seed draws the same numbers', () => {
  for (const [a, b] of [
    [1, 1],
    [0.4, 0.4],
    [2, 5],
  ]) {
    const rng = new Rng(11);
    const xs = Array.from({ length: 40_000 }, () => rng.beta(a, b));
    assert.ok(xs.every((x) => x >= 0 && x <= 1));
    let i = 0;
    const m = moments(() => xs[i++], xs.length);
    const mean = a / (a + b);
    const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    assert.ok(Math.abs(m.mean - mean) < 0.01, `Beta(${a}, ${b}): mean ${m.mean}, want ${mean}`);
    assert.ok(Math.abs(m.variance - variance) < 0.01, `Beta(${a}, ${b}): variance ${m.variance}, want ${variance}`);
  }
  const one = new Rng(3);
  const two = new Rng(3);
  assert.deepEqual(
    Array.from({ length: 5 }, () => one.beta(1, 1)),
    Array.from({ length: 5 }, () => two.beta(1, 1)),
  );
});
