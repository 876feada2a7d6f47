/**
 * Model configuration: the typed `ModelConfig` and its YAML reader. YAML keys use the names of the reference recipes
 * (`inner_dim`, snake_case); the TypeScript object uses camelCase.
 */
import { ConfigReader, OcropsError, readYamlFile } from '@ocrops/common';

export type Arch = 'vgg' | 'resnet' | 'small' | 'resnet18' | 'crnn';
export const ARCHS: readonly Arch[] = ['vgg', 'resnet', 'small', 'resnet18', 'crnn'];

/** Recurrent part of a CRNN. */
export interface RnnConfig {
  type: 'gru' | 'lstm';
  /** Hidden units per direction (every layer unless `hiddenPerLayer` is given). */
  hidden: number;
  layers: number;
  bidirectional: boolean;
  /** Dropout on the outputs of every recurrent layer but the last, in training (PyTorch's `dropout` semantics). */
  dropout: number;
  /** Hidden units per layer, overriding `hidden` (the Keras captcha recipe's BiLSTM 128 then 64: `[128, 64]`). */
  hiddenPerLayer?: number[];
}

/** Architecture and input of an OCR model; see packages/model/README.md for each architecture. */
export interface ModelConfig {
  arch: Arch;
  /** Input image height in pixels (images are resized to it, width free). */
  height: number;
  channels: 1 | 3;
  /**
   * Width of the convolutional extractor: `vgg` channels [d/8, d/4, d/2, d] (the reference CTCModel's `inner_dim`);
   * `resnet` channels [d/8, d/4, d/2, d] of its four stages; unused by `small`.
   */
  innerDim?: number;
  rnn: RnnConfig;
  /**
   * `vgg`: the linear layer after the BiGRU (the reference CTCModel: 256); `small`: the dense layer before the RNN (64);
   * `crnn`: the map-to-sequence linear layer (64).
   */
  embedDim?: number;
  /** `resnet18`: the fixed input width in pixels (the 1x1 width projection maps its columns to `steps` frames). */
  width?: number;
  /** `resnet18`: output frames T (the licence-plate recipe: 20). */
  steps?: number;
  /** `small`: dropout after its dense layer (the Keras captcha recipe: 0.2). */
  dropout?: number;
  /**
   * Feed `1 - x`: ink bright on a dark (zero) background instead of the reference recipes' [0, 1] pixels with white
   * paper = 1. The first convolutions then see mostly zeros rather than a constant offset, and CTC training leaves
   * its all-blank plateau several times sooner (see packages/model/README.md). Absent = false (saved models of
   * earlier versions load unchanged).
   */
  invert?: boolean;
  /**
   * Initial bias of the blank class in the output layer (0 = the layer's own init). With `b`, an untrained model gives
   * p(blank) = e^b / (e^b + classes - 1) per frame; starting near the share of blank frames (1 - label length / T)
   * spares the first steps the violent all-blank phase of CTC training, in which ReLU units die. Absent = 0.
   */
  blankBias?: number;
}

/** Default configuration of each architecture, as the reference recipes define them. */
export function defaultModelConfig(arch: Arch): ModelConfig {
  switch (arch) {
    case 'vgg':
      return {
        arch,
        height: 64,
        channels: 3,
        innerDim: 128,
        rnn: { type: 'gru', hidden: 256, layers: 1, bidirectional: true, dropout: 0 },
        embedDim: 256,
      };
    case 'small':
      return {
        arch,
        height: 50,
        channels: 1,
        rnn: { type: 'lstm', hidden: 128, layers: 2, bidirectional: true, dropout: 0.25, hiddenPerLayer: [128, 64] },
        embedDim: 64,
        dropout: 0.2,
      };
    case 'resnet':
      return {
        arch,
        height: 64,
        channels: 3,
        innerDim: 256,
        rnn: { type: 'gru', hidden: 128, layers: 2, bidirectional: true, dropout: 0.3 },
      };
    case 'resnet18':
      return {
        arch,
        height: 32,
        channels: 3,
        width: 128,
        steps: 20,
        rnn: { type: 'gru', hidden: 128, layers: 2, bidirectional: true, dropout: 0.3 },
      };
    case 'crnn':
      return {
        arch,
        height: 32,
        channels: 1,
        embedDim: 64,
        rnn: { type: 'lstm', hidden: 256, layers: 2, bidirectional: true, dropout: 0 },
      };
  }
}

const MODEL_KEYS = [
  'arch', 'height', 'channels', 'inner_dim', 'rnn', 'embed_dim', 'dropout', 'invert', 'width', 'steps', 'blank_bias',
] as const;
/** Architectures whose extractor width is `inner_dim`. */
const INNER_DIM_ARCHS: readonly Arch[] = ['vgg', 'resnet'];
/** Architectures with an `embed_dim` layer. */
const EMBED_ARCHS: readonly Arch[] = ['vgg', 'small', 'crnn'];
/** Smallest `height` each architecture accepts in a config. */
const MIN_CONFIG_HEIGHT: Record<Arch, number> = { vgg: 32, resnet: 32, small: 4, resnet18: 8, crnn: 32 };
const RNN_KEYS = ['type', 'hidden', 'layers', 'bidirectional', 'dropout', 'hidden_per_layer'] as const;

