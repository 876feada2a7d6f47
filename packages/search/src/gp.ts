// Gaussian-process regression with a Matérn 5/2 ARD kernel; hyperparameters fitted by maximising the log marginal
// likelihood (L-BFGS with analytic gradients, several restarts).
import { cholesky, cholInverse, solveLower, solveUpperT } from './linalg.js';
import { lbfgsMinimize } from './lbfgs.js';
import type { Rng } from './rng.js';

const SQRT5 = Math.sqrt(5);

/** Kernel hyperparameters: one length-scale per input column (unit-cube units), signal and noise variances. */
export interface GpHyper {
  lengthscales: number[];
  signalVar: number;
  noiseVar: number;
}

/** Box bounds of the hyperparameters (natural units), searched on a log scale. */
export interface GpBounds {
  lengthscale: [number, number];
  signalVar: [number, number];
  noiseVar: [number, number];
}

export const DEFAULT_BOUNDS: GpBounds = {
  lengthscale: [0.03, 20],
  signalVar: [0.05, 20],
  noiseVar: [1e-8, 1],
};

/** Matérn 5/2 covariance for squared scaled distance r2 = sum(((x-y)/l)^2): s2 (1 + √5 r + 5 r²/3) exp(-√5 r). */
export function matern52(r2: number, signalVar: number): number {
  const r = Math.sqrt(r2);
  return signalVar * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/**
 * A zero-mean GP posterior over n training points of dimension d (inputs expected in the unit cube, targets
 * standardised by the caller).
 */
export class GaussianProcess {
  readonly n: number;
  readonly d: number;
  readonly hyper: GpHyper;
  /** Jitter added to the diagonal by the Cholesky factorisation (0 when none was needed). */
  readonly jitter: number;
  private readonly X: Float64Array[];
  private readonly L: Float64Array;
  private readonly alpha: Float64Array;
  private readonly invL2: Float64Array;
  private readonly lml: number;

  /** @param X n inputs of length d; @param y n targets */
  constructor(X: Float64Array[], y: ArrayLike<number>, hyper: GpHyper) {
    this.n = X.length;
    this.d = hyper.lengthscales.length;
    this.X = X;
    this.hyper = hyper;
    this.invL2 = Float64Array.from(hyper.lengthscales, (l) => 1 / (l * l));
    const K = covMatrix(X, this.invL2, hyper.signalVar, hyper.noiseVar);
    const { L, jitter } = cholesky(K, this.n);
    this.L = L;
    this.jitter = jitter;
    this.alpha = solveUpperT(L, this.n, solveLower(L, this.n, y));
    let lml = 0;
    for (let i = 0; i < this.n; i++) lml += -0.5 * y[i] * this.alpha[i] - Math.log(L[i * this.n + i]);
    this.lml = lml - 0.5 * this.n * Math.log(2 * Math.PI);
  }

  /** log p(y | X, hyper). */
  logMarginalLikelihood(): number {
    return this.lml;
  }

  /** Cross-covariances k(x, X_i) for one input. */
  crossCov(x: Float64Array, out: Float64Array = new Float64Array(this.n)): Float64Array {
    for (let i = 0; i < this.n; i++) out[i] = matern52(scaledDist2(x, this.X[i], this.invL2), this.hyper.signalVar);
    return out;
  }

  /** Posterior mean and variance of the latent function at x (variance excludes observation noise). */
  predict(x: Float64Array, scratch?: { k: Float64Array; v: Float64Array }): { mean: number; variance: number } {
    const k = this.crossCov(x, scratch?.k);
    let mean = 0;
    for (let i = 0; i < this.n; i++) mean += k[i] * this.alpha[i];
    const v = solveLower(this.L, this.n, k, scratch?.v);
    let vv = 0;
    for (let i = 0; i < this.n; i++) vv += v[i] * v[i];
    return { mean, variance: Math.max(0, this.hyper.signalVar - vv) };
  }

  /**
   * Fits hyperparameters by maximising the log marginal likelihood from `restarts` random starts plus the centre of the
   * bounds (and `init` when given, e.g. the previous fit), then returns the posterior with the best ones.
   */
  static fit(
    X: Float64Array[],
    y: ArrayLike<number>,
    d: number,
    opts: {
      rng: Rng;
      restarts?: number;
      init?: GpHyper;
      bounds?: GpBounds;
      maxIter?: number;
      /** Optional log-normal prior on each length-scale (MAP instead of pure maximum likelihood): log l ~ N(mu, sigma²). */
      lengthscalePrior?: { mu: number; sigma: number };
    },
  ): GaussianProcess {
    const b = opts.bounds ?? DEFAULT_BOUNDS;
    const lo = [...Array(d).fill(Math.log(b.lengthscale[0])), Math.log(b.signalVar[0]), Math.log(b.noiseVar[0])];
    const hi = [...Array(d).fill(Math.log(b.lengthscale[1])), Math.log(b.signalVar[1]), Math.log(b.noiseVar[1])];
    const m = d + 2;
    const toTheta = (z: ArrayLike<number>) =>
      Float64Array.from({ length: m }, (_, i) => lo[i] + (hi[i] - lo[i]) * sigmoid(z[i]));
    const toZ = (theta: number[]) =>
      Float64Array.from(theta, (t, i) => logit(Math.min(1 - 1e-6, Math.max(1e-6, (t - lo[i]) / (hi[i] - lo[i])))));
    const objective = (z: Float64Array) => {
      const theta = toTheta(z);
      const { lml, grad } = lmlAndGrad(X, y, theta, d);
      let obj = lml;
      const prior = opts.lengthscalePrior;
      if (prior) {
        for (let j = 0; j < d; j++) {
          const t = (theta[j] - prior.mu) / prior.sigma;
          obj -= 0.5 * t * t;
          grad[j] -= t / prior.sigma;
        }
      }
      const g = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const s = sigmoid(z[i]);
        g[i] = -grad[i] * (hi[i] - lo[i]) * s * (1 - s);
      }
      return { f: -obj, g };
    };
    const starts: Float64Array[] = [];
    if (opts.init) {
      starts.push(
        toZ([...opts.init.lengthscales.map(Math.log), Math.log(opts.init.signalVar), Math.log(opts.init.noiseVar)]),
      );
    }
    // without a warm start: a neutral kernel (length-scales 0.5, unit signal, small noise)
    else starts.push(toZ([...Array(d).fill(Math.log(0.5)), 0, Math.log(1e-3)]));
    for (let r = 0; r < (opts.restarts ?? 2); r++) {
      starts.push(Float64Array.from({ length: m }, () => 1.5 * opts.rng.normal()));
    }
    let best: { f: number; x: Float64Array } | undefined;
    for (const z0 of starts) {
      let res;
      try {
        res = lbfgsMinimize(objective, z0, { maxIter: opts.maxIter ?? 60 });
      } catch {
        continue;
      }
      if (Number.isFinite(res.f) && (!best || res.f < best.f)) best = res;
    }
    const theta = best ? toTheta(best.x) : toTheta(starts[0]);
    return new GaussianProcess(X, y, {
      lengthscales: Array.from(theta.subarray(0, d), Math.exp),
      signalVar: Math.exp(theta[d]),
      noiseVar: Math.exp(theta[d + 1]),
    });
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

function scaledDist2(a: Float64Array, b: Float64Array, invL2: Float64Array): number {
  let s = 0;
  for (let k = 0; k < invL2.length; k++) {
    const t = a[k] - b[k];
    s += t * t * invL2[k];
  }
  return s;
}

function covMatrix(X: Float64Array[], invL2: Float64Array, s2: number, noise: number): Float64Array {
  const n = X.length;
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    K[i * n + i] = s2 + noise;
    for (let j = 0; j < i; j++) {
      const v = matern52(scaledDist2(X[i], X[j], invL2), s2);
      K[i * n + j] = v;
      K[j * n + i] = v;
    }
  }
  return K;
}

/**
 * Log marginal likelihood and its gradient w.r.t. theta = [log l_1..log l_d, log s2, log noise].
 * dLML/dθ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ); for Matérn 5/2, ∂k/∂log l_j = (5/3) s2 (1 + √5 r) e^{−√5 r} (Δ_j / l_j)².
 */
export function lmlAndGrad(
  X: Float64Array[],
  y: ArrayLike<number>,
  theta: ArrayLike<number>,
  d: number,
): { lml: number; grad: Float64Array } {
  const n = X.length;
  const invL2 = Float64Array.from({ length: d }, (_, j) => Math.exp(-2 * theta[j]));
  const s2 = Math.exp(theta[d]);
  const noise = Math.exp(theta[d + 1]);
  const K = covMatrix(X, invL2, s2, noise);
  const { L } = cholesky(K, n);
  const alpha = solveUpperT(L, n, solveLower(L, n, y));
  let lml = -0.5 * n * Math.log(2 * Math.PI);
  for (let i = 0; i < n; i++) lml += -0.5 * y[i] * alpha[i] - Math.log(L[i * n + i]);
  const Kinv = cholInverse(L, n);
  const grad = new Float64Array(d + 2);
  let gS = 0;
  let gN = 0;
  for (let i = 0; i < n; i++) {
    const xi = X[i];
    for (let j = 0; j <= i; j++) {
      const w = alpha[i] * alpha[j] - Kinv[i * n + j];
      if (i === j) {
        gS += 0.5 * w * s2;
        gN += 0.5 * w * noise;
        continue;
      }
      // off-diagonal pairs count twice in the trace
      const xj = X[j];
      let r2 = 0;
      for (let k = 0; k < d; k++) {
        const t = xi[k] - xj[k];
        r2 += t * t * invL2[k];
      }
      const r = Math.sqrt(r2);
      const e = Math.exp(-SQRT5 * r);
      const kv = s2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
      gS += w * kv;
      const c = w * (5 / 3) * s2 * (1 + SQRT5 * r) * e;
      for (let k = 0; k < d; k++) {
        const t = xi[k] - xj[k];
        grad[k] += c * t * t * invL2[k];
      }
    }
  }
  grad[d] = gS;
  grad[d + 1] = gN;
  return { lml, grad };
}
