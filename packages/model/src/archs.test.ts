// The reference architectures `resnet18` (licence-plate recipe) and `crnn` (Synth90k recipe): shapes, parameter
// counts by layer arithmetic, and the same counts and shapes from the PyTorch reference (bench/model/arch_ref.py) when
// the benchmark venv exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, repoRoot } from '@ocrops/common';
import { selectBackend } from './backend.js';
import { defaultModelConfig, parseModelConfig, readModelConfig } from './config.js';
import { createModel, type OcrModel } from './model.js';

await selectBackend({ quiet: true });

const count = (m: OcrModel) => m.getWeights().reduce((s, v) => s + v.size, 0);
const convP = (k: number, cin: number, cout: number, bias: boolean) => k * k * cin * cout + (bias ? cout : 0);
const bnP = (c: number) => 2 * c;
const gruP = (din: number, h: number) => 2 * (3 * h * din + 3 * h * h + 6 * h); // bidirectional, two biases
const lstmP = (din: number, h: number) => 2 * (4 * h * din + 4 * h * h + 8 * h);

/** Parameters of the licence-plate ResNet-18 by layer arithmetic. */
function resnet18Params(channels: number, width: number, steps: number, classes: number): number {
  const block = (cin: number, cout: number, stride: number) =>
    convP(3, cin, cout, false) +
    bnP(cout) +
    convP(3, cout, cout, false) +
    bnP(cout) +
    (stride !== 1 || cin !== cout ? convP(1, cin, cout, false) + bnP(cout) : 0);
  const cols = Math.ceil(Math.ceil(Math.ceil(width / 2) / 2) / 2);
  return (
    convP(7, channels, 64, false) +
    bnP(64) +
    block(64, 64, 1) * 2 +
    block(64, 128, 2) +
    block(128, 128, 1) +
    cols * steps +
    steps +
    gruP(128, 128) +
    gruP(256, 128) +
    256 * classes +
    classes
  );
}

/** Parameters of the Synth90k CRNN by layer arithmetic. */
function crnnParams(height: number, classes: number): number {
  const ch = [1, 64, 128, 256, 256, 512, 512, 512];
  let n = 0;
  for (let i = 0; i < 7; i++) n += convP(i === 6 ? 2 : 3, ch[i], ch[i + 1], true);
  n += bnP(512) * 2;
  n += 512 * (height / 16 - 1) * 64 + 64;
  return n + lstmP(64, 256) + lstmP(512, 256) + 512 * classes + classes;
}

test('resnet18: fixed width -> `steps` frames, parameters = ResNet-18 stem + layer1 + layer2 + width projection + 2 BiGRU 128', () => {
  const cfg = defaultModelConfig('resnet18');
  assert.deepEqual([cfg.height, cfg.width, cfg.steps, cfg.channels], [32, 128, 20, 3]);
  const m = createModel(cfg, 70);
  const x = tf.zeros([2, 32, 128, 3]) as tf.Tensor4D;
  const y = m.forward(x, true);
  assert.deepEqual(y.shape, [2, 20, 70]);
  assert.equal(m.outputLength(128), 20);
  assert.equal(count(m), resnet18Params(3, 128, 20, 70));
  assert.equal(count(m), 1195994);
  assert.throws(
    () => m.forward(tf.zeros([1, 32, 96, 3]) as tf.Tensor4D, false),
    (e: unknown) =>
      e instanceof OcropsError && /128 px wide.*got 96/.test(e.message) && /image\.width/.test(e.hint ?? ''),
  );
  tf.dispose([x, y]);
  m.dispose();
  const wide = createModel({ ...cfg, height: 24, width: 94, steps: 18 }, 10);
  const z = wide.forward(tf.zeros([1, 24, 94, 3]) as tf.Tensor4D, false);
  assert.deepEqual(z.shape, [1, 18, 10]);
  assert.equal(count(wide), resnet18Params(3, 94, 18, 10));
  wide.dispose();
});

test('crnn: gray 32 x 100 -> 24 frames, 37 classes, 7.84M parameters (VGG-BN, map-to-seq 64, 2 BiLSTM 256)', () => {
  const cfg = defaultModelConfig('crnn');
  assert.deepEqual(
    [cfg.height, cfg.channels, cfg.embedDim, cfg.rnn.type, cfg.rnn.hidden, cfg.rnn.layers],
    [32, 1, 64, 'lstm', 256, 2],
  );
  const m = createModel(cfg, 37);
  const x = tf.zeros([2, 32, 100, 1]) as tf.Tensor4D;
  const y = m.forward(x, true);
  assert.deepEqual(y.shape, [2, 24, 37]);
  assert.equal(m.outputLength(100), 24);
  assert.equal(count(m), crnnParams(32, 37));
  assert.equal(count(m), 7839077);
  tf.dispose([x, y]);
  m.dispose();
  const tall = createModel({ ...cfg, height: 64 }, 37);
  assert.equal(count(tall), crnnParams(64, 37), 'map-to-seq takes 512 x (H/16 - 1) inputs');
  tall.dispose();
});

