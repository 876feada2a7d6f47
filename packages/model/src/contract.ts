/**
 * The preprocessing and decoding contract of an exported model (`ocrops-model.json`, written beside `model.onnx`
 * and the `tfjs/` folder by `ocrops trainer export`): what a client must do to the pixels before running the graph, what
 * the graph returns, and how to turn its output into text. Everything a server or another language needs to serve the
 * model without ocrops. Two kinds: OCR models (`task: 'ocr'`, or no `task` in files written before classifiers
 * existed; {@link ModelContract}) and image classifiers (`task: 'classify'`; {@link ClassifierContract}).
 *
 * This module imports no TensorFlow: `@ocrops/model/contract` loads it alone (a server can read and check contracts
 * cheaply); it is also exported from @ocrops/model's index.
 */
import { readFileSync } from 'node:fs';
import { OcropsError } from '@ocrops/common';
import { ARCHS, parseModelConfig, type Arch, type ModelConfig } from './config.js';

// the language model a beam search decoding may name (`decoding.lm`): read without TensorFlow too
export { CharNgramLm, LM_FILE, readDecodingLm } from './char-lm.js';
import {
  CLASSIFIER_ARCHS,
  parseClassifierConfig,
  type ClassifierArch,
  type ClassifierConfig,
} from './classifier-config.js';

/** File name of the contract in an export folder. */
export const CONTRACT_FILE = 'ocrops-model.json';
/** Value of `format` in contracts this version writes and reads. */
export const CONTRACT_FORMAT = 'ocrops-model/1';
/** File name of the ONNX graph in an export folder. */
export const ONNX_FILE = 'model.onnx';
/**
 * ocrops's own TensorFlow.js files in an export folder: `model.json` (a tfjs weights manifest with no topology),
 * `weights.bin` and `ocrops.json`, loaded by @ocrops/model's `loadModel(folder)` (not by tf.loadLayersModel or
 * tf.loadGraphModel: the architecture is ocrops's code).
 */
export const TFJS_FILE = 'model.json';

/**
 * One step of the frame-count rule, applied to the input width in order:
 * `floorDiv`: w = floor(w / by); `ceilDiv`: w = ceil(w / by); `add`: w = w + value; `const`: w = value (the graph
 * gives this many frames whatever the width: models with a fixed input width).
 */
export type FrameStep =
  | { op: 'floorDiv'; by: number }
  | { op: 'ceilDiv'; by: number }
  | { op: 'add'; value: number }
  | { op: 'const'; value: number };

/** Input tensor of the graph and how to build it from an image. */
export interface ContractInput {
  /** Input name in the ONNX graph / tfjs graph model. */
  name: string;
  /** Axis order of the input tensor: NHWC = [batch, height, width, channels], NCHW = [batch, channels, height, width]. */
  layout: 'NHWC' | 'NCHW';
  dtype: 'float32';
  /**
   * Images are resized to this height (px), keeping the aspect ratio: width = round(srcWidth * height / srcHeight);
   * unless `width.fixed` is set: then to exactly width.fixed x height (aspect ratio ignored).
   */
  height: number;
  /** 1 = grayscale (luma 0.299 R + 0.587 G + 0.114 B), 3 = RGB. Transparent pixels are flattened onto white first. */
  channels: 1 | 3;
  /** How a pixel byte p (0 = black, 255 = white) becomes the float fed to the graph: p * scale + offset. */
  normalisation: { scale: number; offset: number };
  /**
   * Whether the model computes on 1 - x (ink bright on a dark background). The graph (and ocrops's forward pass) does
   * this itself as its first operation: clients feed the normalised pixels as they are and never invert them.
   */
  invert: boolean;
  /** Width rules (px): batches are padded on the right with `padValue` to the widest line. */
  width: {
    /**
     * Present when the graph takes one width only (resnet18): every image is resized to exactly this width (then
     * min = max = fixed and no padding happens). Absent: any width from `min` on.
     */
    fixed?: number;
    /** Narrowest input the graph accepts (at least one output frame); pad narrower lines on the right. */
    min: number;
    /** Widths must be a multiple of this (1 = any width). */
    multiple: number;
    /** Lines wider than this were squeezed to it in training (the graph itself accepts any width). */
    max: number;
  };
  /** Float value of padding (after normalisation): 1 = white. */
  padValue: number;
}

