/**
 * The Open Inference Protocol (KServe v2) infer request and response, in JSON and with the binary tensor extension
 * (`Inference-Header-Content-Length`: a JSON header followed by the raw tensor bytes; BYTES elements are each a
 * 4-byte little-endian length and the bytes), which the official tritonclient uses by default.
 */
import type { ModelContract } from '@ocrops/model/contract';
import type { BatchItem } from './batcher.js';
import type { LineText } from './decode.js';
import { InputError, imageToLine, pixelsToLines } from './preprocess.js';

/** Outputs a model serves, with their datatype. `char_confidence` is sent only when asked for. */
export const OIP_OUTPUTS = { text: 'BYTES', confidence: 'FP32', char_confidence: 'FP32' } as const;
export type OipOutputName = keyof typeof OIP_OUTPUTS;
const INPUT_TYPES = ['BYTES', 'UINT8', 'FP32'] as const;

/** One input tensor of a request, its data as JSON values or binary bytes. */
export interface RawInput {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  binary?: Buffer;
}

/** A checked infer request. */
export interface InferRequest {
  id?: string;
  inputName: string;
  /** the lines to read, in order */
  lines: () => Promise<BatchItem[]>;
  outputs: OipOutputName[];
  /** output names sent as binary tensors */
  binaryOutputs: Set<OipOutputName>;
  beam?: number;
}

export function obj(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(400, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function flat(v: unknown): unknown[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

/** Splits a binary-extension body into its JSON header and the binary part. */
export function splitBody(body: Buffer, headerLength: string | undefined): { header: unknown; binary: Buffer } {
  let jsonLen = body.length;
  if (headerLength !== undefined) {
    jsonLen = Number(headerLength);
    if (!Number.isInteger(jsonLen) || jsonLen < 0 || jsonLen > body.length) {
      throw new InputError(
        400,
        `Inference-Header-Content-Length is ${headerLength}, the body has ${body.length} bytes`,
      );
    }
  }
  if (jsonLen === 0) throw new InputError(400, 'empty request body: send {"inputs": [...]}');
  let header: unknown;
  try {
    header = JSON.parse(body.subarray(0, jsonLen).toString('utf8'));
  } catch (err) {
    throw new InputError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
  return { header, binary: body.subarray(jsonLen) };
}

/** Elements of a BYTES tensor sent as binary: each a uint32 LE length and that many bytes. */
export function readBinaryBytes(buf: Buffer, name: string): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 4 > buf.length) throw new InputError(400, `binary BYTES input '${name}' ends inside an element length`);
    const n = buf.readUInt32LE(p);
    if (p + 4 + n > buf.length)
      throw new InputError(400, `binary BYTES input '${name}' has an element of ${n} bytes past the end of the data`);
    out.push(buf.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return out;
}

/** Encodes BYTES elements as binary (uint32 LE length + bytes each). */
export function writeBinaryBytes(items: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const b of items) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    parts.push(len, b);
  }
  return Buffer.concat(parts);
}

export function parseInput(v: unknown, i: number, binary: Buffer, cursor: { at: number }): RawInput {
  const o = obj(v, `inputs[${i}]`);
  const name = typeof o.name === 'string' ? o.name : '';
  if (!name) throw new InputError(400, `inputs[${i}] has no name`);
  const datatype = String(o.datatype ?? '');
  if (!(INPUT_TYPES as readonly string[]).includes(datatype)) {
    throw new InputError(
      400,
      `input '${name}' has datatype ${JSON.stringify(o.datatype)}; this model takes BYTES (encoded images), UINT8 or FP32 (pixels)`,
    );
  }
  if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
    throw new InputError(400, `input '${name}' has no valid shape (a list of non-negative integers)`);
  }
  const raw: RawInput = { name, shape: o.shape as number[], datatype };
  const size = (o.parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
  if (size !== undefined) {
    if (!Number.isInteger(size) || (size as number) < 0 || cursor.at + (size as number) > binary.length) {
      throw new InputError(
        400,
        `input '${name}' says binary_data_size ${String(size)}, but only ${binary.length - cursor.at} binary bytes follow`,
      );
    }
    raw.binary = binary.subarray(cursor.at, cursor.at + (size as number));
    cursor.at += size as number;
  } else if (o.data === undefined) {
    throw new InputError(400, `input '${name}' has no data`);
  } else raw.data = o.data;
  return raw;
}

export function encodedImages(input: RawInput): Buffer[] {
  const n = input.shape.reduce((a, b) => a * b, 1);
  if (input.shape.length < 1 || input.shape.length > 2 || (input.shape.length === 2 && input.shape[1] !== 1)) {
    throw new InputError(
      400,
      `BYTES input '${input.name}' has shape [${input.shape}]; send encoded images as shape [N] or [N, 1]`,
    );
  }
  let images: Buffer[];
  if (input.binary) images = readBinaryBytes(input.binary, input.name);
  else {
    images = flat(input.data).map((d, k) => {
      if (typeof d !== 'string')
        throw new InputError(
          400,
          `BYTES input '${input.name}' element ${k} is not a string (send images base64-encoded in JSON)`,
        );
      return Buffer.from(d, 'base64');
    });
  }
  if (images.length !== n)
    throw new InputError(
      400,
      `BYTES input '${input.name}' holds ${images.length} elements; its shape [${input.shape}] needs ${n}`,
    );
  if (n === 0) throw new InputError(400, `input '${input.name}' holds no images`);
  return images;
}

export function pixelValues(input: RawInput): ArrayLike<number> {
  if (input.binary) {
    const b = input.binary;
    if (input.datatype === 'UINT8') return new Uint8Array(b.buffer, b.byteOffset, b.length);
    if (b.length % 4 !== 0)
      throw new InputError(400, `FP32 input '${input.name}' has ${b.length} binary bytes, not a multiple of 4`);
    const copy = new Float32Array(b.length / 4);
    for (let i = 0; i < copy.length; i++) copy[i] = b.readFloatLE(i * 4);
    return copy;
  }
  const values = flat(input.data);
  if (values.some((v) => typeof v !== 'number'))
    throw new InputError(400, `${input.datatype} input '${input.name}' holds non-numbers`);
  if (
    input.datatype === 'UINT8' &&
    values.some((v) => !Number.isInteger(v) || (v as number) < 0 || (v as number) > 255)
  ) {
    throw new InputError(400, `UINT8 input '${input.name}' holds values outside 0..255`);
  }
  return values as number[];
}

/** The parts of an infer request every served task shares: the request object, its id, one input and parameters. */
export interface RequestEnvelope {
  req: Record<string, unknown>;
  id?: string;
  input: RawInput;
  params: Record<string, unknown>;
}

/**
 * Checks the envelope of an infer request body (JSON, or the binary extension when `headerLength` is set): exactly one
 * input (BYTES encoded images, or a UINT8/FP32 pixel tensor). `served` names the model in errors ("this model").
 */
export function parseEnvelope(
  body: Buffer | undefined,
  headerLength: string | undefined,
  served: string,
): RequestEnvelope {
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
      `the request has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); ${served} takes one: encoded images (BYTES) or pixels (UINT8/FP32)`,
    );
  }
  const params = req.parameters === undefined ? {} : obj(req.parameters, "the request's parameters");
  return { req, id: typeof req.id === 'string' ? req.id : undefined, input: inputs[0], params };
}

