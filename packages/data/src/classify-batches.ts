// Reading a prepared classification set: open its meta and split indexes, stream (augmented) float32 NHWC batches
// with class indices, and load single image files for evaluation and inference.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError, parseJsonText } from '@ocrops/common';
import { augmentClassImage } from './classify-augment.js';
import type { ClassAugmentConfig, ClassImageOptions } from './classify-config.js';
import { PREPARED_CLASSIFY_FORMAT, type PreparedClassifyMeta } from './classify-prepare.js';
import { decodeLine, U8_TO_F32 } from './image.js';
import { Rng, rngFor } from './rng.js';
import { SPLITS, type SplitName } from './shards.js';

/** One split of a prepared classification set: `images.bin` holds count x height x width x channels uint8 pixels. */
export interface PreparedClassifySplit {
  name: SplitName;
  dir: string;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Image ids (`<class>/<file>` for an ImageFolder source), in shard order. */
  ids: string[];
  /** Class index of each image, in shard order. */
  labels: number[];
}

/** A prepared classification set (`data/prepared/<name>/` written by prepareClassify). */
export interface PreparedClassifyDataset {
  task: 'classify';
  dir: string;
  name: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Class names; label i of a batch is classes[i]. */
  classes: string[];
  /** Images per class in each split, aligned with `classes`. */
  counts: Record<SplitName, number[]>;
  /** The data config's training augmentation (false when off). */
  augment: ClassAugmentConfig | false;
  splits: Record<SplitName, PreparedClassifySplit>;
}

interface ShardIndex {
  count: number;
  height: number;
  channels: 1 | 3;
  ids: string[];
  labels: string[];
  widths: number[];
}

function readPreparedJson<T>(path: string, what: string): T {
  if (!existsSync(path)) {
    throw new OcropsError('OCROPS_DATA_NOT_PREPARED', `${path} not found (${what})`, {
      hint: 'run `ocrops data prepare --config configs/data/<name>.yaml` first',
    });
  }
  return parseJsonText<T>(readFileSync(path, 'utf8'), path);
}

/**
 * The task of a prepared folder, from its meta.json: `classify` (open it with openPreparedClassify) or `ocr` (open it
 * with openPrepared). Throws OcropsError OCROPS_DATA_NOT_PREPARED when meta.json is missing.
 */
export function preparedTask(dir: string): 'ocr' | 'classify' {
  const meta = readPreparedJson<{ task?: string }>(join(dir, 'meta.json'), 'prepared dataset metadata');
  return meta.task === 'classify' ? 'classify' : 'ocr';
}

/** Opens a prepared classification folder; throws OcropsError when it is missing, of another format or inconsistent. */
export function openPreparedClassify(dir: string): PreparedClassifyDataset {
  const metaFile = join(dir, 'meta.json');
  const meta = readPreparedJson<PreparedClassifyMeta>(metaFile, 'prepared dataset metadata');
  if (meta.format !== PREPARED_CLASSIFY_FORMAT || meta.task !== 'classify') {
    throw new OcropsError(
      'OCROPS_DATA_NOT_PREPARED',
      `${metaFile}: format '${meta.format}', expected '${PREPARED_CLASSIFY_FORMAT}' (a classification set)`,
      {
        hint: 'prepare it with a `task: classify` data config (text-line sets are opened with openPrepared)',
      },
    );
  }
  const classIndex = new Map(meta.classes.map((c, i) => [c, i]));
  const splits = {} as Record<SplitName, PreparedClassifySplit>;
  for (const name of SPLITS) {
    const sdir = join(dir, name);
    const idx = readPreparedJson<ShardIndex>(join(sdir, 'index.json'), `index of split ${name}`);
    const labels = idx.labels.map((l, i) => {
      const k = classIndex.get(l);
      if (k === undefined || idx.widths[i] !== meta.width) {
        throw new OcropsError(
          'OCROPS_DATA_SHARD',
          `${join(sdir, 'index.json')}: ${idx.ids[i]} has ${k === undefined ? `unknown class '${l}'` : `width ${idx.widths[i]}, expected ${meta.width}`}`,
          {
            hint: 'prepare the dataset again',
          },
        );
      }
      return k;
    });
    splits[name] = {
      name,
      dir: sdir,
      count: idx.count,
      height: meta.height,
      width: meta.width,
      channels: meta.channels,
      ids: idx.ids,
      labels,
    };
  }
  return {
    task: 'classify',
    dir,
    name: meta.name,
    height: meta.height,
    width: meta.width,
    channels: meta.channels,
    classes: meta.classes,
    counts: meta.counts,
    augment: meta.augment ?? false,
    splits,
  };
}

