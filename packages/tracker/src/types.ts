// Types shared by the tracker client, the server and the packages that use them (trainer, sweep, dashboard). The wire
// types (requests and replies) are defined once in ./api (`@ocrops/tracker/api`); this module adds the in-process ones.
import type { TrialRecord } from './api/index.js';

export type {
  TrialRecord,
  OptimizerSuggestion,
  OptimizerStatus,
  RunStatus,
  SeriesSummary,
  RunRow,
  RunsReply,
  SeriesPoint,
  SeriesReply,
  MultiSeriesReply,
  TrackerEvent,
} from './api/index.js';

/** The search algorithm the server's optimizer resource calls (implemented in @ocrops/sweep); stateless. */
export interface OptimizerAlgorithm {
  /** Throws an OcropsError naming the bad field when `config` is not a valid Comet optimizer config. */
  validate(config: unknown): void;
  /** Up to `count` new parameter sets given the trials so far; `[]` when the search is exhausted. */
  suggest(config: unknown, trials: TrialRecord[], count: number): Array<Record<string, unknown>>;
}
