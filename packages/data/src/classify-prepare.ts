// `prepare` for a classification data config: read the source, split it stratified by class, decode every image once
// to raw pixels of the fixed size, and write the same shard layout as the OCR prepare (images.bin + index.json per
// split) plus meta.json (task: classify, classes, counts per split), stats.json and split.csv.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError, ProgressBar } from '@ocrops/common';
import type { ClassAugmentConfig, ClassifyDataConfig } from './classify-config.js';
import { csvField, readClassSource, type ClassItem } from './classify-readers.js';
import { stratifiedSplit } from './classify-split.js';
import { writeDecoded, writeDirAtomically } from './prepare.js';
import type { SkippedItem } from './readers.js';
import { ShardWriter, SPLITS, type SplitName } from './shards.js';

/** Format tag of the meta.json of a prepared classification set. */
export const PREPARED_CLASSIFY_FORMAT = 'ocrops-prepared-classify/1';

/** meta.json of a prepared classification set. */
export interface PreparedClassifyMeta {
  format: typeof PREPARED_CLASSIFY_FORMAT;
  task: 'classify';
  name: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Class names; the index in this list is the class index of the labels. */
  classes: string[];
  /** Images per class in each split, aligned with `classes`. */
  counts: Record<SplitName, number[]>;
  splits: Record<SplitName, { count: number }>;
  /** The data config's split (shares and seed). */
  split: { val: number; test: number; seed: number };
  /** The data config's training augmentation (false when off). */
  augment: ClassAugmentConfig | false;
}

/** stats.json of a prepared classification set (what `ocrops data stats` prints). */
export interface ClassifyStats {
  task: 'classify';
  name: string;
  counts: Record<SplitName | 'total' | 'skipped', number>;
  classes: { name: string; train: number; val: number; test: number }[];
  skipped: SkippedItem[];
}

/** What `prepareClassify()` did. Timing is here only (never in the written files). */
export interface ClassifyPrepareReport {
  name: string;
  output: string;
  classes: string[];
  counts: Record<SplitName, number>;
  skipped: SkippedItem[];
  stats: ClassifyStats;
  seconds: number;
  imagesPerSecond: number;
}

export interface ClassifyPrepareOptions {
  /** Show a progress bar on stderr (default true). */
  progress?: boolean;
  /** Images decoded at once (default 4). */
  concurrency?: number;
}

/**
 * Prepares a classification set into `cfg.outDir` (written into a hidden sibling folder that replaces it when
 * complete). Files that are not images or do not decode are skipped and reported, never fatal; bad class lists
 * (one class, an empty class folder, names equal up to case) and unreadable folders throw OcropsError.
 * The same config and seed give byte-identical files.
 */
export async function prepareClassify(
  cfg: ClassifyDataConfig,
  opts: ClassifyPrepareOptions = {},
): Promise<ClassifyPrepareReport> {
  const report = await writeDirAtomically(cfg.outDir, (work) => prepareClassifyInto(cfg, work, opts));
  return { ...report, output: cfg.outDir };
}

/** Decodes and writes the items of one split; returns the items written (the ones that decoded). */
async function writeSplit(
  dir: string,
  items: ClassItem[],
  cfg: ClassifyDataConfig,
  conc: number,
  skipped: SkippedItem[],
  bar: ProgressBar,
): Promise<ClassItem[]> {
  const { height, width, channels } = cfg.image;
  const w = new ShardWriter(dir, height, channels);
  const written: ClassItem[] = [];
  await writeDecoded(
    w,
    items,
    { height, width, channels, maxWidth: width },
    { conc, skipped, bar },
    (it) => void written.push(it),
  );
  w.close();
  return written;
}

/** split.csv: `path,label,split`, one row per prepared image in shard order (path relative to the source root). */
export function splitCsv(parts: Record<SplitName, ClassItem[]>): string {
  const rows = ['path,label,split'];
  for (const s of SPLITS) for (const it of parts[s]) rows.push(`${csvField(it.id)},${csvField(it.label)},${s}`);
  return `${rows.join('\n')}\n`;
}

