// Hyperparameter importance for the sweep view: a fANOVA-like split of the objective's variance by each parameter.

/** Importance of one parameter for the objective. */
export interface ParamImportance {
  name: string;
  /** Share of the objective's variance explained by grouping trials on this parameter alone (eta squared, 0..1). */
  varianceExplained: number;
  /** `varianceExplained` normalised so that all parameters sum to 1 (0 when nothing is explained). */
  share: number;
  /** Spearman rank correlation with the objective for numeric parameters (-1..1), undefined for categorical ones. */
  correlation?: number;
  /** Number of trials with both a value and a score. */
  n: number;
}

/** A finished trial: its parameter values and objective score. */
export interface ScoredTrial {
  parameters: Record<string, unknown>;
  score: number;
}

const MAX_LEVELS = 8;
const BINS = 4;

/**
 * For each parameter: group the trials by value (categorical, or numeric with at most 8 distinct values) or by
 * quantile bins (4 bins for continuous values) and compute eta^2 = SS_between / SS_total of the scores.
 * With few trials this overstates importance (every group is small); it is a guide, as in Optuna's dashboard.
 * Returns parameters sorted by decreasing importance. Throws RangeError on non-finite scores.
 */
export function parameterImportance(trials: ScoredTrial[]): ParamImportance[] {
  for (const t of trials) {
    if (!Number.isFinite(t.score)) throw new RangeError(`trial score must be finite, got ${t.score}`);
  }
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.parameters)))].sort();
  const out: ParamImportance[] = names.map((name) => {
    const rows = trials.filter((t) => t.parameters[name] !== undefined && t.parameters[name] !== null);
    const values = rows.map((t) => t.parameters[name]);
    const scores = rows.map((t) => t.score);
    const numeric = values.every(
      (v) => typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))),
    );
    const nums = numeric ? values.map((v) => Number(v)) : [];
    const distinct = new Set(values.map((v) => String(v)));
    let groups: string[];
    if (!numeric || distinct.size <= MAX_LEVELS) {
      groups = values.map((v) => String(v));
    } else {
      const sorted = [...nums].sort((a, b) => a - b);
      const cuts = Array.from({ length: BINS - 1 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / BINS)]);
      groups = nums.map((v) => String(cuts.filter((c) => v >= c).length));
    }
    return {
      name,
      varianceExplained: etaSquared(groups, scores),
      share: 0,
      correlation: numeric && rows.length >= 3 ? spearman(nums, scores) : undefined,
      n: rows.length,
    };
  });
  const total = out.reduce((a, p) => a + p.varianceExplained, 0);
  for (const p of out) p.share = total > 0 ? p.varianceExplained / total : 0;
  return out.sort((a, b) => b.varianceExplained - a.varianceExplained || a.name.localeCompare(b.name));
}

/** Between-group sum of squares over total sum of squares; 0 when the scores do not vary or there is one group. */
export function etaSquared(groups: string[], scores: number[]): number {
  const n = scores.length;
  if (n < 2) return 0;
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const ssTotal = scores.reduce((a, s) => a + (s - mean) ** 2, 0);
  if (ssTotal <= 1e-300) return 0;
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = byGroup.get(g) ?? [];
    list.push(scores[i]);
    byGroup.set(g, list);
  });
  if (byGroup.size < 2) return 0;
  let ssBetween = 0;
  for (const list of byGroup.values()) {
    const m = list.reduce((a, b) => a + b, 0) / list.length;
    ssBetween += list.length * (m - mean) ** 2;
  }
  return Math.min(1, Math.max(0, ssBetween / ssTotal));
}

/** Spearman rank correlation (average ranks for ties); 0 when either side is constant. */
export function spearman(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((x, y) => x + y, 0) / n;
  const mb = rb.reduce((x, y) => x + y, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) ** 2;
    vb += (rb[i] - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

function ranks(v: number[]): number[] {
  const idx = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k][1]] = avg;
    i = j + 1;
  }
  return r;
}
