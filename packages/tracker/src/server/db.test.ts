// The metrics table layout: integer key + unique dedupe index, a covering index that serves series reads without a
// sort, and the migration of databases created with the earlier text primary key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from './db.js';
import { downsample } from './query.js';
import { TrackerStore } from './store.js';
import { tempDir } from '../../test-fixtures/helpers.js';

const SERIES_SQL = `SELECT value, step, epoch, ts FROM metrics WHERE experiment_key = ? AND name = ? AND step IS NOT NULL
  ORDER BY step, ts, id`;

test('series reads use the covering index in the order served (no table lookups, no sort)', () => {
  const tmp = tempDir();
  try {
    const path = join(tmp.dir, 'tracker.db');
    openSqlite(path).close();
    const db = new Database(path, { readonly: true });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SERIES_SQL}`).all('k', 'loss') as Array<{ detail: string }>).map(
      (r) => r.detail,
    );
    db.close();
    assert.deepEqual(plan.length, 1, plan.join('; '));
    assert.match(plan[0], /COVERING INDEX metrics_by_step/);
  } finally {
    tmp.cleanup();
  }
});

test('a legacy metrics table (text primary key) is migrated with every point; dedupe ids keep working', async () => {
  const tmp = tempDir();
  try {
    const path = join(tmp.dir, 'tracker.db');
    const legacy = new Database(path);
    legacy.exec(`CREATE TABLE metrics (experiment_key TEXT NOT NULL, value_id TEXT NOT NULL, name TEXT NOT NULL,
      value DOUBLE PRECISION, value_text TEXT, step BIGINT, epoch BIGINT, ts BIGINT NOT NULL, context TEXT,
      PRIMARY KEY (experiment_key, value_id))`);
    legacy.exec(`CREATE INDEX metrics_series ON metrics (experiment_key, name, step)`);
    const ins = legacy.prepare('INSERT INTO metrics VALUES (?,?,?,?,?,?,?,?,?)');
    for (let i = 0; i < 300; i++)
      ins.run('k'.repeat(32), `id-${i}`, 'loss', 1 / (i + 1), null, 299 - i, 0, 1000 + i, null);
    legacy.close();

    const db = openSqlite(path);
    const store = new TrackerStore(db);
    const cols = (await db.all<{ name: string }>(`SELECT name FROM pragma_table_info('metrics')`)).map((c) => c.name);
    assert.ok(cols.includes('id'));
    const indexes = (
      await db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics'`)
    ).map((r) => r.name);
    assert.deepEqual(indexes.sort(), ['metrics_by_step', 'metrics_value_id']);
    const rows = await store.seriesRows('k'.repeat(32), 'loss', 'step');
    assert.equal(rows.length, 300);
    assert.deepEqual(
      rows.slice(0, 2).map((r) => r.step),
      [0, 1],
    );
    assert.equal(rows[0].value, 1 / 300);
    // the dedupe ids of migrated points still reject replays; new ids are stored once
    const inserted = await db.transaction((tx) =>
      tx.insertIgnore(
        'metrics',
        ['experiment_key', 'value_id', 'name', 'value', 'ts'],
        ['experiment_key', 'value_id'],
        [
          ['k'.repeat(32), 'id-5', 'loss', 9, 1],
          ['k'.repeat(32), 'new', 'loss', 9, 1],
          ['k'.repeat(32), 'new', 'loss', 9, 1],
        ],
      ),
    );
    assert.deepEqual(inserted, [1]);
    assert.equal((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM metrics'))?.n, 301);
    await db.close();
    // reopening does not migrate again
    const again = openSqlite(path);
    assert.equal((await again.get<{ n: number }>('SELECT COUNT(*) AS n FROM metrics'))?.n, 301);
    await again.close();
  } finally {
    tmp.cleanup();
  }
});

test('series read as tuples equal downsample() of the raw rows (ties, gaps, nulls, every x, zoom)', async () => {
  const tmp = tempDir();
  try {
    const db = openSqlite(join(tmp.dir, 'tracker.db'));
    const store = new TrackerStore(db);
    const { experimentKey: key } = await store.createExperiment('default', 'p', 'r');
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const points = Array.from({ length: 3000 }, (_, i) => ({
      id: `p${i}`,
      name: 'loss',
      // repeated steps and a gap; some non-numeric values (stored as null values)
      value: i % 97 === 0 ? 'nan' : Math.round(rnd() * 1000) / 10,
      step: i < 2500 ? Math.floor(i / 3) : 5000 + i,
      epoch: Math.floor(i / 300),
      timestamp: 1_700_000_000_000 + Math.floor(rnd() * 100_000),
    }));
    assert.equal(await store.addMetrics(key, points), 3000);
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
        const got = await store.series(key, 'loss', x, n, xFrom, xTo);
        const rows = await store.seriesRows(key, 'loss', x, xFrom, xTo);
        assert.deepEqual(got, { total: rows.length, ...downsample(rows, n) }, `x=${x} n=${n} from=${from} to=${to}`);
      }
    // one x value for every point: buckets by position
    await store.addMetrics(
      key,
      Array.from({ length: 50 }, (_, i) => ({ id: `s${i}`, name: 'flat', value: i, step: 1, timestamp: 1 })),
    );
    const flat = await store.series(key, 'flat', 'step', 10);
    assert.equal(flat.points.length, 10);
    assert.equal(flat.total, 50);
    await db.close();
  } finally {
    tmp.cleanup();
  }
});
