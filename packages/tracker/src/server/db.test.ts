// The metrics table layout: integer key + unique dedupe index, a covering index that serves series reads without a
// sort, and the migration of databases created with the earlier text primary key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqlite } from './db.js';
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
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${SERIES_SQL}`).all('k', 'loss') as Array<{ detail: string }>).map((r) => r.detail);
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
    for (let i = 0; i < 300; i++) ins.run('k'.repeat(32), `id-${i}`, 'loss', 1 / (i + 1), null, 299 - i, 0, 1000 + i, null);
    legacy.close();

    const db = openSqlite(path);
    const store = new TrackerStore(db);
    const cols = (await db.all<{ name: string }>(`SELECT name FROM pragma_table_info('metrics')`)).map((c) => c.name);
    assert.ok(cols.includes('id'));
    const indexes = (await db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics'`)).map((r) => r.name);
    assert.deepEqual(indexes.sort(), ['metrics_by_step', 'metrics_value_id']);
    const rows = await store.seriesRows('k'.repeat(32), 'loss', 'step');
    assert.equal(rows.length, 300);
    assert.deepEqual(rows.slice(0, 2).map((r) => r.step), [0, 1]);
    assert.equal(rows[0].value, 1 / 300);
    // the dedupe ids of migrated points still reject replays; new ids are stored once
    const inserted = await db.transaction((tx) =>
      tx.insertIgnore('metrics', ['experiment_key', 'value_id', 'name', 'value', 'ts'], ['experiment_key', 'value_id'], [
        ['k'.repeat(32), 'id-5', 'loss', 9, 1],
        ['k'.repeat(32), 'new', 'loss', 9, 1],
        ['k'.repeat(32), 'new', 'loss', 9, 1],
      ]),
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
