// Public surface of @ocrops/sweep.
export type {
  TrialRecord, OptimizerAlgorithm, OptimizerConfig, ParamSpec, ScalingType, Algorithm,
} from './types.js';
export { parseOptimizerConfig, loadOptimizerConfig, DEFAULT_SEED } from './config.js';
export { SearchSpace } from './space.js';
export { GaussianProcess, matern52, type GpHyper } from './gp.js';
export { expectedImprovement } from './acquisition.js';
export { suggestParameters, latinHypercube, bayesTuning } from './algorithms.js';
export { optimizerAlgorithm } from './optimizer.js';
export { shouldPrune, bestUpTo, type PrunerConfig, type History } from './pruner.js';
export { parseSweepFile, loadSweepFile, type SweepFile, type SweepRunConfig } from './sweep-config.js';
export { runSweep, trialDirName, type RunSweepOptions, type SweepSummary, type BestRecord } from './runner.js';
export { commands } from './commands.js';
export { Rng } from './rng.js';
