import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { selectBackend } from './backend.js';
import { defaultModelConfig, loadModelConfig, type ModelConfig } from './config.js';
import { createModel } from './model.js';
import { loadModel } from './io.js';
import { ctcLoss } from './ctc.js';
import { greedyDecode } from './decode.js';
import { makeRnnLayer, rnnLayer } from './rnn.js';
import { ParamStore } from './params.js';

await selectBackend({ quiet: true });

function tiny(arch: ModelConfig['arch']): ModelConfig {
  const c = defaultModelConfig(arch);
  if (arch !== 'small') c.innerDim = 16;
  c.rnn = { ...c.rnn, hidden: 8 };
  delete c.rnn.hiddenPerLayer;
  if (c.embedDim) c.embedDim = 8;
  return c;
}

test('output length T per architecture matches the README formulas and the logits', () => {
  const expect: Record<'vgg' | 'small' | 'resnet', (w: number) => number> = {
    vgg: (w) => Math.floor(w / 4) - 1,
    small: (w) => Math.floor(w / 4),
    resnet: (w) => Math.ceil(w / 4),
  };
  for (const arch of ['vgg', 'small', 'resnet'] as const) {
    const cfg = tiny(arch);
    const m = createModel(cfg, 11);
    for (const w of [33, 64, 101]) {
      const x = tf.ones([2, cfg.height, w, cfg.channels]) as tf.Tensor4D;
      const y = m.forward(x, false);
      assert.deepEqual(y.shape, [2, expect[arch](w), 11], `${arch} width ${w}`);
      assert.equal(m.outputLength(w), expect[arch](w));
      tf.dispose([x, y]);
    }
    m.dispose();
  }
  assert.equal(createModel(defaultModelConfig('vgg'), 5).outputLength(256), 63); // the reference CTCModel at 64x256
});

for (const type of ['gru', 'lstm'] as const) {
  test(`fused ${type} (hand-written BPTT) equals autodiff in outputs and gradients, uni- and bidirectional`, () => {
    for (const bidirectional of [true, false]) {
      const p = new ParamStore(3);
      const layer = makeRnnLayer(p, 'g', type, 5, 6, bidirectional);
      const x = tf.randomNormal([7, 3, 5], 0, 1, 'float32', 4) as tf.Tensor3D;
      const w = p.trainable();
      const target = tf.randomNormal([7, 3, bidirectional ? 12 : 6], 0, 1, 'float32', 5);
      const run = (impl: 'fused' | 'autodiff') =>
        tf.variableGrads(() => tf.sum(tf.mul(rnnLayer(x, layer, impl), target)) as tf.Scalar, w);
      const a = run('fused');
      const b = run('autodiff');
      assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-4);
      for (const v of w) {
        const ga = a.grads[v.name].dataSync();
        const gb = b.grads[v.name].dataSync();
        for (let i = 0; i < ga.length; i++)
          assert.ok(Math.abs(ga[i] - gb[i]) < 1e-4, `${v.name}[${i}] ${ga[i]} vs ${gb[i]}`);
      }
      const gx = (impl: 'fused' | 'autodiff') =>
        tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(rnnLayer(v as tf.Tensor3D, layer, impl), target)))(x)
          .dataSync();
      const gxa = gx('fused');
      const gxb = gx('autodiff');
      for (let i = 0; i < gxa.length; i++) assert.ok(Math.abs(gxa[i] - gxb[i]) < 1e-4);
      p.dispose();
    }
  });
}

test('LSTM forget-gate bias starts at 1 (bx_f + bh_f), other biases keep the uniform init; GRU untouched', () => {
  for (const bidirectional of [true, false]) {
    const H = 6;
    const dirs = bidirectional ? 2 : 1;
    const p = new ParamStore(3);
    const l = makeRnnLayer(p, 'l', 'lstm', 5, H, bidirectional);
    const bx = l.bx.dataSync();
    const bh = l.bh.dataSync();
    const bound = 1 / Math.sqrt(H);
    for (let d = 0; d < dirs; d++) {
      for (let gate = 0; gate < 4; gate++) {
        for (let j = 0; j < H; j++) {
          const k = d * 4 * H + gate * H + j;
          if (gate === 1) assert.equal(bx[k] + bh[k], 1, `dir ${d} forget ${j}`);
          else assert.ok(Math.abs(bx[k]) <= bound && Math.abs(bh[k]) <= bound && bh[k] !== 1);
        }
      }
    }
    const g = makeRnnLayer(p, 'g', 'gru', 5, H, bidirectional);
    assert.ok([...g.bh.dataSync()].every((v) => Math.abs(v) <= bound));
    p.dispose();
  }
});

test('a training step leaks no tensors', () => {
  const cfg = tiny('vgg');
  const m = createModel(cfg, 9);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([2, 64, 48, 3]) as tf.Tensor4D;
  const step = () => opt.minimize(() => ctcLoss(m.forward(x, true), [[1, 2], [3]]), false, m.getWeights());
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
  opt.dispose();
  x.dispose();
});

