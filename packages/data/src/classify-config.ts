// The image-classification data config kind (`task: classify`, configs/data/butterflies.yaml): where the labelled
// images are (an ImageFolder tree or a `filename,label` CSV), the image size, the stratified split and the training
// augmentation. One TypeBox schema (`ClassifyDataSchema`, snake_case YAML keys, defaults in the schema) read through
// @ocrops/common's config-schema layer; errors name file:line:col and the field. Nothing of the OCR data config.
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  camelizeConfig,
  formatIssues,
  formatPosition,
  sharedDataset,
  sharedDatasetsDir,
  validateConfig,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';

const literals = <T extends string | number>(values: readonly T[], opts: object = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  );

/** Where the images and their class labels come from (`source:`). */
export const ClassSourceSchema = Type.Object({
  /** `imagefolder`: `dir/<class name>/<image>`; `csv`: a `filename,label` CSV */
  kind: literals(['imagefolder', 'csv'] as const),
  /** a folder of ../shared/datasets; `dir` / `file` / `images_dir` are then relative to it */
  dataset: Type.Optional(Type.String()),
  /** imagefolder: the folder of class folders (default `train` with `dataset`) */
  dir: Type.Optional(Type.String()),
  /** csv: the CSV file */
  file: Type.Optional(Type.String()),
  /** csv: the folder its file names are relative to (default: the CSV's folder) */
  images_dir: Type.Optional(Type.String()),
});

/** Fixed input size: every image is resized to exactly width x height. */
export const ClassImageSchema = Type.Object({
  height: Type.Integer({ minimum: 8, maximum: 1024 }),
  /** default: the height */
  width: Type.Optional(Type.Integer({ minimum: 8, maximum: 1024 })),
  /** 1 (grayscale) or 3 (RGB) */
  channels: literals([1, 3] as const, { default: 3 }),
});

/** Shares of each class held out for validation and test (the rest trains), and the seed of the draw. */
export const ClassSplitSchema = Type.Object(
  {
    val: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1 }),
    test: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1 }),
    seed: Type.Integer({ default: 42 }),
  },
  { default: {} },
);

const positive = () => Type.Number({ exclusiveMinimum: 0 });

/**
 * Training augmentation of a classifier, drawn per image (the reference PyTorch ImageFolder recipe): random
 * horizontal/vertical flips (p 0.5 each), colour jitter of brightness, contrast and saturation by a factor in
 * [1 - color_jitter, 1 + color_jitter] each, and an affine shift by up to `translate` of the size with a scale in
 * `scale`. Missing keys take the reference recipe's values.
 */
export const ClassAugmentSchema = Type.Object({
  hflip: Type.Boolean({ default: true }),
  vflip: Type.Boolean({ default: true }),
  /** Largest relative change of brightness, contrast and saturation (0 = off). */
  color_jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
  /** Largest shift as a share of the width/height (0 = off). */
  translate: Type.Number({ minimum: 0, maximum: 0.5, default: 0.1 }),
  /** Scale range [min, max] of the affine transform ([1, 1] = off). */
  scale: Type.Tuple([positive(), positive()], {
    default: [0.9, 1.1],
    allowed: 'a [min, max] pair of positive numbers, e.g. [0.9, 1.1]',
  }),
  /** Pixels that the affine transform brings in from outside: repeat the nearest edge pixel, or a constant value. */
  fill: literals(['edge', 'constant'] as const, { default: 'edge' }),
  /** The constant of `fill: constant`, in [0, 1] (default 0, black, as torchvision's RandomAffine). */
  fill_value: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
});

/** A classification data config (`task: classify`, configs/data/*.yaml). */
export const ClassifyDataSchema = Type.Object({
  task: Type.Literal('classify'),
  /** names the output folder */
  name: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
  source: ClassSourceSchema,
  image: ClassImageSchema,
  split: ClassSplitSchema,
  /** Training augmentation (read by the trainer; prepare stores it in meta.json); false = none. */
  augment: Type.Union([Type.Literal(false), ClassAugmentSchema], { default: {} }),
  /** Output folder (default data/prepared/<name>). */
  out_dir: Type.Optional(Type.String()),
});

export type ClassifyDataYaml = Static<typeof ClassifyDataSchema>;

/** Where the images and their class labels come from. Paths are absolute. */
export type ClassSource =
  /** `dir/<class name>/<image>`: one folder per class (the PyTorch ImageFolder layout). */
  | { kind: 'imagefolder'; dir: string }
  /** A CSV with a header and the columns `filename,label`; file names are relative to `imagesDir`. */
  | { kind: 'csv'; file: string; imagesDir: string };

