import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { OcropsError, parseJsonText } from '@ocrops/common';
import { augmentImage, type AugmentConfig } from './augment.js';
import { Charset, type CharsetJSON } from './charset.js';
import { repeatedLength, repeatedOrder } from './repeat-factors.js';
import { Rng, rngFor } from './rng.js';

/** The three splits of a prepared dataset, in this order. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

/** Format tag written into meta.json. */
export const PREPARED_FORMAT = 'ocrops-prepared/1';

/**
 * A prepared split folder `data/prepared/<name>/<split>/`: `images.bin` holds the images one after another as raw
 * uint8 pixels [height, width_i, channels] (row-major, 255 = white); `index.json` holds ids, labels and widths.
 */
export interface PreparedSplit {
  name: SplitName;
  dir: string;
  count: number;
  height: number;
  channels: 1 | 3;
  /** Widest image of the split, px. */
  maxWidth: number;
  charset: Charset;
  /** Source image names, in shard order. */
  ids: string[];
  /**
   * How many lines the generator drew (`synthetic.mix_train` lines after a read set's own, or every line of `format:
   * synthetic`): the last `generated` lines of the shard. 0 in sets prepared before it was recorded.
   */
  generated: number;
  /** Transcripts (NFC), in shard order. */
  labels: string[];
  /** Image widths, px, in shard order. */
  widths: number[];
  /** Byte offset of each image in images.bin. */
  offsets: number[];
}

/** A prepared dataset folder: meta.json, stats.json and one folder per split. */
export interface PreparedDataset {
  dir: string;
  name: string;
  charset: Charset;
  height: number;
  channels: 1 | 3;
  /** Fixed image width when the data config gave one (then every image is this wide). */
  width?: number;
  /** The width cap used by prepare (pass it to loadImageForModel as maxWidth so prediction resizes the same way). */
  widthCap: number;
  /** The data config's training augmentation (false when off). */
  augment: AugmentConfig | false;
  splits: Record<SplitName, PreparedSplit>;
}

/** meta.json of a prepared dataset. */
export interface PreparedMeta {
  format: string;
  name: string;
  height: number;
  channels: 1 | 3;
  /** Fixed width when the config gave one. */
  width?: number;
  /** Width cap of the resize, px. */
  widthCap: number;
  /** Training augmentation of the data config. */
  augment: AugmentConfig | false;
  charset: CharsetJSON;
  splits: Record<SplitName, { count: number; maxWidth: number }>;
}

interface SplitIndex {
  count: number;
  /** The last `generated` lines were generated (absent: none recorded). */
  generated?: number;
  height: number;
  channels: 1 | 3;
  maxWidth: number;
  ids: string[];
  labels: string[];
  widths: number[];
}

/** Appends images of one split to `<dir>/images.bin` and writes `<dir>/index.json` on close. Output is deterministic. */
export class ShardWriter {
  private readonly fd: number;
  private readonly ids: string[] = [];
  private readonly labels: string[] = [];
  private readonly widths: number[] = [];
  private generated = 0;

  constructor(
    readonly dir: string,
    readonly height: number,
    readonly channels: 1 | 3,
  ) {
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, 'index.json'), { force: true });
    this.fd = openSync(join(dir, 'images.bin'), 'w');
  }

  get count(): number {
    return this.ids.length;
  }

  /**
   * @param pixels uint8 [height, width, channels]
   * @param generated a line of the synthetic generator; generated lines come after the read ones
   */
  add(id: string, label: string, pixels: Uint8Array, width: number, generated = false): void {
    if (pixels.length !== this.height * width * this.channels) {
      throw new OcropsError(
        'OCROPS_DATA_SHARD',
        `${id}: ${pixels.length} bytes for ${width}x${this.height}x${this.channels}`,
      );
    }
    if (!generated && this.generated > 0) {
      throw new OcropsError('OCROPS_DATA_SHARD', `${id}: a read line after generated ones in ${this.dir}`);
    }
    if (generated) this.generated++;
    writeSync(this.fd, pixels);
    this.ids.push(id);
    this.labels.push(label);
    this.widths.push(width);
  }

  close(): { count: number; maxWidth: number } {
    closeSync(this.fd);
    const maxWidth = this.widths.reduce((m, w) => Math.max(m, w), 0);
    const index: SplitIndex = {
      count: this.ids.length,
      generated: this.generated,
      height: this.height,
      channels: this.channels,
      maxWidth,
      ids: this.ids,
      labels: this.labels,
      widths: this.widths,
    };
    writeFileSync(join(this.dir, 'index.json'), `${JSON.stringify(index)}\n`);
    return { count: index.count, maxWidth };
  }
}

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) {
    throw new OcropsError('OCROPS_DATA_NOT_PREPARED', `${path} not found (${what})`, {
      hint: 'run `ocrops data prepare --config configs/data/<name>.yaml` first',
    });
  }
  return parseJsonText<T>(readFileSync(path, 'utf8'), path);
}

