/**
 * Image-classifier model configuration (`task: classify`): one TypeBox schema of the YAML model section
 * (`ClassifierModelSchema`, snake_case keys: `base_channels`) and the resolved in-code `ClassifierConfig` (camelCase,
 * the architecture's defaults filled in). Errors name file:line:col and the field. Imports no TensorFlow.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  camelizeConfig,
  formatIssues,
  snakeizeConfig,
  validateConfig,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';
import { ARCHS, readModelConfig, type ModelConfig } from './config.js';

/** `cnn4`: the reference PyTorch four-conv classifier; `resnet_gap`: a small ResNet with global average pooling. */
export type ClassifierArch = 'cnn4' | 'resnet_gap';
export const CLASSIFIER_ARCHS: readonly ClassifierArch[] = ['cnn4', 'resnet_gap'];

const literals = <T extends string | number>(values: readonly T[], opts: object = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  );

/** The classifier model section of a config (`model:` of a `task: classify` train config, or its model file). */
export const ClassifierModelSchema = Type.Object({
  /** optional here: the enclosing train config names the task */
  task: Type.Optional(Type.Literal('classify')),
  arch: literals(CLASSIFIER_ARCHS),
  /** Input image height and width in pixels (images are resized to exactly height x width). */
  height: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  width: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  channels: Type.Optional(literals([1, 3] as const)),
  /**
   * Channels of the first stage, doubled at every further stage: `cnn4` its four convolutions (32: 32, 64, 128, 256);
   * `resnet_gap` its stem and four stages (32: 32, 64, 128, 256).
   */
  base_channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  /** `resnet_gap`: BasicBlocks per stage (every one of the four stages). */
  depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  /** Dropout on the features before the linear head, in training (0 = none). */
  dropout: Type.Optional(Type.Number({ minimum: 0, maximum: 0.99 })),
  /**
   * Test-time augmentation of inference (evaluation, predict, serving, ONNX): the logits averaged over the image and
   * its mirror (`hflip`), or over the image and its three flips (`flips`); `none` runs the image alone.
   */
  tta: Type.Optional(literals(['none', 'hflip', 'flips'] as const)),
});

/** A classifier model section as written in YAML. */
export type ClassifierModelYaml = Static<typeof ClassifierModelSchema>;

/** Architecture and input of an image classifier; see packages/model/README.md for each architecture. */
export interface ClassifierConfig {
  task: 'classify';
  arch: ClassifierArch;
  /** Input image height and width in pixels (images are resized to exactly height x width). */
  height: number;
  width: number;
  channels: 1 | 3;
  /**
   * Channels of the first stage, doubled at every further stage: `cnn4` its four convolutions (32: 32, 64, 128, 256);
   * `resnet_gap` its stem and four stages (32: 32, 64, 128, 256).
   */
  baseChannels: number;
  /** `resnet_gap`: BasicBlocks per stage (every one of the four stages). */
  depth?: number;
  /** Dropout on the features before the linear head, in training (0 = none). */
  dropout: number;
  /** Test-time flips whose logits inference averages (see {@link ClassifierTta}). */
  tta: ClassifierTta;
}

/** Test-time augmentation of a classifier: `hflip` averages the image and its mirror, `flips` all four flips. */
export type ClassifierTta = 'none' | 'hflip' | 'flips';

/** The flips inference runs per test-time augmentation: [flip rows (vertical), flip columns (horizontal)]. */
export const TTA_VIEWS: Record<ClassifierTta, ReadonlyArray<readonly [boolean, boolean]>> = {
  none: [[false, false]],
  hflip: [
    [false, false],
    [false, true],
  ],
  flips: [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ],
};

/** Default configuration of each classifier architecture (128 x 128 RGB, the butterflies set). */
export function defaultClassifierConfig(arch: ClassifierArch): ClassifierConfig {
  const common = { task: 'classify', height: 128, width: 128, channels: 3, baseChannels: 32, tta: 'none' } as const;
  switch (arch) {
    case 'cnn4':
      return { ...common, arch, dropout: 0 };
    case 'resnet_gap':
      return { ...common, arch, depth: 2, dropout: 0.2 };
  }
}

/** Smallest input side of an architecture: both halve the image four times (resnet_gap: stem /4, three stride-2 stages). */
export function minClassifierSide(arch: ClassifierArch): number {
  return arch === 'cnn4' ? 16 : 32;
}

