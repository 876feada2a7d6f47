// Client-side shaping of `/api/ocrops/series` points before charting.
import type { SeriesPoint } from '@ocrops/tracker/api';

/** The part of a series point a chart reads (a `SeriesPoint` of the series endpoint, or a point built here). */
export type ChartPoint = Pick<SeriesPoint, 'x' | 'value'> & Partial<Pick<SeriesPoint, 'min' | 'max'>>;

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
export function collapseSameX<P extends ChartPoint>(points: P[]): P[] {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  const out: P[] = [];
  for (const p of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.x === p.x) {
      out[out.length - 1] = {
        ...p,
        min: minOf(prev.min ?? prev.value, p.min ?? p.value),
        max: maxOf(prev.max ?? prev.value, p.max ?? p.value),
      };
    } else out.push(p);
  }
  return out;
}

/** How one series of a chart is drawn, apart from its values. */
export interface ChartSeriesShape {
  label: string;
  color: string;
  /** A min/max band (a single run's downsampled series whose buckets differ from their value somewhere). */
  band: boolean;
  /** Dots on the points (short series). */
  dots: boolean;
}

/**
 * The shape of a chart: what its uPlot is built from besides the values. A chart rebuilds its canvas only when the
 * shape changes and takes new values of the same shape as new data (live refreshes).
 */
export function chartShape(
  series: Array<{ label: string; color: string; points: ChartPoint[] }>,
  opts: { smoothed: boolean; xAxis: string; height: number },
): { series: ChartSeriesShape[]; key: string } {
  const single = series.length === 1;
  const shapes = series.map((s) => ({
    label: s.label,
    color: s.color,
    band: single && s.points.some((p) => p.min !== undefined && p.max !== undefined && p.min !== p.max),
    dots: s.points.length < 60,
  }));
  return { series: shapes, key: JSON.stringify([shapes, opts.smoothed, opts.xAxis, opts.height]) };
}