/** Opens a prepared dataset folder (`data/prepared/<name>`): reads meta.json and every split's index. */
export async function openPrepared(dir: string): Promise<PreparedDataset> {
  const meta = readJson<PreparedMeta>(join(dir, 'meta.json'), 'prepared dataset metadata');
  if ((meta as { task?: string }).task === 'classify') {
    throw new OcropsError(
      'OCROPS_DATA_NOT_PREPARED',
      `${join(dir, 'meta.json')}: a prepared classification set, not a text-line one`,
      {
        hint: 'open it with openPreparedClassify',
      },
    );
  }
  if (meta.format !== PREPARED_FORMAT) {
    throw new OcropsError(
      'OCROPS_DATA_NOT_PREPARED',
      `${join(dir, 'meta.json')}: format '${meta.format}', expected '${PREPARED_FORMAT}'`,
      {
        hint: 'prepare the dataset again with this version of ocrops',
      },
    );
  }
  const charset = Charset.fromJSON(meta.charset);
  const splits = {} as Record<SplitName, PreparedSplit>;
  for (const name of SPLITS) {
    const sdir = join(dir, name);
    const idx = readJson<SplitIndex>(join(sdir, 'index.json'), `index of split ${name}`);
    const offsets: number[] = new Array(idx.count);
    let off = 0;
    for (let i = 0; i < idx.count; i++) {
      offsets[i] = off;
      off += idx.height * idx.widths[i] * idx.channels;
    }
    splits[name] = {
      name,
      dir: sdir,
      count: idx.count,
      generated: idx.generated ?? 0,
      height: idx.height,
      channels: idx.channels,
      maxWidth: idx.maxWidth,
      charset,
      ids: idx.ids,
      labels: idx.labels,
      widths: idx.widths,
      offsets,
    };
  }
  return {
    dir,
    name: meta.name,
    charset,
    height: meta.height,
    channels: meta.channels,
    width: meta.width,
    widthCap: meta.widthCap,
    augment: meta.augment ?? false,
    splits,
  };
}

/** One batch of a prepared split. */
export interface Batch {
  /** NHWC float32 in [0, 1], right-padded with white (1.0) to the widest image of the batch (or fixedWidth). */
  images: Float32Array;
  /** [batch, height, width, channels] */
  shape: [number, number, number, number];
  /** Width of each image before padding, px (<= shape[2]). */
  widths: number[];
  labels: string[];
  /** Source image names, for error reports. */
  ids: string[];
}

/** Options of `batches()`. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffle the order with `seed` (use a different seed per epoch, e.g. seed + epoch). */
  shuffle?: boolean;
  /** Seeds the shuffle and the augmentation (default 0). */
  seed?: number;
  /** Augment each image (seeded by `seed` and the image's position in the epoch). */
  augment?: AugmentConfig | false;
  /** Pad (or squeeze wider images) to this width instead of the widest image of the batch. */
  fixedWidth?: number;
  /** Drop a last, smaller batch. */
  dropLast?: boolean;
  /** Skip the first batches (resuming within an epoch); the order is the same as without it. */
  startBatch?: number;
  /**
   * Reuse two image buffers in turn instead of allocating one per batch (about 1.5x faster for wide lines).
   * A batch's `images` then stays valid until the second batch after it is requested: copy it (e.g. into a tensor)
   * before that.
   */
  reuseBuffers?: boolean;
  /**
   * Width bucketing: after the shuffle, each window of `bucketWindow` batches is sorted by image width and cut into
   * batches, and the batch order is shuffled again, so a batch pads to a width close to its images' own (lines of
   * mixed widths cost up to ~1.4x less per epoch). 0 or 1 (default): plain shuffled batches. Needs `shuffle`.
   */
  bucketWindow?: number;
  /**
   * Repeat factor of each line (>= 1, see `repeatFactors`): an epoch then draws line i about repeats[i] times, and
   * holds `repeatedLength(repeats)` lines. Needs `shuffle`.
   */
  repeats?: ArrayLike<number>;
}