/** Output tensor of the graph. */
export interface ContractOutput {
  name: string;
  /** Meaning of each axis, in order: always ['batch', 'frames', 'classes']. */
  axes: ['batch', 'frames', 'classes'];
  dtype: 'float32';
  /** `logits`: pre-softmax scores (apply log-softmax over `classes` for CTC decoding); `log_probs`: already normalised. */
  kind: 'logits' | 'log_probs';
}

/** A CTC decoding choice: the train config's `decode`, the one a model was validated with, a command's `--beam`. */
export interface CtcDecoding {
  /** `greedy` (argmax per frame, collapse repeats, drop blanks) or `beam` (CTC prefix beam search). */
  method: 'greedy' | 'beam';
  /** prefixes the beam search keeps per frame (greedy decoding ignores it) */
  beamWidth: number;
  /** beam search only: a character language model fused into the search (absent: none) */
  lm?: LmDecoding;
}

/** The character language model of a beam search: its file beside the model and how much it counts. */
export interface LmDecoding {
  /** n of the character n-gram model */
  order: number;
  /** weight of log P_lm in a prefix's score */
  weight: number;
  /** added to a prefix's score per character */
  bonus: number;
  /** the model's file, relative to the model (or export) folder: `lm.json` */
  file: string;
}

/** Greedy (best-path) decoding. */
export const GREEDY_DECODING: Readonly<CtcDecoding> = { method: 'greedy', beamWidth: 1 };

/** The decoding a saved model was validated with (`decode` in its ocrops.json, written by the trainer), if recorded. */
export function decodingOfMeta(meta: unknown): CtcDecoding | undefined {
  const d = (meta as { decode?: { method?: unknown; beamWidth?: unknown; lm?: unknown } } | undefined)?.decode;
  if (!d || (d.method !== 'greedy' && d.method !== 'beam')) return undefined;
  const w = Number(d.beamWidth);
  const decoding: CtcDecoding = { method: d.method, beamWidth: Number.isInteger(w) && w >= 1 ? w : 10 };
  // a recorded language model is checked as a contract's is: a broken one fails instead of being silently dropped
  if (d.method === 'beam' && d.lm !== undefined) decoding.lm = parseLmDecoding(d.lm, 'ocrops.json (decode)');
  return decoding;
}

/**
 * A command's decoding: the recorded one (a model's or a config's; greedy when none) with a command's overrides.
 * @param o.beam beam width (1 = greedy); the recorded language model stays unless `o.lm` is false
 * @param o.lm false: without the recorded language model
 */
export function decodingWith(recorded: CtcDecoding | undefined, o: { beam?: number; lm?: boolean }): CtcDecoding {
  let d: CtcDecoding = recorded ?? GREEDY_DECODING;
  if (o.beam !== undefined) d = o.beam > 1 ? { method: 'beam', beamWidth: o.beam, lm: recorded?.lm } : GREEDY_DECODING;
  if (o.lm === false || d.method !== 'beam' || !d.lm) return { method: d.method, beamWidth: d.beamWidth };
  return d;
}

/** How to turn the output into text. */
export interface ContractDecoding extends CtcDecoding {
  /**
   * Frames of one line: T(width) by applying `frames` to the line's own (unpadded) width, clamped to [1, T(batch
   * width)]; frames past it belong to the padding and are ignored.
   */
  frames: FrameStep[];
  /** Line confidence = exp(log P(decoded) / T): per-frame geometric mean of the decoded path's probability. */
  confidence: 'geometric-mean-per-frame';
}

/** What the contracts of both tasks say of the export itself: its files, the ONNX opset and where it came from. */
export interface ContractExport<A extends string, C> {
  /**
   * Files of the export folder (relative paths); absent entries were not written. `onnx`: the ONNX graph; `tfjs`:
   * ocrops's TensorFlow.js weights manifest (with weights.bin and ocrops.json beside it, for @ocrops/model loadModel).
   */
  files: { onnx?: string; tfjs?: string };
  /** ONNX opset of `files.onnx`. */
  opset?: number;
  /** Where the model came from: architecture, its ocrops config, the source folder, export time. */
  source: { arch: A; config: C; exportedFrom?: string; exportedAt?: string };
}

