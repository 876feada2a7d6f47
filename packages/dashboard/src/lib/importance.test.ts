import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etaSquared, parameterImportance, spearman } from './importance.js';

test('etaSquared: 1 when groups explain everything, 0 when they explain nothing', () => {
  assert.equal(etaSquared(['a', 'a', 'b', 'b'], [1, 1, 3, 3]), 1);
  assert.equal(etaSquared(['a', 'b', 'a', 'b'], [1, 1, 3, 3]), 0);
  assert.equal(etaSquared(['a', 'b'], [2, 2]), 0, 'constant scores');
  assert.equal(etaSquared(['a', 'a', 'a'], [1, 2, 3]), 0, 'a single group');
});

test('spearman: monotone relations give +-1, ties use average ranks', () => {
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [10, 20, 30, 400]) - 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), 0);
  assert.throws(() => spearman([1], [1, 2]), /lengths differ/);
});

test('parameterImportance: the parameter that drives the score ranks first', () => {
  // score depends on inner_dim only; lr is noise uncorrelated with it
  const trials = [];
  const dims = [32, 64, 128, 256, 512];
  for (let i = 0; i < 20; i++) {
    const innerDim = dims[i % 5];
    const lr = [1e-3, 3e-4][Math.floor(i / 5) % 2];
    trials.push({
      parameters: { inner_dim: innerDim, lr, optimizer: i % 2 ? 'adam' : 'rmsprop' },
      score: 1 / Math.log2(innerDim),
    });
  }
  const imp = parameterImportance(trials);
  assert.equal(imp[0].name, 'inner_dim');
  assert.ok(imp[0].varianceExplained > 0.99, `inner_dim explains ${imp[0].varianceExplained}`);
  assert.ok(imp[0].correlation! < -0.99, 'larger inner_dim, lower score');
  const sum = imp.reduce((a, p) => a + p.share, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9);
  const opt = imp.find((p) => p.name === 'optimizer')!;
  assert.equal(opt.correlation, undefined, 'no correlation for categorical values');
  assert.equal(opt.n, 20);
});

test('parameterImportance: continuous values are binned into quantiles', () => {
  const trials = Array.from({ length: 40 }, (_, i) => ({ parameters: { lr: 1e-4 * (1 + i) }, score: i < 20 ? 1 : 2 }));
  const [lr] = parameterImportance(trials);
  assert.ok(lr.varianceExplained > 0.99, `${lr.varianceExplained}`);
  assert.throws(() => parameterImportance([{ parameters: { a: 1 }, score: NaN }]), /finite/);
});
