// Packed series blocks: byte layout, appends across blocks, out-of-order and re-sent points, concurrent writers,
// and series written before blocks existed (read from the index, rebuilt on the next write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqlite } from './db.js';
import { downsample } from './query.js';
import {
  BLOCK_POINTS,
  blocksToColumns,
  decodeBlock,
  encodeBlock,
  readBlocks,
  seriesFromColumns,
} from './series-blocks.js';
import { TrackerStore } from './store.js';
import { tempDir } from '../../test-fixtures/helpers.js';
import { assertSeriesMatchesIndex, writeHardSeries } from '../../test-fixtures/series.js';

test('a block round-trips points with nulls; unaligned driver buffers are read too', () => {
  const points = [
    { step: 0, epoch: null, timestamp: 1_700_000_000_123, value: 0.5 },
    { step: null, epoch: 3, timestamp: 2, value: null },
    { step: -7, epoch: 0, timestamp: 3, value: -1e300 },
  ];
  const blob = encodeBlock(points);
  assert.equal(blob.byteLength, 32 * points.length);
  assert.deepEqual(decodeBlock(blob, 3), points);
  const shifted = new Uint8Array(blob.byteLength + 1);
  shifted.set(blob, 1);
  assert.deepEqual(decodeBlock(shifted.subarray(1), 3), points);
  const more = [{ step: 9, epoch: 1, timestamp: 4, value: 2 }];
  const head = blocksToColumns([{ count: 3, data: shifted.subarray(1) }]);
  assert.deepEqual(decodeBlock(encodeBlock(more, head), 4), [...points, ...more]);
  const cols = blocksToColumns([
    { count: 3, data: blob },
    { count: 1, data: encodeBlock([points[0]]) },
  ]);
  assert.equal(cols.count, 4);
  assert.deepEqual([...cols.timestamp], [1_700_000_000_123, 2, 3, 1_700_000_000_123]);
  assert.throws(() => decodeBlock(blob, 2), /3 points|96 bytes/);
});

test('columns give the buckets of downsample(), also when every x is equal or nothing is in range', () => {
  const rows = Array.from({ length: 30 }, (_, i) => ({
    x: 4,
    step: 4,
    epoch: null,
    timestamp: 10 + (i % 3),
    value: i % 7 ? i : null,
  }));
  const cols = blocksToColumns([{ count: 30, data: encodeBlock(rows) }]);
  const sorted = [...rows]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.timestamp - b.r.timestamp || a.i - b.i)
    .map((e) => e.r);
  assert.deepEqual(seriesFromColumns(cols, 'step', 4), { total: 30, ...downsample(sorted, 4) });
  assert.deepEqual(seriesFromColumns(cols, 'step', 4, 5, 9), { total: 0, downsampled: false, points: [] });
  assert.deepEqual(seriesFromColumns(cols, 'epoch', 4), { total: 0, downsampled: false, points: [] });
});

test('SQLite: blocks stay complete and exact through out-of-order, re-sent and concurrent writes', async () => {
  const tmp = tempDir();
  try {
    const db = openSqlite(join(tmp.dir, 'tracker.db'));
    const store = new TrackerStore(db);
    const { experimentKey: key } = await store.createExperiment('default', 'p', 'r');
    const stored = await writeHardSeries(store, key);
    assert.equal(stored, 2600 + 81);
    await assertSeriesMatchesIndex(store, key, 'loss', stored);
    const blocks = await db.all<{ count: number }>(
      'SELECT count FROM series_blocks WHERE experiment_key = ? ORDER BY block',
      [key],
    );
    assert.ok(
      blocks.length <= 8 && blocks.every((b) => b.count <= BLOCK_POINTS),
      `blocks ${blocks.map((b) => b.count).join(',')}`,
    );
    await db.close();
  } finally {
    tmp.cleanup();
  }
});

test('a series logged a point at a time keeps few blocks: trailing blocks merge like a binary counter', async () => {
  const tmp = tempDir();
  try {
    const db = openSqlite(join(tmp.dir, 'tracker.db'));
    const store = new TrackerStore(db);
    const { experimentKey: key } = await store.createExperiment('default', 'p', 'r');
    for (let i = 0; i < 3000; i++)
      await store.addMetrics(key, [{ id: `p${i}`, name: 'lr', value: 1 / (i + 1), step: i }]);
    const counts = (
      await db.all<{ count: number }>('SELECT count FROM series_blocks WHERE experiment_key = ? ORDER BY block', [key])
    ).map((b) => Number(b.count));
    assert.deepEqual(
      counts,
      [1024, 1024, 512, 256, 128, 32, 16, 8],
      '3,000 = 2 full blocks + the binary digits of 952',
    );
    await assertSeriesMatchesIndex(store, key, 'lr', 3000);
    await db.close();
  } finally {
    tmp.cleanup();
  }
});

test('a series without blocks (older database) is read from the index, and its next write rebuilds the blocks', async () => {
  const tmp = tempDir();
  try {
    const db = openSqlite(join(tmp.dir, 'tracker.db'));
    const store = new TrackerStore(db);
    const { experimentKey: key } = await store.createExperiment('default', 'p', 'r');
    const points = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `p${from + i}`,
        name: 'acc',
        value: Math.sin(from + i),
        step: from + i,
      }));
    await store.addMetrics(key, points(0, 1500));
    await db.run('DELETE FROM series_blocks');
    assert.equal(await readBlocks(db, key, 'acc'), undefined, 'incomplete blocks are not used');
    const before = await store.series(key, 'acc', 'epoch', 100);
    assert.deepEqual(before, { total: 0, downsampled: false, points: [] });
    assert.equal((await store.series(key, 'acc', 'step', 100)).total, 1500);
    await store.addMetrics(key, points(1500, 10));
    await assertSeriesMatchesIndex(store, key, 'acc', 1510);
    // blocks that do not add up to the series' count are never served (the index answers)
    await db.run('DELETE FROM series_blocks WHERE block = 0');
    assert.equal(await readBlocks(db, key, 'acc'), undefined);
    assert.equal((await store.series(key, 'acc', 'timestamp', 100)).total, 1510);
    await db.close();
  } finally {
    tmp.cleanup();
  }
});
