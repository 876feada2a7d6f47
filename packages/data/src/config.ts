import { resolve } from 'node:path';
import { ConfigReader, OcropsError, readYamlFile, sharedDataset, sharedDatasetsDir } from '@ocrops/common';
import type { AugmentConfig } from './augment.js';
import { parseAugmentConfig } from './augment.js';

/** Formats of labelled image sets that `prepare` reads. */
export const SOURCE_FORMATS = ['labels-json', 'config-json', 'folder', 'tags', 'label-studio', 'synthetic'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

/** Where the labelled images come from. Paths are absolute (resolved from the current directory when loading). */
export interface DataSource {
  format: SourceFormat;
  /**
   * labels-json: labels.json (or its folder); config-json: config.json; tags: the tags file;
   * label-studio: the export JSON; folder: the image folder. Unused for synthetic.
   */
  path?: string;
  /** Folder that image names are relative to (default: `<dir of path>/images` if it exists, else the dir of path). */
  images?: string;
  /** folder format: a regex with one capture group that extracts the label from the file stem (default: whole stem). */
  labelPattern?: string;
  /** label-studio: S3 endpoint for `s3://` image URIs (else env AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
  s3Endpoint?: string;
  /**
   * A dataset that comes already split (the reference CTCModel recipe's train/validation/test Label Studio exports): one source per
   * split, each with its own path (and images); the `split` shares are then not used.
   */
  splits?: Record<'train' | 'val' | 'test', { path: string; images?: string }>;
  /** label-studio: keep only tasks whose quality choice is one of these (e.g. `[Good]`); the rest are reported as skipped */
  quality?: string[];
  /** label-studio: `from_name` of the quality choices control (default `chc`) */
  qualityFrom?: string;
  /** keep only items whose whole label matches this regular expression (e.g. a plate mask); the rest are reported as skipped */
  textPattern?: string;
}

export type CharsetSpec = { kind: 'vietnamese' } | { kind: 'derive' } | { kind: 'explicit'; chars: string };

/** Image preprocessing: every image becomes `height` px tall, keeping its aspect ratio unless `width` is fixed. */
export interface ImageOptions {
  height: number;
  channels: 1 | 3;
  /** Fixed width (px): resize to exactly width x height, ignoring the aspect ratio. */
  width?: number;
  /** Widest image kept after resizing (px); wider images are squeezed to this width. */
  maxWidth: number;
}

export interface SplitOptions {
  /** Shares of the items; normalised to sum 1. */
  train: number;
  val: number;
  test: number;
  seed: number;
}

/** Options of the synthetic Vietnamese address-line generator. */
export interface SyntheticOptions {
  /** Lines to generate (before the train/val/test split). */
  count: number;
  seed: number;
  /** Font files (default: DejaVu, Noto and Liberation faces found under /usr/share/fonts). */
  fonts?: string[];
  /** Font size as a share of the line height, [min, max]. */
  fontScale: [number, number];
  /** Extra letter spacing in px at height 32 (scaled with the height), [min, max]. */
  spacing: [number, number];
  /** Horizontal shear (slant), [min, max] as tan(angle). */
  slant: [number, number];
  /** Probability of a Gaussian-like blur, and its radius range in px at height 32. */
  blur: { p: number; radius: [number, number] };
  /** Standard deviation of pixel noise (0..1 scale), [min, max]. */
  noise: [number, number];
  /**
   * Shorter lines: with probability `p` a line is a run of `range` consecutive words of the address instead of the
   * whole address (short lines train faster and teach the alignment sooner; long ones teach context). Default p 0.
   */
  words: { p: number; range: [number, number] };
}

/** A data config (configs/data/*.yaml), validated. */
export interface DataConfig {
  name: string;
  source: DataSource;
  charset: CharsetSpec;
  /** What to do with labels holding characters outside the charset. */
  onUnknownChars: 'filter' | 'fail';
  image: ImageOptions;
  split: SplitOptions;
  /** Output folder (absolute). */
  output: string;
  synthetic: SyntheticOptions;
  /** Augmentation the trainer should apply to train batches (read by the trainer; prepare ignores it). */
  augment: AugmentConfig | false;
  /** The file it was read from (for messages). */
  file: string;
}

const TOP_KEYS = ['task', 'name', 'source', 'charset', 'onUnknownChars', 'image', 'split', 'output', 'synthetic', 'augment'] as const;

function pair(r: ConfigReader, key: string, def: [number, number], min = -Infinity): [number, number] {
  const v = r.raw(key);
  if (v === undefined || v === null) return def;
  if (typeof v === 'number') return [v, v];
  if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    r.fail(key, 'must be a number or a [min, max] pair of numbers');
  }
  const [a, b] = v as [number, number];
  if (a > b) r.fail(key, `must be [min, max] with min <= max, got [${a}, ${b}]`);
  if (a < min) r.fail(key, `must be >= ${min}`);
  return [a, b];
}