/**
 * The outputs a request asks for (`defaults` when it names none) and those to send as binary tensors
 * (`binary_data` per output, or `binary_data_output` for all). `known` maps the served output names to their datatype.
 */
export function parseOutputs<O extends string>(
  envelope: RequestEnvelope,
  known: Readonly<Record<O, string>>,
  defaults: readonly O[],
  served: string,
): { outputs: O[]; binaryOutputs: Set<O> } {
  const { req, params } = envelope;
  const binaryAll = params.binary_data_output === true;
  let outputs: O[] = [...defaults];
  const binaryOutputs = new Set<O>();
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new InputError(400, "'outputs' must be a list of {name}");
    outputs = req.outputs.map((v, i) => {
      const o = obj(v, `outputs[${i}]`);
      const name = String(o.name);
      if (!(name in known))
        throw new InputError(400, `unknown output '${name}'; ${served} has outputs ${Object.keys(known).join(', ')}`);
      if ((o.parameters as { binary_data?: unknown } | undefined)?.binary_data === true || binaryAll)
        binaryOutputs.add(name as O);
      return name as O;
    });
  } else if (binaryAll) outputs.forEach((o) => binaryOutputs.add(o));
  return { outputs, binaryOutputs };
}

/**
 * The batch items of a request's input, made as `contract` asks: each encoded image (BYTES) through `fromImage`, or a
 * pixel tensor (UINT8/FP32) through `fromPixels`.
 */
