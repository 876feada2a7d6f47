/**
 * Inference runtimes: a loaded model that turns a padded batch of preprocessed lines into output frames (OCR), or a
 * batch of fixed-size images into class scores (image classifiers).
 * `onnx` runs the exported `.onnx` graph on onnxruntime-node; `tfjs` runs ocrops's own forward pass of a saved model
 * folder on TensorFlow.js (native TensorFlow when built). Both follow the model's contract (`ocrops-model.json`).
 */
import { OcropsError } from '@ocrops/common';
import { frameLengthsForBatch, type CharNgramLm, type ModelContract, type TaskContract } from '@ocrops/model/contract';
import type { BatchItem, ItemOutput } from './batcher.js';

export type RuntimeName = 'onnx' | 'tfjs';
export const RUNTIMES: readonly RuntimeName[] = ['onnx', 'tfjs'];

/** A model ready to run: its contract and a function from an input tensor to output frames. */
export interface InferenceRuntime {
  readonly name: RuntimeName;
  /** The model's contract: an OCR model's or an image classifier's (`task`). */
  readonly contract: TaskContract;
  /** e.g. "onnxruntime-node 1.30.0" or "tfjs 4.22.0 (tensorflow)" */
  readonly detail: string;
  /** batches this runtime can run at the same time (one per session) */
  readonly parallel: number;
  /** the character language model the contract's beam search fuses (`decoding.lm`), read from the model folder */
  lm?: CharNgramLm;
  /**
   * @param input batch in the contract's layout (NHWC [B,H,W,C] or NCHW [B,C,H,W]), float32
   * @returns OCR: output [B,T,classes] float32 (logits or log-probabilities, as the contract says); classifiers:
   * [B,classes] (probabilities or logits, as the contract's first output says)
   */
  infer(input: Float32Array, dims: [number, number, number, number]): Promise<{ data: Float32Array; dims: number[] }>;
  dispose(): Promise<void>;
}

/** Width of a batch: the widest line, at least the contract's minimum, rounded up to its multiple. */
export function batchWidth(contract: ModelContract, widths: readonly number[]): number {
  const { min, multiple } = contract.input.width;
  const w = Math.max(min, ...widths);
  return Math.ceil(w / multiple) * multiple;
}

/** Packs lines [H, w_i, C] into one padded batch in the contract's layout. */
export function packBatch(
  contract: ModelContract,
  items: readonly BatchItem[],
): { data: Float32Array; dims: [number, number, number, number]; width: number } {
  const { height: H, channels: C, layout, padValue } = contract.input;
  const W = batchWidth(
    contract,
    items.map((i) => i.width),
  );
  const B = items.length;
  const data = new Float32Array(B * H * W * C).fill(padValue);
  items.forEach((item, b) => {
    const w = item.width;
    if (layout === 'NHWC') {
      for (let y = 0; y < H; y++) data.set(item.pixels.subarray(y * w * C, (y + 1) * w * C), (b * H + y) * W * C);
    } else {
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          const dst = ((b * C + c) * H + y) * W;
          for (let x = 0; x < w; x++) data[dst + x] = item.pixels[(y * w + x) * C + c];
        }
      }
    }
  });
  const dims: [number, number, number, number] = layout === 'NHWC' ? [B, H, W, C] : [B, C, H, W];
  return { data, dims, width: W };
}

/** Runs one batch of lines on a runtime and splits the output into each line's own frames. */
export async function runBatch(runtime: InferenceRuntime, items: readonly BatchItem[]): Promise<ItemOutput[]> {
  const contract = runtime.contract;
  if (contract.task === 'classify')
    throw new OcropsError(
      'OCROPS_SERVE_RUNTIME',
      'runBatch reads text lines; an image classifier runs with runClassifierBatch',
    );
  const { data, dims, width } = packBatch(contract, items);
  const out = await runtime.infer(data, dims);
  const [B, T, K] = out.dims;
  if (out.dims.length !== 3 || B !== items.length || K !== contract.numClasses) {
    throw new OcropsError(
      'OCROPS_SERVE_RUNTIME',
      `the model returned [${out.dims}] for ${items.length} lines; expected [${items.length}, T, ${contract.numClasses}]`,
    );
  }
  const lengths = frameLengthsForBatch(
    contract.decoding.frames,
    items.map((i) => i.width),
    width,
  );
  return items.map((_, b) => ({
    data: out.data,
    offset: b * T * K,
    frames: Math.min(T, lengths[b]),
    classes: K,
    batchSize: B,
  }));
}
