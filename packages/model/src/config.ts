/**
 * Model configuration: one TypeBox schema of the YAML model section (snake_case keys, the reference recipes' names:
 * `inner_dim`), and the resolved in-code `ModelConfig` (the same fields in camelCase, with the architecture's defaults
 * filled in). Errors name file:line:col and the field.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  camelizeConfig,
  readConfigDocument,
  snakeizeConfig,
  validateConfig,
  type Camelized,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';

export type Arch = 'vgg' | 'resnet' | 'small' | 'resnet18' | 'crnn';
export const ARCHS: readonly Arch[] = ['vgg', 'resnet', 'small', 'resnet18', 'crnn'];

const literals = <T extends string | number>(values: readonly T[], opts: object = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  );

/** Recurrent part of a CRNN (`rnn:`); absent fields take the architecture's defaults. */
export const RnnSchema = Type.Object({
  type: Type.Optional(literals(['gru', 'lstm'] as const)),
  /** Hidden units per direction (every layer unless `hidden_per_layer` is given). */
  hidden: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192 })),
  layers: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  bidirectional: Type.Optional(Type.Boolean()),
  /** Dropout on the outputs of every recurrent layer but the last, in training (PyTorch's `dropout` semantics). */
  dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99 })),
  /** Hidden units per layer, overriding `hidden` (the Keras captcha recipe's BiLSTM 128 then 64: `[128, 64]`). */
  hidden_per_layer: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }))),
});

/** The model section of a config (configs/model/*.yaml, or `model:` of a train config). */
export const ModelSchema = Type.Object({
  arch: literals(ARCHS),
  /** Input image height in pixels (images are resized to it, width free). */
  height: Type.Optional(Type.Integer({ minimum: 4, maximum: 4096 })),
  channels: Type.Optional(literals([1, 3] as const)),
  /**
   * Width of the convolutional extractor: `vgg` channels [d/8, d/4, d/2, d] (the reference CTCModel's `inner_dim`);
   * `resnet` channels [d/8, d/4, d/2, d] of its four stages; unused by the other architectures.
   */
  inner_dim: Type.Optional(Type.Integer({ minimum: 8, multipleOf: 8 })),
  rnn: Type.Optional(RnnSchema),
  /**
   * `vgg`: the linear layer after the BiGRU (the reference CTCModel: 256); `small`: the dense layer before the RNN (64);
   * `crnn`: the map-to-sequence linear layer (64).
   */
  embed_dim: Type.Optional(Type.Integer({ minimum: 1 })),
  /** `small`: dropout after its dense layer (the Keras captcha recipe: 0.2). */
  dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99 })),
  /**
   * Feed `1 - x`: ink bright on a dark (zero) background instead of the reference recipes' [0, 1] pixels with white
   * paper = 1. The first convolutions then see mostly zeros rather than a constant offset, and CTC training leaves
   * its all-blank plateau several times sooner (see packages/model/README.md). Absent = false (saved models of
   * earlier versions load unchanged).
   */
  invert: Type.Optional(Type.Boolean()),
  /** `resnet18`: the fixed input width in pixels (the 1x1 width projection maps its columns to `steps` frames). */
  width: Type.Optional(Type.Integer({ minimum: 8, maximum: 16384 })),
  /** `resnet18`: output frames T (the licence-plate recipe: 20). */
  steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  /**
   * Initial bias of the blank class in the output layer (0 = the layer's own init). With `b`, an untrained model gives
   * p(blank) = e^b / (e^b + classes - 1) per frame; starting near the share of blank frames (1 - label length / T)
   * spares the first steps the violent all-blank phase of CTC training, in which ReLU units die. Absent = 0.
   */
  blank_bias: Type.Optional(Type.Number({ minimum: -20, maximum: 20 })),
});

/** The model section as written in YAML. */
export type ModelYaml = Static<typeof ModelSchema>;

/** Recurrent part of a resolved model config. */
export type RnnConfig = Required<Omit<Camelized<Static<typeof RnnSchema>>, 'hiddenPerLayer'>> & {
  hiddenPerLayer?: number[];
};

/** Architecture and input of an OCR model, defaults resolved; see packages/model/README.md for each architecture. */
export type ModelConfig = Omit<Camelized<ModelYaml>, 'height' | 'channels' | 'rnn'> & {
  height: number;
  channels: 1 | 3;
  rnn: RnnConfig;
};

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

/** Architectures whose extractor width is `inner_dim`. */
const INNER_DIM_ARCHS: readonly Arch[] = ['vgg', 'resnet'];
/** Architectures with an `embed_dim` layer. */
const EMBED_ARCHS: readonly Arch[] = ['vgg', 'small', 'crnn'];
/** Smallest `height` each architecture accepts in a config. */
const MIN_CONFIG_HEIGHT: Record<Arch, number> = { vgg: 32, resnet: 32, small: 4, resnet18: 8, crnn: 32 };

