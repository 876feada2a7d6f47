import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnValue, downsample, matches, parseFilter, sortRuns } from './query.js';
import { HttpError } from './http-error.js';
import type { RunRow } from '../types.js';

const run = (name: string, lossMin: number | undefined, params: Record<string, unknown>, tags: string[] = []): RunRow => ({
  experimentKey: name.padEnd(32, '0'),
  experimentName: name,
  projectName: 'p',
  workspaceName: 'default',
  status: 'finished',
  startTimeMillis: 1,
  endTimeMillis: 2,
  durationMillis: 1,
  tags,
  optimizationId: null,
  params,
  metrics: lossMin === undefined ? {} : { 'val.loss': { last: lossMin + 1, min: lossMin, max: 9, step: 3, epoch: 1, count: 4, lastTimestamp: 5 } },
});

describe('runs query', () => {
  test('parses filters with quoting and rejects garbage with 400', () => {
    assert.deepEqual(parseFilter(`metrics.val_loss.min<0.5 and params.optimizer="adam w" && tags~best`), [
      { col: 'metrics.val_loss.min', op: '<', value: '0.5' },
      { col: 'params.optimizer', op: '=', value: 'adam w' },
      { col: 'tags', op: '~', value: 'best' },
    ]);
    assert.throws(() => parseFilter('metrics.x <'), (e: unknown) => e instanceof HttpError && e.statusCode === 400);
    assert.throws(() => parseFilter('a=1 or b=2 extra'), HttpError);
  });

  test('metric names with dots resolve; numbers compare numerically; missing values sort last', () => {
    const runs = [run('a', 0.7, { lr: '0.01' }), run('b', 0.2, { lr: 0.001 }, ['best']), run('c', undefined, { lr: 0.1 })];
    assert.equal(columnValue(runs[0], 'metrics.val.loss.min'), 0.7);
    assert.equal(columnValue(runs[0], 'metrics.val.loss'), 1.7);
    assert.deepEqual(runs.filter((r) => matches(r, parseFilter('params.lr>=0.01'))).map((r) => r.experimentName), ['a', 'c']);
    assert.deepEqual(runs.filter((r) => matches(r, parseFilter('tags=best'))).map((r) => r.experimentName), ['b']);
    assert.deepEqual(runs.filter((r) => matches(r, parseFilter('metrics.val.loss.min!=0.2'))).map((r) => r.experimentName), ['a', 'c']);
    assert.deepEqual(sortRuns(runs, 'metrics.val.loss.min', 'asc').map((r) => r.experimentName), ['b', 'a', 'c']);
    assert.deepEqual(sortRuns(runs, 'metrics.val.loss.min', 'desc').map((r) => r.experimentName), ['a', 'b', 'c']);
  });
});

describe('downsample', () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => ({ x: i, step: i, epoch: null, timestamp: i, value: i === 4321 ? 100 : i === 777 ? -100 : Math.sin(i / 100) }));

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
    const flat = downsample(rows.map((r) => ({ ...r, x: 5 })), 10);
    assert.equal(flat.points.length, 10);
  });
});
