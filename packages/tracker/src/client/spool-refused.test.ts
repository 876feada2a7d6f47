// A sync with a wrong key, workspace or server must not lose the spool: 401/403/404 keep every record and the command
// fails with what to do; only records the server rejected as invalid data leave it, into a dead-letter file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Experiment,
  TrackerApi,
  createApiKey,
  deadLetterFile,
  makeTrackerCommands,
  startServer,
  syncSpool,
} from '../index.js';
import { tempDir } from '../../test-fixtures/helpers.js';

/** An offline run of 1,000 points in `spoolDir`; returns its key and the spool file's text. */
async function offlineRun(spoolDir: string, workspace?: string): Promise<{ key: string; spooled: string }> {
  const exp = await Experiment.create({
    offline: true,
    url: 'http://127.0.0.1:9',
    project: 'p',
    workspace,
    spoolDir,
    captureConsole: false,
  });
  for (let i = 0; i < 1000; i++) exp.logMetric('loss', i, { step: i });
  await exp.end();
  return { key: exp.key, spooled: readFileSync(join(spoolDir, `${exp.key}.jsonl`), 'utf8') };
}

test('spool kept on 401/403/404: a wrong key, workspace or server keeps every record and sync fails', async () => {
  const tmp = tempDir();
  const server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
  try {
    // 401: a wrong key
    const s401 = join(tmp.dir, 's401');
    const a = await offlineRun(s401);
    const r401 = await syncSpool({ spoolDir: s401, url: server.url, apiKey: 'not-a-key' });
    assert.deepEqual(
      r401.refused.map((r) => r.status),
      [401],
    );
    assert.equal(r401.delivered, 0);
    assert.equal(readFileSync(join(s401, `${a.key}.jsonl`), 'utf8'), a.spooled);
    // the CLI says so and exits non-zero
    await assert.rejects(
      makeTrackerCommands().sync.run(['--spool-dir', s401, '--url', server.url, '--api-key', 'not-a-key']),
      (err: any) => err.code === 'OCROPS_TRACKER_REFUSED' && /401/.test(err.message) && /API key/.test(err.hint),
    );
    assert.equal(readFileSync(join(s401, `${a.key}.jsonl`), 'utf8'), a.spooled);

    // 403: logged for workspace "team", synced with the default workspace's key
    const s403 = join(tmp.dir, 's403');
    const b = await offlineRun(s403, 'team');
    const r403 = await syncSpool({ spoolDir: s403, url: server.url, apiKey: server.defaultKey });
    assert.deepEqual(
      r403.refused.map((r) => r.status),
      [403],
    );
    assert.equal(readFileSync(join(s403, `${b.key}.jsonl`), 'utf8'), b.spooled);
    // the right key delivers all of it afterwards
    const teamKey = await createApiKey(server.store.db, 'team');
    const ok = await syncSpool({ spoolDir: s403, url: server.url, apiKey: teamKey });
    assert.deepEqual(ok.refused, []);
    assert.equal(ok.rejected, 0);
    assert.equal((await new TrackerApi({ url: server.url, apiKey: teamKey }).getMetric(b.key, 'loss')).length, 1000);
    assert.ok(!existsSync(join(s403, `${b.key}.jsonl`)));

    // 404: the experiment does not exist on this server (its creation was delivered elsewhere)
    const s404 = join(tmp.dir, 's404');
    const c = await offlineRun(s404);
    const withoutCreate = c.spooled
      .split('\n')
      .filter((l) => l && !l.includes('/experiment/create'))
      .map((l) => `${l}\n`)
      .join('');
    writeFileSync(join(s404, `${c.key}.jsonl`), withoutCreate);
    const r404 = await syncSpool({ spoolDir: s404, url: server.url, apiKey: server.defaultKey });
    assert.deepEqual(
      r404.refused.map((r) => r.status),
      [404],
    );
    assert.equal(readFileSync(join(s404, `${c.key}.jsonl`), 'utf8'), withoutCreate);
  } finally {
    await server.close();
    tmp.cleanup();
  }
});

test('dead-letter file: a record rejected as invalid data leaves the spool into it; the rest is delivered', async () => {
  const tmp = tempDir();
  const server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
  try {
    const spoolDir = join(tmp.dir, 'spool');
    const { key, spooled } = await offlineRun(spoolDir);
    const first = JSON.parse(
      spooled
        .split('\n')
        .find((l) => l.includes('/batch/logger/experiment/metric') || l.includes('/write/experiment/metric'))!,
    );
    const bad = {
      ...first,
      request: {
        method: 'POST',
        path: '/write/experiment/metric',
        body: { experimentKey: key, metricName: '', metricValue: 1 },
      },
    };
    appendFileSync(join(spoolDir, `${key}.jsonl`), `${JSON.stringify(bad)}\n`);
    const r = await syncSpool({ spoolDir, url: server.url, apiKey: server.defaultKey });
    assert.equal(r.rejected, 1);
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.deadLetters, [deadLetterFile(spoolDir, key)]);
    const dead = readFileSync(deadLetterFile(spoolDir, key), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(dead.length, 1);
    assert.equal(dead[0].request.body.metricName, '');
    assert.match(dead[0].error, /400/);
    assert.ok(!existsSync(join(spoolDir, `${key}.jsonl`)));
    assert.equal(
      (await new TrackerApi({ url: server.url, apiKey: server.defaultKey }).getMetric(key, 'loss')).length,
      1000,
    );
  } finally {
    await server.close();
    tmp.cleanup();
  }
});
