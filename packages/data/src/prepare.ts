import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OcropsError, ProgressBar, replaceDir } from '@ocrops/common';
import { Charset } from './charset.js';
import type { DataConfig } from './config.js';
import { decodeLine, type LineImage, type LineImageOptions } from './image.js';
import { foldCase, readSource, type SkippedItem, type SourceItem, type SourceRead } from './readers.js';
import { Rng } from './rng.js';
import { PREPARED_FORMAT, ShardWriter, SPLITS, type PreparedMeta, type SplitName } from './shards.js';
import { charFrequencies, distribution, type DatasetStats } from './stats.js';
import { SyntheticLines } from './synth.js';

/** Options of `prepare()`. */
export interface PrepareOptions {
  /** Show a progress bar on stderr (default true). */
  progress?: boolean;
  /** Images decoded at once (default 4). */
  concurrency?: number;
}

/** What `prepare()` did. Timing fields are here only (never in the written files). */
export interface PrepareReport {
  name: string;
  output: string;
  counts: Record<SplitName, number>;
  skipped: SkippedItem[];
  stats: DatasetStats;
  seconds: number;
  /** Lines written per second, all splits. */
  linesPerSecond: number;
}

/** Sizes of the splits of n items for the configured shares (rounded; test takes the remainder). */
export function splitSizes(n: number, split: { train: number; val: number; test: number }): Record<SplitName, number> {
  const sum = split.train + split.val + split.test;
  const train = Math.round((n * split.train) / sum);
  const val = Math.min(n - train, Math.round((n * split.val) / sum));
  return { train, val, test: split.test > 0 ? n - train - val : 0 };
}

function resolveCharset(cfg: DataConfig, labels: string[]): { charset: Charset; source: string } {
  switch (cfg.charset.kind) {
    case 'vietnamese':
      return { charset: Charset.vietnamese(), source: 'vietnamese' };
    case 'derive':
      if (labels.length === 0) {
        throw new OcropsError('OCROPS_DATA_EMPTY', `${cfg.file}: no labels to derive a charset from`, {
          hint: 'check source.path',
        });
      }
      return { charset: Charset.fromTexts(labels), source: 'derived from the labels' };
    case 'explicit':
      return { charset: Charset.fromString(cfg.charset.chars), source: 'explicit' };
  }
}

/** Splits out the items whose labels hold characters outside the charset (reported, or fatal with on_unknown_chars: fail). */
function checkLabels(
  cfg: DataConfig,
  items: SourceItem[],
  charset: Charset,
): { kept: SourceItem[]; skipped: SkippedItem[] } {
  const kept: SourceItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const it of items) {
    const miss = charset.missing(it.label);
    if (miss.length === 0) kept.push(it);
    else {
      skipped.push({
        id: it.id,
        path: it.path,
        stage: 'charset',
        reason: `${it.id}: label ${JSON.stringify(it.label)} has characters outside the charset: ${miss.map((c) => JSON.stringify(c)).join(' ')}`,
      });
    }
  }
  if (skipped.length && cfg.onUnknownChars === 'fail') {
    const ex = skipped
      .slice(0, 5)
      .map((s) => `  ${s.reason}`)
      .join('\n');
    throw new OcropsError(
      'OCROPS_DATA_UNKNOWN_CHARS',
      `${cfg.file}: ${skipped.length} label(s) hold characters outside the charset, e.g.\n${ex}`,
      {
        hint: "fix the labels, set 'on_unknown_chars: filter' to drop them, or use 'charset: derive'",
      },
    );
  }
  return { kept, skipped };
}

/** Marker in the names of the hidden sibling folders a prepare writes into: `.<name>.preparing-<pid>-<random>`. */
const WORK_MARK = '.preparing-';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes work folders of `out` left by prepares that were killed (their process no longer exists). */
function removeStaleWorkDirs(out: string): void {
  const prefix = `.${basename(out)}${WORK_MARK}`;
  for (const name of readdirSync(dirname(out))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid))
      rmSync(join(dirname(out), name), { recursive: true, force: true });
  }
}

/** The id of generated line i. */
function synthId(i: number): string {
  return `synth_${String(i).padStart(6, '0')}.png`;
}

