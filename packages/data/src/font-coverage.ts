// Which characters a font file can draw, read from its character map (the OpenType `cmap` table), so that synthetic
// lines are only rendered with fonts that hold a glyph for every character of the text: a missing glyph is drawn as
// an empty box or nothing at all, and the line would teach the model a wrong label.
import { readFileSync } from 'node:fs';
import { OcropsError } from '@ocrops/common';

/** Sorted, disjoint, inclusive code point ranges. */
export type CodeRanges = ReadonlyArray<readonly [number, number]>;

const cache = new Map<string, CodeRanges>();

function fontError(file: string, message: string): OcropsError {
  return new OcropsError('OCROPS_DATA_FONTS', `${file}: ${message}`, {
    hint: 'list TrueType/OpenType font files (.ttf, .otf, .ttc) in synthetic.fonts',
  });
}

/** Offset of the first font's table directory: 0, or the first entry of a TrueType collection (`ttcf`). */
function firstFontOffset(buf: Buffer): number {
  return buf.toString('latin1', 0, 4) === 'ttcf' ? buf.readUInt32BE(12) : 0;
}

/** Offset of the `cmap` table, from the table directory at `at`. */
function cmapOffset(buf: Buffer, at: number, file: string): number {
  const numTables = buf.readUInt16BE(at + 4);
  for (let i = 0; i < numTables; i++) {
    const rec = at + 12 + 16 * i;
    if (buf.toString('latin1', rec, rec + 4) === 'cmap') return buf.readUInt32BE(rec + 8);
  }
  throw fontError(file, 'has no character map (cmap table)');
}

/** The Unicode subtable to read: format 12 (full range) if present, else format 4 (the basic plane). */
function unicodeSubtable(buf: Buffer, cmap: number, file: string): number {
  const count = buf.readUInt16BE(cmap + 2);
  let format4: number | undefined;
  for (let i = 0; i < count; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = buf.readUInt16BE(rec);
    const encoding = buf.readUInt16BE(rec + 2);
    const sub = cmap + buf.readUInt32BE(rec + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = buf.readUInt16BE(sub);
    if (format === 12) return sub;
    if (format === 4) format4 ??= sub;
  }
  if (format4 === undefined) throw fontError(file, 'has no Unicode character map (cmap format 4 or 12)');
  return format4;
}

/** Code points of a format-4 subtable that map to a glyph other than 0 (the missing-glyph box). */
function format4Points(buf: Buffer, sub: number): number[] {
  const segCount = buf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segCount + 2;
  const deltas = starts + 2 * segCount;
  const rangeOffsets = deltas + 2 * segCount;
  const points: number[] = [];
  for (let i = 0; i < segCount; i++) {
    const start = buf.readUInt16BE(starts + 2 * i);
    const end = buf.readUInt16BE(ends + 2 * i);
    const delta = buf.readInt16BE(deltas + 2 * i);
    const rangeOffset = buf.readUInt16BE(rangeOffsets + 2 * i);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph: number;
      if (rangeOffset === 0) glyph = (c + delta) & 0xffff;
      else {
        const at = rangeOffsets + 2 * i + rangeOffset + 2 * (c - start);
        glyph = at + 2 <= buf.length ? buf.readUInt16BE(at) : 0;
        if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
      }
      if (glyph !== 0) points.push(c);
    }
  }
  return points;
}

/** The ranges of a format-12 subtable (groups of consecutive code points). */
function format12Ranges(buf: Buffer, sub: number): Array<[number, number]> {
  const groups = buf.readUInt32BE(sub + 12);
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < groups; i++) {
    const g = sub + 16 + 12 * i;
    ranges.push([buf.readUInt32BE(g), buf.readUInt32BE(g + 4)]);
  }
  return ranges;
}

/** Sorts and merges ranges. */
function mergeRanges(ranges: Array<[number, number]>): CodeRanges {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of ranges) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/**
 * The code points a font file maps to glyphs (of a collection, its first font). Read once per file.
 * @throws OcropsError OCROPS_DATA_FONTS when the file is not a font with a Unicode character map
 */
export function fontCoverage(file: string): CodeRanges {
  const hit = cache.get(file);
  if (hit) return hit;
  let ranges: CodeRanges;
  try {
    const buf = readFileSync(file);
    const cmap = cmapOffset(buf, firstFontOffset(buf), file);
    const sub = unicodeSubtable(buf, cmap, file);
    ranges =
      buf.readUInt16BE(sub) === 12
        ? mergeRanges(format12Ranges(buf, sub))
        : mergeRanges(format4Points(buf, sub).map((c) => [c, c]));
  } catch (e) {
    if (e instanceof OcropsError) throw e;
    throw fontError(file, `cannot read its character map (${(e as Error).message})`);
  }
  cache.set(file, ranges);
  return ranges;
}

/** True when `ranges` hold the code point. */
export function covers(ranges: CodeRanges, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[mid][0]) hi = mid - 1;
    else if (cp > ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}
