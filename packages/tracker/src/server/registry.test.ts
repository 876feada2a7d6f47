// The model registry on a real server, SQLite and PostgreSQL: registration from a run (lineage, metrics, weights md5),
// aliases moved and rolled back with history, pull by alias byte-identical, the Comet-compatible endpoints with the
// payloads the comet_ml SDK sends (ZIP download read by Python's zipfile), the bad-input rules and the OpenAPI document.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirManifestMd5, hashDirectory } from '@ocrops/versioning';
import {
  Experiment,
  ModelRegistry,
  TrackerApi,
  createApiKey,
  resolveRegistryModel,
  startServer,
  watchAlias,
  type TrackerServer,
} from '../index.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';
import { startPostgres, type PgCluster } from '@ocrops/services/testkit';

/** A model folder like the trainer's best/ (weights + ocrops.json + a nested file), distinct per `seed`. */
function modelFolder(root: string, seed: number): string {
  const dir = join(root, `model-${seed}`);
  mkdirSync(join(dir, 'extra'), { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'tfjs', seed }));
  writeFileSync(join(dir, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * seed) % 256)));
  writeFileSync(join(dir, 'ocrops.json'), JSON.stringify({ charset: 'abc', seed }));
  writeFileSync(join(dir, 'extra', 'note.txt'), `seed ${seed}\n`);
  return dir;
}

/** A finished run that logged metrics, lineage values, and its model folder (as the trainer does). */
async function trainedRun(url: string, apiKey: string, root: string, seed: number, opts: { loggedMd5?: string } = {}) {
  const dir = modelFolder(root, seed);
  const md5 = dirManifestMd5(await hashDirectory(dir));
  const exp = await Experiment.create({
    url,
    apiKey,
    project: 'reg',
    name: `run-${seed}`,
    spoolDir: join(root, 'spool'),
    captureConsole: false,
  });
  exp.logMetrics({ val_acc_by_char: 0.5 + seed / 100, val_loss: 1 / seed }, { step: 1, epoch: 1 });
  exp.logOther('git_commit', 'a'.repeat(40));
  exp.logOther('git_dirty', 'false');
  exp.logOther('config_md5', 'c'.repeat(32));
  exp.logOther('config_path', 'configs/train/synthetic.yaml');
  exp.logOther('dataset_md5', 'd'.repeat(32) + '.dir');
  exp.logOther('dataset_path', 'data/prepared/synthetic');
  await exp.logModel('crnn', dir);
  exp.logOther('model_md5', opts.loggedMd5 ?? md5);
  await exp.end();
  return { key: exp.key, dir, md5 };
}

