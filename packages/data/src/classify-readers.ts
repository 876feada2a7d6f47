// Readers of labelled image sets for classification: an ImageFolder tree (`<dir>/<class>/<image>`) or a CSV of
// `filename,label`. Both give the same result: items, the sorted class list and the files left out.
import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { OcropsError } from '@ocrops/common';
import type { ClassSource } from './classify-config.js';
import type { SkippedItem } from './readers.js';

/** One labelled image of a classification set. */
export interface ClassItem {
  /** Image name relative to the source root (`<class>/<file>` for an ImageFolder), NFC; unique within the set. */
  id: string;
  /** Absolute image path as found on disk. */
  path: string;
  /** Class name, NFC. */
  label: string;
}

/** What a classification reader found. */
export interface ClassSourceRead {
  /** Items sorted by id (code-point order). */
  items: ClassItem[];
  /** Class names sorted by code point (the same on every machine and locale); index = class index. */
  classes: string[];
  /** Images per class, aligned with `classes`. */
  counts: number[];
  /** Files left out (not an image, empty label, listed twice), with their paths. */
  skipped: SkippedItem[];
}

/** File extensions read as images. */
const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.gif', '.tif', '.tiff']);

/** Compares strings by Unicode code point (not by locale, not by UTF-16 unit), as Python's sorted() does. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function listDir(dir: string, what: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot list ${what} ${dir}: ${(err as Error).message}`, {
      hint: 'check source.dir in the data config (it must be a readable folder holding one folder per class)',
      cause: err,
    });
  }
}

/** True for a folder, or a symbolic link to one (DVC can link data in from its cache). */
function isDirEntry(e: Dirent, path: string): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Image files under `dir` (recursively), as paths relative to it; other files go to `skipped`. */
function imagesUnder(root: string, rel: string, idPrefix: string, skipped: SkippedItem[]): string[] {
  const out: string[] = [];
  const entries = listDir(join(root, rel), 'class folder').sort((a, b) => compareCodePoints(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const sub = rel ? join(rel, e.name) : e.name;
    if (isDirEntry(e, join(root, sub))) out.push(...imagesUnder(root, sub, idPrefix, skipped));
    else if (IMAGE_EXT.has(extname(e.name).toLowerCase())) out.push(sub);
    else {
      const path = join(root, sub);
      skipped.push({
        id: `${idPrefix}/${sub.normalize('NFC')}`,
        path,
        stage: 'image',
        reason: `${path}: not an image file (extension '${extname(e.name)}')`,
      });
    }
  }
  return out;
}

/** Rejects class lists that cannot train a classifier: fewer than two classes, or names equal up to case. */
function checkClasses(classes: string[], where: string, folderOf: (name: string) => string): void {
  if (classes.length < 2) {
    throw new OcropsError(
      'OCROPS_DATA_CLASSES',
      `${where}: ${classes.length} class(es) found (${classes.join(', ') || 'none'}); a classifier needs at least 2`,
      {
        hint: 'point the source at the folder that holds one sub-folder (or CSV label) per class',
      },
    );
  }
  const byKey = new Map<string, string>();
  for (const c of classes) {
    const key = c.toLocaleLowerCase('und');
    const other = byKey.get(key);
    if (other !== undefined) {
      throw new OcropsError(
        'OCROPS_DATA_CLASSES',
        `${where}: class names '${other}' and '${c}' differ only in case (${folderOf(other)}, ${folderOf(c)})`,
        {
          hint: 'merge or rename one of them: they would be one class on a case-insensitive file system',
        },
      );
    }
    byKey.set(key, c);
  }
}

function finish(
  items: ClassItem[],
  skipped: SkippedItem[],
  where: string,
  folderOf: (name: string) => string,
): ClassSourceRead {
  const classes = [...new Set(items.map((it) => it.label))].sort(compareCodePoints);
  checkClasses(classes, where, folderOf);
  const index = new Map(classes.map((c, i) => [c, i]));
  const counts = classes.map(() => 0);
  for (const it of items) counts[index.get(it.label)!]++;
  return { items: items.sort((a, b) => compareCodePoints(a.id, b.id)), classes, counts, skipped };
}

/**
 * Reads an ImageFolder tree: every sub-folder of `dir` is a class (its name, NFC-normalised, is the label; spaces and
 * non-ASCII letters are fine), every image file below it an item. Files that are not images are skipped and listed.
 * Throws OcropsError for an unreadable folder, fewer than two classes, an empty class folder and class names equal up to case.
 */
export function readImageFolder(dir: string): ClassSourceRead {
  const root = resolve(dir);
  const entries = listDir(root, 'image folder').sort((a, b) => compareCodePoints(a.name, b.name));
  const items: ClassItem[] = [];
  const skipped: SkippedItem[] = [];
  const folders = new Map<string, string>();
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const path = join(root, e.name);
    if (!isDirEntry(e, path)) {
      skipped.push({
        id: e.name.normalize('NFC'),
        path,
        stage: 'label',
        reason: `${path}: a file outside any class folder`,
      });
      continue;
    }
    const label = e.name.normalize('NFC');
    if (folders.has(label)) {
      throw new OcropsError(
        'OCROPS_DATA_CLASSES',
        `${root}: folders '${folders.get(label)}' and '${path}' are the same class name after Unicode NFC normalisation`,
        {
          hint: 'merge the two folders',
        },
      );
    }
    folders.set(label, path);
    const files = imagesUnder(root, e.name, label, skipped);
    if (files.length === 0) {
      throw new OcropsError('OCROPS_DATA_CLASSES', `${path}: class folder '${label}' holds no image files`, {
        hint: 'add images to it or remove the folder (every class needs images to train and evaluate on)',
      });
    }
    for (const f of files)
      items.push({ id: `${label}/${f.slice(e.name.length + 1).normalize('NFC')}`, path: join(root, f), label });
  }
  return finish(items, skipped, root, (c) => folders.get(c) ?? c);
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields may hold commas, quotes doubled, newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

/** Quotes a CSV field when it holds a comma, quote or line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Reads a CSV with the header `filename,label` (columns in any order, extra columns ignored); file names are
 * relative to `imagesDir`. Rows with an empty label, a name listed twice or a missing file are skipped and listed.
 */
export function readClassCsv(file: string, imagesDir: string): ClassSourceRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'check source.file in the data config',
      cause: err,
    });
  }
  const rows = parseCsv(text);
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  const fi = header.indexOf('filename');
  const li = header.indexOf('label');
  if (fi < 0 || li < 0) {
    throw new OcropsError(
      'OCROPS_DATA_FORMAT',
      `${file}:1: expected a header with the columns filename,label, got '${(rows[0] ?? []).join(',')}'`,
      {
        hint: 'make the first line `filename,label`',
      },
    );
  }
  const items: ClassItem[] = [];
  const skipped: SkippedItem[] = [];
  const seen = new Set<string>();
  rows.slice(1).forEach((r, k) => {
    const at = `${file}:${k + 2}`;
    const name = (r[fi] ?? '').trim();
    const label = (r[li] ?? '').trim().normalize('NFC');
    const path = resolve(imagesDir, name);
    const id = name.normalize('NFC');
    if (!name) skipped.push({ id: `row ${k + 2}`, stage: 'label', reason: `${at}: empty filename` });
    else if (!label) skipped.push({ id, path, stage: 'label', reason: `${at}: empty label for ${name}` });
    else if (seen.has(id))
      skipped.push({ id, path, stage: 'label', reason: `${at}: ${name} is listed twice (later one dropped)` });
    else if (!isFile(path)) skipped.push({ id, path, stage: 'image', reason: `${at}: ${path} not found` });
    else {
      seen.add(id);
      items.push({ id, path, label });
    }
  });
  return finish(items, skipped, file, (c) => `label '${c}'`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads a classification source of either kind. */
export function readClassSource(source: ClassSource): ClassSourceRead {
  return source.kind === 'imagefolder' ? readImageFolder(source.dir) : readClassCsv(source.file, source.imagesDir);
}
