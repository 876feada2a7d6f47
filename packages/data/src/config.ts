import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  camelizeConfig,
  formatPosition,
  readConfigDocument,
  sharedDataset,
  sharedDatasetsDir,
  validateConfig,
  type Camelized,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';
import { AugmentSchema, type AugmentConfig } from './augment.js';
import { checkTextPattern } from './pattern-text.js';

/** Formats of labelled image sets that `prepare` reads. */
export const SOURCE_FORMATS = ['labels-json', 'config-json', 'folder', 'tags', 'label-studio', 'synthetic'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

const literals = <T extends string | number>(values: readonly T[], opts: object = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  );

/** A `[min, max]` range, or one number for both. */
const Range = (def: [number, number], min?: number, integer = false) => {
  const n = () =>
    integer
      ? Type.Integer(min === undefined ? {} : { minimum: min })
      : Type.Number(min === undefined ? {} : { minimum: min });
  return Type.Union([n(), Type.Tuple([n(), n()])], {
    default: def,
    allowed: `a number or a [min, max] pair of ${integer ? 'integers' : 'numbers'}${min !== undefined ? ` >= ${min}` : ''}`,
  });
};

const SplitSourceSchema = Type.Object({ path: Type.String(), images: Type.Optional(Type.String()) });

/** Where the labelled images come from (`source:`). Relative paths are resolved from the current directory. */
export const SourceSchema = Type.Object({
  format: literals(SOURCE_FORMATS),
  /** a folder of ../shared/datasets (labels.json + images/) */
  dataset: Type.Optional(Type.String()),
  /**
   * labels-json: labels.json (or its folder); config-json: config.json; tags: the tags file;
   * label-studio: the export JSON; folder: the image folder. Unused for synthetic.
   */
  path: Type.Optional(Type.String()),
  /** Folder that image names are relative to (default: `<dir of path>/images` if it exists, else the dir of path). */
  images: Type.Optional(Type.String()),
  /** folder format: a regex with one capture group that extracts the label from the file stem (default: whole stem). */
  label_pattern: Type.Optional(Type.String()),
  /** label-studio: S3 endpoint for `s3://` image URIs (else env AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). */
  s3_endpoint: Type.Optional(Type.String()),
  /**
   * A dataset that comes already split (the reference CTCModel recipe's train/validation/test Label Studio exports): one source per
   * split, each with its own path (and images); the `split` shares are then not used.
   */
  splits: Type.Optional(Type.Object({ train: SplitSourceSchema, val: SplitSourceSchema, test: SplitSourceSchema })),
  /** label-studio: keep only tasks whose quality choice is one of these (e.g. `[Good]`); the rest are reported as skipped */
  quality: Type.Optional(
    Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
      allowed: 'a choice name or a non-empty list of them, e.g. [Good]',
    }),
  ),
  /** label-studio: `from_name` of the quality choices control (default `chc`) */
  quality_from: Type.Optional(Type.String()),
  /** keep only items whose whole label matches this regular expression (e.g. a plate mask); the rest are reported as skipped */
  text_pattern: Type.Optional(Type.String()),
  /**
   * `lower` or `upper` folds every label's case as it is read (before `text_pattern`): a case-insensitive reader, as
   * scene-text word recognisers are trained and scored (the Synth90k CRNN's 36 characters); `keep` (default) leaves it.
   */
  label_case: Type.Optional(literals(['keep', 'lower', 'upper'] as const)),
});

/** Image preprocessing: every image becomes `height` px tall, keeping its aspect ratio unless `width` is fixed. */
export const ImageSchema = Type.Object({
  height: Type.Integer({ minimum: 8, maximum: 512 }),
  channels: literals([1, 3] as const, { default: 1 }),
  /** Fixed width (px): resize to exactly width x height, ignoring the aspect ratio. */
  width: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192 })),
  /** Widest image kept after resizing (px); wider images are squeezed to this width. Default: width, else 40 x height. */
  max_width: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
});

/** Shares of the items; normalised to sum 1. */
export const SplitSchema = Type.Object(
  {
    train: Type.Number({ minimum: 0, default: 0.8 }),
    val: Type.Number({ minimum: 0, default: 0.1 }),
    test: Type.Number({ minimum: 0, default: 0.1 }),
    seed: Type.Integer({ default: 42 }),
  },
  { default: {} },
);

/** The word list `synthetic.text: dictionary` reads by default (Debian package `wamerican`). */
export const DEFAULT_DICTIONARY = '/usr/share/dict/words';

