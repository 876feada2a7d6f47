// The sweep runner on image classification: a 2-trial Bayesian sweep of configs/train/butterflies.yaml shrunk to a few
// steps on 4 species x 12 real butterfly images (symlinks into ../shared/datasets/butterflies-75), 1 worker, against a
// real tracker server; both trials complete, each monitored by val_top1 (maximised), and best.json names the best.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedDataset } from '@ocrops/common';
import { startServer, TrackerApi } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';
import type { BestRecord } from '@ocrops/sweep';

const root = repoRoot();
const butterflies = sharedDataset('butterflies-75');
const skip = butterflies
  ? false
  : 'butterflies-75 is absent from ../shared/datasets (set OCROPS_DATASETS to its folder)';

function writeSweep(dir: string): string {
  const src = join(butterflies!, 'train');
  const images = join(dir, 'images');
  for (const species of readdirSync(src).sort().slice(0, 4)) {
    mkdirSync(join(images, species), { recursive: true });
    for (const f of readdirSync(join(src, species)).sort().slice(0, 12))
      symlinkSync(join(src, species, f), join(images, species, f));
  }
  const data = join(dir, 'data.yaml');
  writeFileSync(
    data,
    [
      'task: classify',
      'name: tiny-sweep-butterflies',
      `source: { kind: imagefolder, dir: ${images} }`,
      'image: { height: 32, width: 32, channels: 3 }',
      'split: { val: 0.25, test: 0.25, seed: 1 }',
      'augment: false',
      `out_dir: ${join(dir, 'prepared')}`,
      '',
    ].join('\n'),
  );
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    [
      'algorithm: bayes',
      'name: classify-e2e',
      'spec: { maxCombo: 2, objective: maximize, metric: val_top1, seed: 7 }',
      'parameters:',
      '  lr: { type: float, scalingType: loguniform, min: 0.001, max: 0.01 }',
      '  model.base_channels: [8, 12]',
      'ocrops:',
      '  train: configs/train/butterflies.yaml',
      '  workers: 1',
      `  set: { data: ${JSON.stringify(data)}, model.arch: cnn4, model.height: 32, model.width: 32, model.depth: null,`,
      '         model.dropout: 0, train.epochs: 2, train.max_steps_per_epoch: 2, train.batch_size: 8, train.ema: 0 }',
      '  pruner: { type: none }',
      `  out: ${JSON.stringify(join(dir, 'sweep'))}`,
      `  best: ${JSON.stringify(join(dir, 'models', 'best'))}`,
      '',
    ].join('\n'),
  );
  return file;
}

test(
  'sweep: a classification sweep completes its trials, monitored by val_top1, and publishes the best',
  { skip, timeout: 600_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-sweep-classify-'));
    mkdirSync(join(dir, 'tracker'));
    const server = await startServer({ port: 0, dataDir: join(dir, 'tracker'), optimizer: optimizerAlgorithm });
    try {
      const file = writeSweep(dir);
      const child = spawn(
        process.execPath,
        [
          '--conditions=@ocrops/source',
          '--import',
          'tsx',
          join(root, 'packages/sweep/src/main.ts'),
          'run',
          '--config',
          file,
        ],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            TF_CPP_MIN_LOG_LEVEL: '2',
            COMET_URL_OVERRIDE: server.url,
            COMET_API_KEY: server.defaultKey,
            OCROPS_TRACKER_SPOOL: join(dir, 'spool'),
          },
        },
      );
      let text = '';
      child.stdout!.on('data', (d) => (text += d));
      child.stderr!.on('data', (d) => (text += d));
      const code = await new Promise<number | null>((res) => child.on('close', res));
      assert.equal(code, 0, text);
      const state = JSON.parse(readFileSync(join(dir, 'sweep', 'sweep.json'), 'utf8')) as { sweepId: string };
      const end = await new TrackerApi({ url: server.url, apiKey: server.defaultKey }).optimizerStatus(state.sweepId);
      const completed = end.trials.filter((t) => t.status === 'completed');
      assert.equal(completed.length, 2, JSON.stringify(end.trials, null, 1));
      const best = JSON.parse(readFileSync(join(dir, 'models', 'best', 'best.json'), 'utf8')) as BestRecord;
      const highest = completed.reduce((a, b) => (b.score! > a.score! ? b : a));
      assert.equal(best.metric, 'val_top1');
      assert.equal(best.value, highest.score);
      for (const t of readdirSync(join(dir, 'sweep', 'trials'))) {
        const result = JSON.parse(readFileSync(join(dir, 'sweep', 'trials', t, 'result.json'), 'utf8')) as {
          monitor: string;
          best: { value: number };
        };
        assert.equal(result.monitor, 'val_top1', `trial ${t} monitored the sweep's metric`);
        assert.ok(result.best.value >= 0 && result.best.value <= 1);
      }
      const meta = JSON.parse(readFileSync(join(dir, 'models', 'best', 'ocrops.json'), 'utf8')) as { task: string };
      assert.equal(meta.task, 'classify');
    } finally {
      await server.close();
    }
  },
);
