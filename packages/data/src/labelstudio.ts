import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { OcropsError, jsonField, jsonList, parseJsonText } from '@ocrops/common';

/** One task of a Label Studio export turned into an image name + transcript. */
export interface LabelStudioEntry {
  /** Image file name (basename of the URI). */
  file: string;
  /** The image URI as exported (`s3://bucket/key`, `/data/upload/...`, a path or URL). */
  uri: string;
  text: string;
  taskId: string;
  /** The annotation's quality choices (e.g. `["Good"]`, from the `chc` choices control), if it has any. */
  quality?: string[];
}

/** Which tasks of an export to keep, by the annotation's quality choice. */
export interface LabelStudioFilter {
  /** keep only tasks whose quality choice is one of these (e.g. `["Good"]`); the others are skipped and reported */
  quality?: string[];
  /** `from_name` of the choices control holding the quality (default `chc`, the reference recipe's captioning project) */
  qualityFrom?: string;
}

/** A task that gave no entry, and why. */
export interface LabelStudioSkip {
  taskId: string;
  uri?: string;
  reason: string;
  /** true when the task was dropped by the quality filter (not a defect of the task) */
  filtered?: boolean;
}

/** S3 connection for `s3://` image URIs; unset fields come from the environment (AWS_* variables). */
export interface S3Options {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Result of reading a Label Studio export. */
export interface LabelStudioParse {
  entries: LabelStudioEntry[];
  skipped: LabelStudioSkip[];
}

const IMAGE_KEYS = ['captioning', 'image', 'ocr', 'img', 'url'];

/**
 * Reads a Label Studio JSON export (a list of tasks, as the reference recipe's captioning project exports it): the image URI is `task.data.captioning`
 * (or `image`/`ocr`); the transcript is `value.text[0]` of the result item with `from_name == "caption"`
 * (or the first `textarea` item) of the first annotation that was not cancelled. Transcripts are NFC-normalised.
 * A malformed JSON file gives OCROPS_JSON_SYNTAX with the file and line:column.
 */
export function parseLabelStudioExport(text: string, source: string, filter: LabelStudioFilter = {}): LabelStudioParse {
  const tasks = parseJsonText<unknown>(text, source);
  if (!Array.isArray(tasks)) {
    throw new OcropsError('OCROPS_DATA_LABELSTUDIO', `${source}: expected a list of tasks at the top level`, {
      hint: 'export the project from Label Studio as JSON (not JSON-MIN or CSV)',
    });
  }
  const entries: LabelStudioEntry[] = [];
  const skipped: LabelStudioSkip[] = [];
  tasks.forEach((task: unknown, i: number) => {
    const taskId = String(jsonField(task, 'id') ?? `#${i}`);
    const data = jsonField(task, 'data');
    const uri = IMAGE_KEYS.map((k) => jsonField(data, k)).find((v): v is string => typeof v === 'string');
    if (!uri) {
      skipped.push({ taskId, reason: `task ${taskId} (index ${i}) has no image URI in data.${IMAGE_KEYS.join('/')}` });
      return;
    }
    const ann = jsonList(jsonField(task, 'annotations')).find((a) => a && !jsonField(a, 'was_cancelled'));
    const results = jsonList(jsonField(ann, 'result'));
    const item =
      results.find((r) => jsonField(r, 'from_name') === 'caption') ??
      results.find((r) => jsonField(r, 'type') === 'textarea');
    const t = jsonField(jsonField(item, 'value'), 'text');
    const caption = Array.isArray(t) ? (t as unknown[])[0] : typeof t === 'string' ? t : undefined;
    if (typeof caption !== 'string' || caption.trim() === '') {
      skipped.push({
        taskId,
        uri,
        reason: `task ${taskId} (${uri}) has no caption (no non-empty 'caption' text in its annotation)`,
      });
      return;
    }
    const quality = qualityOf(results, filter.qualityFrom ?? 'chc');
    if (filter.quality) {
      const want = filter.quality;
      if (!quality || !quality.some((q) => want.includes(q))) {
        const got = quality ? `quality ${quality.map((q) => `'${q}'`).join(', ')}` : 'no quality choice';
        skipped.push({
          taskId,
          uri,
          reason: `task ${taskId} (${uri}): ${got}, not one of quality [${want.join(', ')}]`,
          filtered: true,
        });
        return;
      }
    }
    entries.push({
      file: imageFileName(uri),
      uri,
      text: caption.normalize('NFC'),
      taskId,
      ...(quality ? { quality } : {}),
    });
  });
  return { entries, skipped };
}

/** The choices of the `fromName` choices control of an annotation's results (e.g. `["Good"]`), if present. */
function qualityOf(results: unknown[], fromName: string): string[] | undefined {
  const item = results.find((r) => jsonField(r, 'from_name') === fromName);
  const c = jsonField(jsonField(item, 'value'), 'choices');
  if (Array.isArray(c) && c.every((x) => typeof x === 'string')) return c as string[];
  return typeof c === 'string' ? [c] : undefined;
}

/** The image file name of a Label Studio URI: basename of the path, or of the `d` parameter of local-files URLs. */
export function imageFileName(uri: string): string {
  const q = uri.indexOf('?');
  if (q >= 0) {
    const d = new URLSearchParams(uri.slice(q + 1)).get('d');
    if (d) return basename(d);
    uri = uri.slice(0, q);
  }
  return decodeURIComponent(basename(uri));
}

function s3Client(opts: S3Options): S3Client {
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const accessKeyId = opts.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = opts.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY;
  return new S3Client({
    endpoint,
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  });
}

/** Splits `s3://bucket/key` into bucket and key. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new OcropsError('OCROPS_DATA_S3', `not an s3:// URI: ${uri}`, { hint: 'use s3://bucket/key' });
  return { bucket: m[1], key: m[2] };
}

/**
 * Downloads the `s3://` images of `entries` into `imagesDir` (files already there with a non-zero size are kept).
 * Entries whose download fails are moved to the returned `failed` list with the reason.
 */
export async function downloadS3Images(
  entries: LabelStudioEntry[],
  imagesDir: string,
  opts: S3Options = {},
): Promise<{ downloaded: number; failed: LabelStudioSkip[] }> {
  const todo = entries.filter((e) => e.uri.startsWith('s3://'));
  const failed: LabelStudioSkip[] = [];
  if (todo.length === 0) return { downloaded: 0, failed };
  mkdirSync(imagesDir, { recursive: true });
  const client = s3Client(opts);
  let downloaded = 0;
  try {
    for (const e of todo) {
      const dest = join(imagesDir, e.file);
      if (existsSync(dest) && statSync(dest).size > 0) continue;
      try {
        const { bucket, key } = parseS3Uri(e.uri);
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        await pipeline(res.Body as Readable, createWriteStream(dest));
        downloaded++;
      } catch (err) {
        const msg = (err as Error).name === 'NoSuchKey' ? 'no such object' : (err as Error).message;
        failed.push({ taskId: e.taskId, uri: e.uri, reason: `download of ${e.uri} failed: ${msg}` });
      }
    }
  } finally {
    client.destroy();
  }
  return { downloaded, failed };
}

/** Result of `convertLabelStudio`. */
export interface LabelStudioReport {
  /** The labels.json written. */
  out: string;
  labels: Record<string, string>;
  skipped: LabelStudioSkip[];
  downloaded: number;
}

/**
 * Converts a Label Studio export to `labels.json` = `{image file name: transcript}` (the reference CTCModel recipe's format).
 * With `imagesDir`, `s3://` images are downloaded there (tasks whose image cannot be fetched are skipped and reported).
 */
export async function convertLabelStudio(
  exportPath: string,
  opts: { out?: string; imagesDir?: string; s3?: S3Options; filter?: LabelStudioFilter } = {},
): Promise<LabelStudioReport> {
  let text: string;
  try {
    text = readFileSync(exportPath, 'utf8');
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot read ${exportPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const { entries, skipped } = parseLabelStudioExport(text, exportPath, opts.filter);
  let kept = entries;
  let downloaded = 0;
  if (opts.imagesDir) {
    const r = await downloadS3Images(entries, opts.imagesDir, opts.s3);
    downloaded = r.downloaded;
    const bad = new Set(r.failed.map((f) => f.taskId));
    kept = entries.filter((e) => !bad.has(e.taskId));
    skipped.push(...r.failed);
  }
  const labels: Record<string, string> = {};
  for (const e of kept) {
    if (labels[e.file] !== undefined) {
      skipped.push({
        taskId: e.taskId,
        uri: e.uri,
        reason: `task ${e.taskId}: image name ${e.file} already used by another task`,
      });
      continue;
    }
    labels[e.file] = e.text;
  }
  const out = opts.out ?? join(dirname(exportPath), 'labels.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(labels, null, 1)}\n`);
  return { out, labels, skipped, downloaded };
}
