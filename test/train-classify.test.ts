// Image classification in the trainer on real butterfly images (5 classes x 20 images of ../shared/datasets/butterflies-75,
// downsized to 32x32): the loss goes down, a run resumed after its first epoch ends like an uninterrupted one, the
// confusion matrix and the mistakes grid arrive at a real tracker server, and `evaluate` writes the classifier report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedDataset } from '@ocrops/common';
import { Experiment, startServer } from '@ocrops/tracker';
import {
  TrainInterrupted,
  buildTrainConfig,
  evaluate,
  train,
  type TrainConfig,
  type TrainState,
} from '@ocrops/trainer';
import { runOcrops } from './utils.js';

const butterflies = sharedDataset('butterflies-75');
const skip = butterflies
  ? false
  : 'butterflies-75 is absent from ../shared/datasets (set OCROPS_DATASETS to its folder)';

/** An ImageFolder of the first `classes` species with `perClass` images each (symlinks), and its data config. */
function tinyButterflies(dir: string, classes = 5, perClass = 20): string {
  const src = join(butterflies!, 'train');
  const images = join(dir, 'images');
  for (const species of readdirSync(src).sort().slice(0, classes)) {
    mkdirSync(join(images, species), { recursive: true });
    for (const f of readdirSync(join(src, species)).sort().slice(0, perClass))
      symlinkSync(join(src, species, f), join(images, species, f));
  }
  const file = join(dir, 'data.yaml');
  writeFileSync(
    file,
    [
      'task: classify',
      'name: tiny-butterflies',
      `source: { kind: imagefolder, dir: ${images} }`,
      'image: { height: 32, width: 32, channels: 3 }',
      'split: { val: 0.2, test: 0.2, seed: 1 }',
      'augment: { hflip: true, vflip: false, color_jitter: 0.1, translate: 0.05, scale: [0.95, 1.05] }',
      `out_dir: ${join(dir, 'prepared')}`,
      '',
    ].join('\n'),
  );
  return file;
}

function tinyConfig(data: string, out: string, extra: Record<string, unknown> = {}): TrainConfig {
  return buildTrainConfig(
    {
      task: 'classify',
      data,
      model: { arch: 'cnn4', height: 32, width: 32, channels: 3, base_channels: 8 },
      optim: { name: 'adam', lr: 0.003 },
      train: { batch_size: 12, epochs: 4, seed: 7, log_every: 2, augment: true },
      loss: { label_smoothing: 0.05 },
      tracker: { enabled: false },
      out,
      ...extra,
    },
    join(repoRoot(), '<classify-test>'),
  );
}

/** Metrics that must agree between runs (timings excluded). */
function comparable(m: Record<string, number>): Record<string, number> {
  const { images_per_second: _i, epoch_time: _e, ...rest } = m;
  return rest;
}

