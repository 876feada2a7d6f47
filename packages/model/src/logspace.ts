// Log-space helpers on typed arrays (float64 arithmetic), shared by the CTC loss and the CTC decoders.

/** log(exp(a) + exp(b)) without overflow; -Infinity is log(0). */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * Log-softmax of T rows of C scores.
 * @param data scores, rows of C starting at `offset` (row t at offset + t*C)
 * @param out receives the log-probabilities, row-major [T, C] from index 0
 */
export function logSoftmaxRows(
  data: Float32Array | Float64Array,
  offset: number,
  T: number,
  C: number,
  out: Float64Array,
): void {
  for (let t = 0; t < T; t++) {
    const o = offset + t * C;
    let max = -Infinity;
    for (let k = 0; k < C; k++) max = Math.max(max, data[o + k]);
    let sum = 0;
    for (let k = 0; k < C; k++) sum += Math.exp(data[o + k] - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < C; k++) out[t * C + k] = data[o + k] - lse;
  }
}
