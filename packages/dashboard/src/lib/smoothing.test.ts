import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestSoFar, emaSmooth } from './smoothing.js';

test('emaSmooth: weight 0 returns the series unchanged', () => {
  assert.deepEqual(emaSmooth([3, 1, 2], 0), [3, 1, 2]);
});

test('emaSmooth: debiased EMA starts at the first value and lags behind a step', () => {
  const s = emaSmooth([1, 1, 1, 5, 5, 5], 0.6) as number[];
  assert.equal(s[0], 1);
  assert.ok(Math.abs(s[2] - 1) < 1e-12, 'a constant stays constant after debiasing');
  assert.ok(s[3] > 1 && s[3] < 5, `smoothed step ${s[3]} lies between the levels`);
  assert.ok(s[4] > s[3] && s[5] > s[4] && s[5] < 5);
  // by hand: acc after 4 values = 0.6^3*0.4*1 + 0.6^2*0.4*1 + 0.6*0.4*1 + 0.4*5
  const acc = 0.4 * (0.216 + 0.36 + 0.6) + 0.4 * 5;
  assert.ok(Math.abs(s[3] - acc / (1 - 0.6 ** 4)) < 1e-12);
});

test('emaSmooth: gaps (null, NaN) pass through and do not enter the average', () => {
  const s = emaSmooth([2, null, NaN, 2], 0.9);
  assert.equal(s[1], null);
  assert.ok(Number.isNaN(s[2] as number));
  assert.ok(Math.abs((s[3] as number) - 2) < 1e-12);
});

test('emaSmooth: rejects weights outside [0, 1)', () => {
  assert.throws(() => emaSmooth([1], 1), /\[0, 1\)/);
  assert.throws(() => emaSmooth([1], -0.1), RangeError);
});

test('bestSoFar: running min / max, missing scores keep the previous best', () => {
  assert.deepEqual(bestSoFar([0.5, 0.7, null, 0.3, 0.4], 'minimize'), [0.5, 0.5, 0.5, 0.3, 0.3]);
  assert.deepEqual(bestSoFar([null, 0.2, 0.1, 0.9], 'maximize'), [null, 0.2, 0.2, 0.9]);
});
