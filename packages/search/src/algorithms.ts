// The three search algorithms behind `optimizerAlgorithm.suggest`: grid, random and GP-based bayes.
import { expectedImprovement } from './acquisition.js';
import { GaussianProcess, type GpHyper } from './gp.js';
import { mixSeed, Rng } from './rng.js';
import { SearchSpace } from './space.js';
import type { OptimizerConfig, TrialRecord } from './types.js';

type Params = Record<string, unknown>;

/** Finite spaces up to this size are enumerated (exact EI argmax, exact exhaustion). */
const ENUMERATE_LIMIT = 4096;

/**
 * Next parameter sets for a sweep: first repetitions of parameter sets that have fewer than `trials` runs, then new
 * distinct ones from the configured algorithm. Never repeats a parameter set beyond `trials` runs; returns fewer than
 * `count` (possibly none) when the space, the grid or `maxCombo` is exhausted.
 */
export function suggestParameters(cfg: OptimizerConfig, trials: TrialRecord[], count: number): Params[] {
  const space = new SearchSpace(cfg.parameters);
  const out: Params[] = [];
  const counts = new Map<string, { n: number; params: Params }>();
  for (const t of trials) {
    const k = space.key(t.parameters);
    const e = counts.get(k);
    if (e) e.n++;
    else counts.set(k, { n: 1, params: t.parameters });
  }
  for (const { n, params } of counts.values()) {
    for (let r = n; r < cfg.trials && out.length < count; r++) out.push(withFixed(space, params));
  }
  const budget = cfg.spec.maxCombo > 0 ? cfg.spec.maxCombo - counts.size : Infinity;
  const want = Math.min(Math.ceil((count - out.length) / cfg.trials), budget);
  if (want <= 0) return out;
  const used = new Set(counts.keys());
  let fresh: Params[];
  if (cfg.algorithm === 'grid') fresh = gridSuggest(cfg, space, used, want);
  else if (cfg.algorithm === 'random')
    fresh = randomSuggest(space, used, want, new Rng(mixSeed(cfg.spec.seed, trials.length)));
  else fresh = bayesSuggest(cfg, space, trials, used, want);
  for (const p of fresh) for (let r = 0; r < cfg.trials && out.length < count; r++) out.push(p);
  return out;
}

function withFixed(space: SearchSpace, params: Params): Params {
  const out: Params = {};
  for (const p of space.params) out[p.name] = p.type === 'fixed' ? p.value : params[p.name];
  return out;
}

/** Grid points in order (first parameter slowest; shuffled with the seed when `randomize`), skipping used ones. */
function gridSuggest(cfg: OptimizerConfig, space: SearchSpace, used: Set<string>, want: number): Params[] {
  const axes = space.gridAxes(cfg.spec.gridSize);
  const total = axes.reduce((s, a) => s * a.length, 1);
  let order: ArrayLike<number> | undefined;
  if (cfg.spec.randomize && total <= 1_000_000) {
    order = new Rng(cfg.spec.seed).shuffle(Array.from({ length: total }, (_, i) => i));
  }
  const out: Params[] = [];
  for (let idx = 0; idx < total && out.length < want; idx++) {
    let rest = order ? order[idx] : idx;
    const p: Params = {};
    for (let i = axes.length - 1; i >= 0; i--) {
      p[space.params[i].name] = axes[i][rest % axes[i].length];
      rest = Math.floor(rest / axes[i].length);
    }
    const ordered = withFixed(space, p);
    const k = space.key(ordered);
    if (used.has(k)) continue;
    used.add(k);
    out.push(ordered);
  }
  return out;
}

/** Prior draws without repeats; finite spaces draw from the unused combinations, so they end when exhausted. */
function randomSuggest(space: SearchSpace, used: Set<string>, want: number, rng: Rng): Params[] {
  const out: Params[] = [];
  if (space.size <= ENUMERATE_LIMIT * 16) {
    const free = space.enumerate(Infinity).filter((p) => !used.has(space.key(p)));
    rng.shuffle(free);
    for (const p of free.slice(0, want)) {
      used.add(space.key(p));
      out.push(p);
    }
    return out;
  }
  for (let tries = 0; out.length < want && tries < want * 1000; tries++) {
    const p = space.sample(rng);
    const k = space.key(p);
    if (used.has(k)) continue;
    used.add(k);
    out.push(p);
  }
  return out;
}

/** Latin hypercube design of n points over d latent coordinates in [0,1). */
export function latinHypercube(n: number, d: number, rng: Rng): number[][] {
  const pts = Array.from({ length: n }, () => new Array<number>(d));
  for (let j = 0; j < d; j++) {
    const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let i = 0; i < n; i++) pts[i][j] = (perm[i] + rng.next()) / n;
  }
  return pts;
}

