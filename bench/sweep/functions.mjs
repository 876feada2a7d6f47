// Benchmark objectives (minimisation), mirrored exactly in optuna_peer.py. Each has `params` (a Comet parameters
// section), `f(params, rng)` (noisy value, `rng()` uniform in [0,1)), `truth(params)` (noise-free) and `min` (global
// minimum of the truth).

/** Branin-Hoo on x in [-5, 10], y in [0, 15]; minimum 0.397887. */
export const branin = {
  name: 'branin',
  params: { x: { type: 'float', min: -5, max: 10 }, y: { type: 'float', min: 0, max: 15 } },
  truth({ x, y }) {
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
  },
  min: 0.39788735772973816,
};

const HA = [1.0, 1.2, 3.0, 3.2];
const HA6 = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HP6 = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/** Hartmann-6 on [0, 1]^6; minimum -3.32237. */
export const hartmann6 = {
  name: 'hartmann6',
  params: Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`x${i}`, { type: 'float', min: 0, max: 1 }])),
  truth(p) {
    const x = [0, 1, 2, 3, 4, 5].map((i) => p[`x${i}`]);
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let e = 0;
      for (let j = 0; j < 6; j++) e += HA6[i][j] * (x[j] - HP6[i][j]) ** 2;
      s += HA[i] * Math.exp(-e);
    }
    return -s;
  },
  min: -3.3223680114155147,
};

/** inner_dim values of the 1-D search: 32, 40, ..., 512 (61 values). */
export const INNER_DIMS = Array.from({ length: 61 }, (_, i) => 32 + 8 * i);

/**
 * A validation-loss-like curve over inner_dim: a bowl in log2(inner_dim) with its floor near 176, a ripple, and
 * Gaussian observation noise (sd 0.02), like repeated trainings with different initialisations.
 */
export const innerDim = {
  name: 'inner_dim (noisy, discrete)',
  params: { inner_dim: { type: 'discrete', values: INNER_DIMS } },
  truth({ inner_dim: d }) {
    const l = Math.log2(d);
    return 0.45 + 0.06 * (l - Math.log2(176)) ** 2 + 0.012 * Math.sin(d / 9);
  },
  noise: 0.02,
  get min() {
    return Math.min(...INNER_DIMS.map((d) => this.truth({ inner_dim: d })));
  },
};

export const FUNCTIONS = [branin, hartmann6, innerDim];

/** Noisy observation of fn at p using a uniform rng. */
export function observe(fn, p, rng) {
  const v = fn.truth(p);
  if (!fn.noise) return v;
  const u1 = Math.max(rng(), 1e-12);
  const u2 = rng();
  return v + fn.noise * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