/**
 * The checks between fields of a model section that the schema cannot express (which fields an architecture uses,
 * its smallest height, `hidden_per_layer` against `layers`). `at` prefixes the reported paths (e.g. `['model']`).
 */
export function checkModelSection(m: ModelYaml, report: ReportIssue, at: readonly string[] = []): void {
  const p = (...k: string[]) => [...at, ...k];
  const { arch } = m;
  if (m.height !== undefined && m.height < MIN_CONFIG_HEIGHT[arch]) {
    report(
      p('height'),
      `is below the smallest height of arch '${arch}', got ${m.height}`,
      `an integer >= ${MIN_CONFIG_HEIGHT[arch]}`,
    );
  }
  if (m.inner_dim !== undefined && !INNER_DIM_ARCHS.includes(arch)) {
    report(p('inner_dim'), `is not used by arch '${arch}' (its channels are fixed by its recipe); remove it`);
  }
  if (m.embed_dim !== undefined && !EMBED_ARCHS.includes(arch))
    report(p('embed_dim'), `is not used by arch '${arch}'; remove it`);
  for (const k of ['width', 'steps'] as const) {
    if (m[k] !== undefined && arch !== 'resnet18')
      report(p(k), `is only used by arch 'resnet18' (its fixed input width and output frames)`);
  }
  if (m.dropout !== undefined && arch !== 'small')
    report(p('dropout'), `is only used by arch 'small' (use rnn.dropout)`);
  const hpl = m.rnn?.hidden_per_layer;
  if (hpl) {
    const layers = m.rnn?.layers ?? defaultModelConfig(arch).rnn.layers;
    if (hpl.length !== layers) report(p('rnn', 'hidden_per_layer'), `has ${hpl.length} entries for ${layers} layers`);
  }
}

/** Fills a checked model section with its architecture's defaults. */
export function resolveModelSection(m: ModelYaml): ModelConfig {
  const d = defaultModelConfig(m.arch);
  const given = camelizeConfig(ModelSchema, m);
  const rnnGiven = given.rnn ?? {};
  const rnn: RnnConfig = { ...d.rnn, ...rnnGiven } as RnnConfig;
  // a default per-layer width list gives way to an explicit hidden size or layer count
  if (!rnnGiven.hiddenPerLayer && (rnnGiven.hidden !== undefined || rnnGiven.layers !== undefined))
    delete rnn.hiddenPerLayer;
  const cfg: ModelConfig = { ...d, ...given, rnn };
  if (!INNER_DIM_ARCHS.includes(m.arch)) delete cfg.innerDim;
  if (!cfg.invert) delete cfg.invert;
  if (!cfg.blankBias) delete cfg.blankBias;
  return cfg;
}

/**
 * Validates a model section written with the YAML keys (`arch`, `height`, `channels`, `inner_dim`, `rnn: {type, hidden,
 * layers, bidirectional, dropout, hidden_per_layer}`, `embed_dim`, `dropout`, `invert`, `width`, `steps`,
 * `blank_bias`); unspecified fields take the architecture's defaults. `locate` gives the positions of its keys.
 */
export function readModelConfig(value: unknown, source: string, locate?: ConfigLocator): ModelConfig {
  const m = validateConfig(ModelSchema, value, { source, locate, check: (v, report) => checkModelSection(v, report) });
  return resolveModelSection(m);
}

/**
 * Loads a model config from YAML: either the model section at the top level or under a `model:` key.
 * Errors are `OcropsError`s (`OCROPS_CONFIG_INVALID`) naming file:line:col and the field.
 */
export function loadModelConfig(path: string): ModelConfig {
  const doc = readConfigDocument(path);
  const root = doc.value;
  if (root && typeof root === 'object' && !Array.isArray(root) && 'model' in root && !('arch' in root)) {
    return readModelConfig((root as { model: unknown }).model, path, (k) => doc.locate(['model', ...k]));
  }
  if (!root || typeof root !== 'object' || !('arch' in root)) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${path}: field 'arch' is required (${ARCHS.join(', ')})`, {
      hint: "start the file with 'arch: vgg' (or put the model fields under 'model:')",
    });
  }
  return readModelConfig(root, path, doc.locate);
}

/** Validates a ModelConfig object built in code (e.g. from saved metadata), returning a normalised copy. */
export function parseModelConfig(value: unknown, source: string): ModelConfig {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return readModelConfig(snakeizeConfig(ModelSchema, value), source);
  }
  throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: model config must be a mapping`);
}