/** Options of the synthetic line generator (Vietnamese addresses or dictionary words). */
export const SyntheticSchema = Type.Object(
  {
    /** Lines to generate (before the train/val/test split). */
    count: Type.Integer({ minimum: 1, default: 2400 }),
    seed: Type.Integer({ default: 1 }),
    /** Font files (default: DejaVu, Noto and Liberation faces found under /usr/share/fonts). */
    fonts: Type.Optional(Type.Array(Type.String())),
    /** Font size as a share of the line height, [min, max]. */
    font_scale: Range([0.55, 0.8], 0.1),
    /** Extra letter spacing in px at height 32 (scaled with the height), [min, max]. */
    spacing: Range([-0.5, 1.5]),
    /** Horizontal shear (slant), [min, max] as tan(angle). */
    slant: Range([-0.25, 0.25]),
    /** Probability of a Gaussian-like blur, and its radius range in px at height 32. */
    blur: Type.Object(
      { p: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }), radius: Range([0.3, 0.8], 0) },
      { default: {} },
    ),
    /** Standard deviation of pixel noise (0..1 scale), [min, max]. */
    noise: Range([0, 0.06], 0),
    /**
     * Shorter lines: with probability `p` a line is a run of `range` consecutive words of the address instead of the
     * whole address (short lines train faster and teach the alignment sooner; long ones teach context). Default p 0.
     */
    words: Type.Object(
      { p: Type.Number({ minimum: 0, maximum: 1, default: 0 }), range: Range([2, 6], 1, true) },
      { default: {} },
    ),
    /**
     * What the lines say: `address` (Vietnamese addresses, the default), `dictionary` (single words of a word list,
     * e.g. scene-text word pre-training: one word per line, cased by `case`, some of them numbers) or `pattern` (texts
     * drawn from the regular expression `pattern`, each character class uniformly: licence plates, serial numbers).
     */
    text: literals(['address', 'dictionary', 'pattern'] as const, { default: 'address' }),
    /**
     * pattern: the regular expression the texts match as a whole (default: the source's `text_pattern`), e.g.
     * `[\u4e00-\u9fff][A-Z][0-9A-Z]{5}`; each class draws only the characters the set's charset holds.
     */
    pattern: Type.Optional(Type.String()),
    /** dictionary: the word list, one word per line (default: Debian's `wamerican` list, which scripts/setup installs). */
    dictionary: Type.String({ default: DEFAULT_DICTIONARY }),
    /** dictionary: relative weights of UPPER, Title and lower case words. */
    case: Type.Object(
      {
        upper: Type.Number({ minimum: 0, default: 0.45 }),
        title: Type.Number({ minimum: 0, default: 0.3 }),
        lower: Type.Number({ minimum: 0, default: 0.25 }),
      },
      { default: {} },
    ),
    /** dictionary: probability that a line is a number (1-4 digits, sometimes followed by 1-2 capitals, e.g. 143KM). */
    digits_p: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /** Probability of light text on dark paper (as often in scene text). */
    invert_p: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /**
     * Probability that a line looks like scene text (a word photographed on a sign) rather than print: ink and paper
     * any two grays at least 50 levels apart, a paper gradient, the word condensed or extended (0.7-1.3x) and cropped
     * tightly, some with an outline or a drop shadow, and half with the cut-off edges of neighbouring text or of a
     * border. Default 0: lines look as before.
     */
    scene_p: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /**
     * A read (not synthetic) source: this many generated lines join its train split (val and test stay real), e.g.
     * synthetic words beside a few thousand real ones. Dictionary words the set's charset cannot write are drawn again.
     */
    mix_train: Type.Integer({ minimum: 0, default: 0 }),
  },
  { default: {} },
);

/** A data config (configs/data/*.yaml). */
export const DataSchema = Type.Object({
  /** the task the data is for; a text-line config is `ocr` (the default) */
  task: Type.Optional(Type.Literal('ocr')),
  /** names the output folder */
  name: Type.String({ pattern: '^[A-Za-z0-9._-]+$' }),
  source: SourceSchema,
  /** `vietnamese` (the reference CTCModel's characters), `derive` (from the labels) or the characters themselves */
  charset: Type.String({ default: 'vietnamese' }),
  /** What to do with labels holding characters outside the charset. */
  on_unknown_chars: literals(['filter', 'fail'] as const, { default: 'filter' }),
  image: ImageSchema,
  split: SplitSchema,
  /** Output folder (default data/prepared/<name>). */
  output: Type.Optional(Type.String()),
  synthetic: SyntheticSchema,
  /** Augmentation the trainer should apply to train batches (read by the trainer; prepare ignores it); false = none. */
  augment: Type.Union([Type.Literal(false), AugmentSchema], { default: {} }),
});

/** `[min, max]` wherever the YAML allows one number for both. */
type Ranges<T> = [number, number] extends T
  ? [number, number]
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]: Ranges<T[K]> }
      : T;

