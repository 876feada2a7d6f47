/**
 * Saving and loading models: `model.json` (TensorFlow.js weights manifest), `weights.bin` (little-endian float32,
 * tfjs layout) and `ocrops.json` (model config, class count and the caller's metadata such as the charset).
 * A saved model loads and predicts on any backend.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { parseModelConfig, type ModelConfig } from './config.js';
import { createModel, type OcrModel } from './model.js';

export const MODEL_FORMAT = 'ocrops-crnn/1';

/** Contents of `ocrops.json`. Callers' metadata (charset, input size, training summary, ...) sits beside these keys. */
export interface ModelMeta {
  format: string;
  config: ModelConfig;
  numClasses: number;
  savedAt: string;
  tfjsVersion: string;
  [key: string]: unknown;
}

/** Writes a model to `dir` (created if needed). `meta` keys must not be `format`, `config` or `numClasses`. */
export async function saveModel(model: OcrModel, dir: string, meta: Record<string, unknown> = {}): Promise<void> {
  const full: ModelMeta = {
    ...meta,
    format: MODEL_FORMAT,
    config: model.config,
    numClasses: model.numClasses,
    savedAt: new Date().toISOString(),
    tfjsVersion: tf.version.tfjs,
  };
  await writeModelFiles(model.namedWeights(), dir, full);
}

/** Writes `model.json` (tfjs weights manifest), `weights.bin` and `ocrops.json` (`meta`) into `dir` (created if needed). */
export async function writeModelFiles(
  weights: Map<string, tf.Variable>,
  dir: string,
  meta: Record<string, unknown>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of weights) named[name] = v;
  const { data, specs } = await tf.io.encodeWeights(named);
  const manifest = {
    format: meta.format,
    generatedBy: `ocrops (tfjs ${tf.version.tfjs})`,
    modelTopology: null,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  await writeFile(join(dir, 'weights.bin'), Buffer.from(data));
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(join(dir, 'ocrops.json'), JSON.stringify(meta, null, 2) + '\n');
}

/** Reads a JSON file of a model folder (errors name the file). */
export async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new OcropsError('OCROPS_MODEL_LOAD', `cannot read ${path}: ${(err as Error).message}`, {
      hint: 'pass the folder written by model.save() / ocrops trainer train (it holds model.json, weights.bin, ocrops.json)',
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new OcropsError('OCROPS_MODEL_LOAD', `${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Loads a model saved by {@link saveModel}; weights are checked by name and shape against the config.
 * `dir` may also be a training run's output folder: its `best/` model is loaded then.
 */
export async function loadModel(dir: string): Promise<{ model: OcrModel; meta: ModelMeta }> {
  dir = modelFolder(dir);
  const metaPath = join(dir, 'ocrops.json');
  const meta = (await readJson(metaPath)) as ModelMeta;
  if (meta.format !== MODEL_FORMAT) {
    const hint =
      meta.task === 'classify'
        ? { hint: 'this folder holds an image classifier: load it with loadClassifier(dir) or loadTaskModel(dir)' }
        : undefined;
    throw new OcropsError(
      'OCROPS_MODEL_LOAD',
      `${metaPath}: format '${String(meta.format)}' is not ${MODEL_FORMAT}`,
      hint,
    );
  }
  const config = parseModelConfig(meta.config, `${metaPath} (config)`);
  const model = createModel(config, meta.numClasses);
  await assignWeights(model.namedWeights(), dir, () => model.dispose());
  return { model, meta: { ...meta, config } };
}

/** The model folder of `dir`: itself, or its `best/` when `dir` is a training run's output folder. */
export function modelFolder(dir: string): string {
  return !existsSync(join(dir, 'ocrops.json')) && existsSync(join(dir, 'best', 'ocrops.json'))
    ? join(dir, 'best')
    : dir;
}

/**
 * The weights of the model folder `dir`, by name (`weights.bin` read through its `model.json` manifest). The caller
 * owns (and disposes) the tensors.
 */
export async function readWeights(dir: string): Promise<tf.NamedTensorMap> {
  const manifest = await readJson(join(dir, 'model.json'));
  const groups = manifest.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (!Array.isArray(groups))
    throw new OcropsError('OCROPS_MODEL_LOAD', `${join(dir, 'model.json')}: no weightsManifest`);
  const tensors: tf.NamedTensorMap = {};
  try {
    for (const g of groups) {
      const bufs = await Promise.all(g.paths.map((p) => readFile(join(dir, p))));
      const buf = Buffer.concat(bufs);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      Object.assign(tensors, tf.io.decodeWeights(ab, g.weights));
    }
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw new OcropsError('OCROPS_MODEL_LOAD', `${dir}: cannot read its weights: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return tensors;
}

/**
 * Reads `weights.bin` of `dir` into `vars`, checking names and shapes; calls `dispose` (the half-loaded model's)
 * before rethrowing an error.
 */
export async function assignWeights(vars: Map<string, tf.Variable>, dir: string, dispose: () => void): Promise<void> {
  let tensors: tf.NamedTensorMap = {};
  try {
    tensors = await readWeights(dir);
    for (const [name, v] of vars) {
      const t = tensors[name];
      if (!t) throw new OcropsError('OCROPS_MODEL_LOAD', `${dir}: weight '${name}' is missing from weights.bin`);
      if (t.shape.join(',') !== v.shape.join(',')) {
        throw new OcropsError(
          'OCROPS_MODEL_LOAD',
          `${dir}: weight '${name}' has shape [${t.shape}], the config needs [${v.shape}]`,
        );
      }
      v.assign(t);
    }
  } catch (err) {
    dispose();
    throw err;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
