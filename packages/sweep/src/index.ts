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
export { Rng } from './rng.js';