test('config: width/steps only for resnet18, inner_dim not for the fixed-channel recipes; saved configs round-trip', () => {
  const read = (v: Record<string, unknown>) => readModelConfig(v, 'm.yaml');
  const r = read({ arch: 'resnet18', width: 94, steps: 18, height: 24 });
  assert.deepEqual([r.width, r.steps, r.height], [94, 18, 24]);
  assert.deepEqual(parseModelConfig(r, 'saved'), r);
  const c = read({ arch: 'crnn' });
  assert.deepEqual(parseModelConfig(c, 'saved'), c);
  const bad = (v: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => read(v),
      (e: unknown) => e instanceof OcropsError && /m\.yaml/.test(e.message) && re.test(e.message),
      String(re),
    );
  bad({ arch: 'crnn', width: 100 }, /width.*only used by arch 'resnet18'/);
  bad({ arch: 'vgg', steps: 20 }, /steps/);
  bad({ arch: 'crnn', inner_dim: 64 }, /inner_dim.*not used by arch 'crnn'/);
  bad({ arch: 'resnet18', embed_dim: 64 }, /embed_dim/);
  bad({ arch: 'crnn', height: 16 }, /height/);
});

/** The benchmark venv's python (scripts/setup --bench), or OCROPS_BENCH_PYTHON. */
function benchPython(): string | undefined {
  const candidates = [process.env.OCROPS_BENCH_PYTHON, join(repoRoot(), '.venv-bench/bin/python')];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p!));
}

test('parameter counts and output shapes equal the PyTorch reference (bench/model/arch_ref.py)', (t) => {
  const py = benchPython();
  if (!py) {
    t.skip('no PyTorch: run scripts/setup --bench (or set OCROPS_BENCH_PYTHON to a python with torch)');
    return;
  }
  const cases = [
    {
      args: ['--arch', 'resnet18', '--height', '32', '--width', '128', '--steps', '20', '--classes', '70'],
      cfg: { ...defaultModelConfig('resnet18') },
      classes: 70,
      w: 128,
    },
    {
      args: ['--arch', 'resnet18', '--height', '24', '--width', '94', '--steps', '18', '--classes', '68'],
      cfg: { ...defaultModelConfig('resnet18'), height: 24, width: 94, steps: 18 },
      classes: 68,
      w: 94,
    },
    {
      args: ['--arch', 'crnn', '--height', '32', '--width', '100', '--classes', '37'],
      cfg: defaultModelConfig('crnn'),
      classes: 37,
      w: 100,
    },
  ];
  for (const c of cases) {
    const r: SpawnSyncReturns<string> = spawnSync(
      py as string,
      [join(repoRoot(), 'bench/model/arch_ref.py'), ...c.args],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { params: number; output_shape: number[] };
    const m = createModel(c.cfg, c.classes);
    assert.equal(count(m), ref.params, `${c.args.join(' ')}: parameters`);
    assert.deepEqual([m.outputLength(c.w), 2, c.classes], ref.output_shape, `${c.args.join(' ')}: [T, B, classes]`);
    m.dispose();
  }
});

test('blank_bias: the output layer starts with p(blank) = e^b / (e^b + classes - 1); read, saved and absent by default', () => {
  const read = (v: Record<string, unknown>) => readModelConfig(v, 'm.yaml');
  assert.equal(read({ arch: 'small' }).blankBias, undefined);
  const cfg = read({ arch: 'small', blank_bias: Math.log(9 * 19) });
  assert.deepEqual(parseModelConfig(cfg, 'saved'), cfg);
  const m = createModel(cfg, 20);
  const x = tf.ones([2, 50, 40, 1]) as tf.Tensor4D;
  const p = tf.softmax(m.forward(x, false)).slice([0, 0, 0], [-1, -1, 1]).mean().dataSync()[0];
  // the other logits start near 0 (glorot kernel, zero bias), so p(blank) is near 9 * 19 / (9 * 19 + 19) = 0.9
  assert.ok(Math.abs(p - 0.9) < 0.05, `p(blank) ${p}`);
  const plain = createModel(read({ arch: 'small' }), 20);
  const q = tf.softmax(plain.forward(x, false)).slice([0, 0, 0], [-1, -1, 1]).mean().dataSync()[0];
  assert.ok(q < 0.2, `without blank_bias p(blank) ${q}`);
  tf.dispose([x]);
  m.dispose();
  plain.dispose();
  assert.throws(
    () => read({ arch: 'small', blank_bias: 50 }),
    (e: unknown) => e instanceof OcropsError && /blank_bias/.test(e.message),
  );
});
