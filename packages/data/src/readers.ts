import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OcropsError, jsonField, parseJsonText } from '@ocrops/common';
import type { DataSource } from './config.js';
import { downloadS3Images, parseLabelStudioExport, type LabelStudioFilter } from './labelstudio.js';

/** One labelled image found by a reader. */
export interface SourceItem {
  /** Image name relative to the images folder (unique within a dataset; used in reports and batches). */
  id: string;
  /** Absolute image path. */
  path: string;
  /** Transcript, NFC. */
  label: string;
}

/** An item left out, and why (`stage` says which step dropped it). */
export interface SkippedItem {
  id: string;
  path?: string;
  /** filter: dropped on purpose by a `source.quality` or `source.textPattern` filter */
  stage: 'label' | 'charset' | 'image' | 'filter';
  reason: string;
}

export interface SourceRead {
  items: SourceItem[];
  skipped: SkippedItem[];
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif', '.tif', '.tiff']);

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, {
      hint: 'check source.path in the data config',
      cause: err,
    });
  }
}

function defaultImagesDir(labelsFile: string): string {
  const d = dirname(labelsFile);
  return existsSync(join(d, 'images')) ? join(d, 'images') : d;
}

/** Adds an item, reporting empty labels and duplicate ids instead. */
class Collector {
  readonly items: SourceItem[] = [];
  readonly skipped: SkippedItem[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly imagesDir: string,
    private readonly where: string,
  ) {}

  add(id: string, label: unknown, at = ''): void {
    const path = resolve(this.imagesDir, id);
    if (typeof label !== 'string') {
      this.skipped.push({ id, path, stage: 'label', reason: `${this.where}${at}: label of ${id} is not a string` });
      return;
    }
    const text = label.normalize('NFC');
    if (text.trim() === '') {
      this.skipped.push({ id, path, stage: 'label', reason: `${this.where}${at}: empty label for ${id}` });
      return;
    }
    if (this.seen.has(id)) {
      this.skipped.push({
        id,
        path,
        stage: 'label',
        reason: `${this.where}${at}: ${id} is listed twice (later one dropped)`,
      });
      return;
    }
    this.seen.add(id);
    this.items.push({ id, path, label: text });
  }
}

/** `labels.json` = `{image file name: transcript}` (the shared datasets, the reference CTCModel recipe). */
export function readLabelsJson(path: string, imagesDir?: string): SourceRead {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'labels.json') : path;
  const obj = parseJsonText<unknown>(readText(file), file);
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new OcropsError('OCROPS_DATA_FORMAT', `${file}: expected an object {"image file name": "transcript"}`, {
      hint: 'for a list of {file, text} use format config-json',
    });
  }
  const c = new Collector(imagesDir ?? defaultImagesDir(file), file);
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) c.add(k, v);
  return c;
}

/** `config.json` = `[{"file": ..., "text": ...}]` (the licence-plate recipe). */
export function readConfigJson(path: string, imagesDir?: string): SourceRead {
  const list = parseJsonText<unknown>(readText(path), path);
  if (!Array.isArray(list)) {
    throw new OcropsError('OCROPS_DATA_FORMAT', `${path}: expected a list of {"file": ..., "text": ...}`, {
      hint: 'for an object {"image": "text"} use format labels-json',
    });
  }
  const c = new Collector(imagesDir ?? dirname(path), path);
  list.forEach((e: unknown, i) => {
    const file = jsonField(e, 'file') ?? jsonField(e, 'filename') ?? jsonField(e, 'path');
    if (typeof file !== 'string') {
      c.skipped.push({ id: `#${i}`, stage: 'label', reason: `${path}: entry ${i} has no "file" string` });
      return;
    }
    c.add(file, jsonField(e, 'text') ?? jsonField(e, 'label'), ` entry ${i}`);
  });
  return c;
}

/** A folder of images whose file names are the labels (captcha sets): label = stem, or `labelPattern`'s group 1. */
export function readFolder(dir: string, labelPattern?: string): SourceRead {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const re = labelPattern ? new RegExp(labelPattern, 'u') : undefined;
  const c = new Collector(dir, dir);
  for (const name of names) {
    if (!IMAGE_EXT.has(extname(name).toLowerCase())) continue;
    const stem = basename(name, extname(name));
    if (re) {
      const m = re.exec(stem);
      if (!m || m[1] === undefined) {
        c.skipped.push({
          id: name,
          path: join(dir, name),
          stage: 'label',
          reason: `${name}: file name does not match labelPattern ${labelPattern}`,
        });
        continue;
      }
      c.add(name, m[1]);
    } else c.add(name, stem);
  }
  return c;
}

