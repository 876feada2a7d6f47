/**
 * Image-classifier model configuration (`task: classify`): the typed `ClassifierConfig` and its YAML reader. YAML keys
 * are snake_case (`base_channels`); the TypeScript object uses camelCase. Imports no TensorFlow.
 */
import { ConfigReader, OcropsError } from '@ocrops/common';
import { ARCHS, readModelConfig, type ModelConfig } from './config.js';

/** `cnn4`: the reference PyTorch four-conv classifier; `resnet_gap`: a small ResNet with global average pooling. */
export type ClassifierArch = 'cnn4' | 'resnet_gap';
export const CLASSIFIER_ARCHS: readonly ClassifierArch[] = ['cnn4', 'resnet_gap'];

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
}

/** Default configuration of each classifier architecture (128 x 128 RGB, the butterflies set). */
export function defaultClassifierConfig(arch: ClassifierArch): ClassifierConfig {
  switch (arch) {
    case 'cnn4':
      return { task: 'classify', arch, height: 128, width: 128, channels: 3, baseChannels: 32, dropout: 0 };
    case 'resnet_gap':
      return { task: 'classify', arch, height: 128, width: 128, channels: 3, baseChannels: 32, depth: 2, dropout: 0.2 };
  }
}

const KEYS = ['task', 'arch', 'height', 'width', 'channels', 'base_channels', 'depth', 'dropout'] as const;

/** Smallest input side of an architecture: both halve the image four times (resnet_gap: stem /4, three stride-2 stages). */
export function minClassifierSide(arch: ClassifierArch): number {
  return arch === 'cnn4' ? 16 : 32;
}

/**
 * Reads a classifier model section (`task: classify` optional, `arch`, `height`, `width`, `channels`,
 * `base_channels`, `depth` (resnet_gap), `dropout`); unspecified fields take the architecture's defaults.
 */
export function readClassifierConfig(r: ConfigReader): ClassifierConfig {
  r.only(KEYS);
  r.oneOf('task', ['classify'] as const, 'classify');
  const arch = r.oneOf('arch', CLASSIFIER_ARCHS);
  const d = defaultClassifierConfig(arch);
  const side = minClassifierSide(arch);
  const cfg: ClassifierConfig = {
    task: 'classify',
    arch,
    height: r.integer('height', d.height, { min: side, max: 4096 }),
    width: r.integer('width', d.width, { min: side, max: 4096 }),
    channels: 3,
    baseChannels: r.integer('base_channels', d.baseChannels, { min: 1, max: 1024 }),
    dropout: r.number('dropout', d.dropout, { min: 0, max: 0.99 }),
  };
  const channels = r.integer('channels', d.channels);
  if (channels !== 1 && channels !== 3) r.fail('channels', `must be 1 or 3, got ${channels}`);
  cfg.channels = channels;
  if (arch === 'resnet_gap') cfg.depth = r.integer('depth', d.depth, { min: 1, max: 16 });
  else if (r.has('depth'))
    r.fail('depth', `is only used by arch 'resnet_gap' (blocks per stage); cnn4 has four fixed conv layers`);
  return cfg;
}

/** Validates a ClassifierConfig object built in code or saved in metadata, returning a normalised copy. */
export function parseClassifierConfig(value: unknown, source: string): ClassifierConfig {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: classifier config must be a mapping`);
  }
  const v = value as Record<string, unknown>;
  const snake: Record<string, unknown> = {
    task: v.task,
    arch: v.arch,
    height: v.height,
    width: v.width,
    channels: v.channels,
    base_channels: v.baseChannels,
    depth: v.depth,
    dropout: v.dropout,
  };
  return readClassifierConfig(ConfigReader.from(snake, source));
}

/** Whether a model section describes a classifier: `task: classify`, or a classifier `arch`. */
export function isClassifierSection(r: ConfigReader): boolean {
  if (r.has('task')) return r.oneOf('task', ['ocr', 'classify'] as const) === 'classify';
  return CLASSIFIER_ARCHS.includes(r.raw('arch') as ClassifierArch);
}

/**
 * Reads a model section of either task: a classifier config when the section says `task: classify` (or names a
 * classifier arch) or when `task` (the enclosing config's task) is 'classify'; an OCR ModelConfig otherwise.
 */
export function readTaskModelConfig(r: ConfigReader, task?: 'ocr' | 'classify'): ModelConfig | ClassifierConfig {
  if (task !== undefined && r.has('task') && r.raw('task') !== task)
    r.fail('task', `is '${String(r.raw('task'))}' but the config's task is '${task}'`);
  const classify = task === 'classify' || (task === undefined && isClassifierSection(r));
  if (classify) return readClassifierConfig(r);
  if (r.has('task')) {
    // an OCR section may name its task; the OCR reader itself knows no `task` key
    const rest = Object.fromEntries(
      r
        .keys()
        .filter((k) => k !== 'task')
        .map((k) => [k, r.raw(k)]),
    );
    return readModelConfig(rest, r.source);
  }
  if (!r.has('arch')) r.fail('arch', `is required (${[...ARCHS, ...CLASSIFIER_ARCHS].join(', ')})`);
  return readModelConfig(Object.fromEntries(r.keys().map((k) => [k, r.raw(k)])), r.source);
}

/** Whether a parsed model config is a classifier's. */
export function isClassifierConfig(cfg: ModelConfig | ClassifierConfig): cfg is ClassifierConfig {
  return (cfg as ClassifierConfig).task === 'classify';
}
