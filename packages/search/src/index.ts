// Public surface of @ocrops/search: the pure search maths of sweeps (Comet optimizer configs, search spaces, Gaussian
// processes, grid/random/bayes algorithms, pruners). Depends on @ocrops/common only, so the tracker server can run the
// optimizer without loading the trainer.
export type { TrialRecord, OptimizerAlgorithm, OptimizerConfig, ParamSpec, ScalingType, Algorithm } from './types.js';
export { parseOptimizerConfig, loadOptimizerConfig, DEFAULT_SEED } from './config.js';
export { SearchSpace } from './space.js';
export { GaussianProcess, matern52, type GpHyper } from './gp.js';
export { expectedImprovement } from './acquisition.js';
export { suggestParameters, latinHypercube, bayesTuning } from './algorithms.js';
export { optimizerAlgorithm } from './optimizer.js';
export { shouldPrune, bestUpTo, type PrunerConfig, type History } from './pruner.js';
export { Rng } from './rng.js';
