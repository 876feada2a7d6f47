import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError, repoRoot } from '@ocrops/common';
import type { ModelYaml } from '@ocrops/model';
import { PARAM_ALIASES, buildTrainConfig, flatParameters, loadTrainConfig, parseSet } from './config.js';
import { modelConfigOf, taskModelConfigOf } from './train.js';
import { commands } from './commands.js';

const root = repoRoot();
const dataCfg = join(root, 'configs/data/synthetic.yaml');
const base = () => ({
  data: dataCfg,
  model: { arch: 'small', height: 32, channels: 1 },
  train: { epochs: 2 },
});

function code(fn: () => unknown, c: string, msg?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OcropsError, `expected an OcropsError, got ${String(e)}`);
    assert.equal(e.code, c, e.message);
    if (msg) assert.match(e.message, msg);
    return true;
  });
}

test('every shipped train config loads and its model section validates', () => {
  const files = readdirSync(join(root, 'configs/train')).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 5, `expected the 5 shipped configs, found ${files.join(', ')}`);
  for (const f of files) {
    const cfg = loadTrainConfig(join(root, 'configs/train', f));
    const m = taskModelConfigOf(cfg);
    assert.ok(['vgg', 'small', 'resnet', 'resnet18', 'crnn', 'cnn4', 'resnet_gap'].includes(m.arch), f);
    assert.ok(cfg.train.epochs >= 1 && cfg.optim.lr > 0, f);
  }
  const vn = loadTrainConfig(join(root, 'configs/train/vn-handwriting.yaml'));
  assert.equal((vn.model as ModelYaml).inner_dim, 128);
  assert.equal(vn.train.batchSize, 32);
  assert.equal(vn.train.epochs, 50);
  assert.equal(vn.optim.name, 'adam');
  const cap = loadTrainConfig(join(root, 'configs/train/captcha-v2.yaml'));
  assert.equal(cap.train.patience, 10);
  assert.equal(modelConfigOf(cap).arch, 'small');
});

test('--set takes dotted keys and the sweep aliases, values as YAML scalars', () => {
  const cfg = buildTrainConfig(base(), 't.yaml', [
    'inner_dim=64',
    'model.arch=vgg',
    'lr=0.0005',
    'batch_size=8',
    'optimizer=rmsprop',
    'rnn_type=gru',
    'hidden=32',
    'layers=1',
    'dropout=0.1',
    'weight_decay=1e-4',
    'patience=3',
    'epochs=7',
    'train.augment=false',
    'tracker.offline=true',
  ]);
  assert.equal((cfg.model as ModelYaml).inner_dim, 64);
  assert.equal(cfg.optim.lr, 0.0005);
  assert.equal(cfg.optim.name, 'rmsprop');
  assert.equal(cfg.optim.weightDecay, 1e-4);
  assert.equal(cfg.train.batchSize, 8);
  assert.equal(cfg.train.patience, 3);
  assert.equal(cfg.train.epochs, 7);
  assert.equal(cfg.train.augment, false);
  assert.equal(cfg.tracker.offline, true);
  assert.deepEqual((cfg.model as ModelYaml).rnn as Record<string, unknown>, {
    type: 'gru',
    hidden: 32,
    layers: 1,
    dropout: 0.1,
  });
  assert.equal(modelConfigOf(cfg).innerDim, 64);
  assert.equal(parseSet('learning_rate=0.01').key, 'optim.lr');
  assert.equal(Object.keys(PARAM_ALIASES).length, 12);
  const flat = flatParameters(cfg);
  assert.equal(flat.inner_dim, 64);
  assert.equal(flat['optim.lr'], 0.0005);
  assert.equal(flat.lr, 0.0005);
});

