/**
 * Limited-memory BFGS minimiser with a backtracking (Armijo) line search; unconstrained.
 * @param fg returns the objective and its gradient at x
 */
export function lbfgsMinimize(
  fg: (x: Float64Array) => { f: number; g: Float64Array },
  x0: Float64Array,
  opts: { maxIter?: number; memory?: number; gtol?: number } = {},
): { x: Float64Array; f: number; iterations: number } {
  const maxIter = opts.maxIter ?? 100;
  const mem = opts.memory ?? 8;
  const gtol = opts.gtol ?? 1e-6;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let { f, g } = fg(x);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  let it = 0;
  for (; it < maxIter; it++) {
    if (!Number.isFinite(f)) break;
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < gtol) break;
    // two-loop recursion: d = -H g
    const q = Float64Array.from(g);
    const a = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      a[k] = rho[k] * dot(S[k], q);
      axpy(-a[k], Y[k], q);
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) q[i] *= gamma;
    } else {
      const scale = 1 / Math.max(1, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) q[i] *= scale;
    }
    for (let k = 0; k < S.length; k++) {
      const b = rho[k] * dot(Y[k], q);
      axpy(a[k] - b, S[k], q);
    }
    const dir = q.map((v) => -v);
    let slope = dot(dir, g);
    if (!(slope < 0)) {
      // not a descent direction: reset memory and use steepest descent
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -g[i];
      slope = dot(dir, g);
    }
    let step = 1;
    let accepted = false;
    let xn = x;
    let fn = f;
    let gn = g;
    for (let ls = 0; ls < 25; ls++) {
      xn = x.map((v, i) => v + step * dir[i]);
      const r = fg(xn);
      fn = r.f;
      gn = r.g;
      if (Number.isFinite(fn) && fn <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = xn.map((v, i) => v - x[i]);
    const yv = gn.map((v, i) => v - g[i]);
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > mem) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const improvement = f - fn;
    x = xn;
    f = fn;
    g = gn;
    if (improvement < 1e-10 * Math.max(1, Math.abs(f))) break;
  }
  return { x, f, iterations: it };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}
