// Shared by the SQLite and PostgreSQL tests of packed series blocks: writes a series the hard way (batches out of x
// order, re-sent values, non-numeric values, points without a step, concurrent writers, several blocks) and checks
// every read against downsample() of the covering-index rows.
import assert from 'node:assert/strict';
import { downsample } from '../src/server/query.js';
import { BLOCK_POINTS, readBlocks } from '../src/server/series-blocks.js';
import type { MetricInput, TrackerStore } from '../src/server/store.js';

/** 2,600 points of `loss` over several blocks; returns how many distinct points were stored. */
export async function writeHardSeries(store: TrackerStore, key: string): Promise<number> {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const all: MetricInput[] = Array.from({ length: 2600 }, (_, i) => ({
    id: `v${i}`,
    name: 'loss',
    value: i % 89 === 0 ? 'nan' : Math.round(rnd() * 1000) / 10,
    // repeated steps, a gap, and some points without a step
    step: i % 101 === 0 ? null : i < 2000 ? Math.floor(i / 2) : 4000 + i,
    epoch: Math.floor(i / 260),
    timestamp: 1_700_000_000_000 + Math.floor(rnd() * 50_000),
  }));
  // batches in reverse order of x, of uneven sizes (some fill a block exactly), each sent twice
  const batches: MetricInput[][] = [];
  for (
    let end = all.length, size = 700;
    end > 0;
    size = size === 700 ? BLOCK_POINTS : size === BLOCK_POINTS ? 37 : 700
  ) {
    batches.push(all.slice(Math.max(0, end - size), end));
    end -= size;
  }
  let stored = 0;
  for (const b of batches) {
    stored += await store.addMetrics(key, b);
    assert.equal(await store.addMetrics(key, b.slice(0, 50)), 0, 're-sent values are not stored again');
  }
  // two writers at once (concurrent transactions on PostgreSQL) and a value re-sent by both
  const extra = (w: string, k: number) =>
    Array.from({ length: 40 }, (_, i) => ({
      id: `${w}${i}`,
      name: 'loss',
      value: k + i,
      step: 500 + (i % 5),
      timestamp: 1_700_000_000_000,
    }));
  const [n1, n2] = await Promise.all([
    store.addMetrics(key, [...extra('a', 1), { id: 'both', name: 'loss', value: 9, step: 1 }]),
    store.addMetrics(key, [...extra('b', 100), { id: 'both', name: 'loss', value: 9, step: 1 }]),
  ]);
  return stored + n1 + n2;
}

/** Asserts that the series read from blocks equals downsample() of the index rows, for every x, size and range. */
export async function assertSeriesMatchesIndex(
  store: TrackerStore,
  key: string,
  name: string,
  count: number,
): Promise<void> {
  const cols = await readBlocks(store.db, key, name);
  assert.ok(cols, 'the blocks hold the whole series');
  assert.equal(cols.count, count);
  for (const x of ['step', 'epoch', 'timestamp'] as const)
    for (const [n, from, to] of [
      [100, undefined, undefined],
      [7, undefined, undefined],
      [500, 100, 700],
      [2, 0, 3000],
      [5000, undefined, undefined],
    ] as const) {
      const xFrom = x === 'timestamp' && from !== undefined ? 1_700_000_000_000 + from * 10 : from;
      const xTo = x === 'timestamp' && to !== undefined ? 1_700_000_000_000 + to * 10 : to;
      const got = await store.series(key, name, x, n, xFrom, xTo);
      const rows = await store.seriesRows(key, name, x, xFrom, xTo);
      assert.deepEqual(got, { total: rows.length, ...downsample(rows, n) }, `x=${x} n=${n} from=${from} to=${to}`);
    }
}
