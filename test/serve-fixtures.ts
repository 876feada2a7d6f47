// Models for the serving tests: a `small` CRNN with random weights, and the same architecture trained on a few real
// captcha-v2 images until it reads one of them exactly (a memorised image: this proves the served path reproduces the
// model's own reading end to end, not that the model generalises).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeLine } from '@ocrops/data';
import {
  createModel,
  ctcLoss,
  defaultModelConfig,
  greedyDecode,
  saveModel,
  selectBackend,
  type ModelConfig,
} from '@ocrops/model';

export const CAPTCHA_CHARSET = [...'2345678bcdefgmnpwxy'];

/** A small grayscale model (height 32, BiGRU 32) for `numClasses - 1` characters. */
export function tinyConfig(): ModelConfig {
  const base = defaultModelConfig('small');
  return {
    ...base,
    height: 32,
    channels: 1,
    rnn: { type: 'gru', hidden: 32, layers: 1, bidirectional: true, dropout: 0 },
    embedDim: 32,
    dropout: 0,
  };
}

/** Saves a model with random weights (seeded) and the captcha charset to `dir`. */
export async function saveRandomModel(dir: string, seed = 1): Promise<void> {
  await selectBackend({ quiet: true });
  const model = createModel(tinyConfig(), CAPTCHA_CHARSET.length + 1, { seed });
  await saveModel(model, dir, { charset: { chars: CAPTCHA_CHARSET, blank: 0 } });
  model.dispose();
}

/**
 * Trains the tiny model on `files` (captcha-v2 images, preprocessed exactly as the server does) until it reads the
 * first one exactly, for at most `maxSeconds`; saves it to `dir`. Returns the steps taken and whether it reads it.
 */
export async function trainTinyCaptchaModel(
  datasetDir: string,
  dir: string,
  opts: { files: string[]; maxSeconds: number },
): Promise<{ steps: number; reads: boolean; seconds: number; label: string }> {
  await selectBackend({ quiet: true });
  const labels = JSON.parse(readFileSync(join(datasetDir, 'labels.json'), 'utf8')) as Record<string, string>;
  const cfg = tinyConfig();
  const lines = await Promise.all(
    opts.files.map((f) => decodeLine(join(datasetDir, 'images', f), { height: cfg.height, channels: 1 })),
  );
  const W = Math.max(...lines.map((l) => l.width));
  const B = lines.length;
  const x = new Float32Array(B * cfg.height * W).fill(1);
  lines.forEach((l, b) => {
    for (let y = 0; y < cfg.height; y++)
      for (let i = 0; i < l.width; i++) x[(b * cfg.height + y) * W + i] = l.data[y * l.width + i] / 255;
  });
  const targets = opts.files.map((f) => Array.from(labels[f], (c) => CAPTCHA_CHARSET.indexOf(c) + 1));
  const model = createModel(cfg, CAPTCHA_CHARSET.length + 1, { seed: 3 });
  const opt = tf.train.adam(3e-3);
  const images = tf.tensor4d(x, [B, cfg.height, W, 1]);
  const started = Date.now();
  const want = labels[opts.files[0]];
  let steps = 0;
  let reads = false;
  while ((Date.now() - started) / 1000 < opts.maxSeconds) {
    const loss = opt.minimize(() => ctcLoss(model.forward(images, true), targets), true, model.getWeights());
    loss?.dispose();
    steps++;
    if (steps % 20 === 0) {
      const text = tf.tidy(() =>
        greedyDecode(model.forward(images.slice(0, 1), false))
          .ids[0].map((id) => CAPTCHA_CHARSET[id - 1])
          .join(''),
      );
      if (text === want) {
        reads = true;
        break;
      }
    }
  }
  images.dispose();
  opt.dispose();
  await saveModel(model, dir, { charset: { chars: CAPTCHA_CHARSET, blank: 0 } });
  model.dispose();
  return { steps, reads, seconds: (Date.now() - started) / 1000, label: want };
}
