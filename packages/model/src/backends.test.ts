import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend.js';
import { defaultModelConfig } from './config.js';
import { createModel } from './model.js';
import { ctcLoss } from './ctc.js';

/** Loss and gradients of one small vgg training step on the named backend (same seed, same input everywhere). */
async function step(backend: string): Promise<{ loss: number; grads: Float32Array[] }> {
  assert.ok(await tf.setBackend(backend), `backend ${backend}`);
  const cfg = { ...defaultModelConfig('vgg'), channels: 1 as const, innerDim: 16, embedDim: 8 };
  cfg.rnn = { ...cfg.rnn, hidden: 8 };
  const model = createModel(cfg, 7, { seed: 5 });
  const x = tf.tensor4d(
    Float32Array.from({ length: 2 * 64 * 40 }, (_, i) => ((i * 7919) % 101) / 100),
    [2, 64, 40, 1],
  );
  const { value, grads } = tf.variableGrads(
    () =>
      ctcLoss(model.forward(x, true), [
        [1, 2, 3],
        [4, 4],
      ]),
    model.getWeights(),
  );
  const out = {
    loss: value.dataSync()[0],
    grads: model.getWeights().map((v) => grads[v.name].dataSync() as Float32Array),
  };
  tf.dispose([x, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

test('a training step gives the same loss and gradients on tensorflow, wasm and cpu', async () => {
  const active = (await selectBackend({ quiet: true })).name;
  const results: Record<string, { loss: number; grads: Float32Array[] }> = {};
  try {
    for (const b of ['cpu', 'tensorflow', 'wasm']) {
      try {
        await selectBackend({ prefer: b as 'cpu', quiet: true });
      } catch {
        continue;
      }
      if (tf.getBackend() !== b) continue;
      results[b] = await step(b);
    }
  } finally {
    await tf.setBackend(active);
  }
  assert.ok(results.cpu, 'cpu backend ran');
  const ref = results.cpu;
  for (const [name, r] of Object.entries(results)) {
    assert.ok(Math.abs(r.loss - ref.loss) < 1e-4 * Math.abs(ref.loss), `${name} loss ${r.loss} vs cpu ${ref.loss}`);
    r.grads.forEach((g, k) => {
      let num = 0;
      let den = 0;
      for (let i = 0; i < g.length; i++) {
        num += (g[i] - ref.grads[k][i]) ** 2;
        den += ref.grads[k][i] ** 2;
      }
      assert.ok(
        Math.sqrt(num) <= 1e-3 * Math.sqrt(den) + 1e-6,
        `${name} gradient ${k}: relative error ${Math.sqrt(num / den)}`,
      );
    });
  }
  console.log(`compared backends: ${Object.keys(results).join(', ')}`);
});

test('OCROPS_BACKEND overrides the preference; an unknown name is an OcropsError', async () => {
  const active = tf.getBackend();
  const saved = process.env.OCROPS_BACKEND;
  try {
    process.env.OCROPS_BACKEND = 'cpu';
    assert.equal((await selectBackend({ prefer: 'tensorflow', quiet: true })).name, 'cpu');
    process.env.OCROPS_BACKEND = 'tpu';
    await assert.rejects(selectBackend({ quiet: true }), /OCROPS_BACKEND='tpu' is not a backend/);
  } finally {
    if (saved === undefined) delete process.env.OCROPS_BACKEND;
    else process.env.OCROPS_BACKEND = saved;
    await tf.setBackend(active);
  }
});
