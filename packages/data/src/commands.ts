// Command table of @ocrops/data, mounted by @ocrops/cli as `ocrops data <command>`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { OcropsError, parseCommand, readJsonFile, type CommandSpec, type CommandTable } from '@ocrops/common';
import { formatClassifyStats, prepareClassify, type ClassifyStats } from './classify-prepare.js';
import { defaultSyntheticOptions, loadDataConfig, type DataConfig, type SyntheticOptions } from './config.js';
import { convertLabelStudio } from './labelstudio.js';
import { checkTextPattern } from './pattern-text.js';
import { generatedAlphabet, prepare } from './prepare.js';
import { foldCase } from './readers.js';
import { formatStats, type DatasetStats } from './stats.js';
import { SyntheticLines } from './synth.js';
import { loadAnyDataConfig } from './task-config.js';

type Values = Record<string, string | boolean | undefined>;

/** parseCommand with the option values typed loosely (the spec is the source of truth). */
function parse(spec: CommandSpec, argv: string[]): Values {
  return parseCommand(spec, argv).values as Values;
}

function intOption(value: string | undefined, name: string, def: number, min = 1): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new OcropsError('OCROPS_USAGE', `--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

const prepareSpec: CommandSpec = {
  usage: 'ocrops data prepare --config <file> [options]',
  description:
    'Reads a dataset (or generates synthetic lines), checks labels against the charset, splits it by seed and writes\n' +
    'train/val/test shards (images.bin + index.json), meta.json and stats.json to the output folder.\n' +
    'Unreadable images and labels outside the charset are skipped and listed.\n' +
    'A `task: classify` config (e.g. configs/data/butterflies.yaml) reads an ImageFolder or filename,label CSV, splits it\n' +
    'stratified by class and also writes split.csv (path,label,split).',
  options: {
    config: { type: 'string', short: 'c' },
    output: { type: 'string', short: 'o' },
    concurrency: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  help: {
    config: 'data config (YAML), e.g. configs/data/vn-handwriting.yaml',
    output: "output folder (default: the config's output, data/prepared/<name>)",
    concurrency: 'images decoded at once (default 4)',
    quiet: 'no progress bar',
  },
  examples: [
    'ocrops data prepare --config configs/data/synthetic.yaml',
    'ocrops data prepare --config configs/data/butterflies.yaml',
    'npx nx run data:prepare -- --config configs/data/vn-handwriting.yaml',
  ],
};

const convertSpec: CommandSpec = {
  usage:
    'ocrops data convert-labelstudio --input <export.json> [--out labels.json] [--images dir] [--quality Good,...]',
  description:
    'Converts a Label Studio JSON export to labels.json = {image file name: transcript}. Tasks without a caption are\n' +
    'skipped and named. With --images, s3:// image URIs are downloaded there (endpoint from --s3-endpoint or\n' +
    'AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).',
  options: {
    input: { type: 'string', short: 'i' },
    out: { type: 'string', short: 'o' },
    images: { type: 'string' },
    's3-endpoint': { type: 'string' },
    quality: { type: 'string' },
  },
  help: {
    input: 'the Label Studio export (JSON)',
    quality: "keep only tasks whose quality choice (the 'chc' choices control) is one of these, comma-separated",
    out: 'labels.json to write (default: labels.json beside the export)',
    images: 'folder to download s3:// images into',
    's3-endpoint': 'S3 endpoint URL, e.g. http://127.0.0.1:8333',
  },
  examples: ['ocrops data convert-labelstudio --input data/train/label_studio_data.json --images data/train/images'],
};

const statsSpec: CommandSpec = {
  usage: 'ocrops data stats (--dir <prepared dir> | --config <file>) [--json]',
  description: 'Prints the statistics of a prepared dataset (counts, charset, widths, label lengths, skipped items).',
  options: { dir: { type: 'string', short: 'd' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  help: {
    dir: 'prepared dataset folder, e.g. data/prepared/synthetic',
    config: 'data config whose output to read',
    json: 'print stats.json as is',
  },
};

const synthSpec: CommandSpec = {
  usage:
    'ocrops data synth --out <dir> [--count N] [--config <data config>] [--text address|dictionary|pattern] [--pattern <regex>] [--height H] [--seed S]',
  description:
    'Writes N synthetic lines (Vietnamese addresses, words of a word list with --text dictionary, or texts matching a\n' +
    'regular expression with --pattern) as PNG files plus labels.json, to look at or to use as a dataset. --config\n' +
    'takes the generator settings (its `synthetic` section), the image height and channels, the charset (read from\n' +
    "the source's labels when derived) and the label case from a data config: the lines it mixes into its train split.",
  options: {
    out: { type: 'string', short: 'o' },
    count: { type: 'string', short: 'n', default: '20' },
    config: { type: 'string', short: 'c' },
    text: { type: 'string' },
    pattern: { type: 'string' },
    height: { type: 'string' },
    seed: { type: 'string' },
    channels: { type: 'string' },
  },
  help: {
    out: 'output folder',
    count: 'lines to write',
    config: 'data config whose `synthetic` section, image size, charset and label case to use',
    text: "what the lines say: 'address', 'dictionary' or 'pattern' (default: the config's, else address)",
    pattern:
      "a regular expression the texts match, each class drawn uniformly, e.g. '[A-Z]{2}\\d{4}' (sets --text pattern)",
    height: "line height, px (default: the config's, else 32)",
    seed: "random seed (default: the config's synthetic.seed, else 1)",
    channels: "1 (grayscale) or 3 (RGB) (default: the config's, else 1)",
  },
  examples: [
    'ocrops data synth --out /tmp/synth --count 50 --height 64',
    'ocrops data synth --out /tmp/words --count 50 --text dictionary',
    'ocrops data synth --out /tmp/iiit5k-synth --config configs/data/iiit5k.yaml',
  ],
};

/** How `source.label_case` folds read labels (and the labels of the lines generated beside them). */
type LabelCase = DataConfig['source']['labelCase'];

/**
 * The generator settings, height and channels of `ocrops data synth`: the options over the config over defaults; with
 * a config, also the characters and label case its generated lines get in `prepare`.
 */
async function synthSettings(values: Values): Promise<{
  synthetic: SyntheticOptions;
  height: number;
  channels: 1 | 3;
  alphabet?: ReadonlySet<string>;
  labelCase?: LabelCase;
}> {
  const cfg = values.config ? loadDataConfig(values.config as string) : undefined;
  const synthetic = { ...(cfg?.synthetic ?? defaultSyntheticOptions()) };
  if (values.seed !== undefined) synthetic.seed = intOption(values.seed as string, 'seed', 1, 0);
  if (values.text !== undefined) {
    if (values.text !== 'address' && values.text !== 'dictionary' && values.text !== 'pattern') {
      throw new OcropsError(
        'OCROPS_USAGE',
        `--text must be 'address', 'dictionary' or 'pattern', got '${values.text}'`,
      );
    }
    synthetic.text = values.text;
  }
  if (values.pattern !== undefined) {
    checkTextPattern(values.pattern as string);
    synthetic.pattern = values.pattern as string;
    synthetic.text = 'pattern';
  }
  if (synthetic.text === 'pattern') synthetic.pattern ??= cfg?.source.textPattern;
  if (synthetic.text === 'pattern' && synthetic.pattern === undefined) {
    throw new OcropsError(
      'OCROPS_USAGE',
      '--text pattern needs --pattern <regex> (or a --config with synthetic.pattern or a text_pattern)',
    );
  }
  const height = intOption(values.height as string | undefined, 'height', cfg?.image.height ?? 32, 8);
  const channels = intOption(values.channels as string | undefined, 'channels', cfg?.image.channels ?? 1);
  if (channels !== 1 && channels !== 3)
    throw new OcropsError('OCROPS_USAGE', `--channels must be 1 or 3, got ${channels}`);
  // what prepare would mix in: the config's charset (derived from its labels, which are read for it) and label case
  const alphabet = cfg && (await generatedAlphabet(cfg));
  return { synthetic, height, channels, alphabet, labelCase: cfg?.source.labelCase };
}

export const commands: CommandTable = {
  prepare: {
    summary: 'prepare a dataset into train/val/test shards + stats.json',
    async run(argv) {
      const values = parse(prepareSpec, argv);
      if (!values.config)
        throw new OcropsError('OCROPS_USAGE', '--config is required (e.g. configs/data/synthetic.yaml)');
      const loaded = loadAnyDataConfig(values.config as string);
      const progress = !values.quiet;
      const concurrency = intOption(values.concurrency as string | undefined, 'concurrency', 4);
      if (loaded.task === 'classify') {
        const cfg = loaded.config;
        if (values.output) cfg.outDir = resolve(values.output as string);
        const report = await prepareClassify(cfg, { progress, concurrency });
        console.log(formatClassifyStats(report.stats));
        console.log(
          `wrote ${report.output} in ${report.seconds.toFixed(1)} s (${report.imagesPerSecond.toFixed(0)} images/s)`,
        );
        return;
      }
      const cfg = loaded.config;
      if (values.output) cfg.output = resolve(values.output as string);
      const report = await prepare(cfg, { progress, concurrency });
      console.log(formatStats(report.stats));
      console.log(
        `wrote ${report.output} in ${report.seconds.toFixed(1)} s (${report.linesPerSecond.toFixed(0)} lines/s)`,
      );
    },
  },
  'convert-labelstudio': {
    summary: 'convert a Label Studio export to labels.json (downloads s3:// images)',
    async run(argv) {
      const values = parse(convertSpec, argv);
      if (!values.input) throw new OcropsError('OCROPS_USAGE', '--input is required (the Label Studio export JSON)');
      const r = await convertLabelStudio(values.input as string, {
        out: values.out as string | undefined,
        imagesDir: values.images as string | undefined,
        s3: { endpoint: values['s3-endpoint'] as string | undefined },
        filter: values.quality
          ? {
              quality: String(values.quality)
                .split(',')
                .map((q) => q.trim())
                .filter(Boolean),
            }
          : {},
      });
      console.log(
        `wrote ${r.out}: ${Object.keys(r.labels).length} entries${r.downloaded ? `, ${r.downloaded} images downloaded` : ''}`,
      );
      if (r.skipped.length) {
        console.log(`skipped ${r.skipped.length} task(s):`);
        for (const s of r.skipped) console.log(`  ${s.reason}`);
      }
    },
  },
  stats: {
    summary: 'print the statistics of a prepared dataset',
    async run(argv) {
      const values = parse(statsSpec, argv);
      const dir = values.dir
        ? resolve(values.dir as string)
        : values.config
          ? preparedDirOf(values.config as string)
          : undefined;
      if (!dir) throw new OcropsError('OCROPS_USAGE', 'give --dir <prepared folder> or --config <data config>');
      const file = join(dir, 'stats.json');
      let stats: DatasetStats | ClassifyStats;
      try {
        stats = readJsonFile<DatasetStats | ClassifyStats>(file);
      } catch (err) {
        if ((err as OcropsError).code === 'OCROPS_FILE_UNREADABLE') {
          throw new OcropsError('OCROPS_DATA_NOT_PREPARED', `${file} not found`, {
            hint: 'run `ocrops data prepare --config <file>` first',
          });
        }
        throw err;
      }
      if (values.json) console.log(JSON.stringify(stats, null, 1));
      else
        console.log(
          'task' in stats && stats.task === 'classify'
            ? formatClassifyStats(stats)
            : formatStats(stats as DatasetStats),
        );
    },
  },
  synth: {
    summary: 'write synthetic lines (Vietnamese addresses or dictionary words) as PNG + labels.json',
    async run(argv) {
      const values = parse(synthSpec, argv);
      if (!values.out) throw new OcropsError('OCROPS_USAGE', '--out is required');
      const count = intOption(values.count as string, 'count', 20);
      const { synthetic, height, channels, alphabet, labelCase } = await synthSettings(values);
      const out = resolve(values.out as string);
      const opts = { count, height, seed: synthetic.seed, channels, synthetic, alphabet, labelCase };
      await writeSyntheticFolder(out, opts);
      console.log(`wrote ${count} lines to ${out} (PNG + labels.json)`);
    },
  },
};

/** The prepared folder a data config of either task writes. */
function preparedDirOf(configFile: string): string {
  const loaded = loadAnyDataConfig(configFile);
  return loaded.task === 'classify' ? loaded.config.outDir : loaded.config.output;
}

/**
 * Writes `count` synthetic lines to `<out>/images/*.png` and `<out>/labels.json`, with the generator settings of
 * `synthetic` (default: the address lines' defaults) and `seed`; `labelCase` folds the labels (not the images).
 */
export async function writeSyntheticFolder(
  out: string,
  opts: {
    count: number;
    height: number;
    seed: number;
    channels?: 1 | 3;
    synthetic?: SyntheticOptions;
    alphabet?: ReadonlySet<string>;
    labelCase?: LabelCase;
  },
): Promise<Record<string, string>> {
  const synthetic = { ...(opts.synthetic ?? defaultSyntheticOptions()), seed: opts.seed };
  const gen = new SyntheticLines(synthetic, opts.height, opts.channels ?? 1, undefined, undefined, opts.alphabet);
  mkdirSync(join(out, 'images'), { recursive: true });
  const labels: Record<string, string> = {};
  for (let i = 0; i < opts.count; i++) {
    const line = gen.line(i);
    const name = `synth_${String(i).padStart(6, '0')}.png`;
    await sharp(Buffer.from(line.data.buffer, line.data.byteOffset, line.data.length), {
      raw: { width: line.width, height: opts.height, channels: opts.channels ?? 1 },
    })
      .png()
      .toFile(join(out, 'images', name));
    labels[name] = foldCase(line.text, opts.labelCase);
  }
  writeFileSync(join(out, 'labels.json'), `${JSON.stringify(labels, null, 1)}\n`);
  return labels;
}
