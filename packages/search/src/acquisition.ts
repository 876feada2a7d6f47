// Expected improvement for minimisation.
import { normCdf, normPdf } from './stats.js';

/**
 * Expected improvement below `best` of a Gaussian prediction N(mean, variance), minus an exploration margin `xi`:
 * E[max(best - xi - f, 0)] = (best - xi - mean) Φ(z) + σ φ(z), z = (best - xi - mean) / σ. Exactly 0 (or the plain
 * improvement) where σ is 0, e.g. at an observed point of a noise-free GP.
 */
export function expectedImprovement(mean: number, variance: number, best: number, xi = 0): number {
  const imp = best - xi - mean;
  const sigma = Math.sqrt(Math.max(0, variance));
  if (sigma < 1e-12) return Math.max(0, imp);
  const z = imp / sigma;
  return Math.max(0, imp * normCdf(z) + sigma * normPdf(z));
}