test('config errors name the file, the field and what is allowed', () => {
  code(
    () => buildTrainConfig({ ...base(), optim: { lr: 'fast' } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /^bad\.yaml: optim\.lr: expected number, got "fast"/m,
  );
  code(
    () => buildTrainConfig({ ...base(), trian: {} }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /^bad\.yaml: trian: is not a known field \(did you mean train\?\)/m,
  );
  code(
    () => buildTrainConfig({ ...base(), train: { batch_size: 0 } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /train\.batch_size: .*got 0; allowed: an integer >= 1/,
  );
  code(
    () => buildTrainConfig({ ...base(), optim: { name: 'sgd' } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /optim\.name: is not one of the allowed values, got "sgd"; allowed: adam, rmsprop/,
  );
  code(
    () => buildTrainConfig({ ...base(), train: { monitor: 'accuracy' } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /train\.monitor: is not a metric the OCR task logs, got 'accuracy'; allowed: train_loss, .*val_cer/,
  );
  code(
    () => buildTrainConfig({ ...base(), train: { monitor: 'val_cer', mode: 'max' } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /train\.mode: is 'max', but val_cer improves when it goes down; allowed: min/,
  );
  code(
    () => buildTrainConfig({ ...base(), data: 'configs/data/nope.yaml' }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /bad\.yaml: data: names configs\/data\/nope\.yaml, which does not exist/,
  );
  code(
    () => buildTrainConfig({ ...base(), model: 'configs/model/nope.yaml' }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /field 'model'/,
  );
  const { model: _m, ...noModel } = base();
  code(() => buildTrainConfig(noModel, 'bad.yaml'), 'OCROPS_CONFIG_INVALID', /field 'model' is required/);
  code(() => buildTrainConfig(base(), 't.yaml', ['lr']), 'OCROPS_CONFIG_OVERRIDE', /not of the form key=value/);
  code(
    () => buildTrainConfig(base(), 't.yaml', ['foo.bar=1']),
    'OCROPS_CONFIG_OVERRIDE',
    /'foo' is not a train config section/,
  );
  code(() => buildTrainConfig(base(), 't.yaml', ['lr=[1']), 'OCROPS_CONFIG_SYNTAX', /--set lr/);
  code(
    () => buildTrainConfig(base(), 't.yaml', ['lr=-1']),
    'OCROPS_CONFIG_INVALID',
    /^--set lr=-1: optim\.lr: .*got -1; allowed: a number > 0$/m,
  );
  // the model section is validated when the config loads, not when training builds the model
  code(
    () => buildTrainConfig(base(), 'm.yaml', ['model.arch=vgg', 'inner_dim=60']),
    'OCROPS_CONFIG_INVALID',
    /--set inner_dim=60: model\.inner_dim: .*multiple of 8/,
  );
  code(
    () => buildTrainConfig({ ...base(), optim: { schedule: { type: 'cosine', gamma: 0.5 } } }, 'bad.yaml'),
    'OCROPS_CONFIG_INVALID',
    /optim\.schedule\.gamma: is not used by schedule type 'cosine'/,
  );
  code(() => loadTrainConfig('configs/train/does-not-exist.yaml'), 'OCROPS_CONFIG_MISSING', /does-not-exist\.yaml/);
});

test("a train config file: every problem at its line, the model file's at its own, old camelCase keys load with a warning", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-trcfg-'));
  const modelFile = join(dir, 'm.yaml');
  writeFileSync(modelFile, 'model:\n  arch: vgg\n  inner_dim: 60\n');
  const f = join(dir, 't.yaml');
  writeFileSync(
    f,
    `data: ${dataCfg}\nmodel: ${modelFile}\noptim: { lr: 0.001, weigth_decay: 1 }\ntrain:\n  epochs: 0\n`,
  );
  code(
    () => loadTrainConfig(f),
    'OCROPS_CONFIG_INVALID',
    new RegExp(
      [
        `${f}:3:21: optim\\.weigth_decay: is not a known field \\(did you mean weight_decay\\?\\)`,
        `${f}:5:3: train\\.epochs: .*got 0; allowed: an integer >= 1`,
      ].join('[^]*'),
    ),
  );
  writeFileSync(f, `data: ${dataCfg}\nmodel: ${modelFile}\n`);
  code(
    () => loadTrainConfig(f),
    'OCROPS_CONFIG_INVALID',
    new RegExp(`${modelFile}:3:3: model\\.inner_dim: .*multiple of 8`),
  );
  writeFileSync(f, `data: ${dataCfg}\nmodel: { arch: small }\ntrain:\n  batchSize: 8\n  maxStepsPerEpoch: 3\n`);
  const cfg = loadTrainConfig(f, ['train.logEvery=2']);
  assert.deepEqual([cfg.train.batchSize, cfg.train.maxStepsPerEpoch, cfg.train.logEvery], [8, 3, 2]);
});

test('a bad train.monitor fails when the config loads, before any data or model is touched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-monitor-'));
  const f = join(dir, 'bad-monitor.yaml');
  const out = join(dir, 'run');
  writeFileSync(
    f,
    `data: ${dataCfg}\nmodel: { arch: small }\ntrain:\n  epochs: 1\n  monitor: val_accuracy\nout: ${out}\n`,
  );
  const t0 = Date.now();
  await assert.rejects(commands.train.run(['--config', f]), (e: unknown) => {
    assert.ok(e instanceof OcropsError);
    assert.equal(e.code, 'OCROPS_CONFIG_INVALID');
    assert.match(
      e.message,
      new RegExp(
        `${f}:5:3: train\\.monitor: is not a metric the OCR task logs, got 'val_accuracy'; allowed: .*val_acc_by_char`,
      ),
    );
    return true;
  });
  assert.ok(Date.now() - t0 < 5000, 'failed at load time');
  assert.equal(existsSync(out), false, 'no run folder was created');
});

test('malformed YAML in a train config reports file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-trcfg-'));
  const f = join(dir, 'broken.yaml');
  writeFileSync(f, `data: ${dataCfg}\nmodel: {arch: small\ntrain: {}\n`);
  code(() => loadTrainConfig(f), 'OCROPS_CONFIG_SYNTAX', /broken\.yaml:\d+:\d+/);
});

test('train command: unknown options and a missing --config are usage errors', async () => {
  await assert.rejects(commands.train.run(['--config', 'x.yaml', '--bogus']), (e: unknown) => {
    assert.ok(e instanceof OcropsError);
    assert.equal(e.code, 'OCROPS_USAGE');
    assert.match(e.message, /bogus/);
    return true;
  });
  await assert.rejects(commands.train.run([]), /--config is required/);
  await assert.rejects(commands.evaluate.run(['--split', 'dev']), /--split must be train, val or test/);
  await assert.rejects(commands.predict.run([]), /at least one image/);
});

test('model: a configs/model/*.yaml file (fields under `model:`) is inlined like a mapping', () => {
  const cfg = buildTrainConfig({ data: dataCfg, model: join(root, 'configs/model/crnn.yaml') }, 'x.yaml');
  assert.equal(cfg.model.arch, 'crnn');
  assert.equal(modelConfigOf(cfg).rnn.hidden, 256);
  assert.equal(cfg.modelSource, join(root, 'configs/model/crnn.yaml'));
});

test('--set key=null removes the key, so the field takes its default', () => {
  const cfg = loadTrainConfig(join(repoRoot(), 'configs/train/butterflies.yaml'), [
    'model.arch=cnn4',
    'model.depth=null',
  ]);
  assert.equal((cfg.model as Record<string, unknown>).arch, 'cnn4');
  assert.ok(!('depth' in cfg.model), 'depth was removed');
  assert.throws(
    () => loadTrainConfig(join(repoRoot(), 'configs/train/butterflies.yaml'), ['model.arch=cnn4']),
    /model\.depth/,
    'cnn4 refuses the depth of resnet_gap when it is kept',
  );
});
