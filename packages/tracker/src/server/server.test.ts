// A real server on loopback: an experiment logs 10,000 points that read back exactly (summary and
// history); the Comet request shapes of references.md are accepted as-is and the read endpoints answer in Comet's shapes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request, FormData } from 'undici';
import { Experiment, TrackerApi, startServer, type TrackerServer } from '../index.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';

describe('tracker server (SQLite) on loopback', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  let api: TrackerApi;
  const V2 = '/api/rest/v2';

  before(async () => {
    mkdirSync(join(tmp.dir, 'web'), { recursive: true });
    writeFileSync(join(tmp.dir, 'web', 'index.html'), '<!doctype html><title>ocrops</title>');
    server = await startServer({
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      staticDir: join(tmp.dir, 'web'),
      corsOrigins: ['http://localhost:5173'],
    });
    api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  test('first start creates the default workspace key in <dataDir>/default-key', () => {
    const key = readFileSync(join(tmp.dir, 'data', 'default-key'), 'utf8').trim();
    assert.equal(key, server.defaultKey);
    assert.ok(key.length >= 24);
  });

  test('10,000 points logged through Experiment read back exactly (history and summary)', async () => {
    const exp = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'ocr',
      name: 'ten-thousand',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    const expected: Array<{ step: number; value: number; epoch: number }> = [];
    let seed = 12345;
    for (let i = 0; i < 10_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const value = (seed / 2 ** 31) * 10 - 5 + 1e-13 * i; // full-precision doubles, negative and positive
      expected.push({ step: i, value, epoch: Math.floor(i / 1000) });
      exp.logMetric('train_loss', value, { step: i, epoch: Math.floor(i / 1000) });
    }
    exp.logParameters({ inner_dim: 128, lr: 3e-4, optimizer: 'adam' });
    await exp.end();
    assert.deepEqual(exp.stats.spooled, 0);

    const points = await api.getMetric(exp.key, 'train_loss');
    assert.equal(points.length, 10_000);
    points.forEach((p, i) => {
      assert.equal(p.step, expected[i].step);
      assert.equal(p.metricValue, expected[i].value);
      assert.equal(p.epoch, expected[i].epoch);
    });
    const [summary] = await api.metricsSummary(exp.key);
    const values = expected.map((e) => e.value);
    assert.equal(summary.name, 'train_loss');
    assert.equal(summary.valueMin, Math.min(...values));
    assert.equal(summary.valueMax, Math.max(...values));
    assert.equal(summary.valueCurrent, values[values.length - 1]);
    assert.equal(summary.stepMin, 0);
    assert.equal(summary.stepMax, 9999);
    assert.equal(summary.stepCurrent, 9999);
    assert.equal(summary.count, 10_000);

    const meta = await api.metadata(exp.key);
    assert.equal(meta.experimentName, 'ten-thousand');
    assert.equal(meta.running, false);
    assert.ok(meta.endTimeMillis >= meta.startTimeMillis);
    const params = Object.fromEntries((await api.parameters(exp.key)).map((p) => [p.name, p.valueCurrent]));
    assert.deepEqual(params, { inner_dim: '128', lr: '0.0003', optimizer: 'adam' });
    const sys = await api.systemDetails(exp.key);
    assert.equal(sys.pid, process.pid);
  });

  test('the Comet request shapes of references.md are accepted as-is', async () => {
    const key = server.defaultKey;
    const post = async (path: string, body: unknown) => {
      const r = await raw(server.url, 'POST', `${V2}${path}`, { key, body });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return r.json;
    };
    const proj = await post('/write/project/create', {
      workspaceName: 'default',
      projectName: 'shapes',
      projectDescription: 'd',
      isPublic: false,
    });
    assert.equal(proj.projectName, 'shapes');
    const created = await post('/write/experiment/create', {
      workspaceName: 'default',
      projectName: 'shapes',
      experimentName: 'raw',
    });
    assert.match(created.experimentKey, /^[0-9a-f]{32}$/);
    assert.equal(created.workspaceName, 'default');
    assert.equal(created.projectName, 'shapes');
    assert.ok(typeof created.link === 'string');
    const experimentKey = created.experimentKey as string;
    const ts = Date.now();
    // Java SDK header variant
    const viaSdkHeader = await raw(server.url, 'POST', `${V2}/write/experiment/metric`, {
      headers: { 'Comet-Sdk-Api': key },
      body: {
        experimentKey,
        metricName: 'val_loss',
        metricValue: '0.75',
        step: 1,
        epoch: 1,
        timestamp: ts,
        context: null,
      },
    });
    assert.equal(viaSdkHeader.status, 200, viaSdkHeader.text);
    await post('/write/experiment/metric', {
      experimentKey,
      metricName: 'val_loss',
      metricValue: 0.5,
      step: 2,
      epoch: 2,
      timestamp: ts + 1,
    });
    await post('/write/experiment/metric', { experimentKey, metricName: 'val_loss', metricValue: 0.25 });
    await post('/clientlib/batch/logger/experiment/metric', {
      experimentKey,
      values: [{ metricName: 'lr', metricValue: 0.001, step: 0, epoch: 0, context: null, timestamp: ts }],
    });
    await post('/write/experiment/parameter', {
      experimentKey,
      parameterName: 'inner_dim',
      parameterValue: '256',
      step: null,
      timestamp: ts,
    });
    await post('/write/experiment/log-other', { experimentKey, key: 'git_commit', value: 'abc123', timestamp: ts });
    await post('/write/experiment/tags', { experimentKey, addedTags: ['baseline', 'vgg'] });
    await post('/write/experiment/html', { experimentKey, html: '<b>hi</b>', override: false, timestamp: ts });
    await post('/write/experiment/output', {
      experimentKey,
      runContext: null,
      outputLines: [
        { output: 'epoch 1\n', stderr: false, localTimestamp: ts, offset: 0 },
        { output: 'warn\n', stderr: true, localTimestamp: ts + 1, offset: 1 },
      ],
    });
    await post('/write/experiment/git/metadata', {
      experimentKey,
      user: 'me',
      root: '/repo',
      branch: 'main',
      parent: 'abc123',
      origin: 'git@x:y.git',
    });
    await post('/write/experiment/system-details', {
      experimentKey,
      hostname: 'h',
      os: 'linux',
      osType: 'Linux',
      pid: 42,
      user: 'me',
      command: ['train.py'],
      env: {},
      installedPackages: [],
    });
    await post('/write/experiment/system-details', { experimentKey, gpuStaticInfoList: [] }); // partial update
    const beat = await raw(server.url, 'GET', `${V2}/write/experiment/set-status?experimentKey=${experimentKey}`, {
      key,
    });
    assert.equal(beat.status, 200);
    assert.ok(beat.json.isAliveBeatDurationMillis > 0);
    await post('/write/experiment/set-start-end-time', { experimentKey, startTimeMillis: ts - 1000 });
    await post('/write/experiment/update-status', { experimentKey, isAlive: true, error: null, hasCrashed: false });

    // multipart upload as the SDKs send it, model element with grouping name
    const form = new FormData();
    form.append('metadata', JSON.stringify({ framework: 'tfjs' }));
    form.append('file', new Blob([Buffer.from('weights-bytes')]), 'weights.bin');
    const up = await request(
      `${server.url}${V2}/write/experiment/upload-asset?experimentKey=${experimentKey}&fileName=weights.bin&type=model-element&groupingName=best&step=3&overwrite=false&extension=bin`,
      { method: 'POST', headers: { authorization: key }, body: form },
    );
    assert.equal(up.statusCode, 200, await up.body.text().catch(() => ''));
    await post('/write/experiment/set-start-end-time', { experimentKey, endTimeMillis: ts + 5000 });

    // read side in Comet's shapes
    const get = async (path: string) => {
      const r = await raw(server.url, 'GET', `${V2}${path}`, { key });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return r.json;
    };
    assert.deepEqual((await get('/workspaces')).workspaceNames, ['default']);
    const projects = (await get('/projects?workspaceName=default')).projects;
    const p = projects.find((x: any) => x.projectName === 'shapes');
    assert.equal(p.numberOfExperiments, 1);
    const exps = (await get('/experiments?workspaceName=default&projectName=shapes')).experiments;
    assert.equal(exps.length, 1);
    for (const k of [
      'experimentKey',
      'experimentName',
      'optimizationId',
      'projectId',
      'projectName',
      'workspaceName',
      'durationMillis',
      'startTimeMillis',
      'endTimeMillis',
      'archived',
    ])
      assert.ok(k in exps[0], `experiments[0].${k}`);
    assert.equal((await get(`/experiments?projectId=${p.projectId}`)).experiments.length, 1);
    assert.equal(exps[0].durationMillis, 6000);
    const summary = (await get(`/experiment/metrics/summary?experimentKey=${experimentKey}`)).values;
    const vl = summary.find((v: any) => v.name === 'val_loss');
    assert.equal(vl.valueMin, 0.25);
    assert.equal(vl.valueMax, 0.75);
    assert.equal(vl.valueCurrent, 0.25); // logged last (server timestamp)
    for (const k of ['stepMin', 'stepMax', 'stepCurrent', 'timestampMin', 'timestampMax', 'timestampCurrent'])
      assert.ok(k in vl, k);
    const hist = (await get(`/experiment/metrics/get-metric?experimentKey=${experimentKey}&metricName=val_loss`))
      .metrics;
    assert.deepEqual(
      hist.map((m: any) => [m.metricValue, m.step, m.epoch]),
      [
        [0.25, null, null],
        [0.75, 1, 1],
        [0.5, 2, 2],
      ].sort((a, b) => (a[1] ?? -1) - (b[1] ?? -1)),
    );
    assert.equal((await get(`/experiment/parameters?experimentKey=${experimentKey}`)).values[0].valueCurrent, '256');
    assert.equal((await get(`/experiment/log-other?experimentKey=${experimentKey}`)).values[0].valueCurrent, 'abc123');
    assert.deepEqual((await get(`/experiment/tags?experimentKey=${experimentKey}`)).tags, ['baseline', 'vgg']);
    assert.equal((await get(`/experiment/html?experimentKey=${experimentKey}`)).html, '<b>hi</b>');
    assert.equal((await get(`/experiment/output?experimentKey=${experimentKey}`)).output, 'epoch 1\nwarn\n');
    assert.equal((await get(`/experiment/git/metadata?experimentKey=${experimentKey}`)).branch, 'main');
    const sys = await get(`/experiment/system-details?experimentKey=${experimentKey}`);
    assert.equal(sys.hostname, 'h');
    assert.deepEqual(sys.gpuStaticInfoList, []);
    const assets = (await get(`/experiment/asset/list?experimentKey=${experimentKey}&type=all`)).assets;
    assert.equal(assets.length, 1);
    assert.equal(assets[0].fileName, 'weights.bin');
    assert.equal(assets[0].fileSize, 13);
    assert.equal(assets[0].type, 'model-element');
    assert.equal(assets[0].step, 3);
    assert.deepEqual(assets[0].metadata, { framework: 'tfjs' });
    const bytes = await api.getAsset(experimentKey, assets[0].assetId);
    assert.equal(bytes.toString(), 'weights-bytes');
  });

  test("protocol 'comet' uses only documented Comet endpoints and the server's experiment key", async () => {
    const exp = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'comet-mode',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
      protocol: 'comet',
    });
    for (let i = 0; i < 30; i++) exp.logMetric('acc', i / 30, { step: i });
    exp.logParameters({ batch_size: 32, arch: 'vgg' });
    exp.logHtml('<i>x</i>');
    await exp.end();
    assert.equal(exp.stats.rejected, 0);
    assert.equal((await api.getMetric(exp.key, 'acc')).length, 30);
    assert.deepEqual(
      (await api.parameters(exp.key)).map((p) => p.name),
      ['arch', 'batch_size'],
    );
    assert.equal(await api.html(exp.key), '<i>x</i>');
  });

  test('continuing an ended run by its key keeps its start time and history', async () => {
    const opts = {
      url: server.url,
      apiKey: server.defaultKey,
      project: 'resume',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    };
    const first = await Experiment.create(opts);
    first.logMetric('loss', 1, { step: 0 });
    await first.end();
    const before = await api.metadata(first.key);
    const again = await Experiment.create({ ...opts, experimentKey: first.key });
    again.logMetric('loss', 0.5, { step: 1 });
    await again.flush();
    const during = await api.metadata(first.key);
    assert.equal(during.running, true);
    assert.equal(during.endTimeMillis, null);
    assert.equal(during.startTimeMillis, before.startTimeMillis);
    await again.end();
    assert.equal((await api.metadata(first.key)).running, false);
    assert.deepEqual(
      (await api.getMetric(first.key, 'loss')).map((p) => p.metricValue),
      [1, 0.5],
    );
  });

  test('logModel uploads a folder as model-element assets and logAsset replays are not duplicated', async () => {
    const model = join(tmp.dir, 'model');
    mkdirSync(join(model, 'sub'), { recursive: true });
    writeFileSync(join(model, 'model.json'), '{"format":"layers-model"}');
    writeFileSync(join(model, 'sub', 'group1-shard1of1.bin'), Buffer.alloc(200_000, 7));
    const exp = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'ocr',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    await exp.logModel('best', model);
    await exp.end();
    const assets = await api.assets(exp.key, 'model-element');
    assert.deepEqual(assets.map((a) => a.fileName).sort(), ['model.json', 'sub/group1-shard1of1.bin']);
    assert.ok(assets.every((a) => a.groupingName === 'best'));
    const shard = assets.find((a) => a.fileName.endsWith('.bin'))!;
    assert.deepEqual(await api.getAsset(exp.key, shard.assetId), Buffer.alloc(200_000, 7));
    // the same upload replayed with its client id (a spool delivered twice) is stored once
    const upload = async () => {
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('once')]), 'once.txt');
      const r = await request(
        `${server.url}/api/rest/v2/write/experiment/upload-asset?experimentKey=${exp.key}&fileName=once.txt&id=client-id-1`,
        {
          method: 'POST',
          headers: { authorization: server.defaultKey },
          body: form,
        },
      );
      return (await r.body.json()) as { assetId: string; duplicate: boolean };
    };
    const first = await upload();
    const second = await upload();
    assert.equal(first.duplicate, false);
    assert.equal(second.duplicate, true);
    assert.equal(second.assetId, first.assetId);
    assert.equal((await api.assets(exp.key)).filter((a) => a.fileName === 'once.txt').length, 1);
  });

  test('console capture, crash status and git details', async () => {
    const exp = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'ocr',
      spoolDir: join(tmp.dir, 'spool'),
    });
    console.log('captured line one');
    process.stderr.write('captured err\n');
    process.stdout.write('progress 10%\rprogress 50%\rprogress 100%\n');
    await exp.end({ crashed: true, error: 'boom' });
    const out = await api.output(exp.key);
    assert.ok(out.output.includes('captured line one\n'));
    assert.ok(out.lines.some((l) => l.stderr && l.output === 'captured err\n'));
    assert.ok(
      out.lines.some((l) => l.output === 'progress 100%\n'),
      'a progress bar line is stored as the terminal shows it',
    );
    const meta = await api.metadata(exp.key);
    assert.equal(meta.hasCrashed, true);
    const runs = await api.runs({ projectName: 'ocr', filter: 'status=crashed' });
    assert.ok(runs.runs.some((r) => r.experimentKey === exp.key));
    const git = await api.gitMetadata(exp.key);
    assert.ok(git.root === undefined || typeof git.root === 'string');
  });

  test('dashboard: runs sort/filter, series downsampling with min/max and zoom, OpenAPI, SPA', async () => {
    const keys: string[] = [];
    for (const [dim, base] of [
      [64, 0.9],
      [128, 0.4],
      [256, 0.6],
    ] as const) {
      const e = await Experiment.create({
        url: server.url,
        apiKey: server.defaultKey,
        project: 'dash',
        name: `d${dim}`,
        spoolDir: join(tmp.dir, 'spool'),
        captureConsole: false,
      });
      e.logParameter('inner_dim', dim);
      for (let s = 0; s < 1000; s++)
        e.logMetric('val_loss', base + (s === 500 ? 5 : 0) - s * 1e-4, { step: s, epoch: Math.floor(s / 100) });
      await e.end();
      keys.push(e.key);
    }
    const sorted = await api.runs({ projectName: 'dash', sort: 'metrics.val_loss.min', order: 'asc' });
    assert.equal(sorted.total, 3);
    assert.deepEqual(
      sorted.runs.map((r) => r.params.inner_dim),
      [128, 256, 64],
    );
    const desc = await api.runs({ projectName: 'dash', sort: 'params.inner_dim', order: 'desc', limit: 2 });
    assert.deepEqual(
      desc.runs.map((r) => r.params.inner_dim),
      [256, 128],
    );
    assert.equal(desc.total, 3);
    const filtered = await api.runs({
      projectName: 'dash',
      filter: 'metrics.val_loss.min<0.45 and params.inner_dim>=128',
    });
    assert.deepEqual(
      filtered.runs.map((r) => r.experimentName),
      ['d128'],
    );
    assert.equal(filtered.runs[0].metrics.val_loss.max, 5.4 - 0.05);
    assert.equal(filtered.runs[0].status, 'finished');
    const bad = await raw(
      server.url,
      'GET',
      '/api/ocrops/runs?filter=' + encodeURIComponent('metrics.val_loss.min <'),
      { key: server.defaultKey },
    );
    assert.equal(bad.status, 400);
    assert.match(bad.json.msg, /filter/);

    const s = await api.series({ experimentKey: keys[0], metricName: 'val_loss', points: 100 });
    assert.equal(s.total, 1000);
    assert.equal(s.downsampled, true);
    assert.ok(s.points.length <= 100 && s.points.length >= 90);
    assert.equal(Math.max(...s.points.map((p) => p.max!)), 0.9 + 5 - 0.05); // the spike survives
    const zoom = await api.series({ experimentKey: keys[0], metricName: 'val_loss', points: 100, from: 490, to: 520 });
    assert.equal(zoom.downsampled, false);
    assert.equal(zoom.points.length, 31);
    assert.equal(zoom.points[0].step, 490);
    const byEpoch = await api.series({ experimentKey: keys[0], metricName: 'val_loss', x: 'epoch', points: 10 });
    assert.equal(byEpoch.points.length, 10);
    // several series of one run in one request: same replies as one request per series, in the order asked
    const many = await api.seriesMany({ experimentKey: keys[0], metricNames: ['nope', 'val_loss'], points: 100 });
    assert.deepEqual(
      many.map((m) => m.metricName),
      ['nope', 'val_loss'],
    );
    assert.deepEqual(many[0], { metricName: 'nope', total: 0, downsampled: false, points: [] });
    assert.deepEqual(many[1], s);
    const manyZoom = await api.seriesMany({
      experimentKey: keys[0],
      metricNames: ['val_loss'],
      points: 100,
      from: 490,
      to: 520,
    });
    assert.deepEqual(manyZoom[0], zoom);
    for (const [q, field] of [
      ['metricName=val_loss&metricNames=val_loss', /exactly one of metricName or metricNames/],
      ['', /exactly one of metricName or metricNames/],
      ['metricNames=a,,b', /metricNames/],
      [`metricNames=${Array.from({ length: 101 }, (_, i) => `m${i}`).join(',')}`, /at most 100/],
    ] as const) {
      const r = await raw(server.url, 'GET', `/api/ocrops/series?experimentKey=${keys[0]}&${q}`, {
        key: server.defaultKey,
      });
      assert.equal(r.status, 400, q);
      assert.match(r.json.msg, field);
    }

    const oa = await raw(server.url, 'GET', '/api/openapi.json');
    assert.equal(oa.status, 200);
    assert.equal(oa.json.openapi, '3.0.3');
    assert.ok(oa.json.paths['/api/rest/v2/write/experiment/metric'].post.requestBody);
    const seriesParams = oa.json.paths['/api/ocrops/series'].get.parameters;
    assert.ok(seriesParams.some((p: any) => p.name === 'metricName' && !p.required));
    assert.ok(seriesParams.some((p: any) => p.name === 'metricNames' && /comma-separated/.test(p.schema.description)));
    const spa = await raw(server.url, 'GET', '/runs/abc');
    assert.equal(spa.status, 200);
    assert.match(spa.text, /<title>ocrops<\/title>/);
    const apiMiss = await raw(server.url, 'GET', '/api/nope', { key: server.defaultKey });
    assert.equal(apiMiss.status, 404);
    // CORS only for the explicitly allowed origin (a dashboard dev server); other origins, loopback or not, get none
    const pre = await request(`${server.url}/api/ocrops/runs`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' },
    });
    await pre.body.text();
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://localhost:5173');
    const foreign = await raw(server.url, 'GET', '/api/ocrops/runs', {
      key: server.defaultKey,
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.status, 200);
    const foreignHeaders = await request(`${server.url}/api/health`, { headers: { origin: 'https://evil.example' } });
    await foreignHeaders.body.text();
    assert.equal(foreignHeaders.headers['access-control-allow-origin'], undefined);
    const otherLoopback = await request(`${server.url}/api/health`, { headers: { origin: 'http://127.0.0.1:8080' } });
    await otherLoopback.body.text();
    assert.equal(otherLoopback.headers['access-control-allow-origin'], undefined);
  });

  test('server-sent events announce metric and experiment changes', async () => {
    const ac = new AbortController();
    const res = await request(
      `${server.url}/api/ocrops/events?workspaceName=default&apiKey=${encodeURIComponent(server.defaultKey)}`,
      { signal: ac.signal },
    );
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/event-stream/);
    const seen: any[] = [];
    let key = '';
    // Events of earlier tests' runs may still arrive (metric events are throttled per run), and the SSE chunk can reach
    // us after the POST's own reply: wait for this run's two events, bounded, naming what did arrive on timeout.
    const mine = () =>
      seen.some((x) => x.type === 'experiment' && x.experimentKey === key) &&
      seen.some((x) => x.type === 'metric' && x.experimentKey === key && x.projectName === 'live');
    let wake = () => undefined as void;
    let buffered = '';
    res.body.on('data', (chunk: Buffer) => {
      // an event may be split across chunks: parse complete events (terminated by a blank line) only
      buffered += chunk.toString();
      const events = buffered.split('\n\n');
      buffered = events.pop() ?? '';
      for (const ev of events) for (const m of ev.matchAll(/^data: (.*)$/gm)) seen.push(JSON.parse(m[1]));
      wake();
    });
    res.body.on('error', () => undefined);
    const e = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'live',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    key = e.key;
    e.logMetric('loss', 1, { step: 1 });
    await e.flush();
    assert.equal(e.stats.spooled, 0, 'the metric reached the server');
    const deadline = Date.now() + 20_000;
    while (!mine() && Date.now() < deadline)
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    ac.abort();
    assert.ok(mine(), `events for run ${key} within 20 s; got ${JSON.stringify(seen)}`);
    await e.end();
  });

  test('keys are per workspace; the dashboard may pass the key as query parameter or cookie', async () => {
    const { createApiKey } = await import('./keys.js');
    const otherKey = await createApiKey(server.store.db, 'team-b');
    const mine = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'priv',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    await mine.end();
    const other = new TrackerApi({ url: server.url, apiKey: otherKey });
    await assert.rejects(other.metadata(mine.key), /404/);
    assert.deepEqual(await other.workspaces(), ['team-b']);
    const viaCookie = await raw(server.url, 'GET', `${V2}/experiment/metadata?experimentKey=${mine.key}`, {
      headers: { cookie: `ocrops_api_key=${encodeURIComponent(server.defaultKey)}` },
    });
    assert.equal(viaCookie.status, 200);
    const viaQuery = await raw(
      server.url,
      'GET',
      `${V2}/experiment/metadata?experimentKey=${mine.key}&apiKey=${encodeURIComponent(server.defaultKey)}`,
    );
    assert.equal(viaQuery.status, 200);
    const none = await raw(server.url, 'GET', `${V2}/experiment/metadata?experimentKey=${mine.key}`);
    assert.equal(none.status, 401);
  });
});

