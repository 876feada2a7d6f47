// Robustness: 100+ malformed or hostile requests (wrong types, missing fields, 50 MB bodies, unknown experiment keys,
// `../` in asset names, another workspace's key) each get a 4xx, and the server keeps serving correctly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request, FormData } from 'undici';
import { Experiment, TrackerApi, startServer, type TrackerServer } from '../index.js';
import { createApiKey } from './keys.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  rawBody?: string | Buffer;
  contentType?: string;
  key?: string | null;
  headers?: Record<string, string>;
  form?: { fileName: string; bytes: Buffer; withFile?: boolean };
  expect?: number;
}

describe('hostile and malformed requests', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  let key: string;
  let otherKey: string;
  let exp: string;
  let otherExp: string;
  const V2 = '/api/rest/v2';

  before(async () => {
    server = await startServer({ port: 0, dataDir: tmp.dir, maxAssetBytes: 1024 * 1024, bodyLimit: 8 * 1024 * 1024 });
    key = server.defaultKey;
    otherKey = await createApiKey(server.store.db, 'intruders');
    const mine = await raw(server.url, 'POST', `${V2}/write/experiment/create`, { key, body: { projectName: 'p' } });
    exp = mine.json.experimentKey;
    const theirs = await raw(server.url, 'POST', `${V2}/write/experiment/create`, {
      key: otherKey,
      body: { projectName: 'p' },
    });
    otherExp = theirs.json.experimentKey;
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  function cases(): Case[] {
    const unknown = 'f'.repeat(32);
    const metric = { experimentKey: exp, metricName: 'loss', metricValue: 1, step: 1 };
    const c: Case[] = [];
    const post = (name: string, path: string, body: unknown, expect?: number) =>
      c.push({ name, method: 'POST', path: `${V2}${path}`, body, expect });
    const get = (name: string, path: string, expect?: number, k?: string | null) =>
      c.push({ name, method: 'GET', path, expect, key: k });

    // wrong types
    const wrongMetric: Array<[string, unknown]> = [
      ['metricName', 123],
      ['metricName', ''],
      ['metricName', null],
      ['metricName', 'x'.repeat(501)],
      ['metricValue', {}],
      ['metricValue', [1]],
      ['metricValue', true],
      ['step', 'abc'],
      ['step', 1.5],
      ['step', {}],
      ['epoch', '2'],
      ['epoch', 0.5],
      ['timestamp', 'now'],
      ['timestamp', -5],
      ['timestamp', 1e20],
      ['context', 5],
      ['experimentKey', 12345],
      ['experimentKey', 'ABCDEF0123456789ABCDEF0123456789'],
      ['experimentKey', "x' OR 1=1 --"],
      ['experimentKey', '../../etc/passwd'],
      ['id', ''],
      ['id', 7],
    ];
    for (const [f, v] of wrongMetric)
      post(`metric ${f}=${JSON.stringify(v).slice(0, 20)}`, '/write/experiment/metric', { ...metric, [f]: v }, 400);
    // missing fields
    for (const f of ['experimentKey', 'metricName', 'metricValue']) {
      const b: Record<string, unknown> = { ...metric };
      delete b[f];
      post(`metric without ${f}`, '/write/experiment/metric', b, 400);
    }
    const writes: Array<[string, Record<string, unknown>, string[]]> = [
      [
        '/write/experiment/parameter',
        { experimentKey: exp, parameterName: 'lr', parameterValue: 1 },
        ['parameterName', 'parameterValue'],
      ],
      ['/write/experiment/log-other', { experimentKey: exp, key: 'k', value: 1 }, ['key', 'value']],
      ['/write/experiment/tags', { experimentKey: exp, addedTags: ['a'] }, ['addedTags']],
      ['/write/experiment/html', { experimentKey: exp, html: '<p>' }, ['html']],
      ['/write/experiment/output', { experimentKey: exp, outputLines: [{ output: 'x' }] }, ['outputLines']],
      ['/write/experiment/set-start-end-time', { experimentKey: exp, startTimeMillis: 1 }, ['experimentKey']],
      ['/write/experiment/update-status', { experimentKey: exp, isAlive: true }, ['experimentKey']],
      ['/write/experiment/git/metadata', { experimentKey: exp, branch: 'main' }, ['experimentKey']],
      ['/clientlib/batch/logger/experiment/metric', { experimentKey: exp, values: [] }, ['values']],
    ];
    for (const [path, body, required] of writes) {
      for (const f of required) {
        const b = { ...body };
        delete b[f];
        post(`${path} without ${f}`, path, b, 400);
      }
      post(`${path} unknown experiment`, path, { ...body, experimentKey: unknown }, 404);
      post(`${path} other workspace's experiment`, path, { ...body, experimentKey: otherExp }, 404);
    }
    post('tags not an array', '/write/experiment/tags', { experimentKey: exp, addedTags: 'a' }, 400);
    post('tags of numbers', '/write/experiment/tags', { experimentKey: exp, addedTags: [1, 2] }, 400);
    post('html not a string', '/write/experiment/html', { experimentKey: exp, html: 5 }, 400);
    post('override not boolean', '/write/experiment/html', { experimentKey: exp, html: 'x', override: 'yes' }, 400);
    post('output lines not an array', '/write/experiment/output', { experimentKey: exp, outputLines: {} }, 400);
    post(
      'output line without text',
      '/write/experiment/output',
      { experimentKey: exp, outputLines: [{ stderr: false }] },
      400,
    );
    post('isAlive as string', '/write/experiment/update-status', { experimentKey: exp, isAlive: 'true' }, 400);
    post(
      'endTime as string',
      '/write/experiment/set-start-end-time',
      { experimentKey: exp, endTimeMillis: 'soon' },
      400,
    );
    post(
      'batch values not array',
      '/clientlib/batch/logger/experiment/metric',
      { experimentKey: exp, values: 'x' },
      400,
    );
    post(
      'batch item bad value',
      '/clientlib/batch/logger/experiment/metric',
      { experimentKey: exp, values: [{ metricName: 'a', metricValue: {} }] },
      400,
    );
    post(
      'batch too large',
      '/clientlib/batch/logger/experiment/metric',
      {
        experimentKey: exp,
        values: Array.from({ length: 20_001 }, (_, i) => ({ metricName: 'a', metricValue: i })),
      },
      400,
    );
    post(
      'create in another workspace',
      '/write/experiment/create',
      { workspaceName: 'intruders', projectName: 'x' },
      403,
    );
    post('create with bad project name', '/write/experiment/create', { projectName: '../x' }, 400);
    post(
      'create with taken key of another workspace',
      '/write/experiment/create',
      { projectName: 'x', experimentKey: otherExp },
      409,
    );
    post(
      'project in another workspace',
      '/write/project/create',
      { workspaceName: 'intruders', projectName: 'x' },
      403,
    );
    post('body is an array', '/write/experiment/metric', [metric], 400);
    post('body is a string', '/write/experiment/metric', 'hello', 400);
    post(
      'prototype pollution',
      '/write/experiment/metric',
      JSON.parse('{"__proto__": {"admin": true}, "experimentKey": "x"}'),
      400,
    );
    c.push({
      name: 'malformed JSON',
      method: 'POST',
      path: `${V2}/write/experiment/metric`,
      rawBody: '{"experimentKey": ',
      expect: 400,
    });
    c.push({
      name: 'empty JSON body',
      method: 'POST',
      path: `${V2}/write/experiment/metric`,
      rawBody: '',
      expect: 400,
    });
    c.push({
      name: 'text/plain body',
      method: 'POST',
      path: `${V2}/write/experiment/metric`,
      rawBody: 'loss=1',
      contentType: 'text/plain',
      expect: 400,
    });
    c.push({
      name: '50 MB body',
      method: 'POST',
      path: `${V2}/write/experiment/html`,
      rawBody: Buffer.alloc(50 * 1024 * 1024, 0x20),
      expect: 413,
    });
    c.push({
      name: '50 MB JSON html',
      method: 'POST',
      path: `${V2}/write/experiment/html`,
      rawBody: JSON.stringify({ experimentKey: exp, html: 'x'.repeat(50 * 1024 * 1024) }),
      expect: 413,
    });
    // auth
    get('no key', `${V2}/experiment/metadata?experimentKey=${exp}`, 401, null);
    get('wrong key', `${V2}/experiment/metadata?experimentKey=${exp}`, 401, 'not-a-key');
    get('huge key', `${V2}/experiment/metadata?experimentKey=${exp}`, 401, 'k'.repeat(5000));
    get('other workspace reads my experiment', `${V2}/experiment/metadata?experimentKey=${exp}`, 404, otherKey);
    get(
      'other workspace reads my metrics',
      `${V2}/experiment/metrics/get-metric?experimentKey=${exp}&metricName=loss`,
      404,
      otherKey,
    );
    get('other workspace lists my projects', `${V2}/projects?workspaceName=default`, 403, otherKey);
    get('other workspace lists my runs', `/api/ocrops/runs?workspaceName=default`, 403, otherKey);
    c.push({
      name: 'other key writes my experiment',
      method: 'POST',
      path: `${V2}/write/experiment/metric`,
      body: metric,
      key: otherKey,
      expect: 404,
    });
    // reads with bad queries
    get('metadata without key param', `${V2}/experiment/metadata`, 400);
    get('metadata unknown experiment', `${V2}/experiment/metadata?experimentKey=${unknown}`, 404);
    get('get-metric without name', `${V2}/experiment/metrics/get-metric?experimentKey=${exp}`, 400);
    get('asset unknown id', `${V2}/experiment/asset/get-asset?experimentKey=${exp}&assetId=${unknown}`, 404);
    get(
      'asset id traversal',
      `${V2}/experiment/asset/get-asset?experimentKey=${exp}&assetId=..%2F..%2Fdefault-key`,
      400,
    );
    get('series points=1', `/api/ocrops/series?experimentKey=${exp}&metricName=loss&points=1`, 400);
    get('series x=foo', `/api/ocrops/series?experimentKey=${exp}&metricName=loss&x=foo`, 400);
    get('series from=abc', `/api/ocrops/series?experimentKey=${exp}&metricName=loss&from=abc`, 400);
    get('runs order=sideways', `/api/ocrops/runs?order=sideways`, 400);
    get('runs limit=-1', `/api/ocrops/runs?limit=-1`, 400);
    get(
      'runs filter injection',
      `/api/ocrops/runs?filter=${encodeURIComponent('params.x=1; DROP TABLE experiments')}`,
      400,
    );
    get('runs filter garbage', `/api/ocrops/runs?filter=${encodeURIComponent('))((')}`, 400);
    get('sweep unknown', `/api/ocrops/sweep?id=${unknown}`, 404);
    get('sweep bad id', `/api/ocrops/sweep?id=1`, 400);
    get('unknown route', `/api/rest/v2/write/experiment/end`, 404);
    get('set-status unknown experiment', `${V2}/write/experiment/set-status?experimentKey=${unknown}`, 404);
    // asset names and uploads
    const up = (name: string, fileName: string, expect: number, bytes = Buffer.from('x'), withFile = true) =>
      c.push({
        name,
        method: 'POST',
        path: `${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=${encodeURIComponent(fileName)}`,
        form: { fileName, bytes, withFile },
        expect,
      });
    up('asset ../', '../../default-key', 400);
    up('asset nested ..', 'models/../../../etc/passwd', 400);
    up('asset absolute', '/etc/passwd', 400);
    up('asset backslash', '..\\..\\x', 400);
    up('asset NUL', 'a\u0000b', 400);
    up('asset dot segment', './x', 400);
    up('asset empty segment', 'a//b', 400);
    up('asset drive letter', 'C:/x', 400);
    up('asset too large', 'big.bin', 413, Buffer.alloc(2 * 1024 * 1024, 1));
    up('multipart without file part', 'f.bin', 400, Buffer.from('x'), false);
    c.push({
      name: 'upload as JSON',
      method: 'POST',
      path: `${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=a`,
      body: { a: 1 },
      expect: 415,
    });
    c.push({
      name: 'upload to unknown experiment',
      method: 'POST',
      path: `${V2}/write/experiment/upload-asset?experimentKey=${unknown}&fileName=a`,
      form: { fileName: 'a', bytes: Buffer.from('x') },
      expect: 404,
    });
    c.push({
      name: 'upload bad type',
      method: 'POST',
      path: `${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=a&type=${encodeURIComponent('../x')}`,
      form: { fileName: 'a', bytes: Buffer.from('x') },
      expect: 400,
    });
    // optimizer on a server without an algorithm still validates input first
    post('optimizer create without config', '/optimizer/create', { projectName: 'p' }, 400);
    post('optimizer update bad status', '/optimizer/update', { id: unknown, pid: 'a', status: 'exploded' }, 400);
    post('optimizer update unknown', '/optimizer/update', { id: unknown, pid: 'a', status: 'completed' }, 404);
    post('optimizer release unknown', '/optimizer/release', { id: unknown, pid: 'a' }, 404);
    get('optimizer status bad id', `${V2}/optimizer/status?id=zz`, 400);
    return c;
  }

  async function send(c: Case): Promise<number> {
    const k = c.key === null ? undefined : (c.key ?? key);
    if (c.form) {
      const form = new FormData();
      if (c.form.withFile !== false) form.append('file', new Blob([c.form.bytes]), 'upload.bin');
      else form.append('metadata', '{}');
      const res = await request(`${server.url}${c.path}`, {
        method: 'POST',
        headers: k ? { authorization: k } : {},
        body: form,
      });
      await res.body.text();
      return res.statusCode;
    }
    try {
      const r = await raw(server.url, c.method, c.path, {
        key: k,
        body: c.body,
        rawBody: c.rawBody,
        contentType: c.contentType,
        headers: c.headers,
      });
      if (r.status >= 400 && r.status !== 413 && r.status !== 404 && c.path.includes('/write/'))
        assert.ok(typeof r.json?.msg === 'string' && r.json.msg.length > 0, `${c.name}: error reply has a message`);
      return r.status;
    } catch (err) {
      // the server may reset a connection after answering 413 to a body it refuses to read
      if (c.expect === 413) return 413;
      throw err;
    }
  }

  test('every hostile request gets the expected 4xx and the server keeps serving', async () => {
    const all = cases();
    assert.ok(all.length >= 100, `${all.length} cases`);
    const expsBefore = (await raw(server.url, 'GET', `${V2}/experiments?workspaceName=default`, { key })).json
      .experiments.length;
    const wrong: string[] = [];
    for (const c of all) {
      const status = await send(c);
      if (status < 400 || status >= 500 || (c.expect && status !== c.expect))
        wrong.push(`${c.name}: got ${status}, expected ${c.expect ?? '4xx'}`);
      const health = await raw(server.url, 'GET', '/api/health');
      assert.equal(health.status, 200, `server stopped serving after ${c.name}`);
    }
    assert.deepEqual(wrong, []);
    // nothing was written by the rejected requests, and nothing escaped the asset folder
    const api = new TrackerApi({ url: server.url, apiKey: key });
    assert.deepEqual(await api.metricsSummary(exp), []);
    assert.deepEqual(await api.assets(exp), []);
    assert.equal(
      (await raw(server.url, 'GET', `${V2}/experiments?workspaceName=default`, { key })).json.experiments.length,
      expsBefore,
    );
    assert.ok(!existsSync(join(tmp.dir, 'etc')));
    const tmpUploads = join(tmp.dir, 'assets', '.tmp');
    assert.deepEqual(existsSync(tmpUploads) ? readdirSync(tmpUploads) : [], []);
    // and normal work still succeeds
    const e = await Experiment.create({
      url: server.url,
      apiKey: key,
      project: 'after',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    for (let i = 0; i < 100; i++) e.logMetric('loss', i, { step: i });
    await e.end();
    assert.equal((await api.getMetric(e.key, 'loss')).length, 100);
  });
});