/**
 * Reads a model section (`arch`, `height`, `channels`, `inner_dim`, `rnn: {type, hidden, layers, bidirectional,
 * dropout, hidden_per_layer}`, `embed_dim`, `dropout`, `invert`); unspecified fields take the architecture's defaults.
 * Use this to read the `model:` section of a larger config (e.g. the trainer's).
 */
export function readModelConfig(r: ConfigReader): ModelConfig {
  r.only(MODEL_KEYS);
  const arch = r.oneOf('arch', ARCHS);
  const d = defaultModelConfig(arch);
  const height = r.integer('height', d.height, { min: MIN_CONFIG_HEIGHT[arch], max: 4096 });
  const channels = r.integer('channels', d.channels);
  if (channels !== 1 && channels !== 3) r.fail('channels', `must be 1 or 3, got ${channels}`);
  let innerDim = d.innerDim;
  if (INNER_DIM_ARCHS.includes(arch)) {
    innerDim = r.integer('inner_dim', d.innerDim, { min: 8 });
    if (innerDim % 8 !== 0) r.fail('inner_dim', `must be a multiple of 8 (channels are inner_dim/8, /4, /2), got ${innerDim}`);
  } else if (r.has('inner_dim')) {
    r.fail('inner_dim', `is not used by arch '${arch}' (its channels are fixed by its recipe); remove it`);
  }
  const rr = r.section('rnn');
  rr.only(RNN_KEYS);
  const layers = rr.integer('layers', d.rnn.layers, { min: 1, max: 16 });
  let hiddenPerLayer: number[] | undefined = d.rnn.hiddenPerLayer;
  if (rr.has('hidden') || rr.has('layers')) hiddenPerLayer = undefined;
  if (rr.has('hidden_per_layer')) {
    const v = rr.raw('hidden_per_layer');
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || (x as number) < 1)) {
      rr.fail('hidden_per_layer', 'must be a list of positive integers');
    }
    hiddenPerLayer = v as number[];
    if (hiddenPerLayer.length !== layers) rr.fail('hidden_per_layer', `has ${hiddenPerLayer.length} entries for ${layers} layers`);
  }
  const rnn: RnnConfig = {
    type: rr.oneOf('type', ['gru', 'lstm'] as const, d.rnn.type),
    hidden: rr.integer('hidden', d.rnn.hidden, { min: 1, max: 8192 }),
    layers,
    bidirectional: rr.boolean('bidirectional', d.rnn.bidirectional),
    dropout: rr.number('dropout', d.rnn.dropout, { min: 0, max: 0.99 }),
  };
  if (hiddenPerLayer && hiddenPerLayer.length === layers) rnn.hiddenPerLayer = hiddenPerLayer;
  const cfg: ModelConfig = { arch, height, channels, rnn };
  if (innerDim !== undefined) cfg.innerDim = innerDim;
  if (EMBED_ARCHS.includes(arch)) cfg.embedDim = r.integer('embed_dim', d.embedDim, { min: 1 });
  else if (r.has('embed_dim')) r.fail('embed_dim', `is not used by arch '${arch}'; remove it`);
  if (arch === 'resnet18') {
    cfg.width = r.integer('width', d.width, { min: 8, max: 16384 });
    cfg.steps = r.integer('steps', d.steps, { min: 1, max: 4096 });
  } else {
    for (const k of ['width', 'steps']) {
      if (r.has(k)) r.fail(k, `is only used by arch 'resnet18' (its fixed input width and output frames)`);
    }
  }
  if (arch === 'small') cfg.dropout = r.number('dropout', d.dropout, { min: 0, max: 0.99 });
  else if (r.has('dropout')) r.fail('dropout', `is only used by arch 'small' (use rnn.dropout)`);
  if (r.boolean('invert', false)) cfg.invert = true;
  const blankBias = r.number('blank_bias', 0, { min: -20, max: 20 });
  if (blankBias !== 0) cfg.blankBias = blankBias;
  return cfg;
}

/**
 * Loads a model config from YAML: either the model section at the top level or under a `model:` key.
 * Errors are `OcropsError`s (`OCROPS_CONFIG_INVALID`) naming the file and field.
 */
export function loadModelConfig(path: string): ModelConfig {
  const root = ConfigReader.from(readYamlFile(path), path);
  if (root.has('model')) return readModelConfig(root.section('model'));
  if (!root.has('arch')) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${path}: field 'arch' is required (${ARCHS.join(', ')})`, {
      hint: "start the file with 'arch: vgg' (or put the model fields under 'model:')",
    });
  }
  return readModelConfig(root);
}

/** Validates a ModelConfig object built in code (e.g. from saved metadata), returning a normalised copy. */
export function parseModelConfig(value: unknown, source: string): ModelConfig {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    const rnn = (v.rnn ?? {}) as Record<string, unknown>;
    const snake: Record<string, unknown> = {
      arch: v.arch,
      height: v.height,
      channels: v.channels,
      inner_dim: v.innerDim,
      embed_dim: v.embedDim,
      dropout: v.dropout,
      invert: v.invert,
      blank_bias: v.blankBias,
      width: v.width,
      steps: v.steps,
      rnn: {
        type: rnn.type,
        hidden: rnn.hidden,
        layers: rnn.layers,
        bidirectional: rnn.bidirectional,
        dropout: rnn.dropout,
        hidden_per_layer: rnn.hiddenPerLayer,
      },
    };
    return readModelConfig(ConfigReader.from(snake, source));
  }
  throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: model config must be a mapping`);
}
