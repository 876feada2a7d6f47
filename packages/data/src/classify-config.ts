// The image-classification data config kind (`task: classify`, configs/data/butterflies.yaml): where the labelled
// images are (an ImageFolder tree or a `filename,label` CSV), the image size, the stratified split and the training
// augmentation. Self-contained: it reads its own keys with ConfigReader and nothing of the OCR data config.
import { resolve } from 'node:path';
import { ConfigReader, OcropsError, sharedDataset, sharedDatasetsDir } from '@ocrops/common';

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
export interface ClassSplitOptions {
  val: number;
  test: number;
  seed: number;
}

/**
 * Training augmentation of a classifier, drawn per image (the reference PyTorch ImageFolder recipe): random
 * horizontal/vertical flips (p 0.5 each), colour jitter of brightness, contrast and saturation by a factor in
 * [1 - colorJitter, 1 + colorJitter] each, and an affine shift by up to `translate` of the size with a scale in `scale`.
 */
export interface ClassAugmentConfig {
  hflip: boolean;
  vflip: boolean;
  /** Largest relative change of brightness, contrast and saturation (0 = off). */
  colorJitter: number;
  /** Largest shift as a share of the width/height (0 = off). */
  translate: number;
  /** Scale range [min, max] of the affine transform ([1, 1] = off). */
  scale: [number, number];
  /** Pixels that the affine transform brings in from outside: repeat the nearest edge pixel, or a constant value. */
  fill: 'edge' | 'constant';
  /** The constant of `fill: constant`, in [0, 1] (default 0, black, as torchvision's RandomAffine). */
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

const TOP_KEYS = ['task', 'name', 'source', 'image', 'split', 'augment', 'out_dir'] as const;
const AUGMENT_KEYS = ['hflip', 'vflip', 'color_jitter', 'translate', 'scale', 'fill', 'fill_value'] as const;

/** The reference recipe's augmentation: flips, colour jitter 0.2, translate 0.1, scale 0.9-1.1, edge fill. */
export function defaultClassAugment(): ClassAugmentConfig {
  return { hflip: true, vflip: true, colorJitter: 0.2, translate: 0.1, scale: [0.9, 1.1], fill: 'edge', fillValue: 0 };
}

/** Parses an `augment` section of a classification data config (missing keys take the reference recipe's values). */
export function parseClassAugment(r: ConfigReader): ClassAugmentConfig {
  const d = defaultClassAugment();
  r.only(AUGMENT_KEYS);
  let scale = d.scale;
  if (r.has('scale')) {
    const v = r.raw('scale');
    if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0)) {
      r.fail('scale', 'must be a [min, max] pair of positive numbers, e.g. [0.9, 1.1]');
    }
    scale = [v[0] as number, v[1] as number];
    if (scale[0] > scale[1]) r.fail('scale', `must be [min, max] with min <= max, got [${scale.join(', ')}]`);
  }
  return {
    hflip: r.boolean('hflip', d.hflip),
    vflip: r.boolean('vflip', d.vflip),
    colorJitter: r.number('color_jitter', d.colorJitter, { min: 0, max: 1 }),
    translate: r.number('translate', d.translate, { min: 0, max: 0.5 }),
    scale,
    fill: r.oneOf('fill', ['edge', 'constant'] as const, d.fill),
    fillValue: r.number('fill_value', d.fillValue, { min: 0, max: 1 }),
  };
}

/** The folder of a shared dataset (../shared/datasets/<name>), or a clear error when it is absent. */
function sharedDatasetDir(r: ConfigReader, name: string): string {
  const dir = sharedDataset(name);
  if (!dir) {
    throw new OcropsError('OCROPS_DATA_DATASET_ABSENT', `${r.source}: shared dataset '${name}' not found in ${sharedDatasetsDir()}`, {
      hint: 'put the dataset folder there, or set OCROPS_DATASETS to the folder that holds it',
    });
  }
  return dir;
}

/**
 * Parses the `source` section. `dataset: <name>` makes `dir` / `file` / `images_dir` relative to that folder of
 * ../shared/datasets; otherwise relative paths are resolved from `baseDir`.
 */
function parseClassSource(r: ConfigReader, baseDir: string): ClassSource {
  const kind = r.oneOf('kind', ['imagefolder', 'csv'] as const);
  const root = r.has('dataset') ? sharedDatasetDir(r, r.string('dataset')) : baseDir;
  if (kind === 'imagefolder') {
    r.only(['kind', 'dataset', 'dir']);
    return { kind, dir: resolve(root, r.string('dir', r.has('dataset') ? 'train' : undefined)) };
  }
  r.only(['kind', 'dataset', 'file', 'images_dir']);
  const file = resolve(root, r.string('file'));
  return { kind, file, imagesDir: r.has('images_dir') ? resolve(root, r.string('images_dir')) : resolve(file, '..') };
}

/**
 * Validates a classification data config. Relative paths are resolved from `baseDir` (default: the current
 * directory), as in the OCR data config.
 */
export function parseClassifyDataConfig(value: unknown, file: string, baseDir = process.cwd()): ClassifyDataConfig {
  const r = ConfigReader.from(value, file).only(TOP_KEYS);
  r.oneOf('task', ['classify'] as const);
  const name = r.string('name');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) r.fail('name', 'may only hold letters, digits, ".", "_" and "-" (it names the output folder)');
  const source = parseClassSource(r.section('source', true), baseDir);

  const im = r.section('image', true).only(['height', 'width', 'channels']);
  const height = im.integer('height', undefined, { min: 8, max: 1024 });
  const width = im.integer('width', height, { min: 8, max: 1024 });
  const channels = im.integer('channels', 3);
  if (channels !== 1 && channels !== 3) im.fail('channels', `must be 1 (grayscale) or 3 (RGB), got ${channels}`);

  const sp = r.section('split').only(['val', 'test', 'seed']);
  const split: ClassSplitOptions = {
    val: sp.number('val', 0.1, { min: 0, max: 0.5 }),
    test: sp.number('test', 0.1, { min: 0, max: 0.5 }),
    seed: sp.integer('seed', 42),
  };
  const augment = r.raw('augment') === false ? false : parseClassAugment(r.section('augment'));
  const outDir = resolve(baseDir, r.string('out_dir', `data/prepared/${name}`));
  return { task: 'classify', name, source, image: { height, width, channels: channels as 1 | 3 }, split, augment, outDir, file };
}

/** The `task` of a parsed data config: `classify`, or `ocr` (the default when the key is absent). */
export function dataConfigTask(value: unknown, file: string): 'ocr' | 'classify' {
  const task = ConfigReader.from(value, file).oneOf('task', ['ocr', 'classify'] as const, 'ocr');
  return task;
}