/**
 * The checks between fields of a classifier model section that the schema cannot express (the architecture's smallest
 * side, `depth` for resnet_gap only). `at` prefixes the reported paths (e.g. `['model']`).
 */
export function checkClassifierSection(m: ClassifierModelYaml, report: ReportIssue, at: readonly string[] = []): void {
  const side = minClassifierSide(m.arch);
  for (const k of ['height', 'width'] as const) {
    const v = m[k];
    if (v !== undefined && v < side)
      report([...at, k], `is below the smallest side of arch '${m.arch}', got ${v}`, `an integer >= ${side}`);
  }
  if (m.depth !== undefined && m.arch !== 'resnet_gap')
    report(
      [...at, 'depth'],
      `is only used by arch 'resnet_gap' (blocks per stage); ${m.arch} has four fixed conv layers`,
    );
}

/** Fills a checked classifier model section with its architecture's defaults. */
export function resolveClassifierSection(m: ClassifierModelYaml): ClassifierConfig {
  const d = defaultClassifierConfig(m.arch);
  const given = camelizeConfig(ClassifierModelSchema, m);
  const cfg: ClassifierConfig = { ...d, ...given, task: 'classify' };
  if (m.arch !== 'resnet_gap') delete cfg.depth;
  return cfg;
}

/**
 * Validates a classifier model section written with the YAML keys (`task: classify` optional, `arch`, `height`,
 * `width`, `channels`, `base_channels`, `depth` (resnet_gap), `dropout`, `tta`); unspecified fields take the architecture's
 * defaults. `locate` gives the positions of its keys.
 */
export function readClassifierConfig(value: unknown, source: string, locate?: ConfigLocator): ClassifierConfig {
  const m = validateConfig(ClassifierModelSchema, value, {
    source,
    locate,
    check: (v, report) => checkClassifierSection(v, report),
  });
  return resolveClassifierSection(m);
}

/** Validates a ClassifierConfig object built in code or saved in metadata, returning a normalised copy. */
export function parseClassifierConfig(value: unknown, source: string): ClassifierConfig {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: classifier config must be a mapping`);
  }
  return readClassifierConfig(snakeizeConfig(ClassifierModelSchema, value), source);
}

/** Whether a model section describes a classifier: `task: classify`, or a classifier `arch`. */
export function isClassifierSection(value: unknown): boolean {
  const v = (value && typeof value === 'object' ? value : {}) as { task?: unknown; arch?: unknown };
  if (v.task !== undefined) return v.task === 'classify';
  return CLASSIFIER_ARCHS.includes(v.arch as ClassifierArch);
}

/**
 * Reads a model section of either task: a classifier config when the section says `task: classify` (or names a
 * classifier arch) or when `task` (the enclosing config's task) is 'classify'; an OCR ModelConfig otherwise.
 * `locate` gives the positions of its keys.
 */
export function readTaskModelConfig(
  value: unknown,
  source: string,
  task?: 'ocr' | 'classify',
  locate?: ConfigLocator,
): ModelConfig | ClassifierConfig {
  const v = (value && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const fail = (message: string, allowed?: string): never => {
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${source}: 1 problem in the config:\n${formatIssues([{ path: ['task'], message, allowed }], source, locate)}`,
      { hint: 'fix the field named above' },
    );
  };
  if (v.task !== undefined && v.task !== 'ocr' && v.task !== 'classify')
    fail(`is not one of the allowed values, got ${JSON.stringify(v.task)}`, 'ocr, classify');
  if (task !== undefined && v.task !== undefined && v.task !== task)
    fail(`is '${String(v.task)}' but the config's task is '${task}'`);
  const classify = task === 'classify' || (task === undefined && isClassifierSection(v));
  if (classify) return readClassifierConfig(value, source, locate);
  // an OCR section may name its task; the OCR schema itself knows no `task` key
  const { task: _task, ...rest } = v;
  if (rest.arch === undefined) {
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${source}: 1 problem in the config:\n${formatIssues([{ path: ['arch'], message: 'is required', allowed: [...ARCHS, ...CLASSIFIER_ARCHS].join(', ') }], source, locate)}`,
      { hint: "give the model's 'arch'" },
    );
  }
  return readModelConfig(rest, source, locate);
}

/** Whether a parsed model config is a classifier's. */
export function isClassifierConfig(cfg: ModelConfig | ClassifierConfig): cfg is ClassifierConfig {
  return (cfg as ClassifierConfig).task === 'classify';
}