/** The whole contract (`ocrops-model.json`). */
export interface ModelContract extends ContractExport<Arch, ModelConfig> {
  format: typeof CONTRACT_FORMAT;
  task: 'ocr';
  /** Characters in class order, without the blank: class ids skip `blank` (blank 0: class k is charset[k - 1]). */
  charset: string[];
  /** Class id of the CTC blank. */
  blank: number;
  /** charset.length + 1. */
  numClasses: number;
  input: ContractInput;
  outputs: ContractOutput[];
  decoding: ContractDecoding;
}

/**
 * Frame-count rule of a model (see packages/model/README.md): vgg and crnn floor(W/4) - 1, small floor(W/4), resnet
 * ceil(W/4), resnet18 its `steps` whatever the (fixed) width.
 */
export function frameSteps(config: Pick<ModelConfig, 'arch' | 'steps'>): FrameStep[] {
  const arch: Arch = config.arch;
  switch (arch) {
    case 'vgg':
    case 'crnn':
      return [
        { op: 'floorDiv', by: 2 },
        { op: 'floorDiv', by: 2 },
        { op: 'add', value: -1 },
      ];
    case 'small':
      return [
        { op: 'floorDiv', by: 2 },
        { op: 'floorDiv', by: 2 },
      ];
    case 'resnet':
      return [
        { op: 'ceilDiv', by: 2 },
        { op: 'ceilDiv', by: 2 },
      ];
    case 'resnet18':
      if (config.steps === undefined)
        throw new OcropsError(
          'OCROPS_CONTRACT_ARCH',
          "arch 'resnet18' needs model.steps (its number of frames) in the config",
        );
      return [{ op: 'const', value: config.steps }];
  }
}

/** Number of output frames T for an input of `width` pixels (may be < 1 for too narrow inputs). */
export function framesForWidth(steps: readonly FrameStep[], width: number): number {
  let w = width;
  for (const s of steps) {
    if (s.op === 'floorDiv') w = Math.floor(w / s.by);
    else if (s.op === 'ceilDiv') w = Math.ceil(w / s.by);
    else if (s.op === 'const') w = s.value;
    else w += s.value;
  }
  return w;
}

/** Frames of each line of a batch padded to `batchWidth`: own-width frames clamped to [1, T(batchWidth)]. */
export function frameLengthsForBatch(
  steps: readonly FrameStep[],
  widths: readonly number[],
  batchWidth: number,
): number[] {
  const T = framesForWidth(steps, batchWidth);
  return widths.map((w) => Math.max(1, Math.min(T, framesForWidth(steps, w))));
}

/** Smallest width (px) with at least one output frame. */
export function minWidthForFrames(steps: readonly FrameStep[]): number {
  let w = 1;
  while (framesForWidth(steps, w) < 1) w++;
  return w;
}

/** The character of a class id, or '' for the blank. */
export function charOfClass(contract: Pick<ModelContract, 'charset' | 'blank'>, id: number): string {
  if (id === contract.blank) return '';
  const c = contract.charset[id < contract.blank ? id : id - 1];
  if (c === undefined)
    throw new OcropsError(
      'OCROPS_CONTRACT_CLASS',
      `class id ${id} is outside the charset (${contract.charset.length} characters + blank)`,
    );
  return c;
}

/** Inputs of {@link buildContract}. */
export interface BuildContractOptions {
  config: ModelConfig;
  /** Characters without the blank (the blank is class 0). */
  charset: string[];
  decoding?: CtcDecoding;
  files: { onnx?: string; tfjs?: string };
  opset?: number;
  exportedFrom?: string;
  exportedAt?: string;
}

/** Sets the optional export facts that were given (opset, source folder, export time); contracts of both tasks. */
function withExportInfo<T extends ContractExport<string, unknown>>(
  contract: T,
  o: { opset?: number; exportedFrom?: string; exportedAt?: string },
): T {
  if (o.opset !== undefined) contract.opset = o.opset;
  if (o.exportedFrom !== undefined) contract.source.exportedFrom = o.exportedFrom;
  if (o.exportedAt !== undefined) contract.source.exportedAt = o.exportedAt;
  return contract;
}