async function prepareClassifyInto(
  cfg: ClassifyDataConfig,
  out: string,
  opts: ClassifyPrepareOptions,
): Promise<Omit<ClassifyPrepareReport, 'output'>> {
  const t0 = performance.now();
  const read = readClassSource(cfg.source);
  const skipped = [...read.skipped];
  const where = cfg.source.kind === 'imagefolder' ? cfg.source.dir : cfg.source.file;
  const parts = stratifiedSplit(read.items, cfg.split, where);
  const bar = new ProgressBar(`prepare ${cfg.name}`, read.items.length, {
    unit: 'images',
    silent: opts.progress === false,
  });
  const conc = Math.max(1, opts.concurrency ?? 4);
  const written = {} as Record<SplitName, ClassItem[]>;
  for (const s of SPLITS) written[s] = await writeSplit(join(out, s), parts[s], cfg, conc, skipped, bar);
  bar.done(skipped.length ? `${skipped.length} skipped` : undefined);
  const total = SPLITS.reduce((n, s) => n + written[s].length, 0);
  if (total === 0) {
    throw new OcropsError(
      'OCROPS_DATA_EMPTY',
      `${cfg.file}: no image of ${where} could be decoded (${skipped.length} skipped)`,
      {
        hint: skipped.length ? `first problem: ${skipped[0].reason}` : 'check source in the data config',
      },
    );
  }

  const index = new Map(read.classes.map((c, i) => [c, i]));
  const counts = {} as Record<SplitName, number[]>;
  for (const s of SPLITS) {
    counts[s] = read.classes.map(() => 0);
    for (const it of written[s]) counts[s][index.get(it.label)!]++;
  }
  const splitCounts = { train: written.train.length, val: written.val.length, test: written.test.length };
  const meta: PreparedClassifyMeta = {
    format: PREPARED_CLASSIFY_FORMAT,
    task: 'classify',
    name: cfg.name,
    ...cfg.image,
    classes: read.classes,
    counts,
    splits: { train: { count: splitCounts.train }, val: { count: splitCounts.val }, test: { count: splitCounts.test } },
    split: cfg.split,
    augment: cfg.augment,
  };
  const stats: ClassifyStats = {
    task: 'classify',
    name: cfg.name,
    counts: { ...splitCounts, total, skipped: skipped.length },
    classes: read.classes.map((name, i) => ({
      name,
      train: counts.train[i],
      val: counts.val[i],
      test: counts.test[i],
    })),
    skipped,
  };
  writeFileSync(join(out, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  writeFileSync(join(out, 'stats.json'), `${JSON.stringify(stats, null, 1)}\n`);
  writeFileSync(join(out, 'split.csv'), splitCsv(written));
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: cfg.name,
    classes: read.classes,
    counts: splitCounts,
    skipped,
    stats,
    seconds,
    imagesPerSecond: total / seconds,
  };
}

/** Human-readable summary of a classification stats.json. */
export function formatClassifyStats(st: ClassifyStats): string {
  const sizes = st.classes.map((c) => c.train + c.val + c.test);
  const lines = [
    `${st.name}: ${st.counts.total} images in ${st.classes.length} classes (train ${st.counts.train}, val ${st.counts.val}, test ${st.counts.test}), ${st.counts.skipped} skipped`,
    `images per class: min ${Math.min(...sizes)}, max ${Math.max(...sizes)}`,
  ];
  const width = Math.max(5, ...st.classes.map((c) => c.name.length));
  lines.push(`  ${'class'.padEnd(width)}  train    val   test`);
  for (const c of st.classes)
    lines.push(
      `  ${c.name.padEnd(width)} ${String(c.train).padStart(6)} ${String(c.val).padStart(6)} ${String(c.test).padStart(6)}`,
    );
  if (st.skipped.length) {
    lines.push(`skipped ${st.skipped.length}:`);
    for (const s of st.skipped.slice(0, 20)) lines.push(`  ${s.reason}`);
    if (st.skipped.length > 20) lines.push(`  ... ${st.skipped.length - 20} more in stats.json`);
  }
  return lines.join('\n');
}
