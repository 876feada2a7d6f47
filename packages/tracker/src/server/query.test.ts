// Series downsampling that keeps each bucket's min and max (the runs filter/sort language is tested in
// ../api/runs-query.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { downsample } from './query.js';

describe('downsample', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => ({
    x: i,
    step: i,
    epoch: null,
    timestamp: i,
    value: i === 4321 ? 100 : i === 777 ? -100 : Math.sin(i / 100),
  }));

  test('keeps every bucket min and max, so spikes survive', () => {
    const { points, downsampled } = downsample(rows, 500);
    assert.equal(downsampled, true);
    assert.equal(points.length, 500);
    assert.equal(Math.max(...points.map((p) => p.max!)), 100);
    assert.equal(Math.min(...points.map((p) => p.min!)), -100);
    assert.equal(points[points.length - 1].x, 9999);
    for (const p of points) assert.ok(p.min! <= p.value! && p.value! <= p.max!);
  });

  test('returns the points unchanged when they fit; constant x buckets by index', () => {
    const small = downsample(rows.slice(0, 10), 500);
    assert.equal(small.downsampled, false);
    assert.equal(small.points.length, 10);
    const flat = downsample(
      rows.map((r) => ({ ...r, x: 5 })),
      10,
    );
    assert.equal(flat.points.length, 10);
  });
});
