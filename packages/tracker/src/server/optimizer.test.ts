// The optimizer resource over REST with a small grid algorithm written here against the OptimizerAlgorithm contract
// (the real algorithms live in @ocrops/sweep): distinct suggestions for parallel workers, maxCombo, trials per set,
// release and lease expiry, best trial, validation errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OcropsError } from '@ocrops/common';
import { Experiment, TrackerApi, startServer, type OptimizerAlgorithm, type TrackerServer } from '../index.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';

/** Enumerates the discrete values of one parameter in order, skipping values already suggested. */
const gridAlgorithm: OptimizerAlgorithm = {
  validate(config) {
    const c = config as { parameters?: Record<string, { values?: unknown[] }> };
    if (!c.parameters || typeof c.parameters !== 'object')
      throw new OcropsError('OCROPS_SWEEP_CONFIG', 'parameters: required');
    for (const [k, p] of Object.entries(c.parameters))
      if (!Array.isArray(p.values))
        throw new OcropsError('OCROPS_SWEEP_CONFIG', `parameters.${k}.values: expected a list`);
  },
  suggest(config, trials, count) {
    const [name, p] = Object.entries((config as { parameters: Record<string, { values: unknown[] }> }).parameters)[0];
    const used = new Set(trials.map((t) => JSON.stringify(t.parameters[name])));
    return p.values
      .filter((v) => !used.has(JSON.stringify(v)))
      .slice(0, count)
      .map((v) => ({ [name]: v }));
  },
};

describe('optimizer resource', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  let api: TrackerApi;
  const config = {
    algorithm: 'grid',
    spec: { maxCombo: 4, objective: 'minimize', metric: 'val_loss' },
    parameters: { inner_dim: { type: 'discrete', values: [32, 64, 128, 256, 512] } },
    name: 'inner-dim search',
    trials: 1,
  };

  before(async () => {
    server = await startServer({ port: 0, dataDir: tmp.dir, optimizer: gridAlgorithm, trialLeaseMillis: 300 });
    api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  test('parallel workers get distinct suggestions until maxCombo, then 204', async () => {
    const id = await api.optimizerCreate(config, { projectName: 'ocr' });
    const got = await Promise.all(Array.from({ length: 6 }, () => api.optimizerNext(id)));
    const params = got.filter((g) => g).map((g) => g!.parameters.inner_dim);
    assert.equal(params.length, 4);
    assert.equal(new Set(params).size, 4);
    const done = await raw(server.url, 'GET', `/api/rest/v2/optimizer/next?id=${id}`, { key: server.defaultKey });
    assert.equal(done.status, 204);

    // workers report scores and link their experiments
    const scores = [0.9, 0.3, 0.5, 0.7];
    for (const [i, s] of got.filter((g) => g).entries()) {
      const e = await Experiment.create({
        url: server.url,
        apiKey: server.defaultKey,
        project: 'ocr',
        spoolDir: tmp.dir + '/spool',
        captureConsole: false,
      });
      e.logOther('optimizer_id', id);
      await e.end();
      const t = await api.optimizerUpdate({
        id,
        pid: s!.pid,
        trial: s!.trial,
        status: 'completed',
        score: scores[i],
        epoch: 20,
        experimentKey: e.key,
      });
      assert.equal(t.status, 'completed');
      assert.equal(t.score, scores[i]);
    }
    const st = await api.optimizerStatus(id);
    assert.equal(st.state, 'completed');
    assert.equal(st.trials.length, 4);
    assert.equal(st.best!.score, 0.3);
    assert.equal(st.best!.parameters.inner_dim, got[1]!.parameters.inner_dim);
    assert.equal(st.name, 'inner-dim search');
    const runs = await api.runs({ projectName: 'ocr', filter: `optimizationId=${id}` });
    assert.equal(runs.total, 4);
    const sweeps = await api.sweeps('ocr');
    assert.ok(sweeps.some((s) => s.id === id));
    assert.ok((await api.optimizerList('ocr')).some((s) => s.id === id));
  });

  test('a released or expired trial is suggested again; several trials per parameter set', async () => {
    const id = await api.optimizerCreate({
      ...config,
      spec: { ...config.spec, maxCombo: 2, retryAssignLimit: 1 },
      trials: 2,
    });
    const a = (await api.optimizerNext(id))!;
    const a2 = (await api.optimizerNext(id))!;
    assert.equal(a2.pid, a.pid);
    assert.equal(a2.trial, 2);
    const b = (await api.optimizerNext(id))!;
    assert.notEqual(b.pid, a.pid);
    assert.deepEqual(await api.optimizerRelease(id, a.pid, 1), { released: 1 });
    const again = (await api.optimizerNext(id))!;
    assert.deepEqual([again.pid, again.trial, again.parameters], [a.pid, 1, a.parameters]);
    // b's worker sends no update for longer than the lease (300 ms): its trial is handed out again
    await api.optimizerUpdate({ id, pid: a.pid, trial: 1, status: 'running' });
    await new Promise((r) => setTimeout(r, 400));
    await api.optimizerUpdate({ id, pid: a.pid, trial: 1, status: 'completed', score: 1 });
    await api.optimizerUpdate({ id, pid: a.pid, trial: 2, status: 'completed', score: 2 });
    const reclaimed = (await api.optimizerNext(id))!;
    assert.equal(reclaimed.pid, b.pid);
    assert.equal(reclaimed.trial, 1);
  });

  test('invalid configs and unknown trials are rejected with the field named', async () => {
    const bad = await raw(server.url, 'POST', '/api/rest/v2/optimizer/create', {
      key: server.defaultKey,
      body: { config: { parameters: { lr: { type: 'float', min: 0 } } } },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json.msg, /parameters\.lr\.values/);
    const id = await api.optimizerCreate(config);
    await assert.rejects(api.optimizerUpdate({ id, pid: 'nope', status: 'completed' }), /404/);
  });
});
