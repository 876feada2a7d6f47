import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';
import { buildTrainConfig, loadTrainConfig } from '../config.js';
import { taskModelConfigOf } from './ocr.js';

const base = (extra: Record<string, unknown>) => ({
  data: join(repoRoot(), 'configs/data/butterflies.yaml'),
  model: extra.task === 'classify' ? { arch: 'cnn4' } : { arch: 'small', height: 32, channels: 1 },
  tracker: { enabled: false },
  ...extra,
});

test('train config task: ocr by default; classify monitors val_top1/max unless told; label_smoothing and max_minutes are read', () => {
  const ocr = buildTrainConfig(base({}), '<t>');
  assert.equal(ocr.task, 'ocr');
  assert.deepEqual([ocr.train.monitor, ocr.train.mode], ['val_loss', 'min']);
  assert.equal(ocr.loss.labelSmoothing, 0);
  assert.equal(ocr.train.maxMinutes, 0);
  const c = buildTrainConfig(
    base({ task: 'classify', loss: { label_smoothing: 0.1 }, train: { max_minutes: 2.5 } }),
    '<t>',
  );
  assert.deepEqual(
    [c.task, c.train.monitor, c.train.mode, c.loss.labelSmoothing, c.train.maxMinutes],
    ['classify', 'val_top1', 'max', 0.1, 2.5],
  );
  const mode = (monitor: string, task = 'classify') =>
    buildTrainConfig(base({ task, train: { monitor } }), '<t>').train.mode;
  assert.equal(mode('train_top5'), 'max');
  assert.equal(mode('val_loss'), 'min');
  assert.equal(mode('val_acc_by_char', 'ocr'), 'max', 'the default mode is the direction that improves the monitor');
  assert.equal(mode('val_cer', 'ocr'), 'min');
});

test('train config: a time-horizon schedule needs a time budget', () => {
  const withBudget = (train: Record<string, unknown>) =>
    buildTrainConfig(
      base({ task: 'classify', optim: { schedule: { type: 'onecycle', horizon: 'time' } }, train }),
      'x.yaml',
    );
  assert.equal(withBudget({ max_minutes: 60 }).optim.schedule.horizon, 'time');
  assert.throws(() => withBudget({}), /x\.yaml.*optim\.schedule\.horizon.*train\.max_minutes/s);
});

test('train config task: unknown tasks, label smoothing and CutMix outside classification, repeat factors and real_repeat outside OCR are refused, naming the field', () => {
  assert.throws(() => buildTrainConfig(base({ task: 'detect' }), 'x.yaml'), /x\.yaml.*task/);
  assert.throws(
    () => buildTrainConfig(base({ loss: { label_smoothing: 0.1 } }), 'x.yaml'),
    /label_smoothing.*classify/,
  );
  assert.throws(
    () => buildTrainConfig(base({ task: 'classify', loss: { label_smoothing: 1.5 } }), 'x.yaml'),
    /label_smoothing/,
  );
  assert.throws(() => buildTrainConfig(base({ loss: { cutmix: 0.5 } }), 'x.yaml'), /loss\.cutmix.*classify/);
  assert.equal(buildTrainConfig(base({ train: { repeat_threshold: 0.1 } }), 'x.yaml').train.repeatThreshold, 0.1);
  assert.throws(
    () => buildTrainConfig(base({ task: 'classify', train: { repeat_threshold: 0.1 } }), 'x.yaml'),
    /train\.repeat_threshold.*task: ocr/,
  );
  assert.throws(() => buildTrainConfig(base({ train: { repeat_threshold: 2 } }), 'x.yaml'), /repeat_threshold/);
  assert.equal(buildTrainConfig(base({}), 'x.yaml').train.realRepeat, 1);
  assert.equal(buildTrainConfig(base({ train: { real_repeat: 4 } }), 'x.yaml').train.realRepeat, 4);
  assert.throws(
    () => buildTrainConfig(base({ task: 'classify', train: { real_repeat: 4 } }), 'x.yaml'),
    /train\.real_repeat.*task: ocr/,
  );
  assert.throws(() => buildTrainConfig(base({ train: { real_repeat: 0.5 } }), 'x.yaml'), /real_repeat/);
  assert.throws(
    () => buildTrainConfig(base({ task: 'classify', loss: { cutmix: 0.5, cutmix_alpha: 0 } }), 'x.yaml'),
    /cutmix_alpha/,
  );
  const mixed = buildTrainConfig(base({ task: 'classify', loss: { cutmix: 0.5 } }), 'x.yaml');
  assert.deepEqual([mixed.loss.cutmix, mixed.loss.cutmixAlpha], [0.5, 1]);
});

test('train config task classify: the model section is checked by the classifier schema, errors give file:line:col', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-classify-train-'));
  try {
    const f = join(dir, 't.yaml');
    const data = join(repoRoot(), 'configs/data/butterflies.yaml');
    const write = (model: string) =>
      writeFileSync(f, `task: classify\ndata: ${data}\nmodel:\n${model}\ntracker: { enabled: false }\n`);
    write('  arch: cnn4\n  depth: 2');
    assert.throws(() => loadTrainConfig(f), /t\.yaml:5:\d+: model\.depth: is only used by arch 'resnet_gap'/);
    write('  arch: resnet_gap\n  height: 16');
    assert.throws(() => loadTrainConfig(f), /t\.yaml:5:\d+: model\.height: .*smallest side.*allowed: an integer >= 32/);
    write('  arch: cnn4\n  inner_dim: 64');
    assert.throws(() => loadTrainConfig(f), /t\.yaml:5:\d+: model\.inner_dim: is not a known field/);
    write('  arch: vgg');
    assert.throws(() => loadTrainConfig(f), /t\.yaml:4:\d+: model\.arch: .*allowed: cnn4, resnet_gap/);
    write('  arch: resnet_gap\n  base_channels: 8\n  width: 64');
    const cfg = loadTrainConfig(f);
    assert.deepEqual(taskModelConfigOf(cfg), {
      task: 'classify',
      arch: 'resnet_gap',
      height: 128,
      width: 64,
      channels: 3,
      baseChannels: 8,
      depth: 2,
      dropout: 0.2,
      tta: 'none',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
