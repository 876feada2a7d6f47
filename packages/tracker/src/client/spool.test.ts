// Durability: SIGKILL the server (a child process) while a client logs, restart it, run `sync`: every point is
// stored exactly once. Also offline mode, repeated syncs, and the crash handler of a dying process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Experiment, TrackerApi, makeTrackerCommands, startServer, syncSpool } from '../index.js';
import { spawnServer, tempDir } from '../../test-fixtures/helpers.js';

/** Runs an ESM script that imports @ocrops/tracker in a child node process; its exit code and stdout + stderr. */
async function runScript(script: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@ocrops/source', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out };
}

describe('spool and sync', () => {
  test('SIGKILL of the server while logging, restart, sync: every point exactly once', async () => {
    const tmp = tempDir();
    const dataDir = join(tmp.dir, 'data');
    const spoolDir = join(tmp.dir, 'spool');
    let srv = await spawnServer(dataDir, 0);
    const port = Number(new URL(srv.url).port);
    const apiKey = readFileSync(join(dataDir, 'default-key'), 'utf8').trim();
    try {
      const exp = await Experiment.create({
        url: srv.url,
        apiKey,
        project: 'chaos',
        spoolDir,
        captureConsole: false,
        heartbeat: false,
        flushIntervalMs: 20,
        maxBatch: 250,
        retries: 1,
        retryDelayMs: 50,
        cooldownMs: 200,
        syncOnEnd: false,
      });
      const N = 12_000;
      for (let i = 0; i < N; i++) {
        exp.logMetric('loss', i / 7, { step: i });
        if (i % 200 === 0) await sleep(2);
        if (i === 3000) srv.child.kill('SIGKILL'); // mid-stream: batches in flight are lost or half-answered
        if (i === 7000) srv = await spawnServer(dataDir, port);
      }
      exp.logParameter('seed', 7);
      await exp.end();
      assert.ok(exp.stats.spooled > 0, 'some values went to the spool while the server was down');
      assert.ok(exp.stats.sent > 0, 'some values went live');
      const api = new TrackerApi({ url: srv.url, apiKey });
      const before = await api.getMetric(exp.key, 'loss');
      assert.ok(before.length < N, `before sync: ${before.length} of ${N}`);

      // keep a copy of the spool to replay it a second time afterwards
      const spoolFile = join(spoolDir, `${exp.key}.jsonl`);
      copyFileSync(spoolFile, join(tmp.dir, 'spool-copy.jsonl'));
      await makeTrackerCommands().sync.run(['--spool-dir', spoolDir, '--api-key', apiKey]);
      assert.equal(existsSync(spoolFile), false, 'spool delivered and removed');

      const check = async () => {
        const pts = await api.getMetric(exp.key, 'loss');
        assert.equal(pts.length, N);
        const steps = pts.map((p) => p.step);
        assert.deepEqual(
          steps,
          Array.from({ length: N }, (_, i) => i),
        );
        pts.forEach((p, i) => assert.equal(p.metricValue, i / 7));
        const [s] = await api.metricsSummary(exp.key);
        assert.equal(s.count, N);
        assert.equal(s.valueMax, (N - 1) / 7);
        assert.equal(s.valueCurrent, (N - 1) / 7);
      };
      await check();
      // a replay of an already delivered spool (an interrupted sync retried) changes nothing
      copyFileSync(join(tmp.dir, 'spool-copy.jsonl'), spoolFile);
      const again = await syncSpool({ spoolDir, apiKey });
      assert.ok(again.delivered > 0);
      await check();
      const meta = await api.metadata(exp.key);
      assert.equal(meta.running, false);
      assert.ok(meta.endTimeMillis);
    } finally {
      srv.child.kill('SIGKILL');
      tmp.cleanup();
    }
  });

  test('offline mode writes only the spool; sync delivers metrics, params, tags and assets', async () => {
    const tmp = tempDir();
    const spoolDir = join(tmp.dir, 'spool');
    const asset = join(tmp.dir, 'notes.txt');
    writeFileSync(asset, 'offline asset');
    const exp = await Experiment.create({
      offline: true,
      url: 'http://127.0.0.1:9',
      project: 'offline',
      name: 'off',
      spoolDir,
      captureConsole: false,
    });
    for (let i = 0; i < 1000; i++) exp.logMetric('acc', i / 1000, { step: i, epoch: 1 });
    exp.logParameters({ inner_dim: 64 });
    exp.addTags(['offline']);
    await exp.logAsset(asset, { name: 'notes.txt' });
    await exp.end();
    assert.equal(exp.stats.sent, 0);
    assert.ok(readdirSync(join(spoolDir, 'files')).length === 1, 'the asset was copied into the spool');

    const server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
    try {
      const r1 = await syncSpool({ spoolDir, url: server.url, apiKey: server.defaultKey });
      assert.equal(r1.pending.length, 0);
      assert.equal(r1.rejected, 0);
      const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
      const meta = await api.metadata(exp.key);
      assert.equal(meta.experimentName, 'off');
      assert.equal(meta.projectName, 'offline');
      assert.equal((await api.getMetric(exp.key, 'acc')).length, 1000);
      assert.deepEqual(await api.tags(exp.key), ['offline']);
      const assets = await api.assets(exp.key);
      assert.equal(assets.length, 1);
      assert.equal((await api.getAsset(exp.key, assets[0].assetId)).toString(), 'offline asset');
      assert.deepEqual(readdirSync(join(spoolDir, 'files')), [], 'spool copies removed after delivery');
      const r2 = await syncSpool({ spoolDir, url: server.url, apiKey: server.defaultKey });
      assert.equal(r2.experiments, 0);
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });

  test('sync against an unreachable server keeps the spool and reports pending', async () => {
    const tmp = tempDir();
    const spoolDir = join(tmp.dir, 'spool');
    const exp = await Experiment.create({ offline: true, project: 'p', spoolDir, captureConsole: false });
    exp.logMetric('x', 1);
    await exp.end();
    const r = await syncSpool({ spoolDir, url: 'http://127.0.0.1:9', apiKey: 'k', retries: 0 });
    assert.deepEqual(r.pending, [exp.key]);
    assert.ok(existsSync(join(spoolDir, `${exp.key}.jsonl`)));
    tmp.cleanup();
  });

  test('an uncaught exception marks the run crashed and spools what was pending', async () => {
    const tmp = tempDir();
    const spoolDir = join(tmp.dir, 'spool');
    const server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
    try {
      const script = `
        import { Experiment } from '@ocrops/tracker';
        const e = await Experiment.create({ url: ${JSON.stringify(server.url)}, apiKey: ${JSON.stringify(server.defaultKey)},
          project: 'crash', spoolDir: ${JSON.stringify(spoolDir)}, flushIntervalMs: 60000 });
        console.log('KEY ' + e.key);
        for (let i = 0; i < 50; i++) e.logMetric('loss', i, { step: i });
        setTimeout(() => { throw new Error('training blew up'); }, 10);`;
      const { code, out } = await runScript(script);
      assert.notEqual(code, 0);
      const key = /KEY ([0-9a-f]{32})/.exec(out)?.[1];
      assert.ok(key, out);
      assert.match(out, /training blew up/);
      await syncSpool({ spoolDir, apiKey: server.defaultKey });
      const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
      assert.equal((await api.getMetric(key, 'loss')).length, 50);
      const meta = await api.metadata(key);
      assert.equal(meta.hasCrashed, true);
      assert.match(meta.error, /training blew up/);
      assert.ok((await api.output(key)).output.includes(`KEY ${key}`));
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });

  test('a run the program forgets to end is flushed and ended when the event loop drains', async () => {
    const tmp = tempDir();
    const server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
    try {
      const script = `
        import { Experiment } from '@ocrops/tracker';
        const e = await Experiment.create({ url: ${JSON.stringify(server.url)}, apiKey: ${JSON.stringify(server.defaultKey)},
          project: 'forgot', spoolDir: ${JSON.stringify(join(tmp.dir, 'spool'))}, captureConsole: false, flushIntervalMs: 60000 });
        for (let i = 0; i < 25; i++) e.logMetric('loss', i, { step: i });
        process.stdout.write('KEY ' + e.key + '\\n');`;
      const { code, out } = await runScript(script);
      assert.equal(code, 0, out);
      const key = /KEY ([0-9a-f]{32})/.exec(out)?.[1];
      assert.ok(key, out);
      const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
      assert.equal((await api.getMetric(key, 'loss')).length, 25);
      const meta = await api.metadata(key);
      assert.ok(meta.endTimeMillis, 'ended');
      assert.equal(meta.hasCrashed, false);
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });
});