function registrySuite(
  name: string,
  open: () => Promise<{ server: TrackerServer; close(): Promise<void> } | { skip: string }>,
) {
  describe(`model registry (${name})`, () => {
    const tmp = tempDir('ocrops-registry-');
    let server: TrackerServer;
    let close: (() => Promise<void>) | undefined;
    let skip: string | undefined;
    let reg: ModelRegistry;

    before(async () => {
      const r = await open();
      if ('skip' in r) {
        skip = r.skip;
        return;
      }
      server = r.server;
      close = r.close;
      reg = new ModelRegistry(new TrackerApi({ url: server.url, apiKey: server.defaultKey, workspace: 'default' }));
    });
    after(async () => {
      await close?.();
      tmp.cleanup();
    });

    test('register from runs, move an alias and roll back, pull by alias byte-identical, watch the alias', async (t) => {
      if (skip) return t.skip(skip);
      const r1 = await trainedRun(server.url, server.defaultKey, tmp.dir, 1);
      const r2 = await trainedRun(server.url, server.defaultKey, tmp.dir, 2);
      const v1 = await reg.register({
        modelName: 'vn-address',
        experimentKey: r1.key,
        aliases: ['champion'],
        tags: { dataset: 'synthetic' },
        description: 'first',
        weightsMd5: r1.md5,
      });
      assert.equal(v1.version, '1');
      assert.equal(v1.weights.md5, r1.md5);
      assert.equal(v1.weights.files.length, 4);
      assert.deepEqual(v1.aliases, ['champion']);
      assert.deepEqual(v1.tags, { dataset: 'synthetic' });
      assert.equal(v1.metrics.val_acc_by_char.last, 0.51);
      assert.deepEqual(v1.lineage, {
        gitCommit: 'a'.repeat(40),
        gitDirty: false,
        configMd5: 'c'.repeat(32),
        configPath: 'configs/train/synthetic.yaml',
        datasetMd5: 'd'.repeat(32) + '.dir',
        datasetPath: 'data/prepared/synthetic',
      });
      assert.deepEqual(v1.formats, ['tfjs']);
      const v2 = await reg.register({ modelName: 'vn-address', experimentKey: r2.key, aliases: ['candidate'] });
      assert.equal(v2.version, '2');

      // a watcher sees the alias move
      const moves: string[] = [];
      const watch = watchAlias('registry:vn-address@champion', {
        registry: reg,
        intervalMs: 50,
        onChange: (n, p) => void moves.push(`${p?.version}->${n.version}`),
      });
      await waitFor(() => watch.current !== undefined);
      const first = await resolveRegistryModel('registry:vn-address@champion', {
        registry: reg,
        cacheDir: join(tmp.dir, 'cache'),
      });
      assert.equal(first.version.version, '1');
      assertSameFiles(first.dir, r1.dir);

      await reg.setAlias('vn-address', '2', 'champion');
      await waitFor(() => moves.length === 1);
      assert.deepEqual(moves, ['1->2']);
      const second = await resolveRegistryModel('vn-address@champion', {
        registry: reg,
        cacheDir: join(tmp.dir, 'cache'),
      });
      assert.equal(second.version.version, '2');
      assert.equal(second.cached, false);
      assertSameFiles(second.dir, r2.dir);
      assertSameFiles(first.dir, r1.dir); // the previous version's folder stays intact (content-addressed)

      // roll back
      await reg.setAlias('vn-address', '1', 'champion');
      await waitFor(() => moves.length === 2);
      watch.stop();
      const back = await resolveRegistryModel('vn-address@champion', {
        registry: reg,
        cacheDir: join(tmp.dir, 'cache'),
      });
      assert.equal(back.version.version, '1');
      assert.equal(back.cached, true);
      const detail = await reg.model('vn-address');
      assert.deepEqual(detail.model.aliases, { champion: '1', candidate: '2' });
      assert.deepEqual(
        detail.aliasHistory.map((h) => `${h.alias}:${h.previousVersion}->${h.version}`),
        ['champion:null->1', 'candidate:null->2', 'champion:1->2', 'champion:2->1'],
      );
      assert.ok(detail.aliasHistory.every((h) => h.by?.startsWith('default/default-key') && h.at > 0));
      assert.deepEqual(await reg.byRun(r1.key), [
        { modelName: 'vn-address', version: '1', aliases: ['champion'], createdAt: v1.createdAt },
      ]);
      assert.equal((await reg.resolve('vn-address@latest')).version, '2');

      const updated = await reg.updateVersion('vn-address', '2', { description: 'better', tags: { owner: 'ocr' } });
      assert.equal(updated.description, 'better');
      assert.deepEqual(updated.tags, { owner: 'ocr' });
      await reg.deleteAlias('vn-address', 'candidate');
      await assert.rejects(reg.resolve('vn-address@candidate'), /alias "candidate" is not set on model "vn-address"/);
    });

    test('bad input: 404 naming it, 403 across workspaces, 409 duplicate version and hash mismatch, no half-written version', async (t) => {
      if (skip) return t.skip(skip);
      const k = server.defaultKey;
      const r3 = await trainedRun(server.url, k, tmp.dir, 3);
      await reg.register({ modelName: 'plates', experimentKey: r3.key, version: '1.0.0' });
      const post = (path: string, body: unknown, key = k) => raw(server.url, 'POST', path, { key, body });
      const get = (path: string, key = k) => raw(server.url, 'GET', path, { key });

      let r = await get('/api/ocrops/registry/version?modelName=nope&alias=champion');
      assert.equal(r.status, 404);
      assert.match(r.json.msg, /registered model "nope" not found/);
      r = await get('/api/ocrops/registry/version?modelName=plates&version=9');
      assert.equal(r.status, 404);
      assert.match(r.json.msg, /version "9" of model "plates" not found/);
      r = await get('/api/ocrops/registry/version?modelName=plates&alias=champion');
      assert.equal(r.status, 404);
      assert.match(r.json.msg, /alias "champion" is not set on model "plates"/);
      r = await post('/api/ocrops/registry/alias', { modelName: 'plates', version: '7', alias: 'champion' });
      assert.equal(r.status, 404);

      r = await post('/api/ocrops/registry/register', { modelName: 'plates', experimentKey: r3.key, version: '1.0.0' });
      assert.equal(r.status, 409);
      assert.match(r.json.msg, /version "1.0.0" of model "plates" already exists/);

      const bad = await trainedRun(server.url, k, tmp.dir, 4, { loggedMd5: '0'.repeat(32) + '.dir' });
      r = await post('/api/ocrops/registry/register', { modelName: 'plates', experimentKey: bad.key });
      assert.equal(r.status, 409);
      assert.ok(r.json.msg.includes(bad.md5) && r.json.msg.includes('0'.repeat(32) + '.dir'), r.json.msg);
      r = await post('/api/ocrops/registry/register', {
        modelName: 'plates',
        experimentKey: r3.key,
        weightsMd5: 'f'.repeat(32) + '.dir',
      });
      assert.equal(r.status, 409);
      assert.ok(r.json.msg.includes('f'.repeat(32)) && r.json.msg.includes(r3.md5), r.json.msg);

      // an alias that fails inside the transaction leaves no version behind
      r = await post('/api/ocrops/registry/register', {
        modelName: 'plates',
        experimentKey: r3.key,
        aliases: ['ok', 'latest'],
      });
      assert.equal(r.status, 400);
      assert.deepEqual(
        (await reg.model('plates')).versions.map((v) => v.version),
        ['1.0.0'],
      );

      // another workspace's key: 403 on that model, 404 when reading
      const other = await createApiKey(server.store.db, 'team-b', 'b');
      r = await post('/api/ocrops/registry/alias', { modelName: 'plates', version: '1.0.0', alias: 'champion' }, other);
      assert.equal(r.status, 403);
      assert.match(r.json.msg, /"plates" belongs to another workspace/);
      r = await post(
        '/api/ocrops/registry/alias',
        { workspaceName: 'default', modelName: 'plates', version: '1.0.0', alias: 'champion' },
        other,
      );
      assert.equal(r.status, 403);
      r = await get('/api/ocrops/registry/model?modelName=plates', other);
      assert.equal(r.status, 404);
      r = await post('/api/ocrops/registry/alias', { modelName: 'plates', version: '1.0.0', alias: '1bad' });
      assert.equal(r.status, 400);
      assert.match(r.json.msg, /alias/);
    });

    test('Comet REST v2 registry endpoints: experiment/model, write/registry-model(/item), details, status, stages, ZIP download', async (t) => {
      if (skip) return t.skip(skip);
      const k = server.defaultKey;
      const run = await trainedRun(server.url, k, tmp.dir, 5);
      const run2 = await trainedRun(server.url, k, tmp.dir, 6);
      const V2 = '/api/rest/v2';
      const models = await raw(server.url, 'GET', `${V2}/experiment/model?experimentKey=${run.key}`, { key: k });
      assert.equal(models.status, 200);
      assert.equal(models.json.models.length, 1);
      const { experimentModelId, modelName, experimentKey } = models.json.models[0];
      assert.equal(modelName, 'crnn');
      assert.equal(experimentKey, run.key);
      // the SDK's register_model_v2 payload: create, then add a version
      let r = await raw(server.url, 'POST', `${V2}/write/registry-model`, {
        key: k,
        body: {
          experimentModelId,
          registryModelName: 'comet-crnn',
          version: '1.0.0',
          isPublic: false,
          description: 'from comet',
          comment: 'c1',
          stages: ['staging'],
        },
      });
      assert.equal(r.status, 200, r.text);
      r = await raw(server.url, 'POST', `${V2}/write/registry-model`, {
        key: k,
        body: { experimentModelId, registryModelName: 'comet-crnn', version: '1.0.1' },
      });
      assert.equal(r.status, 409);
      const id2 = (await raw(server.url, 'GET', `${V2}/experiment/model?experimentKey=${run2.key}`, { key: k })).json
        .models[0].experimentModelId;
      r = await raw(server.url, 'POST', `${V2}/write/registry-model/item`, {
        key: k,
        body: { experimentModelId: id2, registryModelName: 'comet-crnn', version: '1.1.0', comment: 'c2' },
      });
      assert.equal(r.status, 200, r.text);

      const list = await raw(server.url, 'GET', `${V2}/registry-model?workspaceName=default`, { key: k });
      assert.ok(list.json.registryModels.some((m: any) => m.modelName === 'comet-crnn' && m.registryModelId));
      const count = await raw(server.url, 'GET', `${V2}/registry-model/count?workspaceName=default`, { key: k });
      assert.ok(count.json.registryModelCount >= 1);
      let details = (
        await raw(server.url, 'GET', `${V2}/registry-model/details?workspaceName=default&modelName=comet-crnn`, {
          key: k,
        })
      ).json;
      assert.equal(details.modelName, 'comet-crnn');
      assert.equal(details.description, 'from comet');
      assert.deepEqual(
        details.versions.map((v: any) => v.version),
        ['1.0.0', '1.1.0'],
      );
      const v100 = details.versions[0];
      assert.deepEqual(v100.stages, ['staging']);
      assert.equal(v100.comment, 'c1');
      assert.deepEqual(v100.experimentModel, { experimentModelId, experimentKey: run.key, modelName: 'crnn' });

      r = await raw(server.url, 'POST', `${V2}/write/registry-model/item/status`, {
        key: k,
        body: { status: 'Production', modelItemId: v100.registryModelItemId },
      });
      assert.equal(r.status, 200);
      r = await raw(
        server.url,
        'GET',
        `${V2}/write/registry-model/item/stage?modelItemId=${v100.registryModelItemId}&stage=prod`,
        { key: k },
      );
      assert.equal(r.status, 200);
      r = await raw(
        server.url,
        'GET',
        `${V2}/write/registry-model/item/stage/delete?modelItemId=${v100.registryModelItemId}&stage=staging`,
        { key: k },
      );
      assert.equal(r.status, 200);
      r = await raw(server.url, 'POST', `${V2}/write/registry-model/item/update`, {
        key: k,
        body: { registryModelItemId: v100.registryModelItemId, comment: 'c1b' },
      });
      assert.equal(r.status, 200);
      details = (
        await raw(server.url, 'GET', `${V2}/registry-model/details?workspaceName=default&modelName=comet-crnn`, {
          key: k,
        })
      ).json;
      assert.equal(details.versions[0].status, 'Production');
      assert.deepEqual(details.versions[0].stages, ['prod']);
      assert.equal(details.versions[0].comment, 'c1b');
      r = await raw(server.url, 'POST', `${V2}/write/registry-model/item/status`, {
        key: k,
        body: { status: 'Production', modelItemId: 'nope' },
      });
      assert.equal(r.status, 404);

      // ZIP download, read by Python's zipfile: the files are the run's model folder
      const res = await fetch(
        `${server.url}${V2}/registry-model/item/download?workspaceName=default&modelName=comet-crnn&version=1.0.0`,
        { headers: { authorization: k } },
      );
      assert.equal(res.status, 200);
      const zip = join(tmp.dir, 'dl.zip');
      writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
      const out = join(tmp.dir, 'unzipped');
      execFileSync('python3', [
        '-c',
        'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])',
        zip,
        out,
      ]);
      assertSameFiles(out, run.dir);
      const byStage = await fetch(
        `${server.url}${V2}/registry-model/item/download?workspaceName=default&modelName=comet-crnn&stage=prod`,
        { headers: { authorization: k } },
      );
      assert.equal(byStage.status, 200);
      const missing = await raw(
        server.url,
        'GET',
        `${V2}/registry-model/item/download?workspaceName=default&modelName=comet-crnn&version=9.9.9`,
        { key: k },
      );
      assert.equal(missing.status, 404);
      assert.match(missing.json.msg, /version "9.9.9" of model "comet-crnn" not found/);
    });

    test('every registry route is in the OpenAPI document with its schema and error replies', async (t) => {
      if (skip) return t.skip(skip);
      const doc = (await raw(server.url, 'GET', '/api/openapi.json')).json;
      const reg = doc.paths['/api/ocrops/registry/register'].post;
      assert.ok(reg.requestBody.content['application/json'].schema.properties.experimentKey);
      // the replies the route declares, with its own descriptions, beside the ones any route may give (413, 429, 500...)
      for (const code of ['200', '400', '401', '403', '404', '409'])
        assert.ok(reg.responses[code], `reply ${code} not documented`);
      assert.match(reg.responses['409'].description, /./);
      for (const p of [
        '/api/rest/v2/write/registry-model',
        '/api/rest/v2/write/registry-model/item',
        '/api/rest/v2/registry-model',
        '/api/rest/v2/registry-model/details',
        '/api/rest/v2/registry-model/item/download',
        '/api/rest/v2/experiment/model',
        '/api/ocrops/registry/alias',
      ])
        assert.ok(doc.paths[p], `${p} missing from OpenAPI`);
      assert.ok(
        doc.paths['/api/rest/v2/registry-model/item/download'].get.parameters.some((q: any) => q.name === 'version'),
      );
    });
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function assertSameFiles(a: string, b: string): void {
  const list = (d: string) =>
    execFileSync('find', ['.', '-type', 'f'], { cwd: d, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual(list(a), list(b));
  for (const f of list(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs`);
}

const sqliteDir = tempDir('ocrops-registry-sqlite-');
registrySuite('SQLite', async () => {
  const server = await startServer({ port: 0, dataDir: sqliteDir.dir });
  return {
    server,
    close: async () => {
      await server.close();
      sqliteDir.cleanup();
    },
  };
});

let pg: PgCluster | undefined;
const pgDir = tempDir('ocrops-registry-pg-');
registrySuite('PostgreSQL', async () => {
  const r = await startPostgres();
  if ('skip' in r) return r;
  pg = r;
  const server = await startServer({ port: 0, dataDir: pgDir.dir, databaseUrl: r.url });
  return {
    server,
    close: async () => {
      await server.close();
      pg?.stop();
      pgDir.cleanup();
    },
  };
});
