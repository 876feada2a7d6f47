// `predict`: image files or folders -> text + confidence, with a saved model (pulled from DVC storage if needed).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, repoRoot } from '@ocrops/common';
import { loadImageForModel } from '@ocrops/data';
import { decodingOfMeta, decodingWith, loadModel, modelFolder, readDecodingLm, selectBackend } from '@ocrops/model';
import { pullWeights } from '@ocrops/versioning';
import { charsetOfModel } from './evaluate.js';
import { decodeLogits } from './evaluate-split.js';
import { frameLengths } from './labels.js';

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif', '.tif', '.tiff']);

/** One prediction; `error` is set (and text empty) when the image could not be read. */
export interface Prediction {
  path: string;
  text: string;
  /** decoder confidence in [0, 1] */
  confidence: number;
  error?: string;
}

/** Expands files and folders (not recursive) into a sorted list of image files. */
export function collectImages(inputs: string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) {
      throw new OcropsError('OCROPS_PREDICT_INPUT', `${input} does not exist`, {
        hint: 'pass image files or folders of images',
      });
    }
    if (statSync(input).isDirectory()) {
      const files = readdirSync(input)
        .filter((f) => IMAGE_EXTS.has(extname(f).toLowerCase()))
        .sort();
      if (files.length === 0) {
        throw new OcropsError('OCROPS_PREDICT_INPUT', `folder ${input} holds no images (${[...IMAGE_EXTS].join(' ')})`);
      }
      out.push(...files.map((f) => join(input, f)));
    } else out.push(input);
  }
  return out;
}

/**
 * The model folder to use: `model` if it exists; otherwise the DVC-tracked output is downloaded into it with
 * @ocrops/versioning's `pullWeights` (from `weights` = a `.dvc` file or a dvc.lock output path, else from
 * `<model>.dvc` or the repository's dvc.lock entry for `model`).
 */
export async function resolveModelDir(
  opts: { model?: string; weights?: string },
  log = (_m: string) => {},
): Promise<string> {
  const model = resolve(opts.model ?? 'models/best');
  if (existsSync(join(model, 'ocrops.json')) || existsSync(join(model, 'model.json'))) return model;
  const w = opts.weights;
  const root = repoRoot();
  const rel = (p: string) => (isAbsolute(p) ? relative(root, p) : p);
  let pull: Parameters<typeof pullWeights>[0];
  if (w && w.endsWith('.dvc')) pull = { dvcFile: resolve(w), dest: model };
  else if (w) pull = { lockPath: join(root, 'dvc.lock'), out: rel(resolve(w)), dest: model };
  else if (existsSync(`${model}.dvc`)) pull = { dvcFile: `${model}.dvc`, dest: model };
  else if (existsSync(join(root, 'dvc.lock')))
    pull = { lockPath: join(root, 'dvc.lock'), out: rel(model), dest: model };
  else {
    throw new OcropsError('OCROPS_PREDICT_MODEL', `model folder ${model} does not exist and no DVC record names it`, {
      hint: 'pass --model <folder written by train/export>, or --weights <file.dvc | dvc.lock output path>',
    });
  }
  log(`pulling weights into ${model} ...`);
  await pullWeights(pull);
  return model;
}

/** Reads the images with a saved model: batches of `batchSize`, padded on the right with white. */
export async function predict(opts: {
  modelDir: string;
  inputs: string[];
  batchSize?: number;
  /** beam width (1 = greedy; default: the decoding the model was validated with) */
  beam?: number;
  /** false: without the model's language model */
  lm?: boolean;
}): Promise<Prediction[]> {
  const files = collectImages(opts.inputs);
  await selectBackend({ quiet: true });
  const { model, meta } = await loadModel(opts.modelDir);
  try {
    const charset = charsetOfModel(meta, opts.modelDir);
    const decode = decodingWith(decodingOfMeta(meta), { beam: opts.beam, lm: opts.lm });
    const lm = readDecodingLm(modelFolder(opts.modelDir), decode, charset.numClasses);
    const { height, channels } = model.config;
    const bs = opts.batchSize ?? 16;
    const results: Prediction[] = [];
    for (let i = 0; i < files.length; i += bs) {
      const chunk = files.slice(i, i + bs);
      const loaded: Array<{ path: string; data: Float32Array; width: number }> = [];
      for (const path of chunk) {
        try {
          // a fixed-width model (resnet18's model.width) takes every image resized to exactly that width
          const img = await loadImageForModel(path, { height, channels, width: model.config.width });
          loaded.push({ path, ...img });
        } catch (err) {
          results.push({ path, text: '', confidence: 0, error: (err as Error).message });
        }
      }
      if (loaded.length === 0) continue;
      const W = Math.max(...loaded.map((l) => l.width));
      const batch = new Float32Array(loaded.length * height * W * channels).fill(1);
      loaded.forEach((l, b) => {
        for (let y = 0; y < height; y++) {
          const src = y * l.width * channels;
          const dst = (b * height + y) * W * channels;
          batch.set(l.data.subarray(src, src + l.width * channels), dst);
        }
      });
      const dec = tf.tidy(() => {
        const logits = model.forward(tf.tensor4d(batch, [loaded.length, height, W, channels]), false);
        const lengths = frameLengths(
          model,
          loaded.map((l) => l.width),
          W,
        );
        return decodeLogits(logits, charset, decode, lengths, lm);
      });
      loaded.forEach((l, b) => results.push({ path: l.path, text: dec.texts[b], confidence: dec.confidence[b] }));
    }
    const order = new Map(files.map((f, i) => [f, i]));
    return results.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  } finally {
    model.dispose();
  }
}