/** Size of the seeded initial design of `bayes` (spec.minSampleSize when set). */
export function initialDesignSize(cfg: OptimizerConfig, space: SearchSpace): number {
  if (cfg.spec.minSampleSize > 0) return cfg.spec.minSampleSize;
  return Math.max(4, Math.min(8, Math.ceil(space.latentDims / 2) + 2));
}

/** Last fitted hyperparameters per sweep config: a warm start for the next fit (pure cache, results do not depend on it). */
const hyperCache = new Map<string, GpHyper>();

/** Tunables of the bayes algorithm (exported for the benchmark). */
export const bayesTuning = {
  restarts: 2,
  maxIter: 60,
  /** From this many observations on, no random restarts (one start: the warm start or a neutral kernel) and `maxIterBig` iterations. */
  bigN: 40,
  maxIterBig: 30,
  randomCandidates: 1000,
  randomCandidatesBig: 400,
  localCandidates: 40,
  refineStarts: 5,
  refineSteps: 25,
  xi: 0,
  /** Log-normal prior on length-scales: log l ~ N(mu + dimScale * log(width), sigma²); null for pure ML-II. */
  lengthscalePrior: { mu: -0.7, sigma: 2, dimScale: 0.5 } as null | { mu: number; sigma: number; dimScale: number },
  /** Exploration margin of EI (standardised units) when the fitted noise variance exceeds `noisyAbove`. */
  xiNoisy: 0.05,
  noisyAbove: 1e-3,
};

function bayesSuggest(
  cfg: OptimizerConfig,
  space: SearchSpace,
  trials: TrialRecord[],
  used: Set<string>,
  want: number,
): Params[] {
  const nInit = initialDesignSize(cfg, space);
  const design = latinHypercube(nInit, space.latentDims, new Rng(cfg.spec.seed));
  const sign = cfg.spec.objective === 'maximize' ? -1 : 1;
  const observed = trials.filter(
    (t) =>
      (t.status === 'completed' || t.status === 'pruned') && typeof t.score === 'number' && Number.isFinite(t.score),
  );
  const pending = trials.filter((t) => t.status === 'running');
  const rng = new Rng(mixSeed(cfg.spec.seed, trials.length + 7919));
  const out: Params[] = [];
  const takeUnused = (p: Params) => {
    const k = space.key(p);
    if (used.has(k)) return false;
    used.add(k);
    out.push(p);
    return true;
  };
  // initial design: point i of the seeded LHS for the i-th distinct parameter set
  while (out.length < want && used.size < nInit) {
    const p = space.fromLatent(design[used.size]);
    if (!takeUnused(p)) {
      const r = randomSuggest(space, used, 1, rng);
      if (r.length === 0) return out;
      out.push(r[0]);
    }
  }
  if (out.length >= want) return out;
  if (observed.length < 2) return [...out, ...randomSuggest(space, used, want - out.length, rng)];

  const X = observed.map((t) => space.encode(t.parameters));
  const yRaw = observed.map((t) => sign * (t.score as number));
  const mean = yRaw.reduce((a, b) => a + b, 0) / yRaw.length;
  const sd = Math.sqrt(yRaw.reduce((a, b) => a + (b - mean) ** 2, 0) / yRaw.length) || 1;
  const y = yRaw.map((v) => (v - mean) / sd);
  const cacheKey = JSON.stringify([cfg.parameters, cfg.spec.seed, cfg.spec.metric]);
  const init = hyperCache.get(cacheKey);
  const warm = init && init.lengthscales.length === space.width ? init : undefined;
  // fewer random restarts and iterations as n grows (each LML evaluation costs O(n^3)); a warm start replaces one restart
  const big = X.length >= bayesTuning.bigN;
  const fitted = GaussianProcess.fit(X, y, space.width, {
    rng,
    restarts: big ? 0 : Math.max(0, bayesTuning.restarts - (warm ? 1 : 0)),
    maxIter: big ? bayesTuning.maxIterBig : bayesTuning.maxIter,
    init: warm,
    lengthscalePrior: bayesTuning.lengthscalePrior
      ? {
          mu: bayesTuning.lengthscalePrior.mu + Math.log(space.width) * bayesTuning.lengthscalePrior.dimScale,
          sigma: bayesTuning.lengthscalePrior.sigma,
        }
      : undefined,
  });
  hyperCache.set(cacheKey, fitted.hyper);
  if (hyperCache.size > 64) hyperCache.delete(hyperCache.keys().next().value as string);

  // constant liar: running and already chosen points get the mean observed value
  const lie = 0;
  const Xall = [...X, ...pending.map((t) => space.encode(t.parameters))];
  const yall = [...y, ...pending.map(() => lie)];
  let best = Infinity;
  for (const v of y) best = Math.min(best, v);
  const finite = space.size <= ENUMERATE_LIMIT ? space.enumerate(ENUMERATE_LIMIT) : undefined;
  for (let b = out.length; b < want; b++) {
    const gp = Xall.length === X.length ? fitted : new GaussianProcess(Xall, yall, fitted.hyper);
    const incumbent = noisyIncumbent(gp, X, best, fitted.hyper.noiseVar);
    const pick = finite
      ? argmaxFinite(gp, space, finite, used, incumbent)
      : argmaxContinuous(gp, space, X, y, used, incumbent, rng);
    if (!pick) break;
    used.add(space.key(pick));
    out.push(pick);
    Xall.push(space.encode(pick));
    yall.push(lie);
  }
  return out;
}

