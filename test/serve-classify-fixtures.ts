// A tiny image classifier for the serving tests: cnn4 at 32 x 32 fitted on two real butterfly images of each of six
// species until it labels all twelve correctly (memorised images: this proves the served path reproduces the model's
// own predictions end to end, not that the model generalises).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sharedDatasetsDir } from '@ocrops/common';
import { decodeLine } from '@ocrops/data';
import { createClassifier, defaultClassifierConfig, selectBackend, type ClassifierConfig } from '@ocrops/model';

/** The butterflies-75 training folder, or undefined when the dataset is absent. */
export function butterfliesTrain(): string | undefined {
  const p = join(sharedDatasetsDir(), 'butterflies-75', 'train');
  return existsSync(p) ? p : undefined;
}

/** cnn4 at 32 x 32 RGB, 4 base channels. */
export function tinyClassifierConfig(): ClassifierConfig {
  return { ...defaultClassifierConfig('cnn4'), height: 32, width: 32, baseChannels: 4, dropout: 0 };
}

/** The first two images of each of the first `species` species (sorted) with their class ids. */
export function butterflyImages(
  train: string,
  species: number,
): { files: string[]; labels: number[]; classes: string[] } {
  const classes = readdirSync(train).sort().slice(0, species);
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, i) => {
    for (const f of readdirSync(join(train, c)).sort().slice(0, 2)) {
      files.push(join(train, c, f));
      labels.push(i);
    }
  });
  return { files, labels, classes };
}

/**
 * Fits the tiny classifier on two images of each of six species (preprocessed exactly as the server does) until it
 * labels all of them correctly, for at most `maxSeconds`; saves it with the class names to `dir`.
 */
export async function trainTinyClassifier(
  train: string,
  dir: string,
  maxSeconds: number,
): Promise<{ steps: number; fits: boolean; files: string[]; labels: number[]; classes: string[] }> {
  await selectBackend({ quiet: true });
  const { files, labels, classes } = butterflyImages(train, 6);
  const cfg = tinyClassifierConfig();
  const imgs = await Promise.all(
    files.map((f) => decodeLine(f, { height: cfg.height, width: cfg.width, channels: 3 })),
  );
  const x = tf.tensor4d(Float32Array.from(imgs.flatMap((i) => Array.from(i.data, (v) => v / 255))), [
    files.length,
    cfg.height,
    cfg.width,
    3,
  ]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes.length);
  const model = createClassifier(cfg, classes.length, { seed: 5 });
  const opt = tf.train.adam(5e-3);
  const started = Date.now();
  let steps = 0;
  let fits = false;
  while ((Date.now() - started) / 1000 < maxSeconds) {
    opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.forward(x, true)) as tf.Scalar,
      false,
      model.getWeights(),
    );
    steps++;
    if (steps % 10 === 0) {
      const pred = tf.tidy(() => Array.from(tf.argMax(model.forward(x, false), 1).dataSync()));
      if (pred.every((p, i) => p === labels[i])) {
        fits = true;
        break;
      }
    }
  }
  await model.save(dir, { classes });
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return { steps, fits, files, labels, classes };
}
