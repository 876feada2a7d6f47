import type { CharsetJSON } from './charset.js';
import type { SkippedItem } from './readers.js';
import type { SplitName } from './shards.js';

/** Summary of a distribution of integers. */
export interface Distribution {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p95: number;
  /** Histogram: `bins[i]` items in [edges[i], edges[i+1]). */
  histogram: { edges: number[]; bins: number[] };
}

/** stats.json of a prepared dataset. Holds no timestamps or timings, so it is reproducible too. */
export interface DatasetStats {
  name: string;
  counts: Record<SplitName, number> & { total: number; skipped: number };
  charset: CharsetJSON & { numClasses: number; source: string };
  image: { height: number; channels: 1 | 3; fixedWidth?: number; maxWidth: number; squeezed: number };
  widths: Record<SplitName | 'all', Distribution>;
  labelLengths: Record<SplitName | 'all', Distribution>;
  /** Occurrences of each character over all prepared labels, most frequent first. */
  charFrequencies: [string, number][];
  skipped: SkippedItem[];
  /** Skipped counts per stage and the reasons in short form. */
  skippedSummary: Record<string, number>;
}

/** Summarises integer values (sorted copy; histogram with up to 10 equal-width bins). */
export function distribution(values: number[]): Distribution {
  if (values.length === 0)
    return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0, histogram: { edges: [], bins: [] } };
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1) + 0.5))];
  const min = v[0];
  const max = v[v.length - 1];
  const nb = Math.min(10, max - min + 1);
  const step = Math.max(1, Math.ceil((max - min + 1) / nb));
  const edges = Array.from({ length: nb + 1 }, (_, i) => min + i * step);
  const bins = new Array(nb).fill(0);
  for (const x of v) bins[Math.min(nb - 1, Math.floor((x - min) / step))]++;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return {
    count: v.length,
    min,
    max,
    mean: Math.round(mean * 100) / 100,
    p50: q(0.5),
    p95: q(0.95),
    histogram: { edges, bins },
  };
}

/** Character counts over `labels`, most frequent first (ties by code point). */
export function charFrequencies(labels: string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const l of labels) for (const c of l) m.set(c, (m.get(c) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].codePointAt(0)! - b[0].codePointAt(0)!);
}

/** Human-readable summary of a stats object (for `ocrops data stats` and the end of prepare). */
export function formatStats(s: DatasetStats): string {
  const d = (x: Distribution) => `min ${x.min}, p50 ${x.p50}, mean ${x.mean}, p95 ${x.p95}, max ${x.max}`;
  const lines = [
    `dataset ${s.name}: ${s.counts.total} lines (train ${s.counts.train}, val ${s.counts.val}, test ${s.counts.test}), ${s.counts.skipped} skipped`,
    `image: height ${s.image.height}, channels ${s.image.channels}${s.image.fixedWidth ? `, fixed width ${s.image.fixedWidth}` : `, max width ${s.image.maxWidth}`}${s.image.squeezed ? `, ${s.image.squeezed} squeezed to the max width` : ''}`,
    `charset (${s.charset.source}): ${s.charset.chars.length} characters + blank = ${s.charset.numClasses} classes`,
    `widths px: ${d(s.widths.all)}`,
    `label lengths: ${d(s.labelLengths.all)}`,
    `most frequent characters: ${s.charFrequencies
      .slice(0, 12)
      .map(([c, n]) => `${JSON.stringify(c)} ${n}`)
      .join(', ')}`,
  ];
  if (s.skipped.length) {
    lines.push(`skipped (${s.skipped.length}):`);
    for (const k of s.skipped.slice(0, 20)) lines.push(`  [${k.stage}] ${k.reason}`);
    if (s.skipped.length > 20) lines.push(`  ... and ${s.skipped.length - 20} more (see stats.json)`);
  }
  return lines.join('\n');
}