/** Where the labelled images come from, resolved: paths absolute, `dataset` turned into path and images. */
export type DataSource = Omit<Camelized<Static<typeof SourceSchema>>, 'dataset' | 'quality'> & { quality?: string[] };
export type CharsetSpec = { kind: 'vietnamese' } | { kind: 'derive' } | { kind: 'explicit'; chars: string };
export type ImageOptions = Omit<Camelized<Static<typeof ImageSchema>>, 'maxWidth'> & { maxWidth: number };
export type SplitOptions = Camelized<Static<typeof SplitSchema>>;
export type SyntheticOptions = Ranges<Camelized<Static<typeof SyntheticSchema>>>;

/** A data config (configs/data/*.yaml), validated and resolved. */
export interface DataConfig {
  name: string;
  source: DataSource;
  charset: CharsetSpec;
  onUnknownChars: 'filter' | 'fail';
  image: ImageOptions;
  split: SplitOptions;
  /** Output folder (absolute). */
  output: string;
  synthetic: SyntheticOptions;
  augment: AugmentConfig | false;
  /** The file it was read from (for messages). */
  file: string;
}

function formatWhere(file: string, locate: ConfigLocator | undefined, path: string[]): string {
  const pos = locate?.(path);
  return pos ? formatPosition(pos) : file;
}

const range = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Default synthetic options (also used by `ocrops data synth`). */
export function defaultSyntheticOptions(): SyntheticOptions {
  return parseSyntheticOptions({}, '<default>');
}

/** The checks of a `synthetic` section between its fields: [min, max] ranges, case weights. */
function checkSynthetic(
  v: Static<typeof SyntheticSchema>,
  report: ReportIssue,
  at: readonly string[],
  textPattern?: string,
): void {
  const pairs: [string[], number | [number, number]][] = [
    [['font_scale'], v.font_scale],
    [['spacing'], v.spacing],
    [['slant'], v.slant],
    [['blur', 'radius'], v.blur.radius],
    [['noise'], v.noise],
    [['words', 'range'], v.words.range],
  ];
  for (const [path, p] of pairs) {
    const [a, b] = range(p);
    if (a > b) report([...at, ...path], `must be [min, max] with min <= max, got [${a}, ${b}]`);
  }
  const c = v.case;
  if (c.upper + c.title + c.lower <= 0) report([...at, 'case'], 'upper + title + lower must be > 0');
  if (v.text === 'pattern' && v.pattern === undefined && textPattern === undefined) {
    report([...at, 'pattern'], 'is required with text: pattern (or give the source a text_pattern)');
  }
  if (v.pattern !== undefined) checkPattern(report, [...at, 'pattern'], v.pattern);
}

/** Reports a pattern that synthetic lines cannot be drawn from (the error names the construct and its position). */
function checkPattern(report: ReportIssue, path: string[], pattern: string): void {
  try {
    checkTextPattern(pattern);
  } catch (e) {
    report(path, (e as Error).message);
  }
}

/** A validated `synthetic` section with its ranges as pairs and its files resolved from `baseDir`. */
function resolveSynthetic(v: Static<typeof SyntheticSchema>, baseDir: string): SyntheticOptions {
  const c = camelizeConfig(SyntheticSchema, v);
  return {
    ...c,
    fonts: c.fonts?.map((f) => resolve(baseDir, f)),
    dictionary: resolve(baseDir, c.dictionary),
    fontScale: range(c.fontScale),
    spacing: range(c.spacing),
    slant: range(c.slant),
    blur: { p: c.blur.p, radius: range(c.blur.radius) },
    noise: range(c.noise),
    words: { p: c.words.p, range: range(c.words.range) },
  };
}

/** Parses a `synthetic` section on its own. */
export function parseSyntheticOptions(value: unknown, source: string): SyntheticOptions {
  const v = validateConfig(SyntheticSchema, value, { source, check: (x, report) => checkSynthetic(x, report, []) });
  return resolveSynthetic(v, process.cwd());
}

