// The search space of an optimizer config: sampling, unit-cube features for the GP, snapping, keys and grids.
import { OcropsError } from '@ocrops/common';
import { Rng } from './rng.js';
import { normCdf, normInv } from './stats.js';
import type { ParamSpec } from './types.js';

type Value = unknown;

/** One parameter's mapping between values, a latent u in [0,1) (sampling) and GP features in [0,1]. */
interface Dim {
  spec: ParamSpec;
  /** Number of GP feature columns (1 numeric, k one-hot, 0 fixed/single-valued). */
  width: number;
  /** Number of distinct values (Infinity for floats). */
  count: number;
  fromU(u: number): Value;
  features(v: Value, out: Float64Array, at: number): void;
  fromFeatures(f: Float64Array, at: number): Value;
  grid(size: number): Value[];
}

const EPS = 1e-9;
const clamp01 = (u: number) => Math.min(1 - EPS, Math.max(0, u));

/** A validated search space; every method is deterministic. */
export class SearchSpace {
  readonly params: ParamSpec[];
  private readonly dims: Dim[];
  /** Number of GP feature columns. */
  readonly width: number;
  /** Number of distinct parameter sets (Infinity when a float parameter is present). */
  readonly size: number;

  constructor(params: ParamSpec[]) {
    this.params = params;
    this.dims = params.map(makeDim);
    this.width = this.dims.reduce((s, d) => s + d.width, 0);
    this.size = this.dims.reduce((s, d) => s * d.count, 1);
  }

  /** Number of latent coordinates (one per parameter) used by initial designs. */
  get latentDims(): number {
    return this.dims.length;
  }

  /** Parameter set from latent coordinates `u` (one per parameter, each in [0,1)). */
  fromLatent(u: ArrayLike<number>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.dims.forEach((d, i) => (out[d.spec.name] = d.fromU(clamp01(u[i]))));
    return out;
  }

  /** A parameter set drawn from the prior (uniform, log-uniform, normal... per scaling type). */
  sample(rng: Rng): Record<string, unknown> {
    return this.fromLatent(this.dims.map(() => rng.next()));
  }

  /** GP features of a parameter set: numeric columns in [0,1] (log scale honoured), categoricals one-hot. */
  encode(params: Record<string, unknown>, out: Float64Array = new Float64Array(this.width)): Float64Array {
    let at = 0;
    for (const d of this.dims) {
      d.features(params[d.spec.name], out, at);
      at += d.width;
    }
    return out;
  }

  /** Parameter set nearest to a feature vector (integers/discrete rounded, categoricals by argmax). */
  decode(f: Float64Array): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let at = 0;
    for (const d of this.dims) {
      out[d.spec.name] = d.fromFeatures(f, at);
      at += d.width;
    }
    return out;
  }

  /** Canonical identity of a parameter set (only the space's own parameters, in config order). */
  key(params: Record<string, unknown>): string {
    return JSON.stringify(this.dims.map((d) => canon(params[d.spec.name])));
  }

  /** Column ranges of each parameter in the feature vector: [start, width, isCategorical]. */
  featureLayout(): Array<{ start: number; width: number; categorical: boolean; count: number }> {
    let at = 0;
    return this.dims.map((d) => {
      const r = { start: at, width: d.width, categorical: d.spec.type === 'categorical', count: d.count };
      at += d.width;
      return r;
    });
  }

  /** Values per parameter for a grid search (`gridSize` points for continuous parameters). */
  gridAxes(defaultSize: number): Value[][] {
    return this.dims.map((d) => {
      const s = d.spec;
      return d.grid(s.type === 'float' || s.type === 'integer' ? (s.gridSize ?? defaultSize) : defaultSize);
    });
  }

  /** Every parameter set of a finite space (throws when larger than `limit`). */
  enumerate(limit: number): Array<Record<string, unknown>> {
    if (this.size > limit) {
      throw new OcropsError('OCROPS_SWEEP_SPACE', `search space has ${this.size} combinations, more than ${limit}`);
    }
    return productOf(
      this.dims.map((d) => d.grid(Infinity)),
      this.params,
    );
  }
}

/** Cartesian product of per-parameter value lists, first parameter varying slowest. */
export function productOf(axes: Value[][], params: ParamSpec[]): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}];
  axes.forEach((values, i) => {
    const next: Array<Record<string, unknown>> = [];
    for (const base of out) for (const v of values) next.push({ ...base, [params[i].name]: v });
    out = next;
  });
  return out;
}

function canon(v: unknown): unknown {
  return typeof v === 'number' && Object.is(v, -0) ? 0 : (v ?? null);
}

