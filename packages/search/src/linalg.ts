// Dense linear algebra on row-major Float64Array matrices: Cholesky with jitter, triangular solves, inverse.

/**
 * In-place lower Cholesky factor of a symmetric positive definite n x n matrix `a` (row-major; the upper triangle is
 * zeroed). Adds diagonal jitter (1e-10, x10 up to 1e-4 of the mean diagonal) when the matrix is not numerically PD.
 * @returns the factor L (a new array) and the jitter that was added (0 when none was needed)
 */
export function cholesky(a: Float64Array, n: number): { L: Float64Array; jitter: number } {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += a[i * n + i];
  meanDiag = n > 0 ? meanDiag / n : 1;
  let jitter = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const L = tryCholesky(a, n, jitter);
    if (L) return { L, jitter };
    jitter = jitter === 0 ? 1e-10 * meanDiag : jitter * 10;
  }
  throw new Error(`covariance matrix is not positive definite even with jitter ${jitter}`);
}

function tryCholesky(a: Float64Array, n: number, jitter: number): Float64Array | undefined {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j] + jitter;
    for (let k = 0; k < j; k++) s -= L[rj + k] * L[rj + k];
    if (!(s > 0) || !Number.isFinite(s)) return undefined;
    const d = Math.sqrt(s);
    L[rj + j] = d;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= L[ri + k] * L[rj + k];
      L[ri + j] = t / d;
    }
  }
  return L;
}

/** Solves L x = b for lower-triangular L (forward substitution). */
export function solveLower(
  L: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[ri + k] * out[k];
    out[i] = s / L[ri + i];
  }
  return out;
}

/** Solves L^T x = b for lower-triangular L (back substitution). */
export function solveUpperT(
  L: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return out;
}

/** (L L^T)^-1 from the Cholesky factor L, as a full symmetric n x n matrix. */
export function cholInverse(L: Float64Array, n: number): Float64Array {
  // row j of U holds column j of L^-1 (non-zero from index j on): forward substitution with contiguous rows
  const U = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    U[rj + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s -= L[ri + k] * U[rj + k];
      U[rj + i] = s / L[ri + i];
    }
  }
  // A^-1[i][j] = sum_k Linv[k][i] Linv[k][j] = sum_{k >= max(i,j)} U[i][k] U[j][k]
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = i; k < n; k++) s += U[ri + k] * U[rj + k];
      inv[ri + j] = s;
      inv[rj + i] = s;
    }
  }
  return inv;
}