test(
  'a classifier trained on real butterfly images lowers its loss; confusion matrix and mistakes reach a tracker server',
  { skip },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-classify-'));
    const data = tinyButterflies(join(dir, 'data'));
    const server = await startServer({ port: 0, dataDir: join(dir, 'tracker') });
    t.after(() => server.close());
    const cfg = tinyConfig(data, join(dir, 'run'), {
      tracker: { url: server.url, apiKey: server.defaultKey, workspace: 'default', project: 'classify-e2e' },
    });
    assert.equal(cfg.train.monitor, 'val_top1', 'classification monitors val_top1 by default');
    assert.equal(cfg.train.mode, 'max');
    const result = await train(cfg, { quiet: true });
    const plots = JSON.parse(readFileSync(join(cfg.out, 'plots.json'), 'utf8')) as Array<Record<string, number>>;
    assert.equal(plots.length, 4);
    assert.ok(
      plots[3].train_loss < plots[0].train_loss,
      `train_loss ${plots.map((p) => p.train_loss.toFixed(3)).join(' -> ')} goes down`,
    );
    for (const k of ['train_top1', 'train_top5', 'val_loss', 'val_top1', 'val_top5']) {
      assert.ok(Number.isFinite(plots[3][k]) && plots[3][k] >= 0, `${k} recorded`);
    }
    assert.ok(
      plots.every((p) => p.val_top5 >= p.val_top1),
      'top-5 >= top-1',
    );
    const meta = JSON.parse(readFileSync(join(result.bestModelDir, 'ocrops.json'), 'utf8')) as {
      task: string;
      classes: string[];
    };
    assert.equal(meta.task, 'classify');
    assert.equal(meta.classes.length, 5);

    const get = async (path: string) => {
      const res = await fetch(`${server.url}/api/rest/v2${path}`, { headers: { Authorization: server.defaultKey } });
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return res;
    };
    const key = result.experimentKey;
    const assets = (await (await get(`/experiment/asset/list?experimentKey=${key}&type=all`)).json()) as {
      assets: Array<{ assetId: string; fileName: string; type: string }>;
    };
    const cmAsset = assets.assets.find((a) => a.type === 'confusion-matrix');
    assert.ok(
      cmAsset,
      `confusion-matrix asset logged (assets: ${assets.assets.map((a) => `${a.fileName}:${a.type}`).join(', ')})`,
    );
    assert.equal(cmAsset.fileName, 'confusion-matrix.json');
    const cm = (await (
      await get(`/experiment/asset/get-asset?experimentKey=${key}&assetId=${cmAsset.assetId}`)
    ).json()) as {
      version: number;
      title: string;
      labels: string[];
      matrix: number[][];
      rowLabel: string;
      columnLabel: string;
      maxSamplesPerCell: number;
      sampleMatrix: unknown;
      type: unknown;
    };
    // the keys and value types of comet_ml's ConfusionMatrix.to_json()
    assert.deepEqual(Object.keys(cm).sort(), [
      'columnLabel',
      'labels',
      'matrix',
      'maxSamplesPerCell',
      'rowLabel',
      'sampleMatrix',
      'title',
      'type',
      'version',
    ]);
    assert.equal(cm.version, 1);
    assert.deepEqual(cm.labels, meta.classes);
    assert.equal(cm.matrix.length, 5);
    assert.ok(cm.matrix.every((row) => row.length === 5 && row.every((v) => Number.isInteger(v) && v >= 0)));
    assert.equal(
      cm.matrix.flat().reduce((a, b) => a + b, 0),
      20,
      'every validation image counted once (5 classes x 4)',
    );
    const correct = cm.matrix.reduce((a, row, i) => a + row[i], 0);
    assert.ok(Math.abs(correct / 20 - result.best!.value) < 1e-6, "the diagonal is the best epoch's val_top1");
    assert.equal(cm.rowLabel, 'Actual Category');
    assert.equal(cm.columnLabel, 'Predicted Category');
    assert.ok(
      assets.assets.some((a) => a.fileName === 'curves.png' && a.type === 'image'),
      'loss/accuracy curves logged',
    );
    if (correct < 20) {
      const png = assets.assets.find((a) => a.fileName === 'mistakes.png');
      assert.ok(png, 'mistakes.png logged');
      const bytes = Buffer.from(
        await (await get(`/experiment/asset/get-asset?experimentKey=${key}&assetId=${png.assetId}`)).arrayBuffer(),
      );
      assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG image');
    }

    // evaluate: top-1/top-5, per-class precision/recall and the full confusion matrix in the report
    const ev = await evaluate({
      modelDir: result.bestModelDir,
      preparedDir: join(dir, 'data', 'prepared'),
      split: 'test',
      metricsPath: join(dir, 'metrics.json'),
      errorsPath: join(dir, 'report.json'),
      quiet: true,
    });
    assert.deepEqual(Object.keys(ev.metrics).sort(), [
      'test_count',
      'test_loss',
      'test_macro_precision',
      'test_macro_recall',
      'test_top1',
      'test_top5',
    ]);
    assert.equal(ev.metrics.test_count, 20);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      task: string;
      per_class: Array<{ class: string; precision: number; recall: number; support: number }>;
      confusion_matrix: { labels: string[]; matrix: number[][] };
      errors: number;
      worst: unknown[];
    };
    assert.equal(report.task, 'classify');
    assert.equal(report.per_class.length, 5);
    assert.ok(
      report.per_class.every(
        (c) => c.support === 4 && c.precision >= 0 && c.precision <= 1 && c.recall >= 0 && c.recall <= 1,
      ),
    );
    const diag = report.confusion_matrix.matrix.reduce((a, row, i) => a + row[i], 0);
    assert.ok(Math.abs(diag / 20 - ev.metrics.test_top1) < 1e-9, 'top-1 is the confusion matrix diagonal');
    assert.equal(report.errors, 20 - diag);
    assert.equal(report.worst.length, report.errors);
    const meanRecall = report.per_class.reduce((a, c) => a + c.recall, 0) / 5;
    assert.ok(Math.abs(meanRecall - ev.metrics.test_macro_recall) < 1e-9);

    // `ocrops trainer predict` reads the original test images as evaluate read their prepared pixels; an unreadable
    // file is reported and fails the command without losing the other images' lines
    const testRows = readFileSync(join(dir, 'data', 'prepared', 'split.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[2] === 'test');
    const broken = join(dir, 'not-an-image.jpg');
    writeFileSync(broken, 'not a JPEG');
    const files = testRows.map((c) => join(dir, 'data', 'images', c[0]));
    const pr = await runOcrops(['trainer', 'predict', '--model', result.bestModelDir, '--top', '3', ...files, broken]);
    assert.equal(pr.code, 1, `an unreadable image fails the command\n${pr.stderr}`);
    assert.match(pr.stderr, /not-an-image\.jpg: unreadable image/);
    const lines = pr.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      lines.map((cols) => cols[0]),
      files,
      'one line per readable image, in order',
    );
    let hits = 0;
    lines.forEach((cols, i) => {
      assert.equal(cols.length, 7, `path and 3 label/probability pairs: ${cols.join(' | ')}`);
      const ps = [cols[2], cols[4], cols[6]].map(Number);
      assert.ok(ps[0] >= ps[1] && ps[1] >= ps[2] && ps[0] + ps[1] + ps[2] <= 1 + 1e-3, `probabilities ${ps}`);
      if (cols[1] === testRows[i][1]) hits += 1;
    });
    assert.equal(hits / files.length, ev.metrics.test_top1, "predict's top-1 agrees with evaluate's on the test split");

    // evaluate logged to the training run: test metrics and the test split's confusion matrix
    const run = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      workspace: 'default',
      project: 'classify-e2e',
      experimentKey: key,
    });
    await evaluate({
      modelDir: result.bestModelDir,
      preparedDir: join(dir, 'data', 'prepared'),
      split: 'test',
      metricsPath: join(dir, 'metrics.json'),
      errorsPath: join(dir, 'report.json'),
      quiet: true,
      run,
    });
    await run.end();
    const after = (await (await get(`/experiment/asset/list?experimentKey=${key}&type=all`)).json()) as {
      assets: Array<{ assetId: string; fileName: string; type: string }>;
    };
    const testCm = after.assets.find((a) => a.fileName === 'confusion-matrix-test.json');
    assert.equal(testCm?.type, 'confusion-matrix');
    const tcm = (await (
      await get(`/experiment/asset/get-asset?experimentKey=${key}&assetId=${testCm.assetId}`)
    ).json()) as { matrix: number[][] };
    assert.deepEqual(tcm.matrix, report.confusion_matrix.matrix);
    const summary = (await (await get(`/experiment/metrics/summary?experimentKey=${key}`)).json()) as {
      values: Array<{ name: string }>;
    };
    assert.ok(
      summary.values.some((v) => v.name === 'test_top1'),
      'test_top1 logged',
    );
  },
);

