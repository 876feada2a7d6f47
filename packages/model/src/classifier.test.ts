// Image classifiers `cnn4` (the reference PyTorch classifier) and `resnet_gap`: shapes, parameter counts by layer
// arithmetic and against the PyTorch reference (bench/model/arch_ref.py, when the benchmark venv exists), config
// reading, save/load of either task, and that a few optimizer steps fit a tiny problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, repoRoot } from '@ocrops/common';
import { selectBackend } from './backend.js';
import {
  defaultClassifierConfig,
  parseClassifierConfig,
  readClassifierConfig,
  readTaskModelConfig,
  type ClassifierConfig,
} from './classifier-config.js';
import { createClassifier, type ClassifierModel } from './classifier.js';
import { CLASSIFIER_FORMAT, loadClassifier, loadTaskModel } from './classifier-io.js';
import { defaultModelConfig } from './config.js';
import { loadModel } from './io.js';
import { createModel } from './model.js';

await selectBackend({ quiet: true });

const count = (m: ClassifierModel) => m.getWeights().reduce((s, v) => s + v.size, 0);
const convP = (k: number, cin: number, cout: number, bias: boolean) => k * k * cin * cout + (bias ? cout : 0);

/** Parameters of the reference four-conv classifier by layer arithmetic. */
function cnn4Params(c: number, h: number, w: number, base: number, classes: number): number {
  const ch = [c, base, base * 2, base * 4, base * 8];
  const k = [5, 5, 3, 5];
  let n = 0;
  for (let i = 0; i < 4; i++) n += convP(k[i], ch[i], ch[i + 1], true);
  const side = (x: number) => Math.floor(x / 16);
  return n + ch[4] * side(h) * side(w) * classes + classes;
}

/** Parameters of resnet_gap by layer arithmetic (BN: gamma + beta trainable). */
function resnetGapParams(c: number, base: number, depth: number, classes: number): number {
  let n = convP(3, c, base, false) + 2 * base;
  let cin = base;
  for (let s = 0; s < 4; s++) {
    const cout = base * 2 ** s;
    for (let b = 0; b < depth; b++) {
      n += convP(3, cin, cout, false) + 2 * cout + convP(3, cout, cout, false) + 2 * cout;
      if (cin !== cout || (b === 0 && s > 0)) n += convP(1, cin, cout, false) + 2 * cout;
      cin = cout;
    }
  }
  return n + cin * classes + classes;
}

const read = (v: Record<string, unknown>) => readClassifierConfig(v, 'm.yaml');

test('cnn4: 128x128 RGB -> logits [B, 75]; 2,175,883 parameters (kernels 5/5/3/5, 32..256 channels, one linear layer)', () => {
  const cfg = defaultClassifierConfig('cnn4');
  assert.deepEqual([cfg.height, cfg.width, cfg.channels, cfg.baseChannels], [128, 128, 3, 32]);
  const m = createClassifier(cfg, 75);
  const x = tf.zeros([2, 128, 128, 3]) as tf.Tensor4D;
  const y = m.forward(x, true);
  assert.deepEqual(y.shape, [2, 75]);
  assert.equal(count(m), cnn4Params(3, 128, 128, 32, 75));
  assert.equal(count(m), 2175883);
  assert.throws(
    () => m.forward(tf.zeros([1, 96, 128, 3]) as tf.Tensor4D, false),
    (e: unknown) =>
      e instanceof OcropsError && e.code === 'OCROPS_MODEL_INPUT' && /128, 128, 3.*got \[1,96,128,3\]/.test(e.message),
  );
  tf.dispose([x, y]);
  m.dispose();
  const odd = createClassifier({ ...cfg, height: 40, width: 72, channels: 1, baseChannels: 8 }, 5);
  assert.deepEqual(odd.forward(tf.zeros([1, 40, 72, 1]) as tf.Tensor4D, false).shape, [1, 5]);
  assert.equal(count(odd), cnn4Params(1, 40, 72, 8, 5), 'flatten size uses floor(H/16) x floor(W/16)');
  odd.dispose();
});

test('resnet_gap: depth blocks per stage, global average pooling; any size from 32 px gives [B, classes]', () => {
  const cfg = defaultClassifierConfig('resnet_gap');
  for (const [depth, base] of [
    [2, 32],
    [1, 16],
  ]) {
    const m = createClassifier({ ...cfg, depth, baseChannels: base }, 75);
    const y = m.forward(tf.zeros([2, 128, 128, 3]) as tf.Tensor4D, true);
    assert.deepEqual(y.shape, [2, 75]);
    assert.equal(count(m), resnetGapParams(3, base, depth, 75), `depth ${depth} base ${base}`);
    y.dispose();
    m.dispose();
  }
  const small = createClassifier({ ...cfg, height: 32, width: 48, depth: 1, baseChannels: 8 }, 3);
  assert.deepEqual(small.forward(tf.zeros([1, 32, 48, 3]) as tf.Tensor4D, false).shape, [1, 3]);
  small.dispose();
});