/** One batch of a prepared classification split. */
export interface ClassBatch {
  /** NHWC float32 in [0, 1]. */
  images: Float32Array;
  /** [batch, height, width, channels] */
  shape: [number, number, number, number];
  /** Class index of each image. */
  labels: number[];
  /** Image ids, for reports (e.g. a mistakes grid). */
  ids: string[];
}

/** Options of `classBatches()`. */
export interface ClassBatchOptions {
  batchSize: number;
  /** Shuffle the order with `seed` (use a different seed per epoch, e.g. seed + epoch). */
  shuffle?: boolean;
  /** Seeds the shuffle and the augmentation (default 0). */
  seed?: number;
  /** Augment each image, seeded by `seed` and the image's position in the epoch; false or absent: none. */
  augment?: ClassAugmentConfig | false;
  /** Skip the first batches (resuming within an epoch); the batches after it are the same as without it. */
  startBatch?: number;
  /** Drop a last, smaller batch. */
  dropLast?: boolean;
}

/** Number of batches `classBatches()` yields for `split` (ignoring startBatch). */
export function classBatchCount(
  split: Pick<PreparedClassifySplit, 'count'>,
  opts: Pick<ClassBatchOptions, 'batchSize' | 'dropLast'>,
): number {
  return opts.dropLast ? Math.floor(split.count / opts.batchSize) : Math.ceil(split.count / opts.batchSize);
}

/** uint8 -> [0, 1] floats through the lookup table. */
function unitInto(bytes: Uint8Array, n: number, out: Float32Array, offset: number): void {
  for (let j = 0; j < n; j++) out[offset + j] = U8_TO_F32[bytes[j]];
}

/**
 * Streams a prepared classification split as float32 NHWC batches with class indices. The order (with `shuffle`)
 * and every image's augmentation depend only on `seed` and the image's position in the epoch, so a run resumed at
 * `startBatch` gets the same batches as an uninterrupted one.
 */
export async function* classBatches(split: PreparedClassifySplit, opts: ClassBatchOptions): AsyncGenerator<ClassBatch> {
  const bs = opts.batchSize;
  if (!Number.isInteger(bs) || bs < 1)
    throw new OcropsError('OCROPS_DATA_BATCH', `batchSize must be a positive integer, got ${bs}`);
  const seed = opts.seed ?? 0;
  const nb = classBatchCount(split, opts);
  const order = Array.from({ length: split.count }, (_, i) => i);
  if (opts.shuffle) new Rng(seed).shuffle(order);
  const { height: H, width: W, channels: C } = split;
  const size = H * W * C;
  const file = join(split.dir, 'images.bin');
  const fd = openSync(file, 'r');
  const bytes = new Uint8Array(size);
  const work = opts.augment ? new Float32Array(size) : undefined;
  try {
    for (let b = opts.startBatch ?? 0; b < nb; b++) {
      const idx = order.slice(b * bs, Math.min((b + 1) * bs, split.count));
      const B = idx.length;
      const images = new Float32Array(B * size);
      for (let k = 0; k < B; k++) {
        const i = idx[k];
        if (readSync(fd, bytes, 0, size, i * size) !== size) {
          throw new OcropsError('OCROPS_DATA_SHARD', `${file}: short read for ${split.ids[i]} (file truncated?)`, {
            hint: 'prepare the dataset again',
          });
        }
        if (opts.augment && work) {
          unitInto(bytes, size, work, 0);
          augmentClassImage(work, H, W, C, opts.augment, rngFor(seed, b * bs + k), images, k * size);
        } else unitInto(bytes, size, images, k * size);
      }
      yield { images, shape: [B, H, W, C], labels: idx.map((i) => split.labels[i]), ids: idx.map((i) => split.ids[i]) };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads one image file for evaluation or inference exactly as prepare does for a classification set: decoded,
 * flattened onto white, resized to width x height, grey or RGB.
 * @returns float32 [height, width, channels] in [0, 1]
 */
export async function loadClassImage(path: string, opts: ClassImageOptions): Promise<Float32Array> {
  const img = await decodeLine(path, {
    height: opts.height,
    width: opts.width,
    channels: opts.channels,
    maxWidth: opts.width,
  });
  const out = new Float32Array(img.data.length);
  unitInto(img.data, img.data.length, out, 0);
  return out;
}
