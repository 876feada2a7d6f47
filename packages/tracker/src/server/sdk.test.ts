// The comet_ml SDK protocol without Python: URL rewriting, the exact JSON content type, gzip bodies (and broken ones),
// the handshake, the optimizer protocol's codes, project queries and the once-logged 404 of unsupported calls.
// test/comet-sdk.test.ts runs the real SDK against the same routes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startServer, type TrackerServer } from '../index.js';
import { raw, tempDir, listAlgorithm } from '../../test-fixtures/helpers.js';
import { rewriteSdkUrl } from './routes-sdk.js';
import { matchesPredicates, queryColumns, type QueryRun } from './sdk-query.js';

test('rewriteSdkUrl maps the three SDK bases and the optimizer onto /api routes', () => {
  assert.equal(rewriteSdkUrl('/clientlib/logger/add/run'), '/api/rest/v2/logger/add/run');
  assert.equal(rewriteSdkUrl('/clientlib/rest/v2/write/experiment/output'), '/api/rest/v2/write/experiment/output');
  assert.equal(rewriteSdkUrl('/clientlib/isAlive/ver'), '/api/rest/v2/isAlive/ver');
  assert.equal(rewriteSdkUrl('/batch/logger/experiment/metric?x=1'), '/api/rest/v2/batch/logger/experiment/metric?x=1');
  assert.equal(rewriteSdkUrl('/optimizer/next?id=abc'), '/api/comet/optimizer/next?id=abc');
  for (const same of ['/api/rest/v2/experiments', '/', '/index.html', '/assets/app.js', '/loggerx/a'])
    assert.equal(rewriteSdkUrl(same), same);
});

describe('comet_ml SDK routes', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  let key: string;
  const warnings: string[] = [];
  const warn = console.warn;
  const exp = 'aa'.repeat(16);

  before(async () => {
    server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data'), optimizer: listAlgorithm });
    key = server.defaultKey;
    console.warn = (...a: unknown[]) => void warnings.push(a.map(String).join(' '));
  });
  after(async () => {
    console.warn = warn;
    await server.close();
    tmp.cleanup();
  });

  test('handshake, gzip batches and reads with exactly application/json', async () => {
    const add = await raw(server.url, 'POST', '/clientlib/logger/add/run', {
      key,
      body: {
        apiKey: key,
        experimentKey: exp,
        projectName: 'p',
        teamName: null,
        offline: false,
        getOrCreateEnabled: false,
      },
    });
    assert.equal(add.status, 200);
    assert.equal(add.json.runId, exp);
    assert.match(add.json.focusUrl, /\/#\/run\/$/);
    const again = await raw(server.url, 'POST', '/clientlib/logger/add/run', {
      key,
      body: { experimentKey: exp, projectName: 'p' },
    });
    assert.deepEqual([again.status, again.json.sdk_error_code], [400, 90999], 'an existing key is "already uploaded"');
    const other = await raw(server.url, 'POST', '/clientlib/logger/add/run', {
      key,
      body: { experimentKey: 'bb'.repeat(16), teamName: 'elsewhere' },
    });
    assert.deepEqual([other.status, other.json.sdk_error_code], [403, 90219]);

    const batch = gzipSync(
      JSON.stringify({
        experimentKey: exp,
        values: [{ metricName: 'loss', metricValue: 0.5, step: 1, epoch: 0, timestamp: 1000 }],
      }),
    );
    const sent = await raw(server.url, 'POST', '/clientlib/batch/logger/experiment/metric', {
      key,
      rawBody: batch,
      contentType: 'application/json;charset=utf-8',
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(sent.status, 200, sent.text);
    const beat = await raw(server.url, 'POST', '/clientlib/status-report/update', {
      key,
      body: { experimentKey: exp, is_alive: true },
    });
    assert.equal(typeof beat.json.is_alive_beat_duration_millis, 'number');
    assert.equal(typeof beat.json.gpu_monitor_interval_millis, 'number');

    const res = await fetch(`${server.url}/api/rest/v2/experiment/metrics/get-all?experimentKey=${exp}`, {
      headers: { authorization: key },
    });
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(((await res.json()) as { metrics: unknown }).metrics, [
      { metricName: 'loss', metricValue: '0.5', step: 1, epoch: 0, timestamp: 1000, runContext: null },
    ]);

    const end = await raw(server.url, 'POST', '/clientlib/status-report/update', {
      key,
      body: { experimentKey: exp, is_alive: false },
    });
    assert.equal(end.status, 200);
    const meta = await raw(server.url, 'GET', `/api/rest/v2/experiment/metadata?experimentKey=${exp}`, { key });
    assert.equal(meta.json.running, false);
  });

  test('a broken or oversized gzip body is a 4xx, and the server keeps serving', async () => {
    const broken = await raw(server.url, 'POST', '/clientlib/batch/logger/experiment/metric', {
      key,
      rawBody: Buffer.from('not gzip at all'),
      headers: { 'content-encoding': 'gzip' },
    });
    assert.ok(broken.status >= 400 && broken.status < 500, `got ${broken.status}`);
    const bomb = gzipSync(Buffer.alloc(40 * 1024 * 1024, 32));
    const big = await raw(server.url, 'POST', '/clientlib/batch/logger/experiment/metric', {
      key,
      rawBody: bomb,
      headers: { 'content-encoding': 'gzip' },
    });
    assert.equal(big.status, 413, 'the body limit applies to the inflated body');
    assert.equal((await raw(server.url, 'GET', '/api/health')).status, 200);
  });

  test('optimizer protocol: spec, create, status echo, next until done, update', async () => {
    const spec = await raw(server.url, 'GET', '/optimizer/spec?algorithmName=bayes', { key });
    assert.ok(spec.json.some((s: { name: string }) => s.name === 'maxCombo'));
    const unknown = await raw(server.url, 'GET', '/optimizer/spec?algorithmName=hyperband', { key });
    assert.equal(unknown.json.code, 400);
    const body = {
      algorithm: 'grid',
      name: null,
      parameters: { x: { type: 'discrete', values: [1, 2] } },
      trials: 1,
      spec: { maxCombo: 2, metric: 'loss' },
    };
    const created = await raw(server.url, 'POST', '/optimizer/create', { key, body });
    assert.equal(created.json.code, 200);
    const id = created.json.id;
    const status = await raw(server.url, 'GET', `/optimizer/status?id=${id}`, { key });
    assert.deepEqual(
      [status.json.algorithm, status.json.parameters, status.json.trials, status.json.spec],
      [body.algorithm, body.parameters, 1, body.spec],
    );
    const got: number[] = [];
    for (;;) {
      const n = await raw(server.url, 'GET', `/optimizer/next?id=${id}`, { key });
      assert.equal(n.status, 200);
      if (n.json.code !== 200) break;
      got.push(n.json.parameters.parameters.x);
      const u = await raw(server.url, 'POST', '/optimizer/update', {
        key,
        body: {
          id,
          pid: n.json.parameters.pid,
          trial: n.json.parameters.trial,
          status: 'completed',
          score: n.json.parameters.parameters.x,
        },
      });
      assert.equal(u.json.code, 200);
    }
    assert.deepEqual(got.sort(), [1, 2]);
    assert.equal((await raw(server.url, 'GET', `/optimizer/status?id=${id}`, { key })).json.status, 'completed');
  });

  test('unsupported calls: JSON 404 naming the call, logged once per method and path', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await raw(server.url, 'POST', '/clientlib/rest/v2/write/experiment/some-new-thing', { key, body: {} });
      assert.equal(r.status, 404);
      assert.match(r.json.msg, /does not implement POST \/clientlib\/rest\/v2\/write\/experiment\/some-new-thing/);
    }
    const o = await raw(server.url, 'POST', '/optimizer/insert', { key, body: {} });
    assert.equal(o.status, 404);
    assert.equal(warnings.filter((w) => w.includes('some-new-thing')).length, 1);
    assert.equal(warnings.filter((w) => w.includes('POST /optimizer/insert')).length, 1);
  });
});