/** Fixed input size of a classifier: every image is resized to exactly width x height. */
export interface ClassImageOptions {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** Shares of each class held out for validation and test (the rest trains), and the seed of the draw. */
export type ClassSplitOptions = Static<typeof ClassSplitSchema>;

/** Training augmentation of a classifier (see {@link ClassAugmentSchema}), camelCase. */
export interface ClassAugmentConfig {
  hflip: boolean;
  vflip: boolean;
  colorJitter: number;
  translate: number;
  scale: [number, number];
  fill: 'edge' | 'constant';
  fillValue: number;
}

/** A validated classification data config. */
export interface ClassifyDataConfig {
  task: 'classify';
  name: string;
  source: ClassSource;
  image: ClassImageOptions;
  split: ClassSplitOptions;
  /** Training augmentation (read by the trainer; prepare stores it in meta.json), or false. */
  augment: ClassAugmentConfig | false;
  /** Output folder (absolute), default data/prepared/<name>. */
  outDir: string;
  /** The file it was read from (for messages). */
  file: string;
}

/** The reference recipe's augmentation: flips, colour jitter 0.2, translate 0.1, scale 0.9-1.1, edge fill. */
export function defaultClassAugment(): ClassAugmentConfig {
  return parseClassAugment({}, '<default>');
}

function checkScale(scale: readonly number[], report: ReportIssue, at: readonly string[]): void {
  if (scale[0] > scale[1]) report([...at, 'scale'], `must be [min, max] with min <= max, got [${scale.join(', ')}]`);
}

function resolveAugment(a: Static<typeof ClassAugmentSchema>): ClassAugmentConfig {
  const c = camelizeConfig(ClassAugmentSchema, a);
  return { ...c, scale: [c.scale[0], c.scale[1]] };
}

/** Parses an `augment` section of a classification data config (missing keys take the reference recipe's values). */
export function parseClassAugment(value: unknown, source: string, locate?: ConfigLocator): ClassAugmentConfig {
  const a = validateConfig(ClassAugmentSchema, value, {
    source,
    locate,
    check: (v, report) => checkScale(v.scale, report, []),
  });
  return resolveAugment(a);
}

/** The checks of a classification data config between its fields. */
function checkClassifyData(v: ClassifyDataYaml, report: ReportIssue): void {
  const s = v.source;
  const at = (k: string) => ['source', k];
  const unused = s.kind === 'imagefolder' ? (['file', 'images_dir'] as const) : (['dir'] as const);
  for (const k of unused) if (s[k] !== undefined) report(at(k), `is not used with kind '${s.kind}'; remove it`);
  if (s.kind === 'imagefolder' && s.dir === undefined && s.dataset === undefined)
    report(at('dir'), "is required for kind 'imagefolder' (or give 'dataset')");
  if (s.kind === 'csv' && s.file === undefined) report(at('file'), "is required for kind 'csv'");
  if (v.augment !== false) checkScale(v.augment.scale, report, ['augment']);
}

/** The folder of a shared dataset (../shared/datasets/<name>), or a clear error when it is absent. */
function sharedDatasetDir(name: string, where: string): string {
  const dir = sharedDataset(name);
  if (!dir) {
    throw new OcropsError(
      'OCROPS_DATA_DATASET_ABSENT',
      `${where}: shared dataset '${name}' not found in ${sharedDatasetsDir()}`,
      {
        hint: 'put the dataset folder there, or set OCROPS_DATASETS to the folder that holds it',
      },
    );
  }
  return dir;
}

/**
 * Resolves the `source` section. `dataset: <name>` makes `dir` / `file` / `images_dir` relative to that folder of
 * ../shared/datasets; otherwise relative paths are resolved from `baseDir`.
 */
function resolveClassSource(s: ClassifyDataYaml['source'], baseDir: string, where: string): ClassSource {
  const root = s.dataset !== undefined ? sharedDatasetDir(s.dataset, where) : baseDir;
  if (s.kind === 'imagefolder') return { kind: 'imagefolder', dir: resolve(root, s.dir ?? 'train') };
  const file = resolve(root, s.file as string);
  return {
    kind: 'csv',
    file,
    imagesDir: s.images_dir !== undefined ? resolve(root, s.images_dir) : resolve(file, '..'),
  };
}

/**
 * Validates a classification data config. Relative paths are resolved from `baseDir` (default: the current
 * directory), as in the OCR data config. `locate` gives the positions of its keys when it was read from a file.
 */
export function parseClassifyDataConfig(
  value: unknown,
  file: string,
  baseDir = process.cwd(),
  locate?: ConfigLocator,
): ClassifyDataConfig {
  const v = validateConfig(ClassifyDataSchema, value, { source: file, locate, check: checkClassifyData });
  const pos = locate?.(['source', 'dataset']);
  const source = resolveClassSource(v.source, baseDir, pos ? formatPosition(pos) : file);
  const { height, width, channels } = v.image;
  return {
    task: 'classify',
    name: v.name,
    source,
    image: { height, width: width ?? height, channels },
    split: v.split,
    augment: v.augment === false ? false : resolveAugment(v.augment),
    outDir: resolve(baseDir, v.out_dir ?? `data/prepared/${v.name}`),
    file,
  };
}

/** The `task` of a parsed data config: `classify`, or `ocr` (the default when the key is absent). */
export function dataConfigTask(value: unknown, file: string, locate?: ConfigLocator): 'ocr' | 'classify' {
  const task =
    value && typeof value === 'object' && !Array.isArray(value) ? (value as { task?: unknown }).task : undefined;
  if (task === undefined || task === 'ocr') return 'ocr';
  if (task === 'classify') return 'classify';
  const issue = {
    path: ['task'],
    message: `is not one of the allowed values, got ${JSON.stringify(task)}`,
    allowed: 'ocr, classify',
  };
  throw new OcropsError(
    'OCROPS_CONFIG_INVALID',
    `${file}: 1 problem in the config:\n${formatIssues([issue], file, locate)}`,
    {
      hint: "give 'task: ocr' (text lines, the default) or 'task: classify' (image classes)",
    },
  );
}