/** The generator of a config's synthetic lines, at its image size; `alphabet` limits what the lines say. */
function syntheticLinesOf(cfg: DataConfig, alphabet?: ReadonlySet<string>): SyntheticLines {
  const { height, channels, width: fixedWidth, maxWidth } = cfg.image;
  return new SyntheticLines(cfg.synthetic, height, channels, maxWidth, fixedWidth, alphabet);
}

/**
 * Appends the `synthetic.mix_train` generated lines of a read set to its train shard, each written with the set's
 * charset and labelled as the read labels are (`source.label_case` folds a drawn "Kumar" to "kumar" while the image
 * keeps its capitals); `keep` records each line's label, width and squeeze.
 */
function addGeneratedLines(
  w: ShardWriter,
  cfg: DataConfig,
  charset: Charset,
  bar: ProgressBar,
  keep: (label: string, width: number, squeezed: boolean) => void,
): void {
  const labelCase = cfg.source.labelCase;
  const gen = syntheticLinesOf(cfg, drawableChars(charset, labelCase));
  for (let i = 0; i < cfg.synthetic.mixTrain; i++) {
    const line = gen.line(i);
    const label = foldCase(line.text, labelCase);
    w.add(synthId(i), label, line.data, line.width, true);
    keep(label, line.width, line.squeezed);
    bar.tick();
  }
}

/** A read source's labelled items: one read per given split (`source.splits`), or one read that is split by seed. */
function readLabelled(cfg: DataConfig): Promise<SourceRead[]> {
  const given = cfg.source.splits;
  if (!given) return readSource(cfg.source).then((r) => [r]);
  return Promise.all(
    SPLITS.map((sp) =>
      readSource({ ...cfg.source, path: given[sp].path, images: given[sp].images, splits: undefined }),
    ),
  );
}

/**
 * The characters a config's generated lines may show, as `prepare` draws them: for a read source, what its charset
 * writes after `label_case` (a derived charset comes from the source's labels, read here); for `format: synthetic`,
 * its given charset (none when derived: the charset then comes from the generated texts).
 */
export async function generatedAlphabet(cfg: DataConfig): Promise<ReadonlySet<string> | undefined> {
  if (cfg.source.format === 'synthetic') {
    return cfg.charset.kind === 'derive' ? undefined : new Set(resolveCharset(cfg, []).charset.chars);
  }
  const labels =
    cfg.charset.kind === 'derive' ? (await readLabelled(cfg)).flatMap((r) => r.items.map((it) => it.label)) : [];
  return drawableChars(resolveCharset(cfg, labels).charset, cfg.source.labelCase);
}

/** The characters a generated line may show: those whose `label_case` fold the charset has (both cases of its letters when folded). */
function drawableChars(charset: Charset, labelCase: DataConfig['source']['labelCase']): Set<string> {
  const candidates = charset.chars.flatMap((c) => [c, c.toUpperCase(), c.toLowerCase()]);
  return new Set(candidates.filter((c) => [...c].length === 1 && charset.chars.includes(foldCase(c, labelCase))));
}

/**
 * Prepares a dataset: reads the source (or generates synthetic lines), checks labels against the charset, splits
 * deterministically by seed, decodes and resizes every image, and writes `<output>/{train,val,test}/images.bin +
 * index.json`, `meta.json` and `stats.json`. Bad images and labels are skipped and reported, never fatal
 * (except labels with on_unknown_chars: fail). The same config and seed give byte-identical output.
 * Everything is written into a hidden sibling folder (`.<name>.preparing-<pid>-*`) that replaces `output` only when
 * complete, so a concurrent reader or an interrupted/failed prepare never sees half-written shards.
 */
export async function prepare(cfg: DataConfig, opts: PrepareOptions = {}): Promise<PrepareReport> {
  const report = await writeDirAtomically(cfg.output, (work) => prepareInto({ ...cfg, output: work }, opts));
  return { ...report, output: cfg.output };
}

/**
 * Runs `body` on a fresh hidden sibling folder of `out` (`.<name>.preparing-<pid>-*`) and moves it to `out` when
 * `body` succeeds (removing it when it fails), so readers never see a half-written `out`.
 */
