// PostgreSQL storage: the same schema and behaviour as SQLite, and two servers sharing one database (several machines)
// hand out distinct sweep trials. Starts a throwaway cluster; skips when the PostgreSQL binaries are absent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Experiment, TrackerApi, makeTrackerCommands, startServer, type TrackerServer } from '../index.js';
import { raw, tempDir, listAlgorithm } from '../../test-fixtures/helpers.js';
import { startPostgres, type PgCluster } from '@ocrops/services/testkit';
import { assertSeriesMatchesIndex, writeHardSeries } from '../../test-fixtures/series.js';

describe('PostgreSQL storage', () => {
  let pg: PgCluster | undefined;
  let skip: string | undefined;
  const tmp = tempDir();
  let a: TrackerServer;
  let b: TrackerServer;

  before(async () => {
    const r = await startPostgres();
    if ('skip' in r) {
      skip = r.skip;
      return;
    }
    pg = r;
    a = await startServer({ port: 0, dataDir: join(tmp.dir, 'a'), databaseUrl: pg.url, optimizer: listAlgorithm });
    b = await startServer({ port: 0, dataDir: join(tmp.dir, 'b'), databaseUrl: pg.url, optimizer: listAlgorithm });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    pg?.stop();
    tmp.cleanup();
  });

  test('10,000 points read back exactly; summaries, params and runs query match SQLite behaviour', async (t) => {
    if (skip) return t.skip(skip);
    const exp = await Experiment.create({
      url: a.url,
      apiKey: a.defaultKey,
      project: 'pg',
      name: 'pg-run',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    const values = Array.from({ length: 10_000 }, (_, i) => Math.cos(i) * 1e3 + i * 1e-9);
    values.forEach((v, i) => exp.logMetric('val_loss', v, { step: i, epoch: i % 7 }));
    exp.logParameters({ inner_dim: 256, arch: 'vgg' });
    await exp.end();
    // read through the other server: same database
    const api = new TrackerApi({ url: b.url, apiKey: a.defaultKey });
    const pts = await api.getMetric(exp.key, 'val_loss');
    assert.equal(pts.length, 10_000);
    pts.forEach((p, i) => {
      assert.equal(p.metricValue, values[i]);
      assert.equal(p.step, i);
      assert.equal(p.epoch, i % 7);
    });
    const [s] = await api.metricsSummary(exp.key);
    assert.equal(s.valueMin, Math.min(...values));
    assert.equal(s.valueMax, Math.max(...values));
    assert.equal(s.valueCurrent, values[9999]);
    assert.equal(s.count, 10_000);
    const runs = await api.runs({
      projectName: 'pg',
      filter: 'params.arch=vgg and metrics.val_loss.count=10000',
      sort: 'metrics.val_loss.min',
    });
    assert.equal(runs.total, 1);
    assert.equal(runs.runs[0].params.inner_dim, 256);
    const series = await api.series({ experimentKey: exp.key, metricName: 'val_loss', points: 200 });
    assert.equal(series.points.length, 200);
    // replayed batch: deduplicated
    const dup = await raw(a.url, 'POST', '/api/rest/v2/clientlib/batch/logger/experiment/metric', {
      key: a.defaultKey,
      body: {
        experimentKey: exp.key,
        values: [
          { metricName: 'val_loss', metricValue: 1, id: 'same' },
          { metricName: 'val_loss', metricValue: 1, id: 'same' },
        ],
      },
    });
    assert.equal(dup.json.inserted, 1);
  });

  test('packed series blocks stay exact through out-of-order, re-sent and concurrent writes', async (t) => {
    if (skip) return t.skip(skip);
    const { experimentKey: key } = await a.store.createExperiment('default', 'pg', 'blocks');
    const stored = await writeHardSeries(a.store, key);
    assert.equal(stored, 2600 + 81);
    // read through the other server's store: same database
    await assertSeriesMatchesIndex(b.store, key, 'loss', stored);
  });

  test('two servers on one database hand out distinct trials to 8 parallel workers', async (t) => {
    if (skip) return t.skip(skip);
    const apiA = new TrackerApi({ url: a.url, apiKey: a.defaultKey });
    const apiB = new TrackerApi({ url: b.url, apiKey: a.defaultKey });
    const id = await apiA.optimizerCreate({
      spec: { maxCombo: 6 },
      parameters: { x: { values: [1, 2, 3, 4, 5, 6, 7, 8] } },
    });
    const got = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? apiA : apiB).optimizerNext(id)));
    const xs = got.filter(Boolean).map((g) => g!.parameters.x);
    assert.equal(xs.length, 6);
    assert.equal(new Set(xs).size, 6);
  });

  test('keys create/list work against PostgreSQL', async (t) => {
    if (skip) return t.skip(skip);
    const lines: string[] = [];
    const orig = console.log;
    console.log = (s: string) => void lines.push(s);
    try {
      await makeTrackerCommands().keys.run([
        'create',
        '--workspace',
        'team-pg',
        '--database-url',
        pg!.url,
        '--data-dir',
        tmp.dir,
      ]);
      await makeTrackerCommands().keys.run([
        'list',
        '--workspace',
        'team-pg',
        '--database-url',
        pg!.url,
        '--data-dir',
        tmp.dir,
      ]);
    } finally {
      console.log = orig;
    }
    const key = lines[0];
    assert.match(lines[1], /^team-pg\t/);
    assert.deepEqual(await new TrackerApi({ url: a.url, apiKey: key }).workspaces(), ['team-pg']);
  });
});
