/**
 * The Open Inference Protocol infer request and response of an image classifier: one input (BYTES encoded images, or a
 * UINT8/FP32 pixel tensor [N, height, width, channels]); outputs `label` BYTES [N, k] (class names, most probable
 * first) and `probability` FP32 [N, k] (their probabilities), k = the `top_k` request parameter (default: the
 * contract's topK). JSON and the binary tensor extension, as for OCR models (oip.ts).
 */
import type { ClassifierContract } from '@ocrops/model/contract';
import type { BatchItem } from './batcher.js';
import { imageToInput, parseTopK, pixelsToInputs, type TopClass } from './classify.js';
import { encodeResponse, inputItems, parseEnvelope, parseOutputs, writeBinaryBytes, type OutTensor } from './oip.js';

/** Outputs a classifier serves, with their datatype. */
export const OIP_CLASSIFIER_OUTPUTS = { label: 'BYTES', probability: 'FP32' } as const;
export type OipClassifierOutput = keyof typeof OIP_CLASSIFIER_OUTPUTS;

/** A checked classifier infer request. */
export interface ClassifyRequest {
  id?: string;
  inputName: string;
  /** the images to classify, in order */
  items: () => Promise<BatchItem[]>;
  outputs: OipClassifierOutput[];
  binaryOutputs: Set<OipClassifierOutput>;
  topK: number;
}

/** Checks a classifier infer request body (JSON, or the binary extension when `headerLength` is set). */
export function parseClassifyRequest(
  body: Buffer | undefined,
  headerLength: string | undefined,
  contract: ClassifierContract,
): ClassifyRequest {
  const envelope = parseEnvelope(body, headerLength, 'this classifier');
  const { id, input, params } = envelope;
  const topK = parseTopK(params.top_k, contract, 'parameter top_k');
  const { outputs, binaryOutputs } = parseOutputs(
    envelope,
    OIP_CLASSIFIER_OUTPUTS,
    ['label', 'probability'],
    'this classifier',
  );
  return {
    id,
    inputName: input.name,
    items: () => inputItems(input, contract, imageToInput, pixelsToInputs),
    outputs,
    binaryOutputs,
    topK,
  };
}

/** The infer response of a classifier: per image its top-k labels and probabilities, [N, k] each. */
export function classifyResponse(
  req: ClassifyRequest,
  results: TopClass[][],
  model: { name: string; version: string },
): { body: Buffer | Record<string, unknown>; headerLength?: number } {
  const n = results.length;
  const k = req.topK;
  const tensors = req.outputs.map((name): { t: OutTensor; bin: () => Buffer; json: () => unknown[] } => {
    if (name === 'label') {
      const labels = results.flatMap((r) => r.map((c) => c.label));
      return {
        t: { name, datatype: 'BYTES', shape: [n, k] },
        bin: () => writeBinaryBytes(labels.map((l) => Buffer.from(l, 'utf8'))),
        json: () => labels,
      };
    }
    const v = Float32Array.from(results.flatMap((r) => r.map((c) => c.p)));
    return {
      t: { name, datatype: 'FP32', shape: [n, k] },
      bin: () => Buffer.from(v.buffer),
      json: () => Array.from(v),
    };
  });
  return encodeResponse(req.id, req.binaryOutputs as Set<string>, tensors, model);
}
