import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatRange, yRange } from './scale.js';

test("a series of zeros gets a 0..1 axis, not uPlot's 0..100", () => {
  assert.deepEqual(yRange(0, 0), [0, 1]);
});

test('a constant series gets a range around its value', () => {
  assert.deepEqual(flatRange(0.5), [0.45, 0.55]);
  assert.deepEqual(flatRange(-2), [-2.2, -1.8]);
  const [lo, hi] = yRange(1234, 1234);
  assert.ok(lo < 1234 && hi > 1234 && hi - lo < 300);
});

test('varying data keeps a padded range that contains it', () => {
  const [lo, hi] = yRange(0.1, 0.9);
  assert.ok(lo <= 0.1 && hi >= 0.9 && hi < 2);
  assert.deepEqual(yRange(null, null), [0, 1]);
});