/** Lines in one pass over `split`: its count, or with repeat factors their sum rounded up. */
export function epochLines(split: Pick<PreparedSplit, 'count'>, opts: Pick<BatchOptions, 'repeats'>): number {
  return opts.repeats ? repeatedLength(opts.repeats) : split.count;
}

/** Number of batches `batches()` yields for `split` (ignoring startBatch). */
export function batchCount(
  split: PreparedSplit,
  opts: Pick<BatchOptions, 'batchSize' | 'dropLast' | 'repeats'>,
): number {
  const n = epochLines(split, opts);
  return opts.dropLast ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
}

/**
 * The image order of one pass: shuffled (or drawn by the repeat factors), then (with `bucketWindow`) width-bucketed
 * with the batch order reshuffled.
 */
function batchOrder(split: PreparedSplit, opts: BatchOptions, nb: number): number[] {
  if (opts.repeats && !opts.shuffle) throw new OcropsError('OCROPS_DATA_BATCH', 'repeats need shuffle');
  if (opts.repeats && opts.repeats.length !== split.count) {
    throw new OcropsError('OCROPS_DATA_BATCH', `${opts.repeats.length} repeat factors for ${split.count} lines`);
  }
  if (!opts.shuffle) return Array.from({ length: split.count }, (_, i) => i);
  const rng = new Rng(opts.seed ?? 0);
  const order = opts.repeats
    ? repeatedOrder(opts.repeats, rng)
    : rng.shuffle(Array.from({ length: split.count }, (_, i) => i));
  const window = opts.bucketWindow ?? 0;
  if (!Number.isInteger(window) || window < 0) {
    throw new OcropsError('OCROPS_DATA_BATCH', `bucketWindow must be a non-negative integer, got ${window}`);
  }
  if (window <= 1) return order;
  const bs = opts.batchSize;
  // only the batches that will be yielded take part (dropLast leaves the same images out as without bucketing)
  const used = nb * bs < order.length ? order.slice(0, nb * bs) : order;
  const groups: number[][] = [];
  for (let start = 0; start < used.length; start += window * bs) {
    const pool = used.slice(start, start + window * bs).sort((a, b) => split.widths[a] - split.widths[b] || a - b);
    for (let k = 0; k < pool.length; k += bs) groups.push(pool.slice(k, k + bs));
  }
  // a short batch (the remainder) stays last, as without bucketing
  const last = groups.length > 0 && groups[groups.length - 1].length < bs ? groups.pop() : undefined;
  rng.shuffle(groups);
  if (last) groups.push(last);
  return [...groups.flat(), ...order.slice(used.length)];
}

/**
 * Streams a prepared split as float32 NHWC batches without decoding images again.
 * Deterministic for the same options (order, padding and augmentation).
 */