/** Width rules of a model: one fixed width (resnet18's model.width) or any width with at least one frame. */
function widthRules(config: ModelConfig, steps: readonly FrameStep[]): ContractInput['width'] {
  if (config.arch === 'resnet18') {
    if (config.width === undefined)
      throw new OcropsError(
        'OCROPS_CONTRACT_ARCH',
        "arch 'resnet18' needs model.width (its fixed input width) in the config",
      );
    return { fixed: config.width, min: config.width, multiple: 1, max: config.width };
  }
  return { min: minWidthForFrames(steps), multiple: 1, max: config.height * 40 };
}

/** The contract of an ocrops model: NHWC float input in [0, 1] (white = 1), logits [batch, frames, classes] out. */
export function buildContract(o: BuildContractOptions): ModelContract {
  const steps = frameSteps(o.config);
  const contract: ModelContract = {
    format: CONTRACT_FORMAT,
    task: 'ocr',
    charset: [...o.charset],
    blank: 0,
    numClasses: o.charset.length + 1,
    input: {
      name: 'image',
      layout: 'NHWC',
      dtype: 'float32',
      height: o.config.height,
      channels: o.config.channels,
      normalisation: { scale: 1 / 255, offset: 0 },
      invert: o.config.invert === true,
      width: widthRules(o.config, steps),
      padValue: 1,
    },
    outputs: [{ name: 'logits', axes: ['batch', 'frames', 'classes'], dtype: 'float32', kind: 'logits' }],
    decoding: {
      method: o.decoding?.method ?? 'greedy',
      beamWidth: o.decoding?.beamWidth ?? 10,
      ...(o.decoding?.lm ? { lm: { ...o.decoding.lm } } : {}),
      frames: steps,
      confidence: 'geometric-mean-per-frame',
    },
    files: { ...o.files },
    source: { arch: o.config.arch, config: o.config },
  };
  return withExportInfo(contract, o);
}

type Obj = Record<string, unknown>;

function fail(source: string, field: string, what: string): never {
  throw new OcropsError('OCROPS_CONTRACT_INVALID', `${source}: field '${field}' ${what}`, {
    hint: `re-export the model with 'ocrops trainer export' (it writes ${CONTRACT_FILE})`,
  });
}

function obj(v: unknown, source: string, field: string): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(source, field, 'must be an object');
  return v as Obj;
}

