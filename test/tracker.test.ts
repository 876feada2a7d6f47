// End-to-end: the real `ocrops tracker` commands (serve, keys create/list, sync) driven as a user would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Experiment, TrackerApi } from '@ocrops/tracker';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'ocrops.mjs');
const ocrops = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [cli, 'tracker', ...args], { env: { ...process.env, ...env }, timeout: 120_000 });

test('ocrops tracker serve / keys / sync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-e2e-tracker-'));
  const dataDir = join(dir, 'data');
  const spoolDir = join(dir, 'spool');
  const server = spawn(process.execPath, [cli, 'tracker', 'serve', '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.stderr.on('data', (d) => (out += d));
      server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
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
    const exp = await Experiment.create({ offline: true, url, workspace: 'team-e2e', project: 'e2e', spoolDir, captureConsole: false });
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
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
