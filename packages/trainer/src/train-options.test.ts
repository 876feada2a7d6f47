import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, repoRoot } from '@ocrops/common';
import { epochLines, openPrepared, repeatFactors, writeSyntheticFolder } from '@ocrops/data';
import { ctcLoss, selectBackend } from '@ocrops/model';
import { buildTrainConfig, flatParameters } from './config.js';
import { WeightAverage } from './ema.js';
import { lrAt } from './schedule.js';
import { ctcLossOf, train } from './train.js';
import type { TrackedRun } from './tracking.js';
import { TINY_MODEL, writeTinyDataConfig } from './testing/fixtures.js';

await selectBackend({ quiet: true });
const root = repoRoot();

function code(fn: () => unknown, re: RegExp): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof OcropsError && re.test(e.message),
    `expected an OcropsError matching ${re}`,
  );
}

const base = () => ({
  data: join(root, 'configs/data/synthetic.yaml'),
  model: { arch: 'small', height: 32, channels: 1 },
});

test('config: schedule, amsgrad, loss.reduction and train.ema are read, defaulted and validated', () => {
  const d = buildTrainConfig(base(), 'x.yaml');
  assert.equal(d.optim.schedule.type, 'constant');
  assert.equal(d.optim.amsgrad, false);
  assert.equal(d.loss.reduction, 'mean');
  assert.equal(d.train.ema, 0);
  const c = buildTrainConfig(
    {
      ...base(),
      optim: { amsgrad: true, schedule: { type: 'cosine', warmup_steps: 50 } },
      loss: { reduction: 'sum' },
      train: { ema: 0.999 },
    },
    'x.yaml',
  );
  assert.equal(c.optim.schedule.type, 'cosine');
  assert.equal(c.optim.schedule.warmupSteps, 50);
  assert.equal(c.loss.reduction, 'sum');
  assert.equal(c.train.ema, 0.999);
  assert.equal(buildTrainConfig(base(), 'x.yaml', ['optim.schedule=onecycle']).optim.schedule.type, 'onecycle');
  const flat = flatParameters(c);
  assert.equal(flat['optim.schedule.type'], 'cosine');
  assert.equal(flat['loss.reduction'], 'sum');
  code(
    () => buildTrainConfig({ ...base(), optim: { name: 'rmsprop', amsgrad: true } }, 'x.yaml'),
    /x\.yaml.*amsgrad.*Adam/,
  );
  code(() => buildTrainConfig({ ...base(), loss: { reduction: 'avg' } }, 'x.yaml'), /x\.yaml.*reduction/);
  code(() => buildTrainConfig({ ...base(), optim: { schedule: 'linear' } }, 'x.yaml'), /type/);
  code(
    () => buildTrainConfig({ ...base(), optim: { schedule: { type: 'step', min_lr: 0 } } }, 'x.yaml'),
    /min_lr: is not used/,
  );
  code(() => buildTrainConfig({ ...base(), train: { ema: 1 } }, 'x.yaml'), /ema/);
});

test('CTC reduction: sum is the sum of the per-line losses, mean averages them over label lengths', () => {
  const logits = tf.randomNormal([3, 12, 6], 0, 1, 'float32', 7) as tf.Tensor3D;
  const labels = [
    [1, 2, 3],
    [4, 4],
    [5, 1, 2, 3, 4],
  ];
  const lengths = [12, 10, 12];
  const per = Array.from(
    ctcLoss(logits, labels, { reduction: 'none', zeroInfinity: true, inputLengths: lengths }).dataSync(),
  );
  const sum = ctcLossOf(logits, labels, lengths, 'sum').dataSync()[0];
  const mean = ctcLossOf(logits, labels, lengths, 'mean').dataSync()[0];
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
  near(sum, per[0] + per[1] + per[2]);
  near(mean, (per[0] / 3 + per[1] / 2 + per[2] / 5) / 3);
  // gradients scale the same way: d(sum)/dlogits of line 2 is 5 * 3 = 15 times d(mean)/dlogits of it
  const g = (r: 'sum' | 'mean') => tf.grad((x: tf.Tensor) => ctcLossOf(x as tf.Tensor3D, labels, lengths, r))(logits);
  const gs = g('sum').slice([2, 0, 0], [1, 12, 6]).abs().sum().dataSync()[0];
  const gm = g('mean').slice([2, 0, 0], [1, 12, 6]).abs().sum().dataSync()[0];
  near(gs / gm, 15);
});

test('weight average: shadow = d * shadow + (1 - d) * w with the warm-up decay, swapped in and out', () => {
  const w = tf.tensor1d([0, 0]).variable(true, 'ema_test_w');
  const ema = new WeightAverage([w], 0.5);
  assert.equal(ema.decayAt(0), 0.1); // min(0.5, 1/10)
  assert.equal(ema.decayAt(100), 0.5);
  w.assign(tf.tensor1d([1, 2]));
  ema.update(0); // 0.1 * 0 + 0.9 * [1, 2]
  w.assign(tf.tensor1d([3, 4]));
  ema.update(100); // 0.5 * [0.9, 1.8] + 0.5 * [3, 4]
  ema.swapIn();
  const avg = Array.from(w.dataSync());
  assert.ok(Math.abs(avg[0] - 1.95) < 1e-6 && Math.abs(avg[1] - 2.9) < 1e-6, `average ${avg}`);
  ema.swapOut();
  assert.deepEqual(Array.from(w.dataSync()), [3, 4]);
  ema.dispose();
  w.dispose();
});