test(
  'a classification run with CutMix interrupted mid-epoch and resumed ends with the same metrics as an uninterrupted run',
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-classify-resume-'));
    const data = tinyButterflies(join(dir, 'data'));
    const loop = { batch_size: 12, epochs: 2, seed: 7, augment: true, checkpoint_every: 1 };
    const loss = { label_smoothing: 0.05, cutmix: 0.5 };
    const full = await train(tinyConfig(data, join(dir, 'full'), { train: loop, loss }), { quiet: true });
    const unmixed = await train(tinyConfig(data, join(dir, 'unmixed'), { train: loop }), { quiet: true });
    assert.notEqual(
      full.final.metrics.train_loss,
      unmixed.final.metrics.train_loss,
      'CutMix changes what the run trains on',
    );

    // stop the second run (like SIGINT) once its `last` checkpoint is 2 batches into the first epoch
    const out = join(dir, 'split');
    const ac = new AbortController();
    const poll = setInterval(() => {
      try {
        const st = JSON.parse(readFileSync(join(out, 'checkpoints/last/state.json'), 'utf8')) as TrainState;
        if (st.step >= 2) ac.abort();
      } catch {
        // not written yet
      }
    }, 5);
    await assert.rejects(
      train(tinyConfig(data, out, { train: loop, loss }), { quiet: true, signal: ac.signal }),
      TrainInterrupted,
    );
    clearInterval(poll);
    const stopped = JSON.parse(readFileSync(join(out, 'checkpoints/last/state.json'), 'utf8')) as TrainState;
    assert.equal(stopped.epoch, 0, 'stopped in the first epoch');
    assert.ok(
      stopped.batchInEpoch > 0 && stopped.batchInEpoch < 5,
      `stopped mid-epoch (batch ${stopped.batchInEpoch} of 5)`,
    );

    const resumed = await train(tinyConfig(data, out, { train: loop, loss }), { quiet: true, resume: true });
    assert.equal(resumed.epochs, 2);
    assert.equal(resumed.steps, full.steps);
    const a = comparable(full.final.metrics);
    const b = comparable(resumed.final.metrics);
    assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
    for (const k of Object.keys(a))
      assert.ok(Math.abs(a[k] - b[k]) < 1e-4, `${k}: ${a[k]} (uninterrupted) vs ${b[k]} (resumed)`);
  },
);
