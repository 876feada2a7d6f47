// The y range of a chart: uPlot's own padded range, except where it misleads. For a series whose values are all equal
// uPlot falls back to 0..100, which reads as a percentage; here a flat series gets a range around its own value.
import uPlot from 'uplot';

/** The y range for data between `min` and `max` (null when there is no data). */
export function yRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) return flatRange(min);
  const [lo, hi] = uPlot.rangeNum(min, max, 0.1, true);
  return [lo ?? min, hi ?? max];
}

/** A range around one value: 0..1 for 0 (a count or a rate that has not moved yet), else the value ±10 %. */
export function flatRange(v: number): [number, number] {
  if (v === 0) return [0, 1];
  const pad = Math.abs(v) * 0.1;
  return [v - pad, v + pad];
}
