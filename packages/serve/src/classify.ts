/**
 * Serving image classifiers: images to model inputs as the classifier contract asks (decoded, flattened onto white,
 * resized to exactly width x height, grayscale or RGB, p * scale + offset), batches run on a runtime, and the most
 * probable classes of each image.
 */
import { OcropsError } from '@ocrops/common';
import type { ClassifierContract } from '@ocrops/model/contract';
import type { BatchItem, ItemOutput } from './batcher.js';
import { InputError, decodeToItem, splitPixels } from './preprocess.js';
import type { InferenceRuntime } from './runtime.js';

// the most probable classes of an image: read the same way by every side (the trainer's predict too)
export { topClasses, type TopClass } from '@ocrops/model/contract';

/** Decodes one encoded image (PNG, JPEG, WebP, ...) into a classifier input. `name` names it in errors. */
export async function imageToInput(bytes: Buffer, contract: ClassifierContract, name: string): Promise<BatchItem> {
  const { height, width, channels, normalisation } = contract.input;
  return decodeToItem(bytes, { height, channels, width, maxWidth: width, normalisation }, name);
}

/**
 * Classifier inputs from a pixel tensor [N, height, width, channels] (or one image [height, width, channels]): UINT8
 * bytes are normalised as the contract says; FP32 values are taken as already normalised.
 */
export function pixelsToInputs(
  data: ArrayLike<number>,
  shape: number[],
  datatype: 'UINT8' | 'FP32',
  contract: ClassifierContract,
  inputName: string,
): BatchItem[] {
  const { height, width, channels, normalisation } = contract.input;
  const dims = shape.length === 3 ? [1, ...shape] : shape;
  const expected = `[N, ${height}, ${width}, ${channels}] or [${height}, ${width}, ${channels}]`;
  if (dims.length !== 4 || dims[1] !== height || dims[2] !== width || dims[3] !== channels) {
    throw new InputError(
      400,
      `input '${inputName}' has shape [${shape}]; this classifier takes ${datatype} pixels ${expected} (resize images to ${width} x ${height})`,
    );
  }
  const n = dims[0];
  if (n < 1) throw new InputError(400, `input '${inputName}' has shape [${shape}]: the batch must be >= 1`);
  return splitPixels(data, shape, datatype, inputName, { n, per: height * width * channels, width }, normalisation);
}

/** The classifier contract of a runtime (errors when it serves an OCR model). */
export function classifierContract(runtime: InferenceRuntime): ClassifierContract {
  const c = runtime.contract;
  if (c.task !== 'classify')
    throw new OcropsError('OCROPS_SERVE_RUNTIME', 'this runtime serves an OCR model, not an image classifier');
  return c;
}

/** Runs a batch of classifier inputs; per image, its row of class scores (probabilities or logits, as the contract says). */
export async function runClassifierBatch(
  runtime: InferenceRuntime,
  items: readonly BatchItem[],
): Promise<ItemOutput[]> {
  const c = classifierContract(runtime);
  const { height, width, channels } = c.input;
  const per = height * width * channels;
  const data = new Float32Array(items.length * per);
  items.forEach((item, b) => data.set(item.pixels, b * per));
  const out = await runtime.infer(data, [items.length, height, width, channels]);
  const [B, K] = out.dims;
  if (out.dims.length !== 2 || B !== items.length || K !== c.numClasses) {
    throw new OcropsError(
      'OCROPS_SERVE_RUNTIME',
      `the classifier returned [${out.dims}] for ${items.length} images; expected [${items.length}, ${c.numClasses}]`,
    );
  }
  return items.map((_, b) => ({ data: out.data, offset: b * K, frames: 1, classes: K, batchSize: B }));
}

/** Probabilities of one image's output row: as they are, or the softmax of logits. */
export function probabilitiesOf(out: ItemOutput, kind: 'probabilities' | 'logits'): Float32Array {
  const row = out.data.subarray(out.offset, out.offset + out.classes);
  if (kind === 'probabilities') return row;
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  const p = new Float32Array(row.length);
  let sum = 0;
  for (let k = 0; k < row.length; k++) sum += p[k] = Math.exp(row[k] - max);
  for (let k = 0; k < row.length; k++) p[k] /= sum;
  return p;
}

/** A request's top-k (`top_k` parameter or query): an integer in 1..numClasses; absent = the contract's default. */
export function parseTopK(v: unknown, contract: ClassifierContract, what = 'top_k'): number {
  if (v === undefined || v === '') return contract.topK;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > contract.numClasses) {
    throw new InputError(
      400,
      `${what} must be an integer in 1..${contract.numClasses} (the number of classes), got ${JSON.stringify(v)}`,
    );
  }
  return n;
}