function makeDim(spec: ParamSpec): Dim {
  switch (spec.type) {
    case 'fixed':
      return {
        spec,
        width: 0,
        count: 1,
        fromU: () => spec.value,
        features: () => {},
        fromFeatures: () => spec.value,
        grid: () => [spec.value],
      };
    case 'categorical': {
      const k = spec.values.length;
      const width = k > 1 ? k : 0;
      return {
        spec,
        width,
        count: k,
        fromU: (u) => spec.values[Math.min(k - 1, Math.floor(u * k))],
        features(v, out, at) {
          if (width === 0) return;
          const i = spec.values.findIndex((x) => x === v);
          for (let j = 0; j < k; j++) out[at + j] = j === i ? 1 : 0;
        },
        fromFeatures(f, at) {
          let best = 0;
          for (let j = 1; j < width; j++) if (f[at + j] > f[at + best]) best = j;
          return spec.values[best];
        },
        grid: () => [...spec.values],
      };
    }
    case 'discrete': {
      const vals = spec.values;
      const k = vals.length;
      const pos =
        spec.scaling === 'rank' || k === 1
          ? vals.map((_, i) => (k === 1 ? 0.5 : i / (k - 1)))
          : scaledPositions(vals, spec.scaling === 'loguniform');
      const nearest = (u: number) => {
        let best = 0;
        for (let i = 1; i < k; i++) if (Math.abs(pos[i] - u) < Math.abs(pos[best] - u)) best = i;
        return vals[best];
      };
      return {
        spec,
        width: k > 1 ? 1 : 0,
        count: k,
        fromU: (u) => vals[Math.min(k - 1, Math.floor(u * k))],
        features(v, out, at) {
          if (k === 1) return;
          const i = vals.indexOf(v as number);
          out[at] = i >= 0 ? pos[i] : nearestPos(pos, vals, v as number);
        },
        fromFeatures: (f, at) => (k === 1 ? vals[0] : nearest(f[at])),
        grid: () => [...vals],
      };
    }
    case 'float':
    case 'integer':
      return numericDim(spec);
  }
}

function scaledPositions(vals: number[], log: boolean): number[] {
  const t = vals.map((v) => (log ? Math.log(v) : v));
  const lo = t[0];
  const hi = t[t.length - 1];
  return t.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5));
}

function nearestPos(pos: number[], vals: number[], v: number): number {
  let best = 0;
  for (let i = 1; i < vals.length; i++) if (Math.abs(vals[i] - v) < Math.abs(vals[best] - v)) best = i;
  return pos[best];
}

/**
 * Numeric parameters: a monotone map `toX(u)` from [0,1] to the value range (uniform, log-uniform, or a truncated
 * (log)normal quantile function), and its inverse for features. Integers use cells of equal width around each value.
 */
function numericDim(spec: Extract<ParamSpec, { type: 'float' | 'integer' }>): Dim {
  const integer = spec.type === 'integer';
  const lo = integer ? spec.min - 0.5 : spec.min;
  const hi = integer ? spec.max + 0.5 : spec.max;
  let toX: (u: number) => number;
  let toU: (x: number) => number;
  if (spec.scaling === 'uniform') {
    toX = (u) => lo + u * (hi - lo);
    toU = (x) => (hi > lo ? (x - lo) / (hi - lo) : 0.5);
  } else if (spec.scaling === 'loguniform') {
    const a = Math.log(Math.max(lo, spec.min * 0.5));
    const b = Math.log(hi);
    toX = (u) => Math.exp(a + u * (b - a));
    toU = (x) => (b > a ? (Math.log(x) - a) / (b - a) : 0.5);
  } else {
    const log = spec.scaling === 'lognormal';
    const mu = spec.mu ?? 0;
    const sigma = spec.sigma ?? 1;
    const t = (x: number) => (log ? (x > 0 ? Math.log(x) : -Infinity) : x);
    const ca = normCdf((t(lo) - mu) / sigma);
    const cb = normCdf((t(hi) - mu) / sigma);
    toX = (u) => {
      const z = normInv(Math.min(1 - 1e-12, Math.max(1e-12, ca + u * (cb - ca))));
      const y = mu + sigma * z;
      return log ? Math.exp(y) : y;
    };
    toU = (x) => (cb > ca ? (normCdf((t(x) - mu) / sigma) - ca) / (cb - ca) : 0.5);
  }
  const finish = (x: number) => {
    const c = Math.min(spec.max, Math.max(spec.min, integer ? Math.round(x) : x));
    return integer ? Math.round(c) : c;
  };
  const count = integer ? spec.max - spec.min + 1 : spec.max > spec.min ? Infinity : 1;
  const constant = spec.max === spec.min;
  return {
    spec,
    width: constant ? 0 : 1,
    count,
    fromU: (u) => finish(toX(u)),
    features(v, out, at) {
      if (!constant) out[at] = Math.min(1, Math.max(0, toU(Number(v))));
    },
    fromFeatures: (f, at) => (constant ? spec.min : finish(toX(Math.min(1, Math.max(0, f[at]))))),
    grid(size) {
      if (integer && count <= size) return Array.from({ length: count }, (_, i) => spec.min + i);
      if (constant) return [spec.min];
      const n = Math.max(1, Math.min(size, 100000));
      const xs: number[] = [];
      const normal = spec.scaling === 'normal' || spec.scaling === 'lognormal';
      for (let i = 0; i < n; i++) {
        const u = n === 1 ? 0.5 : normal ? (i + 0.5) / n : i / (n - 1);
        const x = integer ? finish(toX(integer && !normal ? (i + 0.5) / n : u)) : finish(toX(u));
        if (!xs.includes(x)) xs.push(x);
      }
      return xs;
    },
  };
}
