import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collapseSameX } from './series.js';

test('collapseSameX keeps the last value per x and widens min/max', () => {
  const pts = [
    { x: 1, value: 5, min: 4, max: 6 },
    { x: 0, value: 3 },
    { x: 1, value: 2 },
    { x: 1, value: null, min: null, max: null },
    { x: 2, value: 1, min: 1, max: 1 },
  ];
  assert.deepEqual(collapseSameX(pts), [
    { x: 0, value: 3 },
    { x: 1, value: null, min: 2, max: 6 },
    { x: 2, value: 1, min: 1, max: 1 },
  ]);
  assert.deepEqual(collapseSameX([]), []);
});
