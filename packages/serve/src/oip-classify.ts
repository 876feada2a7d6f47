/**
 * The Open Inference Protocol infer request and response of an image classifier: one input (BYTES encoded images, or a
 * UINT8/FP32 pixel tensor [N, height, width, channels]); outputs `label` BYTES [N, k] (class names, most probable
 * first) and `probability` FP32 [N, k] (their probabilities), k = the `top_k` request parameter (default: the
 * contract's topK). JSON and the binary tensor extension, as for OCR models (oip.ts).
 */
import type { ClassifierContract } from '@ocrops/model/contract';
import type { BatchItem } from './batcher.js';
import { imageToInput, parseTopK, pixelsToInputs, type TopClass } from './classify.js';
import {
  encodeResponse,
  encodedImages,
  obj,
  parseInput,
  pixelValues,
  splitBody,
  writeBinaryBytes,
  type OutTensor,
} from './oip.js';
import { InputError } from './preprocess.js';

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
  if (!body || body.length === 0) throw new InputError(400, 'empty request body: send {"inputs": [...]}');
  const { header, binary } = splitBody(body, headerLength);
  const req = obj(header, 'the request body');
  if (!Array.isArray(req.inputs) || req.inputs.length === 0)
    throw new InputError(400, "the request has no 'inputs' list");
  const cursor = { at: 0 };
  const inputs = req.inputs.map((v, i) => parseInput(v, i, binary, cursor));
  if (inputs.length !== 1) {
    throw new InputError(
      400,
      `the request has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); this classifier takes one: encoded images (BYTES) or pixels (UINT8/FP32)`,
    );
  }
  const input = inputs[0];
  const params = req.parameters === undefined ? {} : obj(req.parameters, "the request's parameters");
  const topK = parseTopK(params.top_k, contract, 'parameter top_k');
  const binaryAll = params.binary_data_output === true;
  let outputs: OipClassifierOutput[] = ['label', 'probability'];
  const binaryOutputs = new Set<OipClassifierOutput>();
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new InputError(400, "'outputs' must be a list of {name}");
    outputs = req.outputs.map((v, i) => {
      const o = obj(v, `outputs[${i}]`);
      const name = String(o.name);
      if (!(name in OIP_CLASSIFIER_OUTPUTS))
        throw new InputError(
          400,
          `unknown output '${name}'; this classifier has outputs ${Object.keys(OIP_CLASSIFIER_OUTPUTS).join(', ')}`,
        );
      if ((o.parameters as { binary_data?: unknown } | undefined)?.binary_data === true || binaryAll)
        binaryOutputs.add(name as OipClassifierOutput);
      return name as OipClassifierOutput;
    });
  } else if (binaryAll) outputs.forEach((o) => binaryOutputs.add(o));
  const items = async (): Promise<BatchItem[]> => {
    if (input.datatype === 'BYTES') {
      const images = encodedImages(input);
      return Promise.all(images.map((img, k) => imageToInput(img, contract, `input '${input.name}' element ${k}`)));
    }
    return pixelsToInputs(pixelValues(input), input.shape, input.datatype as 'UINT8' | 'FP32', contract, input.name);
  };
  return {
    id: typeof req.id === 'string' ? req.id : undefined,
    inputName: input.name,
    items,
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