export async function* batches(split: PreparedSplit, opts: BatchOptions): AsyncGenerator<Batch> {
  const bs = opts.batchSize;
  if (!Number.isInteger(bs) || bs < 1) {
    throw new OcropsError('OCROPS_DATA_BATCH', `batchSize must be a positive integer, got ${bs}`);
  }
  if (opts.fixedWidth !== undefined && (!Number.isInteger(opts.fixedWidth) || opts.fixedWidth < 1)) {
    throw new OcropsError('OCROPS_DATA_BATCH', `fixedWidth must be a positive integer, got ${opts.fixedWidth}`);
  }
  const seed = opts.seed ?? 0;
  const nb = batchCount(split, opts);
  const order = batchOrder(split, opts, nb);
  const { height: H, channels: C } = split;
  const fd = openSync(join(split.dir, 'images.bin'), 'r');
  const cap = Math.max(1, H * split.maxWidth * C);
  // an aligned byte buffer (offset 0) so that it can also be read as 32-bit words
  const bytesBuf = new Uint8Array(new ArrayBuffer(Math.ceil(cap / 4) * 4));
  const words = new Uint32Array(bytesBuf.buffer);
  const work = new Float32Array(cap);
  const scratch = opts.augment ? new Float32Array(cap) : undefined;
  const pool: Float32Array[] = [];
  try {
    for (let b = opts.startBatch ?? 0; b < nb; b++) {
      const idx = order.slice(b * bs, Math.min((b + 1) * bs, order.length));
      const W = opts.fixedWidth ?? idx.reduce((m, i) => Math.max(m, split.widths[i]), 1);
      const B = idx.length;
      const size = B * H * W * C;
      let images: Float32Array;
      if (opts.reuseBuffers) {
        const slot = b % 2;
        if (!pool[slot] || pool[slot].length < size)
          pool[slot] = new Float32Array(Math.max(size, bs * H * Math.max(W, split.maxWidth) * C));
        images = pool[slot].subarray(0, size);
      } else images = new Float32Array(size);
      const widths: number[] = [];
      for (let k = 0; k < B; k++) {
        const i = idx[k];
        const w = split.widths[i];
        const bytes = H * w * C;
        const got = readSync(fd, bytesBuf, 0, bytes, split.offsets[i]);
        if (got !== bytes) {
          throw new OcropsError(
            'OCROPS_DATA_SHARD',
            `${join(split.dir, 'images.bin')}: short read for ${split.ids[i]} (file truncated?)`,
            {
              hint: 'prepare the dataset again',
            },
          );
        }
        const base = k * H * W * C;
        const ow = Math.min(w, W);
        widths.push(ow);
        bytesToUnit(bytesBuf, words, bytes, work);
        if (opts.augment && scratch) augmentImage(work, H, w, C, opts.augment, rngFor(seed, b * bs + k), scratch);
        copyRows(work, w, images, base, W, H, C);
      }
      yield {
        images,
        shape: [B, H, W, C],
        widths,
        labels: idx.map((i) => split.labels[i]),
        ids: idx.map((i) => split.ids[i]),
      };
    }
  } finally {
    closeSync(fd);
  }
}

/** 1/255 as a float: uint8 -> [0, 1]. */
const INV255 = 1 / 255;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * out[j] = bytes[j] / 255 for j < n. Reads four pixels per 32-bit word where the platform is little-endian
 * (about 1.7x faster than a byte loop); `words` views the same memory as `bytes`.
 */
function bytesToUnit(bytes: Uint8Array, words: Uint32Array, n: number, out: Float32Array): void {
  let j = 0;
  if (LITTLE_ENDIAN) {
    const nw = n >>> 2;
    for (let k = 0; k < nw; k++, j += 4) {
      const v = words[k];
      out[j] = (v & 255) * INV255;
      out[j + 1] = ((v >>> 8) & 255) * INV255;
      out[j + 2] = ((v >>> 16) & 255) * INV255;
      out[j + 3] = (v >>> 24) * INV255;
    }
  }
  for (; j < n; j++) out[j] = bytes[j] * INV255;
}

/**
 * Writes an image of width w into a batch slot of width W, the rest of each row white (1.0); wider images are
 * squeezed to W by nearest neighbour. Every element of the slot is written (buffers may be reused).
 */
function copyRows(
  src: Float32Array,
  w: number,
  dst: Float32Array,
  base: number,
  W: number,
  H: number,
  C: number,
): void {
  const rowOut = W * C;
  if (w <= W) {
    const row = w * C;
    for (let y = 0; y < H; y++) {
      const d = base + y * rowOut;
      dst.set(src.subarray(y * row, (y + 1) * row), d);
      if (row < rowOut) dst.fill(1, d + row, d + rowOut);
    }
    return;
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / W));
      for (let c = 0; c < C; c++) dst[base + (y * W + x) * C + c] = src[(y * w + sx) * C + c];
    }
  }
}