describe('run status from heartbeats', () => {
  test('a run whose heartbeats stop counts as crashed; one that beats is running', async () => {
    const tmp = tempDir();
    const server = await startServer({ port: 0, dataDir: tmp.dir, heartbeatMillis: 250 });
    try {
      const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
      const silent = await raw(server.url, 'POST', '/api/rest/v2/write/experiment/create', {
        key: server.defaultKey,
        body: { projectName: 'hb' },
      });
      const beating = await Experiment.create({
        url: server.url,
        apiKey: server.defaultKey,
        project: 'hb',
        spoolDir: join(tmp.dir, 'spool'),
        captureConsole: false,
      });
      await new Promise((r) => setTimeout(r, 1600));
      const runs = Object.fromEntries(
        (await api.runs({ projectName: 'hb' })).runs.map((r) => [r.experimentKey, r.status]),
      );
      assert.equal(runs[silent.json.experimentKey], 'crashed');
      assert.equal(runs[beating.key], 'running');
      await beating.end();
      assert.equal((await api.metadata(beating.key)).running, false);
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });
});

describe('--open-read', () => {
  test('serves GETs from loopback without a key but never writes', async () => {
    const tmp = tempDir();
    const server = await startServer({ port: 0, dataDir: tmp.dir, openRead: true });
    try {
      const e = await Experiment.create({
        url: server.url,
        apiKey: server.defaultKey,
        project: 'open',
        spoolDir: join(tmp.dir, 'spool'),
        captureConsole: false,
      });
      e.logMetric('m', 1);
      await e.end();
      const runs = await raw(server.url, 'GET', '/api/ocrops/runs?workspaceName=default&projectName=open');
      assert.equal(runs.status, 200);
      assert.equal(runs.json.total, 1);
      const w = await raw(server.url, 'POST', '/api/rest/v2/write/experiment/metric', {
        body: { experimentKey: e.key, metricName: 'm', metricValue: 2 },
      });
      assert.equal(w.status, 401);
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });
});