test('test-time augmentation: inference averages the logits of the flipped views; training sees the image alone', () => {
  const base = { ...defaultClassifierConfig('resnet_gap'), height: 32, width: 40, depth: 1, baseChannels: 4 };
  const plain = createClassifier(base, 5, { seed: 3 });
  const x = tf.randomUniform([3, 32, 40, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const logits = (v: tf.Tensor4D) => plain.forward(v, false).arraySync();
  const views = {
    none: [x],
    hflip: [x, tf.reverse(x, 2)],
    flips: [x, tf.reverse(x, 2), tf.reverse(x, 1), tf.reverse(x, [1, 2])],
  } as const;
  for (const tta of ['none', 'hflip', 'flips'] as const) {
    const m = createClassifier({ ...base, tta }, 5, { seed: 3 });
    const got = m.forward(x, false).arraySync();
    const each = views[tta].map((v) => logits(v as tf.Tensor4D));
    got.forEach((row, i) =>
      row.forEach((v, k) => {
        const want = each.reduce((a, l) => a + l[i][k], 0) / each.length;
        assert.ok(Math.abs(v - want) < 1e-4, `${tta}: image ${i} class ${k}: ${v} vs ${want}`);
      }),
    );
    m.dispose();
  }
  const flipsDiffer = logits(x)[0].some((v, k) => Math.abs(v - logits(tf.reverse(x, 2) as tf.Tensor4D)[0][k]) > 1e-5);
  assert.ok(flipsDiffer, 'the mirrored image gives other logits, so the average is not the plain forward');
  const trained = createClassifier({ ...base, tta: 'flips' }, 5, { seed: 3 });
  assert.deepEqual(trained.forward(x, true).shape, [3, 5], 'training runs one view per image');
  assert.equal(read({ arch: 'cnn4' }).tta, 'none');
  assert.equal(read({ arch: 'cnn4', tta: 'hflip' }).tta, 'hflip');
  assert.throws(() => read({ arch: 'cnn4', tta: 'rotate' }), /m\.yaml.*tta/);
  trained.dispose();
  plain.dispose();
});

test('classifier config: snake_case keys, defaults per arch, errors name the file and field, task dispatch', () => {
  assert.deepEqual(read({ arch: 'cnn4', base_channels: 16, dropout: 0.5 }), {
    task: 'classify',
    arch: 'cnn4',
    height: 128,
    width: 128,
    channels: 3,
    baseChannels: 16,
    dropout: 0.5,
    tta: 'none',
  });
  const r = read({ task: 'classify', arch: 'resnet_gap', depth: 3, height: 64, width: 96 });
  assert.deepEqual([r.depth, r.height, r.width, r.dropout], [3, 64, 96, 0.2]);
  assert.deepEqual(parseClassifierConfig(r, 'saved'), r);
  const bad = (v: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => read(v),
      (e: unknown) => e instanceof OcropsError && /m\.yaml/.test(e.message) && re.test(e.message),
      String(re),
    );
  bad({ arch: 'cnn4', depth: 2 }, /depth.*only used by arch 'resnet_gap'/);
  bad({ arch: 'vgg' }, /arch.*cnn4, resnet_gap/);
  bad({ arch: 'cnn4', height: 8 }, /height.*>= 16/);
  bad({ arch: 'cnn4', channels: 2 }, /channels/);
  bad({ arch: 'cnn4', rnn: {} }, /rnn.*not a known field/);
  const task = (v: Record<string, unknown>, t?: 'ocr' | 'classify') => readTaskModelConfig(v, 'm.yaml', t);
  assert.equal((task({ arch: 'cnn4' }) as ClassifierConfig).task, 'classify');
  assert.equal(task({ arch: 'vgg' }).arch, 'vgg');
  assert.equal(task({ task: 'ocr', arch: 'small' }).arch, 'small');
  assert.throws(() => task({ arch: 'vgg' }, 'classify'), /arch.*cnn4, resnet_gap/);
  assert.throws(() => task({ arch: 'cnn4' }, 'ocr'), /arch.*vgg/);
  assert.throws(
    () => task({ task: 'classify', arch: 'cnn4' }, 'ocr'),
    /task.*is 'classify' but the config's task is 'ocr'/,
  );
});

test('save/load: ocrops.json has task classify and the classes; loadTaskModel loads either kind with the same outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-cls-'));
  try {
    const cfg: ClassifierConfig = {
      ...defaultClassifierConfig('resnet_gap'),
      height: 32,
      width: 32,
      baseChannels: 4,
      depth: 1,
    };
    const m = createClassifier(cfg, 3, { seed: 7 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    // a training step moves the batch-norm running statistics away from their init, so loading must restore them
    m.forward(x, true).dispose();
    const before = m.forward(x, false);
    await assert.rejects(m.save(join(dir, 'bad'), { classes: ['a', 'b'] }), /lists 2 names for 3 classes/);
    await m.save(join(dir, 'cls'), { classes: ['ADONIS', 'MONARCH', 'ZEBRA LONG WING'], note: 'kept' });
    const meta = JSON.parse(readFileSync(join(dir, 'cls', 'ocrops.json'), 'utf8'));
    assert.deepEqual(
      [meta.format, meta.task, meta.numClasses, meta.classes, meta.note],
      [CLASSIFIER_FORMAT, 'classify', 3, ['ADONIS', 'MONARCH', 'ZEBRA LONG WING'], 'kept'],
    );
    const { model, meta: back } = await loadClassifier(join(dir, 'cls'));
    assert.deepEqual(back.config, cfg);
    const after = model.forward(x, false);
    assert.ok(tf.max(tf.abs(tf.sub(before, after))).dataSync()[0] < 1e-6);
    const any = await loadTaskModel(join(dir, 'cls'));
    assert.equal(any.task, 'classify');
    await assert.rejects(
      loadModel(join(dir, 'cls')),
      (e: unknown) => e instanceof OcropsError && /loadClassifier/.test(e.hint ?? ''),
    );

    const ocr = createModel(
      {
        ...defaultModelConfig('small'),
        height: 16,
        embedDim: 8,
        rnn: { type: 'gru', hidden: 4, layers: 1, bidirectional: false, dropout: 0 },
      },
      5,
    );
    await ocr.save(join(dir, 'ocr'), { charset: { chars: ['a', 'b', 'c', 'd'] } });
    const o = await loadTaskModel(join(dir, 'ocr'));
    assert.equal(o.task, 'ocr');
    await assert.rejects(
      loadClassifier(join(dir, 'ocr')),
      (e: unknown) => e instanceof OcropsError && /OCR model/.test(e.hint ?? ''),
    );
    tf.dispose([x, before, after]);
    for (const mm of [m, model, any.model, ocr, o.model]) mm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cnn4 fits a tiny two-class problem (dark vs bright images) in a few Adam steps', () => {
  const m = createClassifier(
    { ...defaultClassifierConfig('cnn4'), height: 16, width: 16, baseChannels: 4, dropout: 0 },
    2,
    { seed: 3 },
  );
  const dark = tf.randomUniform([8, 16, 16, 3], 0, 0.3, 'float32', 1);
  const bright = tf.randomUniform([8, 16, 16, 3], 0.7, 1, 'float32', 2);
  const x = tf.concat([dark, bright]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([...Array(8).fill(0), ...Array(8).fill(1)], 'int32'), 2);
  const opt = tf.train.adam(0.01);
  const loss = () => tf.losses.softmaxCrossEntropy(labels, m.forward(x, true)) as tf.Scalar;
  const first = loss().dataSync()[0];
  for (let i = 0; i < 40; i++) opt.minimize(loss, false, m.getWeights());
  const acc = tf.tidy(
    () => tf.mean(tf.cast(tf.equal(tf.argMax(m.forward(x, false), 1), tf.argMax(labels, 1)), 'float32')).dataSync()[0],
  );
  assert.ok(loss().dataSync()[0] < first, 'loss went down');
  assert.equal(acc, 1);
  tf.dispose([dark, bright, x, labels]);
  m.dispose();
});

/** The benchmark venv's python (scripts/setup --bench), or OCROPS_BENCH_PYTHON. */
function benchPython(): string | undefined {
  const candidates = [process.env.OCROPS_BENCH_PYTHON, join(repoRoot(), '.venv-bench/bin/python')];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p!));
}