/** Default synthetic options (also used by `ocrops data synth`). */
export function defaultSyntheticOptions(): SyntheticOptions {
  return {
    count: 2400,
    seed: 1,
    fontScale: [0.55, 0.8],
    spacing: [-0.5, 1.5],
    slant: [-0.25, 0.25],
    blur: { p: 0.3, radius: [0.3, 0.8] },
    noise: [0, 0.06],
    words: { p: 0, range: [2, 6] },
  };
}

/** Parses the `synthetic` section. */
export function parseSyntheticOptions(r: ConfigReader): SyntheticOptions {
  const d = defaultSyntheticOptions();
  r.only(['count', 'seed', 'fonts', 'fontScale', 'spacing', 'slant', 'blur', 'noise', 'words']);
  const blur = r.section('blur').only(['p', 'radius']);
  const words = r.section('words').only(['p', 'range']);
  const range = pair(words, 'range', d.words.range, 1);
  if (!Number.isInteger(range[0]) || !Number.isInteger(range[1])) words.fail('range', `must be two whole numbers of words, got [${range.join(', ')}]`);
  return {
    count: r.integer('count', d.count, { min: 1 }),
    seed: r.integer('seed', d.seed),
    fonts: r.has('fonts') ? r.stringArray('fonts').map((f) => resolve(f)) : undefined,
    fontScale: pair(r, 'fontScale', d.fontScale, 0.1),
    spacing: pair(r, 'spacing', d.spacing),
    slant: pair(r, 'slant', d.slant),
    blur: { p: blur.number('p', d.blur.p, { min: 0, max: 1 }), radius: pair(blur, 'radius', d.blur.radius, 0) },
    noise: pair(r, 'noise', d.noise, 0),
    words: { p: words.number('p', d.words.p, { min: 0, max: 1 }), range },
  };
}

/**
 * Validates a parsed data config. Relative paths are resolved from `baseDir` (default: the current directory);
 * `source.dataset: <name>` names a folder of ../shared/datasets (labels.json + images/).
 */
