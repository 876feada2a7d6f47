// Early stopping of hopeless trials from their per-epoch values of the objective metric.

/** `median`: median stopping rule; `asha`: asynchronous successive halving; `none`: never prune. */
export type PrunerConfig =
  | { type: 'none' }
  | { type: 'median'; minEpochs: number; minTrials: number }
  | { type: 'asha'; minEpochs: number; reductionFactor: number };

/**
 * Per-epoch values of one trial: `values[e - 1]` is the metric after epoch e (NaN where missing).
 * Other trials' histories are the competitors (finished, pruned or still running).
 */
export type History = number[];

function better(a: number, b: number, maximize: boolean): boolean {
  return maximize ? a > b : a < b;
}

/** Best value up to and including epoch e (1-based), or NaN when none is finite. */
export function bestUpTo(h: History, e: number, maximize: boolean): number {
  let best = NaN;
  for (let i = 0; i < Math.min(e, h.length); i++) {
    const v = h[i];
    if (Number.isFinite(v) && (Number.isNaN(best) || better(v, best, maximize))) best = v;
  }
  return best;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Whether to stop a trial after epoch `epoch` (1-based). `others` are the competitors' histories: for `median` only
 * the completed trials (a running or pruned trial says little about where a full trial ends), for `asha` every trial
 * that reached the rung.
 * - median: from `minEpochs` on (the warm-up: CTC models sit on the all-blank plateau for their first epochs), once at
 *   least `minTrials` trials have completed (the startup trials), stop when the trial's best value so far is worse than
 *   the median of the completed trials' best values up to the same epoch (Golovin et al. 2017; Optuna's MedianPruner).
 * - asha: rungs at minEpochs * reductionFactor^k epochs; at a rung a trial continues only when its best value so far
 *   ranks in the top max(1, floor(n / reductionFactor)) of the n trials that reached that rung (Li et al. 2020).
 */
export function shouldPrune(
  pruner: PrunerConfig,
  trial: History,
  others: History[],
  epoch: number,
  maximize: boolean,
): boolean {
  if (pruner.type === 'none' || epoch < pruner.minEpochs) return false;
  const mine = bestUpTo(trial, epoch, maximize);
  if (!Number.isFinite(mine)) return false;
  const peers = others
    .filter((h) => h.length >= epoch)
    .map((h) => bestUpTo(h, epoch, maximize))
    .filter(Number.isFinite);
  if (pruner.type === 'median') {
    if (peers.length < pruner.minTrials) return false;
    return better(median(peers), mine, maximize);
  }
  // asha: only decide at rung epochs
  let rung = pruner.minEpochs;
  while (rung < epoch) rung *= pruner.reductionFactor;
  if (rung !== epoch) return false;
  const all = [...peers, mine];
  const keep = Math.max(1, Math.floor(all.length / pruner.reductionFactor));
  const rank = all.filter((v) => better(v, mine, maximize)).length;
  return rank >= keep;
}