function int(v: unknown, source: string, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    fail(source, field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, source: string, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    fail(source, field, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], source: string, field: string): T {
  if (!allowed.includes(v as T)) fail(source, field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function str(v: unknown, source: string, field: string): string {
  if (typeof v !== 'string' || v === '') fail(source, field, 'must be a non-empty string');
  return v;
}

/**
 * Copies the export facts of a contract being parsed (root `c`, its `source` and `files` objects) into `contract`:
 * source.exportedFrom/exportedAt when strings, files.onnx/tfjs (strings), opset (an integer >= 1). Both tasks.
 */
function withParsedExportInfo<T extends ContractExport<string, unknown>>(
  contract: T,
  c: Obj,
  src: Obj,
  files: Obj,
  source: string,
): T {
  if (typeof src.exportedFrom === 'string') contract.source.exportedFrom = src.exportedFrom;
  if (typeof src.exportedAt === 'string') contract.source.exportedAt = src.exportedAt;
  if (files.onnx !== undefined) contract.files.onnx = str(files.onnx, source, 'files.onnx');
  if (files.tfjs !== undefined) contract.files.tfjs = str(files.tfjs, source, 'files.tfjs');
  if (c.opset !== undefined) contract.opset = int(c.opset, source, 'opset', 1);
  return contract;
}

function parseSteps(v: unknown, source: string): FrameStep[] {
  if (!Array.isArray(v)) fail(source, 'decoding.frames', 'must be a list of {op, by|value} steps');
  return v.map((s, i) => {
    const f = `decoding.frames[${i}]`;
    const o = obj(s, source, f);
    const op = oneOf(o.op, ['floorDiv', 'ceilDiv', 'add', 'const'] as const, source, `${f}.op`);
    if (op === 'add') return { op, value: int(o.value, source, `${f}.value`, -1e6) };
    if (op === 'const') return { op, value: int(o.value, source, `${f}.value`, 1) };
    return { op, by: int(o.by, source, `${f}.by`, 1) };
  });
}

/** The model config stored in a contract, checked like a model's own config (errors re-coded as contract errors). */
function contractModelConfig(value: unknown, source: string): ModelConfig {
  try {
    return parseModelConfig(value, `${source} (field 'source.config')`);
  } catch (err) {
    throw new OcropsError('OCROPS_CONTRACT_INVALID', (err as Error).message, { cause: err });
  }
}

/**
 * Checks a parsed `ocrops-model.json` and returns it typed. Errors are `OcropsError`s (`OCROPS_CONTRACT_INVALID`)
 * naming `source` and the field.
 */
export function parseContract(value: unknown, source: string): ModelContract {
  const c = obj(value, source, '(root)');
  if (c.format !== CONTRACT_FORMAT)
    fail(source, 'format', `must be '${CONTRACT_FORMAT}', got ${JSON.stringify(c.format)}`);
  // contracts written before classifiers existed have no `task`: they are OCR contracts
  if (c.task === 'classify') {
    fail(
      source,
      'task',
      "is 'classify': this is an image classifier's contract; read it with parseTaskContract/readTaskContract",
    );
  }
  if (c.task !== undefined) oneOf(c.task, ['ocr'] as const, source, 'task');
  if (
    !Array.isArray(c.charset) ||
    c.charset.length === 0 ||
    c.charset.some((ch) => typeof ch !== 'string' || [...ch].length !== 1)
  ) {
    fail(source, 'charset', 'must be a non-empty list of single characters');
  }
  const charset = c.charset as string[];
  if (new Set(charset).size !== charset.length) fail(source, 'charset', 'lists a character twice');
  const numClasses = int(c.numClasses, source, 'numClasses', 2);
  if (numClasses !== charset.length + 1)
    fail(source, 'numClasses', `must be charset.length + 1 = ${charset.length + 1}, got ${numClasses}`);
  const blank = int(c.blank, source, 'blank', 0);
  if (blank >= numClasses) fail(source, 'blank', `must be below numClasses ${numClasses}, got ${blank}`);

  const i = obj(c.input, source, 'input');
  const norm = obj(i.normalisation, source, 'input.normalisation');
  const width = obj(i.width, source, 'input.width');
  const input: ContractInput = {
    name: str(i.name, source, 'input.name'),
    layout: oneOf(i.layout, ['NHWC', 'NCHW'] as const, source, 'input.layout'),
    dtype: oneOf(i.dtype, ['float32'] as const, source, 'input.dtype'),
    height: int(i.height, source, 'input.height', 1),
    channels: oneOf(i.channels as never, [1, 3] as never[], source, 'input.channels'),
    normalisation: {
      scale: num(norm.scale, source, 'input.normalisation.scale'),
      offset: num(norm.offset, source, 'input.normalisation.offset'),
    },
    invert: typeof i.invert === 'boolean' ? i.invert : fail(source, 'input.invert', 'must be true or false'),
    width: {
      min: int(width.min, source, 'input.width.min', 1),
      multiple: int(width.multiple, source, 'input.width.multiple', 1),
      max: int(width.max, source, 'input.width.max', 1),
    },
    padValue: num(i.padValue, source, 'input.padValue'),
  };

  if (!Array.isArray(c.outputs) || c.outputs.length === 0) fail(source, 'outputs', 'must be a non-empty list');
  const outputs = c.outputs.map((o, k): ContractOutput => {
    const f = `outputs[${k}]`;
    const oo = obj(o, source, f);
    const axes = oo.axes;
    if (!Array.isArray(axes) || axes.join(',') !== 'batch,frames,classes')
      fail(source, `${f}.axes`, "must be ['batch', 'frames', 'classes']");
    return {
      name: str(oo.name, source, `${f}.name`),
      axes: ['batch', 'frames', 'classes'],
      dtype: oneOf(oo.dtype, ['float32'] as const, source, `${f}.dtype`),
      kind: oneOf(oo.kind, ['logits', 'log_probs'] as const, source, `${f}.kind`),
    };
  });

  const d = obj(c.decoding, source, 'decoding');
  const decoding: ContractDecoding = {
    method: oneOf(d.method, ['greedy', 'beam'] as const, source, 'decoding.method'),
    beamWidth: int(d.beamWidth, source, 'decoding.beamWidth', 1),
    frames: parseSteps(d.frames, source),
    confidence: oneOf(d.confidence, ['geometric-mean-per-frame'] as const, source, 'decoding.confidence'),
  };
  if (d.lm !== undefined) decoding.lm = parseLmDecoding(d.lm, source);
  if (width.fixed !== undefined) {
    const fixed = int(width.fixed, source, 'input.width.fixed', 1);
    if (input.width.min !== fixed || input.width.max !== fixed) {
      fail(
        source,
        'input.width',
        `has fixed ${fixed} but min ${input.width.min} and max ${input.width.max}; with a fixed width both must equal it`,
      );
    }
    input.width = { fixed, ...input.width };
  }
  if (framesForWidth(decoding.frames, input.width.min) < 1) {
    fail(
      source,
      'input.width.min',
      `gives ${framesForWidth(decoding.frames, input.width.min)} frames; it must give at least 1`,
    );
  }

  const files = obj(c.files, source, 'files');
  if (files.onnx === undefined && files.tfjs === undefined)
    fail(source, 'files', 'must name at least one of onnx, tfjs');
  const src = obj(c.source, source, 'source');
  const contract: ModelContract = {
    format: CONTRACT_FORMAT,
    task: 'ocr',
    charset,
    blank,
    numClasses,
    input,
    outputs,
    decoding,
    files: {},
    source: {
      arch: oneOf(src.arch, ARCHS, source, 'source.arch'),
      config: contractModelConfig(src.config, source),
    },
  };
  if (contract.source.config.arch !== contract.source.arch)
    fail(
      source,
      'source.arch',
      `is '${contract.source.arch}' but source.config.arch is '${contract.source.config.arch}'`,
    );
  return withParsedExportInfo(contract, c, src, files, source);
}

function parseLmDecoding(v: unknown, source: string): LmDecoding {
  const lm = obj(v, source, 'decoding.lm');
  const weight = num(lm.weight, source, 'decoding.lm.weight');
  if (weight < 0) fail(source, 'decoding.lm.weight', `must be >= 0, got ${weight}`);
  return {
    order: int(lm.order, source, 'decoding.lm.order', 1),
    weight,
    bonus: num(lm.bonus, source, 'decoding.lm.bonus'),
    file: localFile(lm.file, source, 'decoding.lm.file'),
  };
}

/** A file name inside the contract's folder (no absolute path, no `..`). */
function localFile(v: unknown, source: string, field: string): string {
  const f = str(v, source, field);
  if (f.startsWith('/') || f.split(/[\\/]/).includes('..'))
    fail(source, field, `must be a file inside the model folder, got '${f}'`);
  return f;
}

/** Reads and checks an OCR model's `ocrops-model.json` file. */
export function readContract(path: string): ModelContract {
  return parseContract(readContractJson(path), path);
}

/** Reads and checks an `ocrops-model.json` of either task (OCR or image classifier). */
export function readTaskContract(path: string): TaskContract {
  return parseTaskContract(readContractJson(path), path);
}

function readContractJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OcropsError('OCROPS_CONTRACT_READ', `cannot read ${path}: ${(err as Error).message}`, {
      hint: `pass a folder written by 'ocrops trainer export' (it holds ${CONTRACT_FILE})`,
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OcropsError('OCROPS_CONTRACT_INVALID', `${path} is not valid JSON: ${(err as Error).message}`);
  }
}

// ---- image classifiers ----

/** Input tensor of a classifier graph and how to build it from an image. */
export interface ClassifierInput {
  /** Input name in the ONNX graph. */
  name: string;
  /** Always NHWC = [batch, height, width, channels]. */
  layout: 'NHWC';
  dtype: 'float32';
  /** Images are resized to exactly width x height (px), aspect ratio ignored (`resize: 'stretch'`). */
  height: number;
  width: number;
  resize: 'stretch';
  /** 1 = grayscale (luma 0.299 R + 0.587 G + 0.114 B), 3 = RGB. Transparent pixels are flattened onto white first. */
  channels: 1 | 3;
  /** How a pixel byte p (0..255) becomes the float fed to the graph: p * scale + offset ([0, 1] for 1/255, 0). */
  normalisation: { scale: number; offset: number };
}

/** One output tensor of a classifier graph. */
export interface ClassifierOutput {
  name: string;
  /** Always ['batch', 'classes']. */
  axes: ['batch', 'classes'];
  dtype: 'float32';
  /** `probabilities`: softmax over the classes (each row sums to 1); `logits`: pre-softmax scores. */
  kind: 'probabilities' | 'logits';
}

/** The contract of an exported image classifier (`ocrops-model.json` with `task: 'classify'`). */
export interface ClassifierContract extends ContractExport<ClassifierArch, ClassifierConfig> {
  format: typeof CONTRACT_FORMAT;
  task: 'classify';
  /** Class names in class-id order: output column k is classes[k]. */
  classes: string[];
  /** classes.length. */
  numClasses: number;
  input: ClassifierInput;
  /** The graph's outputs; the first is the one to serve (`probabilities` in graphs ocrops exports). */
  outputs: ClassifierOutput[];
  /** How many of the most probable classes a server returns by default. */
  topK: number;
}

/** A contract of either task. */
export type TaskContract = ModelContract | ClassifierContract;

/** Graph outputs of exported classifiers: softmax probabilities first, then the logits. */
export const CLASSIFIER_OUTPUTS: readonly ClassifierOutput[] = [
  { name: 'probabilities', axes: ['batch', 'classes'], dtype: 'float32', kind: 'probabilities' },
  { name: 'logits', axes: ['batch', 'classes'], dtype: 'float32', kind: 'logits' },
];

/** Inputs of {@link buildClassifierContract}. */
export interface BuildClassifierContractOptions {
  config: ClassifierConfig;
  classes: string[];
  /** Default 5 (at most the number of classes). */
  topK?: number;
  files: { onnx?: string; tfjs?: string };
  opset?: number;
  exportedFrom?: string;
  exportedAt?: string;
}

/** The contract of an ocrops classifier: NHWC float input in [0, 1], softmax probabilities [batch, classes] out. */
export function buildClassifierContract(o: BuildClassifierContractOptions): ClassifierContract {
  const contract: ClassifierContract = {
    format: CONTRACT_FORMAT,
    task: 'classify',
    classes: [...o.classes],
    numClasses: o.classes.length,
    input: {
      name: 'image',
      layout: 'NHWC',
      dtype: 'float32',
      height: o.config.height,
      width: o.config.width,
      resize: 'stretch',
      channels: o.config.channels,
      normalisation: { scale: 1 / 255, offset: 0 },
    },
    outputs: CLASSIFIER_OUTPUTS.map((x) => ({ ...x, axes: ['batch', 'classes'] })),
    topK: Math.min(o.topK ?? 5, o.classes.length),
    files: { ...o.files },
    source: { arch: o.config.arch, config: o.config },
  };
  return withExportInfo(contract, o);
}

/** Checks a parsed classifier `ocrops-model.json` and returns it typed (errors name `source` and the field). */
export function parseClassifierContract(value: unknown, source: string): ClassifierContract {
  const c = obj(value, source, '(root)');
  if (c.format !== CONTRACT_FORMAT)
    fail(source, 'format', `must be '${CONTRACT_FORMAT}', got ${JSON.stringify(c.format)}`);
  oneOf(c.task, ['classify'] as const, source, 'task');
  if (!Array.isArray(c.classes) || c.classes.length < 2 || c.classes.some((x) => typeof x !== 'string' || x === '')) {
    fail(source, 'classes', 'must be a list of at least 2 non-empty class names');
  }
  const classes = c.classes as string[];
  if (new Set(classes).size !== classes.length) fail(source, 'classes', 'lists a class name twice');
  const numClasses = int(c.numClasses, source, 'numClasses', 2);
  if (numClasses !== classes.length)
    fail(source, 'numClasses', `must be classes.length = ${classes.length}, got ${numClasses}`);
  const i = obj(c.input, source, 'input');
  const norm = obj(i.normalisation, source, 'input.normalisation');
  const input: ClassifierInput = {
    name: str(i.name, source, 'input.name'),
    layout: oneOf(i.layout, ['NHWC'] as const, source, 'input.layout'),
    dtype: oneOf(i.dtype, ['float32'] as const, source, 'input.dtype'),
    height: int(i.height, source, 'input.height', 1),
    width: int(i.width, source, 'input.width', 1),
    resize: oneOf(i.resize, ['stretch'] as const, source, 'input.resize'),
    channels: oneOf(i.channels as never, [1, 3] as never[], source, 'input.channels'),
    normalisation: {
      scale: num(norm.scale, source, 'input.normalisation.scale'),
      offset: num(norm.offset, source, 'input.normalisation.offset'),
    },
  };
  if (!Array.isArray(c.outputs) || c.outputs.length === 0) fail(source, 'outputs', 'must be a non-empty list');
  const outputs = c.outputs.map((o, k): ClassifierOutput => {
    const f = `outputs[${k}]`;
    const oo = obj(o, source, f);
    if (!Array.isArray(oo.axes) || oo.axes.join(',') !== 'batch,classes')
      fail(source, `${f}.axes`, "must be ['batch', 'classes']");
    return {
      name: str(oo.name, source, `${f}.name`),
      axes: ['batch', 'classes'],
      dtype: oneOf(oo.dtype, ['float32'] as const, source, `${f}.dtype`),
      kind: oneOf(oo.kind, ['probabilities', 'logits'] as const, source, `${f}.kind`),
    };
  });
  const topK = int(c.topK, source, 'topK', 1);
  if (topK > numClasses) fail(source, 'topK', `must be at most numClasses ${numClasses}, got ${topK}`);
  const files = obj(c.files, source, 'files');
  if (files.onnx === undefined && files.tfjs === undefined)
    fail(source, 'files', 'must name at least one of onnx, tfjs');
  const src = obj(c.source, source, 'source');
  let config: ClassifierConfig;
  try {
    config = parseClassifierConfig(src.config, `${source} (field 'source.config')`);
  } catch (err) {
    throw new OcropsError('OCROPS_CONTRACT_INVALID', (err as Error).message, { cause: err });
  }
  const contract: ClassifierContract = {
    format: CONTRACT_FORMAT,
    task: 'classify',
    classes,
    numClasses,
    input,
    outputs,
    topK,
    files: {},
    source: { arch: oneOf(src.arch, CLASSIFIER_ARCHS, source, 'source.arch'), config },
  };
  if (config.arch !== contract.source.arch)
    fail(source, 'source.arch', `is '${contract.source.arch}' but source.config.arch is '${config.arch}'`);
  if (config.height !== input.height || config.width !== input.width || config.channels !== input.channels) {
    fail(
      source,
      'input',
      `is ${input.height} x ${input.width} x ${input.channels} but the model config is ${config.height} x ${config.width} x ${config.channels}`,
    );
  }
  return withParsedExportInfo(contract, c, src, files, source);
}

/** Checks a parsed `ocrops-model.json` of either task: `task: 'classify'` is a classifier's, anything else OCR's. */
export function parseTaskContract(value: unknown, source: string): TaskContract {
  const task = value && typeof value === 'object' ? (value as Obj).task : undefined;
  return task === 'classify' ? parseClassifierContract(value, source) : parseContract(value, source);
}

/** One of an image's most probable classes. */
export interface TopClass {
  label: string;
  /** class id (column of the model's output) */
  id: number;
  /** probability (softmax over all classes) */
  p: number;
}

/** The `k` most probable classes of one image's probabilities, most probable first (ties: lower class id first). */
export function topClasses(p: ArrayLike<number>, classes: readonly string[], k: number): TopClass[] {
  const ids = Array.from({ length: p.length }, (_, i) => i)
    .sort((a, b) => p[b] - p[a] || a - b)
    .slice(0, k);
  return ids.map((id) => ({ label: classes[id], id, p: p[id] }));
}
