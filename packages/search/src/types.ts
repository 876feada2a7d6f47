// Types shared by the optimizer algorithms, the tracker server (which stores trials and calls `optimizerAlgorithm`)
// and the sweep runner.
import type { TrialRecord } from './trial.js';

export type { TrialRecord } from './trial.js';

/** A stateless search algorithm as the tracker's optimizer resource calls it (`optimizerAlgorithm` implements it). */
export interface OptimizerAlgorithm {
  /** Throws an OcropsError naming the bad field when `config` is not a valid Comet optimizer config. */
  validate(config: unknown): void;
  /** Up to `count` new parameter sets given the trials so far; `[]` when the search is exhausted. */
  suggest(config: unknown, trials: TrialRecord[], count: number): Array<Record<string, unknown>>;
}

/** How a numeric parameter is distributed / scaled to the unit interval. */
export type ScalingType = 'uniform' | 'loguniform' | 'normal' | 'lognormal';

/** A numeric range parameter: `min`..`max`, scaled as `scaling` (`mu`/`sigma` for the normal ones). */
interface RangeParam {
  name: string;
  min: number;
  max: number;
  scaling: ScalingType;
  mu?: number;
  sigma?: number;
  gridSize?: number;
}

export interface FloatParam extends RangeParam {
  type: 'float';
}

export interface IntegerParam extends RangeParam {
  type: 'integer';
}

/** Numbers: unit-interval position is the rank among the sorted values (or log/linear value with a scalingType). */
export interface DiscreteParam {
  name: string;
  type: 'discrete';
  values: number[];
  /** 'rank' (default) spaces the sorted values evenly; 'uniform'/'loguniform' place them by (log) value. */
  scaling: 'rank' | 'uniform' | 'loguniform';
}

export interface CategoricalParam {
  name: string;
  type: 'categorical';
  values: Array<string | number | boolean>;
}

/** A scalar in the config: the same value for every trial. */
export interface FixedParam {
  name: string;
  type: 'fixed';
  value: unknown;
}

export type ParamSpec = FloatParam | IntegerParam | DiscreteParam | CategoricalParam | FixedParam;

export type Algorithm = 'grid' | 'random' | 'bayes';

/** A validated Comet optimizer config. */
export interface OptimizerConfig {
  algorithm: Algorithm;
  name?: string;
  spec: {
    /** Maximum number of distinct parameter sets (0 = every combination of a finite space, else unlimited). */
    maxCombo: number;
    objective: 'minimize' | 'maximize';
    metric: string;
    seed: number;
    retryLimit: number;
    retryAssignLimit: number;
    /** Points per continuous parameter for `grid`. */
    gridSize: number;
    /** Shuffle the grid order (grid only). */
    randomize: boolean;
    /** Completed trials before `bayes` leaves its initial design (0 = automatic). */
    minSampleSize: number;
  };
  parameters: ParamSpec[];
  /** Runs per parameter set (Comet's `trials`). */
  trials: number;
}