test('cnn4 parameter counts and output shapes equal the PyTorch reference (bench/model/arch_ref.py)', (t) => {
  const py = benchPython();
  if (!py) {
    t.skip('no PyTorch: run scripts/setup --bench (or set OCROPS_BENCH_PYTHON to a python with torch)');
    return;
  }
  const cases = [
    { h: 128, w: 128, c: 3, base: 32, classes: 75 },
    { h: 40, w: 72, c: 1, base: 8, classes: 5 },
  ];
  for (const k of cases) {
    const args = [
      '--arch',
      'cnn4',
      '--height',
      String(k.h),
      '--width',
      String(k.w),
      '--channels',
      String(k.c),
      '--base-channels',
      String(k.base),
      '--classes',
      String(k.classes),
    ];
    const r: SpawnSyncReturns<string> = spawnSync(py, [join(repoRoot(), 'bench/model/arch_ref.py'), ...args], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { params: number; output_shape: number[] };
    const m = createClassifier(
      { ...defaultClassifierConfig('cnn4'), height: k.h, width: k.w, channels: k.c as 1 | 3, baseChannels: k.base },
      k.classes,
    );
    assert.equal(count(m), ref.params, `${args.join(' ')}: parameters`);
    assert.deepEqual([2, k.classes], ref.output_shape);
    m.dispose();
  }
});
