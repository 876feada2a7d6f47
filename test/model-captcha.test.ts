// The `small` architecture (the Keras captcha recipe's model) trained for a few hundred steps on 500 real
// captcha-v2 images; the CTC loss must fall below half its starting value. Runs on whichever backend is active.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { sharedDataset } from '@ocrops/common';
import { createModel, ctcLoss, defaultModelConfig, greedyDecode, meanAccByChar, selectBackend } from '@ocrops/model';

const CHARSET = '2345678bcdefgmnpwxy';
const N = 500;
const BATCH = 16;
const STEPS = Number(process.env.OCROPS_CAPTCHA_STEPS ?? 200);

test('small model on 500 captcha-v2 images: CTC loss falls below half its start', { timeout: 600_000 }, async (t) => {
  const dir = sharedDataset('captcha-v2');
  if (!dir) {
    t.skip('../shared/datasets/captcha-v2 absent');
    return;
  }
  const backend = await selectBackend({ quiet: true });
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, string>;
  const files = Object.keys(labels).sort().slice(0, N);
  const W = 200;
  const H = 50;
  const images = new Float32Array(files.length * H * W);
  await Promise.all(
    files.map(async (f, i) => {
      const { data } = await sharp(join(dir, 'images', f))
        .flatten({ background: '#ffffff' })
        .grayscale()
        .resize(W, H, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (let k = 0; k < H * W; k++) images[i * H * W + k] = data[k] / 255;
    }),
  );
  const targets = files.map((f) => Array.from(labels[f], (c) => CHARSET.indexOf(c) + 1));
  assert.ok(
    targets.every((l) => l.length === 5 && l.every((id) => id > 0)),
    'labels use the captcha charset',
  );

  const cfg = defaultModelConfig('small'); // height 50, 1 channel, BiLSTM 128 + 64
  const model = createModel(cfg, CHARSET.length + 1, { seed: 42 });
  const opt = tf.train.adam(1e-3);
  const order = files.map((_, i) => i);
  let rand = 7;
  const shuffle = () => {
    for (let i = order.length - 1; i > 0; i--) {
      rand = (rand * 1103515245 + 12345) % 2 ** 31;
      const j = rand % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
  };
  const losses: number[] = [];
  const started = Date.now();
  let pos = order.length;
  for (let step = 0; step < STEPS; step++) {
    if (pos + BATCH > order.length) {
      shuffle();
      pos = 0;
    }
    const idx = order.slice(pos, pos + BATCH);
    pos += BATCH;
    const batch = new Float32Array(BATCH * H * W);
    idx.forEach((i, b) => batch.set(images.subarray(i * H * W, (i + 1) * H * W), b * H * W));
    const x = tf.tensor4d(batch, [BATCH, H, W, 1]);
    const loss = opt.minimize(
      () =>
        ctcLoss(
          model.forward(x, true),
          idx.map((i) => targets[i]),
        ),
      true,
      model.getWeights(),
    );
    losses.push(loss!.dataSync()[0]);
    tf.dispose([x, loss!]);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const start = mean(losses.slice(0, 5));
  const end = mean(losses.slice(-10));
  // a look at what it reads now (not asserted: a few hundred steps is far from convergence)
  const x = tf.tensor4d(images.slice(0, 32 * H * W), [32, H, W, 1]);
  const logits = model.forward(x, false);
  const preds = greedyDecode(logits).ids.map((ids) => ids.map((id) => CHARSET[id - 1]).join(''));
  const acc = meanAccByChar(
    preds,
    files.slice(0, 32).map((f) => labels[f]),
  );
  tf.dispose([x, logits]);
  console.log(
    `captcha: backend ${backend.name}, ${STEPS} steps of ${BATCH} in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `loss ${start.toFixed(3)} -> ${end.toFixed(3)}; train acc_by_char ${acc.toFixed(3)}`,
  );
  model.dispose();
  opt.dispose();
  assert.ok(Number.isFinite(end));
  assert.ok(end < start / 2, `loss fell from ${start} to only ${end}`);
});
