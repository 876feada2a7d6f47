import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedImprovement } from './acquisition.js';
import { GaussianProcess, lmlAndGrad, matern52 } from './gp.js';
import { cholesky, cholInverse } from './linalg.js';
import { Rng } from './rng.js';
import { normCdf, normInv } from './stats.js';

const v1 = (...xs: number[]) => Float64Array.from(xs);

test('Matérn 5/2 kernel values by hand', () => {
  // r = 0.5 / 0.5 = 1: (1 + √5 + 5/3) e^{-√5}
  assert.ok(Math.abs(matern52(1, 1) - (1 + Math.sqrt(5) + 5 / 3) * Math.exp(-Math.sqrt(5))) < 1e-15);
  assert.ok(Math.abs(matern52(1, 1) - 0.5239941088318203) < 1e-12);
  assert.equal(matern52(0, 2.5), 2.5);
});

test('GP posterior matches a hand-computed 3-point case', () => {
  // X = 0, 0.5, 1; y = 1, -1, 0.5; l = 0.5, s2 = 1, no noise. K entries: k(0.5) = 0.52399..., k(1) = 0.13866...
  const X = [v1(0), v1(0.5), v1(1)];
  const y = [1, -1, 0.5];
  const gp = new GaussianProcess(X, y, { lengthscales: [0.5], signalVar: 1, noiseVar: 0 });
  assert.equal(gp.jitter, 0);
  // hand computation: mean = k*^T K^-1 y, var = 1 - k*^T K^-1 k*, with K^-1 by Cramer's rule
  const a = 0.5239941088318203;
  const b = 0.13866021913850426;
  const K = [
    [1, a, b],
    [a, 1, a],
    [b, a, 1],
  ];
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const solve = (rhs: number[]) =>
    [0, 1, 2].map((c) => det(K.map((row, r) => row.map((v, j) => (j === c ? rhs[r] : v)))) / det(K));
  const ks = [0, 0.5, 1].map((x) => matern52(((0.25 - x) / 0.5) ** 2, 1));
  const mean = ks.reduce((s, k, i) => s + k * solve(y)[i], 0);
  const variance = 1 - ks.reduce((s, k, i) => s + k * solve(ks)[i], 0);
  const p = gp.predict(v1(0.25));
  assert.ok(Math.abs(p.mean - mean) < 1e-12, `mean ${p.mean} vs ${mean}`);
  assert.ok(Math.abs(p.variance - variance) < 1e-12, `variance ${p.variance} vs ${variance}`);
  // the same numbers from an independent elimination in Python
  assert.ok(Math.abs(p.mean - -0.1443249276796552) < 1e-12);
  assert.ok(Math.abs(p.variance - 0.09036633090275037) < 1e-12);
  // interpolation at training points, zero variance there
  const at = gp.predict(v1(0.5));
  assert.ok(Math.abs(at.mean - -1) < 1e-10);
  assert.ok(at.variance < 1e-10);
  // far away the posterior reverts to the prior
  const far = gp.predict(v1(10));
  assert.ok(Math.abs(far.mean) < 1e-6 && Math.abs(far.variance - 1) < 1e-6);
});

test('EI is 0 at an observed point of a noise-free GP and positive between points', () => {
  const X = [v1(0.1, 0.2), v1(0.5, 0.9), v1(0.8, 0.3), v1(0.3, 0.6)];
  const y = [0.3, -1.2, 0.8, 0.1];
  const gp = new GaussianProcess(X, y, { lengthscales: [0.3, 0.4], signalVar: 1, noiseVar: 0 });
  const best = Math.min(...y);
  for (const x of X) {
    const { mean, variance } = gp.predict(x);
    assert.ok(Math.abs(expectedImprovement(mean, variance, best)) < 1e-7, `EI at ${[...x]}`);
  }
  const mid = gp.predict(v1(0.45, 0.75));
  assert.ok(expectedImprovement(mid.mean, mid.variance, best) > 1e-3);
  // closed form check: mean = best, sigma = 1 -> EI = phi(0) = 0.39894
  assert.ok(Math.abs(expectedImprovement(0, 1, 0) - 0.3989422804014327) < 1e-9);
  assert.equal(expectedImprovement(2, 0, 1), 0);
  assert.equal(expectedImprovement(0.5, 0, 1), 0.5);
});

test('log marginal likelihood gradient matches finite differences', () => {
  const rng = new Rng(3);
  const X = Array.from({ length: 12 }, () => v1(rng.next(), rng.next(), rng.next()));
  const y = X.map((x) => Math.sin(4 * x[0]) + x[1] - 0.5 * x[2] + 0.05 * rng.normal());
  const theta = [Math.log(0.4), Math.log(0.7), Math.log(1.3), Math.log(0.9), Math.log(0.01)];
  const { lml, grad } = lmlAndGrad(X, y, theta, 3);
  const gp = new GaussianProcess(X, y, { lengthscales: [0.4, 0.7, 1.3], signalVar: 0.9, noiseVar: 0.01 });
  assert.ok(Math.abs(lml - gp.logMarginalLikelihood()) < 1e-9);
  for (let i = 0; i < theta.length; i++) {
    const h = 1e-6;
    const up = [...theta];
    const dn = [...theta];
    up[i] += h;
    dn[i] -= h;
    const fd = (lmlAndGrad(X, y, up, 3).lml - lmlAndGrad(X, y, dn, 3).lml) / (2 * h);
    assert.ok(Math.abs(fd - grad[i]) < 1e-5 * Math.max(1, Math.abs(fd)), `param ${i}: ${grad[i]} vs ${fd}`);
  }
});

test('fitting finds a short length-scale for the relevant input and a long one for the irrelevant', () => {
  const rng = new Rng(11);
  const X = Array.from({ length: 30 }, () => v1(rng.next(), rng.next()));
  const y = X.map((x) => Math.sin(8 * x[0]));
  const gp = GaussianProcess.fit(X, y, 2, { rng, restarts: 2 });
  assert.ok(gp.hyper.lengthscales[0] < gp.hyper.lengthscales[1] / 3, JSON.stringify(gp.hyper));
  assert.ok(gp.hyper.noiseVar < 1e-3);
  const p = gp.predict(v1(0.37, 0.5));
  assert.ok(Math.abs(p.mean - Math.sin(8 * 0.37)) < 0.05);
});

test('Cholesky adds jitter to a singular matrix and inverts a PD one', () => {
  const { jitter } = cholesky(Float64Array.from([1, 1, 1, 1]), 2);
  assert.ok(jitter > 0);
  const A = Float64Array.from([4, 2, 0.6, 2, 3, 0.4, 0.6, 0.4, 2]);
  const { L } = cholesky(A, 3);
  const inv = cholInverse(L, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += A[i * 3 + k] * inv[k * 3 + j];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  }
});

test('normal CDF and its inverse agree', () => {
  for (const p of [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999])
    assert.ok(Math.abs(normCdf(normInv(p)) - p) < 1e-6 * Math.max(1, p * 10));
  assert.ok(Math.abs(normCdf(1.959963984540054) - 0.975) < 1e-7);
});