export async function inputItems<C>(
  input: RawInput,
  contract: C,
  fromImage: (bytes: Buffer, contract: C, name: string) => Promise<BatchItem>,
  fromPixels: (
    data: ArrayLike<number>,
    shape: number[],
    datatype: 'UINT8' | 'FP32',
    contract: C,
    inputName: string,
  ) => BatchItem[],
): Promise<BatchItem[]> {
  if (input.datatype === 'BYTES') {
    const images = encodedImages(input);
    return Promise.all(images.map((img, k) => fromImage(img, contract, `input '${input.name}' element ${k}`)));
  }
  return fromPixels(pixelValues(input), input.shape, input.datatype as 'UINT8' | 'FP32', contract, input.name);
}

/**
 * Checks an infer request body (JSON, or the binary extension when `headerLength` is set) against the model:
 * exactly one input (BYTES encoded images, or a UINT8/FP32 pixel tensor), known output names, `parameters.beam`.
 */
export function parseInferRequest(
  body: Buffer | undefined,
  headerLength: string | undefined,
  contract: ModelContract,
): InferRequest {
  const envelope = parseEnvelope(body, headerLength, 'this model');
  const { id, input, params } = envelope;
  let beam: number | undefined;
  if (params.beam !== undefined) {
    beam = Number(params.beam);
    if (!Number.isInteger(beam) || beam < 1 || beam > 100)
      throw new InputError(400, `parameter beam must be an integer in 1..100, got ${JSON.stringify(params.beam)}`);
  }
  const { outputs, binaryOutputs } = parseOutputs(envelope, OIP_OUTPUTS, ['text', 'confidence'], 'this model');
  return {
    id,
    inputName: input.name,
    lines: () => inputItems(input, contract, imageToLine, pixelsToLines),
    outputs,
    binaryOutputs,
    beam,
  };
}

/** One output tensor of a response. */
export interface OutTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size: number };
}

/** The infer response: JSON, or JSON header + binary tensors when any output was asked for as binary. */
export function inferResponse(
  req: InferRequest,
  results: LineText[],
  model: { name: string; version: string },
): { body: Buffer | Record<string, unknown>; headerLength?: number } {
  const n = results.length;
  const longest = Math.max(0, ...results.map((r) => r.chars.length));
  const tensors: Array<{ t: OutTensor; bin: () => Buffer; json: () => unknown[] }> = req.outputs.map((name) => {
    if (name === 'text') {
      return {
        t: { name, datatype: 'BYTES', shape: [n] },
        bin: () => writeBinaryBytes(results.map((r) => Buffer.from(r.text, 'utf8'))),
        json: () => results.map((r) => r.text),
      };
    }
    if (name === 'confidence') {
      const v = Float32Array.from(results, (r) => r.confidence);
      return { t: { name, datatype: 'FP32', shape: [n] }, bin: () => Buffer.from(v.buffer), json: () => Array.from(v) };
    }
    // per-character confidences [N, longest transcript], -1 past the end of a line's transcript
    const v = new Float32Array(n * longest).fill(-1);
    results.forEach((r, i) => r.chars.forEach((c, k) => (v[i * longest + k] = c.confidence)));
    return {
      t: { name, datatype: 'FP32', shape: [n, longest] },
      bin: () => Buffer.from(v.buffer),
      json: () => Array.from(v),
    };
  });
  return encodeResponse(req.id, req.binaryOutputs as Set<string>, tensors, model);
}

/**
 * An infer response from its output tensors: JSON, or JSON header + binary tensors (the outputs in `binaryOutputs`)
 * with the header length to send as `Inference-Header-Content-Length`.
 */
export function encodeResponse(
  id: string | undefined,
  binaryOutputs: Set<string>,
  tensors: Array<{ t: OutTensor; bin: () => Buffer; json: () => unknown[] }>,
  model: { name: string; version: string },
): { body: Buffer | Record<string, unknown>; headerLength?: number } {
  const base: Record<string, unknown> = { model_name: model.name, model_version: model.version };
  if (id !== undefined) base.id = id;
  if (binaryOutputs.size === 0) {
    return { body: { ...base, outputs: tensors.map((x) => ({ ...x.t, data: x.json() })) } };
  }
  const chunks: Buffer[] = [];
  const outputs = tensors.map((x) => {
    if (!binaryOutputs.has(x.t.name)) return { ...x.t, data: x.json() };
    const b = x.bin();
    chunks.push(b);
    return { ...x.t, parameters: { binary_data_size: b.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...base, outputs }), 'utf8');
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}