test('SDK query predicates: AND/OR groups, null tests, string operators, columns typed by their values', () => {
  const run = (k: string, loss: number, optim: string, tags: string[] = []): QueryRun => ({
    experimentKey: k,
    metrics: { loss },
    params: { optim, lr: 0.1 },
    others: {},
    tags,
    metadata: {},
  });
  const runs = [run('a', 0.2, 'adam', ['best']), run('b', 0.9, 'sgd')];
  const pred = (source: string, rules: object[], condition = 'AND', negated = false) => ({
    source,
    query: { condition, rules },
    negated,
  });
  const rule = (field: string, operator: string, value: unknown, type = 'double') => ({
    id: field,
    field,
    type,
    operator,
    value,
  });
  const keys = (p: unknown[]) => runs.filter((r) => matchesPredicates(r, p)).map((r) => r.experimentKey);
  assert.deepEqual(keys([pred('metrics', [rule('loss', 'less', 0.5)])]), ['a']);
  assert.deepEqual(
    keys([pred('metrics', [rule('loss', 'less', 0.5)]), pred('params', [rule('optim', 'equal', 'sgd', 'string')])]),
    [],
  );
  assert.deepEqual(keys([pred('metrics', [rule('loss', 'less', 0.5), rule('loss', 'greater', 0.8)], 'OR')]), [
    'a',
    'b',
  ]);
  assert.deepEqual(keys([pred('metrics', [rule('loss', 'between', [0.5, 1])])]), ['b']);
  assert.deepEqual(keys([pred('params', [rule('optim', 'begins_with', 'ad', 'string')])]), ['a']);
  assert.deepEqual(keys([pred('tag', [rule('best', 'equal', 'best', 'string')])]), ['a']);
  assert.deepEqual(keys([pred('params', [rule('missing', 'is_null', null)])]), ['a', 'b']);
  assert.deepEqual(
    keys([pred('params', [rule('optim', 'is_null', null)], 'AND', true)]),
    ['a', 'b'],
    'negated null test: not null',
  );
  assert.throws(() => matchesPredicates(runs[0], [pred('metrics', [rule('loss', 'like', 1)])]), /operator "like"/);
  const cols = queryColumns(runs);
  assert.deepEqual(
    cols.find((c) => c.name === 'lr'),
    { name: 'lr', source: 'params', type: 'double' },
  );
  assert.deepEqual(
    cols.find((c) => c.name === 'optim'),
    { name: 'optim', source: 'params', type: 'string' },
  );
  assert.deepEqual(
    cols.find((c) => c.source === 'tag'),
    { name: 'best', source: 'tag', type: 'string' },
  );
});