function checkRegex(report: ReportIssue, path: string[], p: string | undefined, flags?: string): void {
  if (p === undefined) return;
  try {
    new RegExp(p, flags);
  } catch (e) {
    report(path, `is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** The checks of a data config between its fields. */
function checkDataConfig(v: Static<typeof DataSchema>, report: ReportIssue): void {
  const s = v.source;
  const at = (k: string) => ['source', k];
  checkRegex(report, at('label_pattern'), s.label_pattern);
  checkRegex(report, at('text_pattern'), s.text_pattern, 'u');
  for (const k of ['quality', 'quality_from'] as const) {
    if (s[k] !== undefined && s.format !== 'label-studio')
      report(at(k), `filters Label Studio tasks; format is '${s.format}'`);
  }
  if (s.format === 'synthetic') {
    if (s.text_pattern !== undefined)
      report(at('text_pattern'), 'filters read labels; format synthetic generates its own');
    if (s.label_case !== undefined)
      report(at('label_case'), 'applies to read labels; format synthetic generates its own');
    if (s.splits !== undefined) report(at('splits'), 'is not used with format synthetic');
    if (v.synthetic.mix_train > 0) {
      report(
        ['synthetic', 'mix_train'],
        'adds generated lines to a read source; format synthetic generates all its lines (synthetic.count)',
      );
    }
  } else if (!s.path && !s.dataset && !s.splits) {
    report(at('path'), `is required for format '${s.format}' (or give 'dataset' or 'splits')`);
  }
  if (v.split.train + v.split.val + v.split.test <= 0) report(['split'], 'train + val + test must be > 0');
  checkSynthetic(v.synthetic, report, ['synthetic'], s.format === 'synthetic' ? undefined : s.text_pattern);
  if (v.synthetic.text === 'pattern' && v.synthetic.pattern === undefined && s.text_pattern !== undefined) {
    checkPattern(report, at('text_pattern'), s.text_pattern);
  }
}

/**
 * Validates a parsed data config. Relative paths are resolved from `baseDir` (default: the current directory);
 * `source.dataset: <name>` names a folder of ../shared/datasets (labels.json + images/). `locate` gives the positions
 * of its keys when it was read from a file.
 */
export function parseDataConfig(
  value: unknown,
  file: string,
  baseDir = process.cwd(),
  locate?: ConfigLocator,
): DataConfig {
  const task = value && typeof value === 'object' ? (value as { task?: unknown }).task : undefined;
  if (task !== undefined && task !== 'ocr') {
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${formatWhere(file, locate, ['task'])}: task: must be 'ocr' for a text-line data config, got ${JSON.stringify(task)}`,
      {
        hint: "a 'classify' config is read by loadClassifyDataConfig (loadAnyDataConfig picks the reader by task)",
      },
    );
  }
  const v = validateConfig(DataSchema, value, { source: file, locate, check: checkDataConfig });
  const s = v.source;
  const source: DataSource = { format: s.format };
  if (s.dataset !== undefined) {
    const dir = sharedDataset(s.dataset);
    if (!dir) {
      throw new OcropsError(
        'OCROPS_DATA_DATASET_ABSENT',
        `${file}: shared dataset '${s.dataset}' not found in ${sharedDatasetsDir()}`,
        {
          hint: 'put the dataset folder (labels.json + images/) there, or set OCROPS_DATASETS to the folder that holds it',
        },
      );
    }
    source.path = resolve(dir, 'labels.json');
    source.images = resolve(dir, 'images');
  }
  if (s.path !== undefined) source.path = resolve(baseDir, s.path);
  if (s.images !== undefined) source.images = resolve(baseDir, s.images);
  if (s.label_pattern !== undefined) source.labelPattern = s.label_pattern;
  if (s.s3_endpoint !== undefined) source.s3Endpoint = s.s3_endpoint;
  if (s.quality !== undefined) source.quality = typeof s.quality === 'string' ? [s.quality] : s.quality;
  if (s.quality_from !== undefined) source.qualityFrom = s.quality_from;
  if (s.text_pattern !== undefined) source.textPattern = s.text_pattern;
  if (s.label_case !== undefined) source.labelCase = s.label_case;
  if (s.splits) {
    const one = (e: { path: string; images?: string }) => ({
      path: resolve(baseDir, e.path),
      images: e.images !== undefined ? resolve(baseDir, e.images) : undefined,
    });
    source.splits = { train: one(s.splits.train), val: one(s.splits.val), test: one(s.splits.test) };
  }

  const cs = v.charset;
  const charset: CharsetSpec =
    cs === 'vietnamese' || cs === 'derive' ? { kind: cs } : { kind: 'explicit', chars: cs.normalize('NFC') };
  const { height, channels, width } = v.image;
  const image: ImageOptions = { height, channels, width, maxWidth: width ?? v.image.max_width ?? height * 40 };
  return {
    name: v.name,
    source,
    charset,
    onUnknownChars: v.on_unknown_chars,
    image,
    split: v.split,
    output: resolve(baseDir, v.output ?? `data/prepared/${v.name}`),
    synthetic: resolveSynthetic(
      v.synthetic.text === 'pattern' ? { ...v.synthetic, pattern: v.synthetic.pattern ?? s.text_pattern } : v.synthetic,
      baseDir,
    ),
    augment: v.augment === false ? false : camelizeConfig(AugmentSchema, v.augment),
    file,
  };
}

/** Reads and validates a data config file (YAML); relative paths in it are resolved from the current directory. */
export function loadDataConfig(path: string): DataConfig {
  const doc = readConfigDocument(path);
  return parseDataConfig(doc.value, path, process.cwd(), doc.locate);
}
