// The quickstart's closing table of tracked runs, read from a real tracker server on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Experiment, TrackerApi, startServer } from '@ocrops/tracker';
import { runsSummary } from '@ocrops/services';

test('runs summary: best val_loss first; a pruned sweep trial shows as pruned; an unreachable server is a note', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-summary-'));
  const dataDir = join(dir, 'tracker');
  const server = await startServer({ port: 0, dataDir });
  let closed = false;
  t.after(async () => {
    if (!closed) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (name: string, valLoss: number) => {
    const e = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 'ocr',
      name,
      spoolDir: join(dir, 'spool'),
      captureConsole: false,
    });
    e.logParameters({ lr: 0.003, hidden: 64 });
    e.logMetric('val_loss', valLoss + 1, { step: 1 });
    e.logMetric('val_loss', valLoss, { step: 2 });
    e.logMetric('val_acc_by_char', 0.5, { step: 2 });
    await e.end();
    return e.key;
  };
  await run('trial-a', 2.5);
  const pruned = await run('trial-b', 3.5);
  await run('trial-c', 1.25);
  // what the sweep runner posts for a trial its pruner stopped
  await new TrackerApi({ url: server.url, apiKey: server.defaultKey }).post('/write/experiment/tags', {
    experimentKey: pruned,
    addedTags: ['pruned'],
  });

  const text = await runsSummary({ url: server.url, dataDir });
  const lines = text.split('\n');
  assert.match(lines[0], /^3 tracked run\(s\) in project ocr, best val_loss first:/);
  assert.deepEqual(
    lines.slice(2).map((l) => l.split(/\s+/).slice(0, 3)),
    [
      ['trial-c', 'finished', '1.250'],
      ['trial-a', 'finished', '2.500'],
      ['trial-b', 'pruned', '3.500'],
    ],
  );
  assert.match(lines[2], /hidden=64 lr=0\.003/);

  await server.close();
  closed = true;
  assert.match(await runsSummary({ url: server.url, dataDir }), /^\(runs summary unavailable: /);
});
