// Series downsampling for the charts that keeps each bucket's min and max. (The runs filter/sort language is in
// ../api/runs-query.ts, shared with the dashboard.)
import type { SeriesPoint } from '../api/index.js';

/**
 * Downsamples points sorted by x into at most `n` buckets of equal x width; each output point is the bucket's last
 * point with the bucket's min and max value, so spikes survive. Returns the input (min = max = value) when it fits.
 */
export function downsample(
  rows: Array<{ x: number; step: number | null; epoch: number | null; timestamp: number; value: number | null }>,
  n: number,
): { points: SeriesPoint[]; downsampled: boolean } {
  if (rows.length <= n) return { points: rows.map((r) => ({ ...r, min: r.value, max: r.value })), downsampled: false };
  const x0 = rows[0].x;
  const span = rows[rows.length - 1].x - x0;
  const points: SeriesPoint[] = [];
  let cur: SeriesPoint | undefined;
  let curBucket = -1;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const b = span > 0 ? Math.min(n - 1, Math.floor(((r.x - x0) / span) * n)) : Math.floor((i * n) / rows.length);
    if (b !== curBucket || !cur) {
      if (cur) points.push(cur);
      cur = { ...r, min: r.value, max: r.value };
      curBucket = b;
      continue;
    }
    const { min, max } = cur;
    cur = { ...r, min, max };
    if (r.value !== null) {
      if (cur.min === null || r.value < cur.min) cur.min = r.value;
      if (cur.max === null || r.value > cur.max) cur.max = r.value;
    }
  }
  if (cur) points.push(cur);
  return { points, downsampled: true };
}

/**
 * The min/max downsampling loop shared by the readers: `items` sorted by `x` go into `n` equal-width x buckets (by
 * position when all x are equal); each bucket yields `point(its last item, min, max)` of the non-null values.
 */
export function bucketMinMax<T>(
  items: readonly T[],
  n: number,
  x: (item: T) => number,
  value: (item: T) => number | null,
  point: (item: T, min: number | null, max: number | null) => SeriesPoint,
): SeriesPoint[] {
  const total = items.length;
  const points: SeriesPoint[] = [];
  if (total === 0) return points;
  const x0 = x(items[0]);
  const span = x(items[total - 1]) - x0;
  let curBucket = -1;
  let min: number | null = null;
  let max: number | null = null;
  for (let k = 0; k < total; k++) {
    const item = items[k];
    const b = span > 0 ? Math.min(n - 1, Math.floor(((x(item) - x0) / span) * n)) : Math.floor((k * n) / total);
    const v = value(item);
    if (b !== curBucket) {
      if (k > 0) points.push(point(items[k - 1], min, max));
      curBucket = b;
      min = v;
      max = v;
    } else if (v !== null) {
      if (min === null || v < min) min = v;
      if (max === null || v > max) max = v;
    }
  }
  points.push(point(items[total - 1], min, max));
  return points;
}

/** One raw point as read for a chart: `[x, step, epoch, timestamp, value]` (x is one of the other columns). */
export type SeriesTuple = [
  x: number,
  step: number | null,
  epoch: number | null,
  timestamp: number,
  value: number | null,
];

/**
 * {@link downsample} on rows as tuples sorted by x (same buckets, same output), creating objects only for the output
 * points: the series endpoint reads 5,000-point series this way.
 */
export function downsampleTuples(rows: SeriesTuple[], n: number): { points: SeriesPoint[]; downsampled: boolean } {
  const point = (r: SeriesTuple, min: number | null, max: number | null): SeriesPoint => ({
    x: Number(r[0]),
    step: r[1] === null ? null : Number(r[1]),
    epoch: r[2] === null ? null : Number(r[2]),
    timestamp: Number(r[3]),
    value: r[4] === null ? null : Number(r[4]),
    min,
    max,
  });
  const value = (r: SeriesTuple) => (r[4] === null ? null : Number(r[4]));
  if (rows.length <= n) return { points: rows.map((r) => point(r, value(r), value(r))), downsampled: false };
  const points = bucketMinMax(rows, n, (r) => Number(r[0]), value, point);
  return { points, downsampled: true };
}
