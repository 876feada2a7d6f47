import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRow } from './api-types.js';
import { columnValue, differingNames, matchesFilter, parseFilter, sortRuns } from './query.js';

function run(key: string, valLoss: number | undefined, innerDim: number, tags: string[] = []): RunRow {
  return {
    experimentKey: key, experimentName: `run-${key}`, status: 'finished', tags, params: { inner_dim: innerDim, arch: 'vgg' },
    metrics: valLoss === undefined ? {} : { val_loss: { last: valLoss + 0.1, min: valLoss, max: valLoss + 1 } },
    startTimeMillis: Number(key.charCodeAt(0)),
  };
}
const runs = [run('a', 0.5, 64, ['best']), run('b', 0.3, 128), run('c', undefined, 128), run('d', 0.9, 32)];

test('columnValue reads metric summaries, params and top-level fields', () => {
  assert.equal(columnValue(runs[0], 'metrics.val_loss.min'), 0.5);
  assert.equal(columnValue(runs[0], 'metrics.val_loss'), 0.6);
  assert.equal(columnValue(runs[0], 'params.inner_dim'), 64);
  assert.equal(columnValue(runs[0], 'name'), 'run-a');
  assert.equal(columnValue(runs[2], 'metrics.val_loss.min'), undefined);
});

test('parseFilter: clauses joined by and, numbers and quoted strings', () => {
  assert.deepEqual(parseFilter('metrics.val_loss.min<0.5 and params.arch="vgg"'), [
    { path: 'metrics.val_loss.min', op: '<', value: 0.5 },
    { path: 'params.arch', op: '=', value: 'vgg' },
  ]);
  assert.deepEqual(parseFilter('  '), []);
  assert.throws(() => parseFilter('val_loss'), /bad filter clause "val_loss"/);
});

test('matchesFilter: numeric comparison, missing values fail, ~ is contains', () => {
  const pick = (f: string) => runs.filter((r) => matchesFilter(r, parseFilter(f))).map((r) => r.experimentKey);
  assert.deepEqual(pick('metrics.val_loss.min<0.6'), ['a', 'b']);
  assert.deepEqual(pick('params.inner_dim=128'), ['b', 'c']);
  assert.deepEqual(pick('params.inner_dim>=64 and metrics.val_loss.min>0.4'), ['a']);
  assert.deepEqual(pick('tags~BE'), ['a']);
  assert.deepEqual(pick('metrics.val_loss.min!=0.5'), ['b', 'c', 'd']);
});

test('sortRuns: ascending/descending with missing values last', () => {
  assert.deepEqual(sortRuns(runs, 'metrics.val_loss.min', 'asc').map((r) => r.experimentKey), ['b', 'a', 'd', 'c']);
  assert.deepEqual(sortRuns(runs, 'metrics.val_loss.min', 'desc').map((r) => r.experimentKey), ['d', 'a', 'b', 'c']);
  assert.deepEqual(sortRuns(runs, 'name', 'desc').map((r) => r.experimentKey), ['d', 'c', 'b', 'a']);
});

test('differingNames keeps only columns whose values differ', () => {
  assert.deepEqual(differingNames(runs, ['inner_dim', 'arch'], (r, n) => r.params[n]), ['inner_dim']);
});
