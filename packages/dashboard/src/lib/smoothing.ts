// Chart smoothing as TensorBoard/Aim do it: exponential moving average with debiasing.

/**
 * Debiased EMA of a series: `s_t = w * s_{t-1} + (1 - w) * y_t`, divided by `1 - w^t` so the start is not pulled
 * towards 0. `weight` in [0, 1) (0 = no smoothing; TensorBoard's default is 0.6). Non-finite values are passed
 * through and do not enter the average. Returns a new array of the same length.
 */
export function emaSmooth(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  const out: (number | null)[] = new Array(values.length);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    if (weight === 0) {
      out[i] = v;
      continue;
    }
    acc = acc * weight + (1 - weight) * v;
    n++;
    out[i] = acc / (1 - Math.pow(weight, n));
  }
  return out;
}

/** Running best of a series of scores (`minimize`: running minimum), skipping missing scores. */
export function bestSoFar(
  scores: (number | null | undefined)[],
  objective: 'minimize' | 'maximize',
): (number | null)[] {
  let best: number | null = null;
  return scores.map((s) => {
    if (typeof s === 'number' && Number.isFinite(s)) {
      if (best === null || (objective === 'minimize' ? s < best : s > best)) best = s;
    }
    return best;
  });
}
