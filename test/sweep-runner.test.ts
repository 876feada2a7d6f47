// Runner behaviour on bad input, against a real tracker server on a free loopback port: unknown sweep ids and
// sweeps whose every trial fails (the runner gives up instead of burning the whole budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { startServer, TrackerApi } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';
import { runSweep } from '@ocrops/sweep';

test('runner: unknown sweep id, missing resume state, and trials that keep failing', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-sweep-runner-'));
  const server = await startServer({ port: 0, dataDir: join(dir, 'tracker'), optimizer: optimizerAlgorithm });
  const conn = { url: server.url, apiKey: server.defaultKey, log: () => {} };
  try {
    await assert.rejects(
      runSweep({ ...conn, sweepId: '0123456789abcdef0123456789abcdef' }),
      (e: unknown) =>
        e instanceof OcropsError && e.code === 'OCROPS_SWEEP_UNKNOWN' && /not known to the tracker/.test(e.message),
    );

    const file = join(dir, 'sweep.yaml');
    writeFileSync(
      file,
      [
        'algorithm: random',
        'spec: { maxCombo: 6, metric: val_loss, seed: 1 }',
        // not a trainer alias nor a config key: every trial fails at config validation
        'parameters: { no_such_setting: [1, 2, 3, 4, 5, 6] }',
        'ocrops:',
        '  train: configs/train/synthetic.yaml',
        '  workers: 1',
        `  out: ${JSON.stringify(join(dir, 'sweep'))}`,
        `  best: ${JSON.stringify(join(dir, 'best'))}`,
        '',
      ].join('\n'),
    );
    await assert.rejects(runSweep({ ...conn, config: file, resume: true }), /nothing to resume/);
    const logs: string[] = [];
    await assert.rejects(runSweep({ ...conn, config: file, log: (l) => logs.push(l) }), (e: unknown) => {
      assert.ok(e instanceof OcropsError && e.code === 'OCROPS_SWEEP_FAILING', String(e));
      assert.match(e.message, /3 trials in a row failed \(last: .*train\.log\)/);
      return true;
    });
    const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
    const [sweep] = await api.optimizerList();
    assert.deepEqual(
      sweep.trials.map((t) => t.status),
      ['failed', 'failed', 'failed'],
    );
    assert.ok(
      logs.some((l) => /trial 1 failed \(exit 1; see .*train\.log\)/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
  }
});
