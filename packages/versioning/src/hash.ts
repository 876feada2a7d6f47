// DVC 3 content hashes: the plain MD5 of a file's bytes, and the `.dir` id of a directory output
// (MD5 of DVC's JSON manifest `[{"md5", "relpath"}]`, written the way Python's `json.dumps(sort_keys=True)` writes it).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** One file of a directory output: `relpath` uses `/` separators, relative to the output's root. */
export interface DirEntry {
  md5: string;
  relpath: string;
}

/** MD5 (hex) of a buffer or string (UTF-8). */
export function md5Hex(data: Buffer | Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** MD5 (hex) of a file's bytes, streamed (DVC 3's `md5` of a file output). */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Python's string order (by code point), which differs from JS's UTF-16 order for characters above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

/** A JSON string literal as Python's `json.dumps` (ensure_ascii) writes it: every char outside ' '..'~' escaped. */
function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The bytes DVC hashes for a directory output: `json.dumps(sorted(entries, key=relpath), sort_keys=True)`,
 * i.e. `[{"md5": "...", "relpath": "a"}, {"md5": "...", "relpath": "b/c"}]`.
 */
export function dirManifest(entries: readonly DirEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareCodePoints(a.relpath, b.relpath));
  const items = sorted.map((e) => `{"md5": ${pythonJsonString(e.md5)}, "relpath": ${pythonJsonString(e.relpath)}}`);
  return `[${items.join(', ')}]`;
}

/** The DVC 3 id of a directory output: `md5(manifest) + ".dir"`. */
export function dirManifestMd5(entries: readonly DirEntry[]): string {
  return `${md5Hex(dirManifest(entries))}.dir`;
}

/** Lists every file under `dir` (recursively) with its md5 and `/`-separated relative path. */
export async function hashDirectory(dir: string): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  async function walk(d: string): Promise<void> {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) out.push({ md5: await md5File(p), relpath: relative(dir, p).split(sep).join('/') });
    }
  }
  await walk(dir);
  return out;
}
