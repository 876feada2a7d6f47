// End-to-end: the real `ocrops tracker` commands (serve, keys create/list, sync) driven as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Experiment, TrackerApi } from '@ocrops/tracker';
import { runOcrops, startOcropsTracker } from './utils.js';

/** `ocrops tracker <args>`; rejects (with code, stdout, stderr) when it exits non-zero. */
async function ocrops(args: string[], env: Record<string, string> = {}) {
  const r = await runOcrops(['tracker', ...args], { extraEnv: env, timeoutMs: 120_000 });
  if (r.code !== 0) throw Object.assign(new Error(`ocrops tracker ${args.join(' ')} exited ${r.code}: ${r.stderr}`), r);
  return r;
}

test('ocrops tracker serve / keys / sync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-e2e-tracker-'));
  const dataDir = join(dir, 'data');
  const spoolDir = join(dir, 'spool');
  const server = await startOcropsTracker(dataDir);
  try {
    const url = server.url;
    const defaultKey = readFileSync(join(dataDir, 'default-key'), 'utf8').trim();

    const created = await ocrops(['keys', 'create', '--workspace', 'team-e2e', '--data-dir', dataDir]);
    const teamKey = created.stdout.trim();
    assert.match(teamKey, /^[A-Za-z0-9_-]{32}$/);
    const listed = await ocrops(['keys', 'list', '--data-dir', dataDir]);
    assert.match(listed.stdout, /^default\t/m);
    assert.match(listed.stdout, /^team-e2e\t/m);
    assert.ok(!listed.stdout.includes(teamKey), 'keys list never prints whole keys');
    assert.deepEqual(await new TrackerApi({ url, apiKey: teamKey }).workspaces(), ['team-e2e']);

    // an offline run, delivered by `ocrops tracker sync`
    const exp = await Experiment.create({
      offline: true,
      url,
      workspace: 'team-e2e',
      project: 'e2e',
      spoolDir,
      captureConsole: false,
    });
    for (let i = 0; i < 500; i++) exp.logMetric('val_loss', 1 / (i + 1), { step: i });
    await exp.end();
    const synced = await ocrops(['sync', '--spool-dir', spoolDir], { COMET_API_KEY: teamKey });
    assert.match(synced.stdout, /synced 1 experiment\(s\)/);
    const api = new TrackerApi({ url, apiKey: teamKey });
    assert.equal((await api.getMetric(exp.key, 'val_loss')).length, 500);
    await assert.rejects(new TrackerApi({ url, apiKey: defaultKey }).metadata(exp.key), /404/);

    const bad = await ocrops(['keys', 'rotate', '--data-dir', dataDir]).catch((e) => e);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /keys create/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