export function parseDataConfig(value: unknown, file: string, baseDir = process.cwd()): DataConfig {
  const r = ConfigReader.from(value, file);
  if (r.has('task') && r.raw('task') !== 'ocr') r.fail('task', `must be 'ocr' for a text-line data config (a 'classify' config is read by loadClassifyDataConfig)`);
  r.only(TOP_KEYS);
  const name = r.string('name');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) r.fail('name', 'may only hold letters, digits, ".", "_" and "-" (it names the output folder)');

  const s = r.section('source', true).only([
    'format', 'dataset', 'path', 'images', 'labelPattern', 's3Endpoint', 'splits', 'quality', 'qualityFrom', 'textPattern',
  ]);
  const format = s.oneOf('format', SOURCE_FORMATS);
  const source: DataSource = { format };
  if (s.has('dataset')) {
    const ds = s.string('dataset');
    const dir = sharedDataset(ds);
    if (!dir) {
      throw new OcropsError('OCROPS_DATA_DATASET_ABSENT', `${file}: shared dataset '${ds}' not found in ${sharedDatasetsDir()}`, {
        hint: 'put the dataset folder (labels.json + images/) there, or set OCROPS_DATASETS to the folder that holds it',
      });
    }
    source.path = resolve(dir, 'labels.json');
    source.images = resolve(dir, 'images');
  }
  if (s.has('path')) source.path = resolve(baseDir, s.string('path'));
  if (s.has('images')) source.images = resolve(baseDir, s.string('images'));
  if (s.has('labelPattern')) {
    const p = s.string('labelPattern');
    try {
      new RegExp(p);
    } catch (e) {
      s.fail('labelPattern', `is not a valid regular expression: ${(e as Error).message}`);
    }
    source.labelPattern = p;
  }
  source.s3Endpoint = s.optionalString('s3Endpoint');
  if (s.has('quality') || s.has('qualityFrom')) {
    if (format !== 'label-studio') s.fail(s.has('quality') ? 'quality' : 'qualityFrom', `filters Label Studio tasks; format is '${format}'`);
    if (s.has('quality')) {
      const q = s.raw('quality');
      const list = typeof q === 'string' ? [q] : q;
      if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string' || x === '')) {
        s.fail('quality', 'must be a non-empty list of choice names, e.g. [Good]');
      }
      source.quality = list as string[];
    }
    source.qualityFrom = s.optionalString('qualityFrom');
  }
  if (s.has('textPattern')) {
    if (format === 'synthetic') s.fail('textPattern', 'filters read labels; format synthetic generates its own');
    const p = s.string('textPattern');
    try {
      new RegExp(p, 'u');
    } catch (e) {
      s.fail('textPattern', `is not a valid regular expression: ${(e as Error).message}`);
    }
    source.textPattern = p;
  }
  if (s.has('splits')) {
    if (format === 'synthetic') s.fail('splits', 'is not used with format synthetic');
    const sp = s.section('splits').only(['train', 'val', 'test']);
    const one = (k: 'train' | 'val' | 'test') => {
      const e = sp.section(k, true).only(['path', 'images']);
      return { path: resolve(baseDir, e.string('path')), images: e.has('images') ? resolve(baseDir, e.string('images')) : undefined };
    };
    source.splits = { train: one('train'), val: one('val'), test: one('test') };
  } else if (format !== 'synthetic' && !source.path) s.fail('path', `is required for format '${format}' (or give 'dataset' or 'splits')`);

  let charset: CharsetSpec;
  const cs = r.string('charset', 'vietnamese');
  if (cs === 'vietnamese') charset = { kind: 'vietnamese' };
  else if (cs === 'derive') charset = { kind: 'derive' };
  else charset = { kind: 'explicit', chars: cs.normalize('NFC') };

  const onUnknownChars = r.oneOf('onUnknownChars', ['filter', 'fail'] as const, 'filter');

  const im = r.section('image', true).only(['height', 'channels', 'width', 'maxWidth']);
  const height = im.integer('height', undefined, { min: 8, max: 512 });
  const channels = im.integer('channels', 1);
  if (channels !== 1 && channels !== 3) im.fail('channels', `must be 1 (grayscale) or 3 (RGB), got ${channels}`);
  const width = im.has('width') ? im.integer('width', undefined, { min: 1, max: 8192 }) : undefined;
  const maxWidth = im.integer('maxWidth', width ?? height * 40, { min: 1, max: 16384 });
  const image: ImageOptions = { height, channels: channels as 1 | 3, width, maxWidth: width ?? maxWidth };

  const sp = r.section('split').only(['train', 'val', 'test', 'seed']);
  const split: SplitOptions = {
    train: sp.number('train', 0.8, { min: 0 }),
    val: sp.number('val', 0.1, { min: 0 }),
    test: sp.number('test', 0.1, { min: 0 }),
    seed: sp.integer('seed', 42),
  };
  if (split.train + split.val + split.test <= 0) sp.fail('train', 'train + val + test must be > 0');

  const output = resolve(baseDir, r.string('output', `data/prepared/${name}`));
  const synthetic = parseSyntheticOptions(r.section('synthetic'));
  const augment = r.raw('augment') === false ? false : parseAugmentConfig(r.section('augment'));
  return { name, source, charset, onUnknownChars, image, split, output, synthetic, augment, file };
}

/** Reads and validates a data config file (YAML); relative paths in it are resolved from the current directory. */
export function loadDataConfig(path: string): DataConfig {
  return parseDataConfig(readYamlFile(path), path);
}
