// Client-side shaping of `/api/ocrops/series` points before charting.
import type { SeriesPoint } from './api-types.js';

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/**
 * Sorts points by x and merges points with the same x (e.g. every step of one epoch when x = epoch): the merged
 * point keeps the last value and the union of the min/max ranges. Returns a new array.
 */
export function collapseSameX(points: SeriesPoint[]): SeriesPoint[] {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const out: SeriesPoint[] = [];
  for (const p of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.x === p.x) {
      out[out.length - 1] = { ...p, min: minOf(prev.min ?? prev.value, p.min ?? p.value), max: maxOf(prev.max ?? prev.value, p.max ?? p.value) };
    } else out.push(p);
  }
  return out;
}