test('save and load round trip: same logits, config and metadata, on the active and the cpu backend', async () => {
  const cfg = tiny('vgg');
  cfg.channels = 1;
  const m = createModel(cfg, 13, { seed: 99 });
  // one training step so batch-norm running statistics differ from their initial values
  const x = tf.randomUniform([2, 64, 40, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  tf.train.sgd(0.1).minimize(
    () =>
      ctcLoss(m.forward(x, true), [
        [1, 2],
        [3, 4, 5],
      ]),
    false,
    m.getWeights(),
  );
  const want = m.forward(x, false).arraySync();
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-model-'));
  await m.save(dir, { charset: { chars: ['a', 'b'] }, trainLoss: 1.5 });
  const { model, meta } = await loadModel(dir);
  assert.deepEqual(meta.config, cfg);
  assert.equal(meta.numClasses, 13);
  assert.deepEqual(meta.charset, { chars: ['a', 'b'] });
  const got = model.forward(x, false).arraySync();
  assert.deepEqual(got, want);
  const active = tf.getBackend();
  const xs = x.arraySync();
  await tf.setBackend('cpu');
  try {
    const { model: onCpu } = await loadModel(dir);
    const y = onCpu.forward(tf.tensor4d(xs), false).dataSync();
    const flat = (want as number[][][]).flat(2);
    for (let i = 0; i < flat.length; i++) assert.ok(Math.abs(y[i] - flat[i]) < 1e-3, `logit ${i}`);
    assert.deepEqual(greedyDecode(onCpu.forward(tf.tensor4d(xs), false)).ids.length, 2);
  } finally {
    await tf.setBackend(active);
  }
  await assert.rejects(
    loadModel(join(dir, 'nope')),
    (e: unknown) => e instanceof OcropsError && /ocrops\.json/.test(e.message),
  );
  // a training run's folder: its best/ model
  const run = mkdtempSync(join(tmpdir(), 'ocrops-run-'));
  await m.save(join(run, 'best'), { charset: { chars: ['a', 'b'] } });
  assert.deepEqual((await loadModel(run)).model.forward(x, false).arraySync(), want);
});

test('model configs from YAML: defaults, overrides and errors naming the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-mcfg-'));
  const f = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const vgg = loadModelConfig(f('a.yaml', 'model:\n  arch: vgg\n  inner_dim: 64\n  rnn: { hidden: 128 }\n'));
  assert.equal(vgg.innerDim, 64);
  assert.equal(vgg.rnn.hidden, 128);
  assert.equal(vgg.rnn.type, 'gru');
  assert.equal(vgg.embedDim, 256);
  const small = loadModelConfig(f('b.yaml', 'arch: small\n'));
  assert.deepEqual(small.rnn.hiddenPerLayer, [128, 64]);
  assert.throws(
    () => loadModelConfig(f('c.yaml', 'arch: vgg\ninner_dim: 100\n')),
    /c\.yaml:2:1: inner_dim: expected integer to be a multiple of 8, got 100/,
  );
  assert.throws(
    () => loadModelConfig(f('d.yaml', 'arch: vgg\nrnn: { type: rnn }\n')),
    /d\.yaml:2:8: rnn\.type: is not one of the allowed values, got "rnn"; allowed: gru, lstm/,
  );
  assert.throws(
    () => loadModelConfig(f('e.yaml', 'arch: vgg\nhieght: 64\n')),
    /e\.yaml:2:1: hieght: is not a known field \(did you mean height\?\)/,
  );
  assert.throws(() => loadModelConfig(f('g.yaml', 'height: 64\n')), /field 'arch' is required/);
  assert.throws(
    () => loadModelConfig(f('h.yaml', 'arch: vgg\nchannels: 2\n')),
    /h\.yaml:2:1: channels: .*allowed: 1, 3/,
  );
  assert.throws(
    () => createModel(defaultModelConfig('vgg'), 10).forward(tf.zeros([1, 32, 64, 3]), false),
    /expects images \[B, 64, W, 3\]/,
  );
});

test('the shipped configs/model/*.yaml load and build', async () => {
  const { readdirSync } = await import('node:fs');
  const { repoRoot } = await import('@ocrops/common');
  const dir = join(repoRoot(), 'configs', 'model');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(files.sort(), ['crnn.yaml', 'resnet.yaml', 'resnet18.yaml', 'small.yaml', 'vgg.yaml']);
  for (const f of files) {
    const cfg = loadModelConfig(join(dir, f));
    assert.deepEqual(cfg, defaultModelConfig(cfg.arch), `${f} states the defaults of its arch`);
    const m = createModel(cfg, 20);
    assert.ok(m.getWeights().length > 0);
    m.dispose();
  }
});

test('invert: the model sees 1 - x; the option is read from YAML, saved and absent by default', async () => {
  const cfg = tiny('vgg');
  const inv = createModel({ ...cfg, invert: true }, 7, { seed: 5 });
  const plain = createModel(cfg, 7, { seed: 5 });
  const x = tf.randomUniform([2, 64, 40, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const a = inv.forward(x, false).dataSync();
  const b = plain.forward(tf.sub(1, x) as tf.Tensor4D, false).dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `logit ${i}`);
  assert.notDeepEqual(Array.from(plain.forward(x, false).dataSync()), Array.from(a));
  // a training step through the inverted input (the first convolution keeps its input for the filter gradient)
  const before = inv.getWeights()[0].dataSync().slice();
  tf.train.sgd(0.1).minimize(() => ctcLoss(inv.forward(x, true), [[1, 2], [3]]), false, inv.getWeights());
  assert.notDeepEqual(Array.from(inv.getWeights()[0].dataSync()), Array.from(before));
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-inv-'));
  writeFileSync(join(dir, 'm.yaml'), 'arch: vgg\ninvert: true\n');
  assert.equal(loadModelConfig(join(dir, 'm.yaml')).invert, true);
  assert.equal('invert' in defaultModelConfig('vgg'), false);
  await inv.save(join(dir, 'saved'));
  const { model } = await loadModel(join(dir, 'saved'));
  assert.equal(model.config.invert, true);
  assert.deepEqual(Array.from(model.forward(x, false).dataSync()), Array.from(inv.forward(x, false).dataSync()));
  writeFileSync(join(dir, 'bad.yaml'), 'arch: vgg\ninvert: 2\n');
  assert.throws(() => loadModelConfig(join(dir, 'bad.yaml')), /bad\.yaml.*invert/);
});
