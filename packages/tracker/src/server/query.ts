// The dashboard's runs query (sort and filter on metric summaries, parameters and run fields) and series
// downsampling that keeps each bucket's min and max.
import { badRequest } from './http-error.js';
import type { RunRow, SeriesPoint } from '../types.js';

/** Resolves a column path (`metrics.val_loss.min`, `params.lr`, `startTimeMillis`, `others.x`) on a run row. */
export function columnValue(run: RunRow & { others?: Record<string, unknown> }, col: string): unknown {
  if (col.startsWith('metrics.')) {
    const rest = col.slice('metrics.'.length);
    const dot = rest.lastIndexOf('.');
    const agg = dot > 0 ? rest.slice(dot + 1) : '';
    if (['last', 'min', 'max', 'step', 'epoch', 'count', 'lastTimestamp'].includes(agg)) {
      const s = run.metrics[rest.slice(0, dot)];
      return s ? (s as unknown as Record<string, unknown>)[agg] : undefined;
    }
    return run.metrics[rest]?.last;
  }
  if (col.startsWith('params.')) return run.params[col.slice('params.'.length)];
  if (col.startsWith('others.')) return run.others?.[col.slice('others.'.length)];
  if (col === 'tags') return run.tags;
  return (run as unknown as Record<string, unknown>)[col];
}

type Op = '<' | '<=' | '>' | '>=' | '=' | '!=' | '~';
export interface Condition {
  col: string;
  op: Op;
  value: string;
}

/**
 * Parses `metrics.val_loss.min<0.5 and params.inner_dim=128 and tags~best` (conditions joined by `and`; operators
 * `< <= > >= = != ~` where `~` means "contains"). Values may be quoted with single or double quotes.
 */
export function parseFilter(expr: string): Condition[] {
  const out: Condition[] = [];
  const re = /\s*([A-Za-z_][\w.\-/]*)\s*(<=|>=|!=|=|<|>|~)\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s]+)\s*(?:\band\b|&&|$)/iy;
  let pos = 0;
  const text = expr.trim();
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw badRequest(`filter: cannot parse "${text.slice(pos, pos + 40)}" (expected e.g. metrics.val_loss.min<0.5 and params.lr=0.001)`);
    let value = m[3];
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    out.push({ col: m[1], op: m[2] as Op, value });
    pos = re.lastIndex;
  }
  return out;
}

function compare(a: unknown, b: string): number | undefined {
  if (a === undefined || a === null) return undefined;
  const an = typeof a === 'number' ? a : typeof a === 'string' && a.trim() !== '' ? Number(a) : NaN;
  const bn = Number(b);
  if (Number.isFinite(an) && b.trim() !== '' && Number.isFinite(bn)) return an - bn;
  const as = typeof a === 'string' ? a : JSON.stringify(a);
  return as < b ? -1 : as > b ? 1 : 0;
}

export function matches(run: RunRow, conds: Condition[]): boolean {
  return conds.every((c) => {
    const v = columnValue(run, c.col);
    if (c.op === '~') {
      if (Array.isArray(v)) return v.some((x) => String(x).includes(c.value));
      return v !== undefined && v !== null && String(typeof v === 'string' ? v : JSON.stringify(v)).includes(c.value);
    }
    if (Array.isArray(v) && (c.op === '=' || c.op === '!=')) return v.includes(c.value) === (c.op === '=');
    const d = compare(v, c.value);
    if (d === undefined) return c.op === '!=';
    switch (c.op) {
      case '<': return d < 0;
      case '<=': return d <= 0;
      case '>': return d > 0;
      case '>=': return d >= 0;
      case '=': return d === 0;
      case '!=': return d !== 0;
    }
    return false;
  });
}

/** Sorts runs by a column; missing values sort last in both orders. */
export function sortRuns(runs: RunRow[], col: string, order: 'asc' | 'desc'): RunRow[] {
  const sign = order === 'desc' ? -1 : 1;
  return runs
    .map((r) => ({ r, v: columnValue(r, col) }))
    .sort((a, b) => {
      const am = a.v === undefined || a.v === null;
      const bm = b.v === undefined || b.v === null;
      if (am || bm) return am && bm ? 0 : am ? 1 : -1;
      if (typeof a.v === 'number' && typeof b.v === 'number') return sign * (a.v - b.v);
      const as = typeof a.v === 'string' ? a.v : JSON.stringify(a.v);
      const bs = typeof b.v === 'string' ? b.v : JSON.stringify(b.v);
      return sign * as.localeCompare(bs, undefined, { numeric: true });
    })
    .map((x) => x.r);
}

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
export type SeriesTuple = [x: number, step: number | null, epoch: number | null, timestamp: number, value: number | null];

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
