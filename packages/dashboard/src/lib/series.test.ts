import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chartShape, collapseSameX } from './series.js';

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

test('chartShape changes with labels, band and dots, not with values', () => {
  const pts = (n: number, spread: number) =>
    Array.from({ length: n }, (_, i) => ({ x: i, value: i, min: i - spread, max: i + spread }));
  const opts = { smoothed: false, xAxis: 'step', height: 220 };
  const a = chartShape([{ label: 'run-1', color: '#123456', points: pts(500, 1) }], opts);
  assert.deepEqual(a.series, [{ label: 'run-1', color: '#123456', band: true, dots: false }]);
  assert.equal(
    chartShape([{ label: 'run-1', color: '#123456', points: pts(520, 3) }], opts).key,
    a.key,
    'new values, same shape',
  );
  assert.notEqual(chartShape([{ label: 'run-2', color: '#123456', points: pts(500, 1) }], opts).key, a.key);
  assert.notEqual(
    chartShape([{ label: 'run-1', color: '#123456', points: pts(500, 0) }], opts).key,
    a.key,
    'no band at full resolution',
  );
  assert.notEqual(
    chartShape([{ label: 'run-1', color: '#123456', points: pts(500, 1) }], { ...opts, smoothed: true }).key,
    a.key,
  );
  const two = chartShape(
    [
      { label: 'a', color: '#000000', points: pts(40, 1) },
      { label: 'b', color: '#ffffff', points: pts(40, 1) },
    ],
    opts,
  );
  assert.deepEqual(
    two.series.map((s) => [s.band, s.dots]),
    [
      [false, true],
      [false, true],
    ],
    'bands only for a single run',
  );
});
