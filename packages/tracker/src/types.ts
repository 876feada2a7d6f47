// Types shared by the tracker client, the server and the packages that use them (trainer, sweep, dashboard). The wire
// types (requests and replies) are defined once in ./api (`@ocrops/tracker/api`); this module adds the in-process ones.
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

/** The search algorithm the server's optimizer resource calls is defined (and implemented) by @ocrops/search. */
export type { OptimizerAlgorithm } from '@ocrops/search';