/** A tracked run that records the metrics it is given. */
function recordingRun(): TrackedRun & { metrics: Array<{ values: Record<string, number>; step?: number }> } {
  const metrics: Array<{ values: Record<string, number>; step?: number }> = [];
  const none = () => {};
  return {
    key: 'rec',
    metrics,
    logMetrics: ((values: Record<string, number>, o?: { step?: number }) =>
      metrics.push({ values, step: o?.step })) as never,
    logMetric: none as never,
    logParameter: none as never,
    logParameters: none as never,
    logOther: none as never,
    addTag: none as never,
    addTags: none as never,
    logHtml: none as never,
    logAsset: (async () => {}) as never,
    logModel: (async () => {}) as never,
    end: (async () => {}) as never,
    flush: (async () => {}) as never,
  };
}

test('a run with a cosine schedule + warm-up, AMSGrad, CTC sum and EMA logs the lr of every step and resumes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-opts-'));
  const data = writeTinyDataConfig(dir);
  const raw = {
    data,
    model: TINY_MODEL,
    optim: { name: 'adam', lr: 0.01, amsgrad: true, schedule: { type: 'cosine', warmup_steps: 2, min_lr: 0.001 } },
    loss: { reduction: 'sum' },
    train: { batch_size: 16, epochs: 2, log_every: 2, ema: 0.9, augment: false, bucket_window: 0 },
    tracker: { enabled: false },
  };
  const cfg = buildTrainConfig(raw, 'opts.yaml', [], { out: join(dir, 'run') });
  const rec = recordingRun();
  const result = await train(cfg, { quiet: true, tracker: rec });
  const steps = result.steps; // 48 train lines / 16 = 3 per epoch
  assert.equal(steps, 6);
  const stepLr = new Map<number, number>();
  for (const m of rec.metrics) if (m.values.lr !== undefined) stepLr.set(m.step!, m.values.lr);
  for (let s = 1; s <= steps; s++) {
    assert.ok(stepLr.has(s), `lr logged at step ${s}`);
    assert.ok(Math.abs(stepLr.get(s)! - lrAt(cfg.optim.schedule, 0.01, s - 1, steps)) < 1e-12, `lr at step ${s}`);
  }
  assert.equal(stepLr.get(1), 0, 'the warm-up starts at 0');
  assert.ok(Math.abs(stepLr.get(3)! - 0.01) < 1e-12, 'the cosine starts at lr after the 2 warm-up steps');
  assert.ok(stepLr.get(6)! < stepLr.get(4)!, 'then decays');
  const best = JSON.parse(readFileSync(join(cfg.out, 'best/ocrops.json'), 'utf8'));
  assert.equal(best.meta?.ema ?? best.ema, 0.9, 'the best model is marked as averaged weights');
  // resume with more epochs continues the same schedule and EMA from the checkpoint
  const more = buildTrainConfig({ ...raw, train: { ...raw.train, epochs: 3 } }, 'opts.yaml', [], {
    out: join(dir, 'run'),
  });
  const rec2 = recordingRun();
  const r2 = await train(more, { quiet: true, tracker: rec2, resume: true });
  assert.equal(r2.steps, 9);
});

test('a run with repeat-factor sampling draws lines with rare characters more often: every epoch longer by the same draws', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-repeat-'));
  const data = writeTinyDataConfig(dir);
  const raw = {
    data,
    model: TINY_MODEL,
    optim: { name: 'adam', lr: 0.01 },
    train: { batch_size: 16, epochs: 2, augment: false, repeat_threshold: 0.5 },
    tracker: { enabled: false },
  };
  const cfg = buildTrainConfig(raw, 'repeat.yaml', [], { out: join(dir, 'run') });
  const result = await train(cfg, { quiet: true, tracker: recordingRun() });
  const split = (await openPrepared(join(dir, 'd/prepared'))).splits.train;
  const lines = epochLines(split, { repeats: repeatFactors(split.labels, 0.5) });
  assert.ok(lines > split.count * 1.2, `${lines} lines per epoch from ${split.count}`);
  assert.equal(result.steps, 2 * Math.ceil(lines / 16));
});

test('train.real_repeat draws the read lines of a mixed training split k times an epoch, and needs such a split', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-real-repeat-'));
  await writeSyntheticFolder(join(dir, 'real'), { count: 20, height: 32, seed: 7 });
  const data = join(dir, 'mixed.yaml');
  writeFileSync(
    data,
    [
      'name: mixed',
      `source: { format: labels-json, path: ${join(dir, 'real/labels.json')}, images: ${join(dir, 'real/images')} }`,
      'image: { height: 32, channels: 1, max_width: 160 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { mix_train: 30, seed: 3 }',
      'augment: false',
      `output: ${join(dir, 'prepared')}`,
      '',
    ].join('\n'),
  );
  const raw = (repeat: number, dataFile = data) => ({
    data: dataFile,
    model: TINY_MODEL,
    optim: { name: 'adam', lr: 0.01 },
    train: { batch_size: 4, epochs: 1, augment: false, real_repeat: repeat },
    tracker: { enabled: false },
  });
  const run = (repeat: number, name: string, dataFile?: string) =>
    train(buildTrainConfig(raw(repeat, dataFile), 'rr.yaml', [], { out: join(dir, name) }), {
      quiet: true,
      tracker: recordingRun(),
    });
  const plain = await run(1, 'plain');
  const split = (await openPrepared(join(dir, 'prepared'))).splits.train;
  assert.equal(split.generated, 30);
  const read = split.count - 30;
  assert.equal(plain.steps, Math.ceil(split.count / 4));
  const tripled = await run(3, 'tripled');
  assert.equal(tripled.steps, Math.ceil((3 * read + 30) / 4), `${read} read lines x3 beside 30 generated`);
  // a split without generated lines (all read, or all generated as format: synthetic) has nothing to weigh against
  await assert.rejects(run(2, 'synthetic', writeTinyDataConfig(dir)), /train\.real_repeat: .*only generated lines/);
});
