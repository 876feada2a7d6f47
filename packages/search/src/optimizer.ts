// The OptimizerAlgorithm the tracker server calls for its optimizer resource.
import { OcropsError } from '@ocrops/common';
import { suggestParameters } from './algorithms.js';
import { parseOptimizerConfig } from './config.js';
import type { OptimizerAlgorithm, OptimizerConfig, TrialRecord } from './types.js';

function asConfig(config: unknown): OptimizerConfig {
  // sweep files carry an `ocrops` section beside the Comet fields: accept it here too
  return parseOptimizerConfig(config, 'optimizer config', ['ocrops']);
}

/** Comet-compatible optimizer: `grid`, `random` and GP-based `bayes`; stateless, so any process can serve a sweep. */
export const optimizerAlgorithm: OptimizerAlgorithm = {
  validate(config: unknown): void {
    asConfig(config);
  },
  suggest(config: unknown, trials: TrialRecord[], count: number): Array<Record<string, unknown>> {
    if (!Number.isInteger(count) || count < 0) {
      throw new OcropsError('OCROPS_SWEEP_COUNT', `suggest: count must be a non-negative integer, got ${count}`);
    }
    if (count === 0) return [];
    return suggestParameters(asConfig(config), trials, count);
  },
};