export async function writeDirAtomically<T>(out: string, body: (work: string) => Promise<T>): Promise<T> {
  mkdirSync(dirname(out), { recursive: true });
  removeStaleWorkDirs(out);
  const work = mkdtempSync(join(dirname(out), `.${basename(out)}${WORK_MARK}${process.pid}-`));
  try {
    const result = await body(work);
    replaceDir(work, out);
    return result;
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** The body of {@link prepare}, writing into `cfg.output` (an empty folder). */
async function prepareInto(cfg: DataConfig, opts: PrepareOptions): Promise<PrepareReport> {
  const t0 = performance.now();
  const { height, channels, width: fixedWidth, maxWidth } = cfg.image;
  const skipped: SkippedItem[] = [];
  const counts = { train: 0, val: 0, test: 0 } as Record<SplitName, number>;
  const widths: Record<SplitName, number[]> = { train: [], val: [], test: [] };
  const labels: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  const splitMax: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  let squeezed = 0;
  let charsetInfo: { charset: Charset; source: string };

  if (cfg.source.format === 'synthetic') {
    // a given charset also limits what the lines say; a derived one is read from the generated texts
    const gen = syntheticLinesOf(cfg, await generatedAlphabet(cfg));
    const n = cfg.synthetic.count;
    const texts = Array.from({ length: n }, (_, i) => gen.text(i));
    charsetInfo = resolveCharset(cfg, texts);
    const { skipped: bad } = checkLabels(
      cfg,
      texts.map((label, i) => ({ id: synthId(i), path: '', label })),
      charsetInfo.charset,
    );
    const badIds = new Set(bad.map((b) => b.id));
    skipped.push(...bad.map(({ id, stage, reason }) => ({ id, stage, reason })));
    const sizes = splitSizes(n, cfg.split);
    const bar = new ProgressBar(`prepare ${cfg.name}`, n, { unit: 'lines', silent: opts.progress === false });
    let i = 0;
    for (const split of SPLITS) {
      const w = new ShardWriter(join(cfg.output, split), height, channels);
      for (let k = 0; k < sizes[split]; k++, i++) {
        if (badIds.has(synthId(i))) continue;
        const line = gen.line(i);
        w.add(synthId(i), line.text, line.data, line.width, true);
        widths[split].push(line.width);
        labels[split].push(line.text);
        if (line.squeezed) squeezed++;
        bar.tick();
      }
      const r = w.close();
      counts[split] = r.count;
      splitMax[split] = r.maxWidth;
    }
    bar.done();
  } else {
    const given = cfg.source.splits;
    const reads = await readLabelled(cfg);
    for (const r of reads) skipped.push(...r.skipped);
    charsetInfo = resolveCharset(
      cfg,
      reads.flatMap((r) => r.items.map((it) => it.label)),
    );
    const checked = reads.map((r) => checkLabels(cfg, r.items, charsetInfo.charset));
    for (const c of checked) skipped.push(...c.skipped);
    const kept = checked.flatMap((c) => c.kept);
    if (kept.length === 0) {
      throw new OcropsError(
        'OCROPS_DATA_EMPTY',
        `${cfg.file}: no usable items in ${cfg.source.path ?? 'the split sources'} (${skipped.length} skipped)`,
        {
          hint: skipped.length ? `first problem: ${skipped[0].reason}` : 'check source.path and source.format',
        },
      );
    }
    let parts: Record<SplitName, SourceItem[]>;
    if (given) parts = { train: checked[0].kept, val: checked[1].kept, test: checked[2].kept };
    else {
      const order = new Rng(cfg.split.seed).shuffle([...kept]);
      const sizes = splitSizes(order.length, cfg.split);
      parts = {
        train: order.slice(0, sizes.train),
        val: order.slice(sizes.train, sizes.train + sizes.val),
        test: order.slice(sizes.train + sizes.val),
      };
    }
    const mix = cfg.synthetic.mixTrain;
    const bar = new ProgressBar(`prepare ${cfg.name}`, kept.length + mix, {
      unit: 'lines',
      silent: opts.progress === false,
    });
    const conc = Math.max(1, opts.concurrency ?? 4);
    for (const split of SPLITS) {
      const items = parts[split].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const w = new ShardWriter(join(cfg.output, split), height, channels);
      const keep = (label: string, width: number, wasSqueezed: boolean) => {
        widths[split].push(width);
        labels[split].push(label);
        if (wasSqueezed) squeezed++;
      };
      await writeDecoded(
        w,
        items,
        { height, channels, width: fixedWidth, maxWidth },
        { conc, skipped, bar },
        (it, img) => keep(it.label, img.width, img.squeezed),
      );
      if (split === 'train' && mix > 0) addGeneratedLines(w, cfg, charsetInfo.charset, bar, keep);
      const r = w.close();
      counts[split] = r.count;
      splitMax[split] = r.maxWidth;
    }
    bar.done(skipped.length ? `${skipped.length} skipped` : undefined);
  }

  const { charset, source } = charsetInfo;
  const allWidths = SPLITS.flatMap((s) => widths[s]);
  const allLabels = SPLITS.flatMap((s) => labels[s]);
  const lengths = (ls: string[]) => ls.map((l) => [...l].length);
  const stats: DatasetStats = {
    name: cfg.name,
    counts: { ...counts, total: allLabels.length, skipped: skipped.length },
    charset: { ...charset.toJSON(), numClasses: charset.numClasses, source },
    image: {
      height,
      channels,
      ...(fixedWidth ? { fixedWidth } : {}),
      maxWidth: Math.max(0, ...SPLITS.map((s) => splitMax[s])),
      squeezed,
    },
    widths: {
      all: distribution(allWidths),
      train: distribution(widths.train),
      val: distribution(widths.val),
      test: distribution(widths.test),
    },
    labelLengths: {
      all: distribution(lengths(allLabels)),
      train: distribution(lengths(labels.train)),
      val: distribution(lengths(labels.val)),
      test: distribution(lengths(labels.test)),
    },
    charFrequencies: charFrequencies(allLabels),
    skipped,
    skippedSummary: skipped.reduce<Record<string, number>>((m, s) => ((m[s.stage] = (m[s.stage] ?? 0) + 1), m), {}),
  };
  const meta: PreparedMeta = {
    format: PREPARED_FORMAT,
    name: cfg.name,
    height,
    channels,
    ...(fixedWidth ? { width: fixedWidth } : {}),
    widthCap: maxWidth,
    augment: cfg.augment,
    charset: charset.toJSON(),
    splits: {
      train: { count: counts.train, maxWidth: splitMax.train },
      val: { count: counts.val, maxWidth: splitMax.val },
      test: { count: counts.test, maxWidth: splitMax.test },
    },
  };
  writeFileSync(join(cfg.output, 'stats.json'), `${JSON.stringify(stats, null, 1)}\n`);
  writeFileSync(join(cfg.output, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: cfg.name,
    output: cfg.output,
    counts,
    skipped,
    stats,
    seconds,
    linesPerSecond: allLabels.length / seconds,
  };
}

/** Maps with at most `limit` promises in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Decodes `items` (`conc` at a time, in chunks of 4 x conc) with the line-image options `image` and adds each decoded
 * image to the shard writer in item order, then calls `onWritten`; an image that does not decode goes to `skipped`
 * (stage 'image'). Ticks `bar` once per chunk. Text-line and classification prepare both write their shards so.
 */
export async function writeDecoded<T extends { id: string; path: string; label: string }>(
  w: ShardWriter,
  items: T[],
  image: LineImageOptions,
  run: { conc: number; skipped: SkippedItem[]; bar: ProgressBar },
  onWritten: (item: T, img: LineImage) => void,
): Promise<void> {
  const { conc, skipped, bar } = run;
  for (let s = 0; s < items.length; s += conc * 4) {
    const chunk = items.slice(s, s + conc * 4);
    const decoded = await mapLimit(chunk, conc, (it) =>
      decodeLine(it.path, image, it.path).then(
        (img) => ({ ok: true as const, img }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    );
    chunk.forEach((it, k) => {
      const d = decoded[k];
      if (d.ok) {
        w.add(it.id, it.label, d.img.data, d.img.width);
        onWritten(it, d.img);
      } else {
        skipped.push({ id: it.id, path: it.path, stage: 'image', reason: (d.err as Error)?.message ?? String(d.err) });
      }
    });
    bar.tick(chunk.length);
  }
}
