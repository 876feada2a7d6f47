// `predict` with an image classifier: image files or folders -> the most probable classes of each image.
import * as tf from '@tensorflow/tfjs';
import { loadClassImage } from '@ocrops/data';
import { loadClassifier, selectBackend, topClasses, type TopClass } from '@ocrops/model';
import { collectImages } from './predict.js';

/** One image's classes, most probable first; `error` is set (and `top` empty) when the image could not be read. */
export interface ClassPrediction {
  path: string;
  top: TopClass[];
  error?: string;
}

/** Classifies the images with a saved classifier: each resized to the model's input, batches of `batchSize`. */
export async function predictClasses(opts: {
  modelDir: string;
  inputs: string[];
  batchSize?: number;
  /** classes per image (default 1) */
  topK?: number;
}): Promise<ClassPrediction[]> {
  const files = collectImages(opts.inputs);
  await selectBackend({ quiet: true });
  const { model, meta } = await loadClassifier(opts.modelDir);
  try {
    const { height, width, channels } = model.config;
    const k = Math.min(Math.max(opts.topK ?? 1, 1), meta.classes.length);
    const bs = opts.batchSize ?? 16;
    const results: ClassPrediction[] = [];
    for (let i = 0; i < files.length; i += bs) {
      const loaded: Array<{ path: string; pixels: Float32Array }> = [];
      for (const path of files.slice(i, i + bs)) {
        try {
          loaded.push({ path, pixels: await loadClassImage(path, { height, width, channels }) });
        } catch (err) {
          results.push({ path, top: [], error: (err as Error).message });
        }
      }
      if (loaded.length === 0) continue;
      const per = height * width * channels;
      const batch = new Float32Array(loaded.length * per);
      loaded.forEach((l, b) => batch.set(l.pixels, b * per));
      const probs = tf.tidy(() =>
        tf.softmax(model.forward(tf.tensor4d(batch, [loaded.length, height, width, channels]), false)),
      );
      const p = await probs.data();
      probs.dispose();
      const K = meta.classes.length;
      loaded.forEach((l, b) =>
        results.push({ path: l.path, top: topClasses(p.subarray(b * K, (b + 1) * K), meta.classes, k) }),
      );
    }
    const order = new Map(files.map((f, i) => [f, i]));
    return results.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  } finally {
    model.dispose();
  }
}