/** A tags file: one `relative/image/path label` per line (IIIT5K `train.tags`); the label is the rest of the line. */
export function readTags(path: string, imagesDir?: string): SourceRead {
  const c = new Collector(imagesDir ?? dirname(path), path);
  readText(path)
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const m = /^\s*(\S+)\s+(.*?)\s*$/.exec(line);
      if (!m || m[2] === '') {
        c.skipped.push({ id: line.trim(), stage: 'label', reason: `${path}:${i + 1}: expected "image-path label"` });
        return;
      }
      c.add(m[1], m[2], `:${i + 1}`);
    });
  return c;
}

/** A Label Studio export; images are looked up by file name in `imagesDir`, `s3://` ones downloaded there first. */
export async function readLabelStudio(
  path: string,
  imagesDir?: string,
  s3Endpoint?: string,
  filter: LabelStudioFilter = {},
): Promise<SourceRead> {
  const { entries, skipped } = parseLabelStudioExport(readText(path), path, filter);
  const dir = imagesDir ?? defaultImagesDir(path);
  const { failed } = await downloadS3Images(entries, dir, { endpoint: s3Endpoint });
  const bad = new Set(failed.map((f) => f.taskId));
  const c = new Collector(dir, path);
  for (const s of [...skipped, ...failed]) {
    c.skipped.push({
      id: s.uri ? basename(s.uri) : `task ${s.taskId}`,
      stage: s.filtered ? 'filter' : 'label',
      reason: s.reason,
    });
  }
  for (const e of entries) if (!bad.has(e.taskId)) c.add(e.file, e.text, ` task ${e.taskId}`);
  return c;
}

/** Reads the labelled images of a (non-synthetic) source. Items come back sorted by id (order of files never matters). */
export async function readSource(source: DataSource): Promise<SourceRead> {
  if (!source.path) throw new OcropsError('OCROPS_DATA_FORMAT', `source format '${source.format}' needs a path`);
  let r: SourceRead;
  switch (source.format) {
    case 'labels-json':
      r = readLabelsJson(source.path, source.images);
      break;
    case 'config-json':
      r = readConfigJson(source.path, source.images);
      break;
    case 'folder':
      r = readFolder(source.images ?? source.path, source.labelPattern);
      break;
    case 'tags':
      r = readTags(source.path, source.images);
      break;
    case 'label-studio':
      r = await readLabelStudio(source.path, source.images, source.s3Endpoint, {
        quality: source.quality,
        qualityFrom: source.qualityFrom,
      });
      break;
    default:
      throw new OcropsError('OCROPS_DATA_FORMAT', `source format '${source.format}' has no file reader`, {
        hint: 'synthetic sources are generated by prepare',
      });
  }
  const { kept, dropped } = filterByTextPattern(foldLabelCase(r.items, source.labelCase), source.textPattern);
  return { items: kept.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), skipped: [...r.skipped, ...dropped] };
}

/** The items with their labels' case folded (`lower`/`upper`, locale-independent); `keep` or none: unchanged. */
export function foldLabelCase(items: SourceItem[], labelCase?: 'keep' | 'lower' | 'upper'): SourceItem[] {
  if (labelCase === undefined || labelCase === 'keep') return items;
  return items.map((it) => ({ ...it, label: foldCase(it.label, labelCase) }));
}

/** `text` with its case folded as `label_case` says (`lower`/`upper`, locale-independent); `keep` or none: unchanged. */
export function foldCase(text: string, labelCase?: 'keep' | 'lower' | 'upper'): string {
  if (labelCase === 'lower') return text.toLowerCase();
  if (labelCase === 'upper') return text.toUpperCase();
  return text;
}

/**
 * Keeps the items whose whole label matches `pattern` (e.g. a licence plate's mask `^[\u4e00-\u9fff][A-Z][0-9A-Z]{5}$`);
 * the others are reported as skipped (stage `filter`). No pattern: everything is kept.
 */
export function filterByTextPattern(
  items: SourceItem[],
  pattern?: string,
): { kept: SourceItem[]; dropped: SkippedItem[] } {
  if (!pattern) return { kept: [...items], dropped: [] };
  const re = new RegExp(`^(?:${pattern})$`, 'u');
  const kept: SourceItem[] = [];
  const dropped: SkippedItem[] = [];
  for (const it of items) {
    if (re.test(it.label)) kept.push(it);
    else
      dropped.push({
        id: it.id,
        path: it.path,
        stage: 'filter',
        reason: `label '${it.label}' of ${it.id} does not match textPattern ${pattern}`,
      });
  }
  return { kept, dropped };
}