/** Incumbent for EI: the lowest posterior mean at observed points when the fitted noise is not negligible. */
function noisyIncumbent(gp: GaussianProcess, X: Float64Array[], bestY: number, noiseVar: number): number {
  if (noiseVar < 1e-4) return bestY;
  let best = Infinity;
  for (const x of X) best = Math.min(best, gp.predict(x).mean);
  return best;
}

function eiAt(
  gp: GaussianProcess,
  x: Float64Array,
  best: number,
  scratch: { k: Float64Array; v: Float64Array },
): number {
  const { mean, variance } = gp.predict(x, scratch);
  const xi = gp.hyper.noiseVar > bayesTuning.noisyAbove ? bayesTuning.xiNoisy : bayesTuning.xi;
  return expectedImprovement(mean, variance, best, xi);
}

function argmaxFinite(
  gp: GaussianProcess,
  space: SearchSpace,
  all: Params[],
  used: Set<string>,
  best: number,
): Params | undefined {
  const scratch = { k: new Float64Array(gp.n), v: new Float64Array(gp.n) };
  let bestP: Params | undefined;
  let bestV = -Infinity;
  for (const p of all) {
    if (used.has(space.key(p))) continue;
    const v = eiAt(gp, space.encode(p), best, scratch);
    if (v > bestV) {
      bestV = v;
      bestP = p;
    }
  }
  return bestP;
}

/** Perturbs feature vector x: Gaussian steps on numeric columns, occasional switch of a categorical. */
function perturb(space: SearchSpace, x: Float64Array, sd: number, rng: Rng): Float64Array {
  const y = Float64Array.from(x);
  for (const col of space.featureLayout()) {
    if (col.width === 0) continue;
    if (col.categorical) {
      if (rng.next() < 0.2) {
        const j = rng.below(col.width);
        for (let c = 0; c < col.width; c++) y[col.start + c] = c === j ? 1 : 0;
      }
    } else {
      const step = col.count < Infinity ? Math.max(sd, 1 / col.count) : sd;
      y[col.start] = Math.min(1, Math.max(0, x[col.start] + step * rng.normal()));
    }
  }
  return y;
}

function argmaxContinuous(
  gp: GaussianProcess,
  space: SearchSpace,
  X: Float64Array[],
  y: number[],
  used: Set<string>,
  best: number,
  rng: Rng,
): Params | undefined {
  const scratch = { k: new Float64Array(gp.n), v: new Float64Array(gp.n) };
  const cands: Array<{ p: Params; x: Float64Array; v: number }> = [];
  const consider = (p: Params) => {
    if (used.has(space.key(p))) return;
    const x = space.encode(p);
    cands.push({ p, x, v: eiAt(gp, x, best, scratch) });
  };
  // each prediction costs O(n^2): fewer random candidates once the GP is big (local ones keep the precision)
  const nRandom = gp.n >= bayesTuning.bigN ? bayesTuning.randomCandidatesBig : bayesTuning.randomCandidates;
  for (let i = 0; i < nRandom; i++) consider(space.sample(rng));
  // around the best observations
  const order = y
    .map((v, i) => [v, i] as const)
    .sort((a, b) => a[0] - b[0])
    .slice(0, 5);
  for (const [, i] of order) {
    for (let j = 0; j < bayesTuning.localCandidates; j++) {
      consider(space.decode(perturb(space, X[i], j % 2 === 0 ? 0.1 : 0.02, rng)));
    }
  }
  if (cands.length === 0) return undefined;
  cands.sort((a, b) => b.v - a.v);
  let top = cands[0];
  // local refinement: stochastic hill climbing with a shrinking step from the best few candidates
  for (const start of cands.slice(0, bayesTuning.refineStarts)) {
    let cur = start;
    let sd = 0.05;
    for (let s = 0; s < bayesTuning.refineSteps; s++) {
      const p = space.decode(perturb(space, cur.x, sd, rng));
      if (!used.has(space.key(p))) {
        const x = space.encode(p);
        const v = eiAt(gp, x, best, scratch);
        if (v > cur.v) {
          cur = { p, x, v };
          continue;
        }
      }
      sd = Math.max(1e-4, sd * 0.7);
    }
    if (cur.v > top.v) top = cur;
  }
  return top.p;
}
