// @ocrops/tracker/api: the tracker's wire contract, shared by the server routes, the TypeScript client, the dashboard
// and every other caller. Request schemas (fastify route schemas, JSON Schema) and reply types are defined once with
// TypeBox; the runs query language (filter/sort) is implemented once. No runtime dependency besides TypeBox, so the
// dashboard's browser bundle can include it.
export { Json, StringEnum, Key, KEY, NAME } from './schema-kit.js';
export {
  bodies,
  queries,
  metricItem,
  type MetricItem,
  type RunsQuery,
  type SeriesQuery,
  type OptimizerUpdateBody,
  type OptimizerHeartbeatBody,
  type OptimizerReleaseBody,
} from './comet.js';
export { sdkBodies, sdkQueries, sdkOptimizer, type SdkUploadQuery, type SdkMetricItem } from './sdk.js';
export {
  registryBodies,
  registryQueries,
  ALLOWED_STATUS,
  ALIAS_PATTERN,
  VERSION_PATTERN,
  WeightsFile,
  VersionRecord,
  RegistryVersion,
  RegistryModel,
  AliasEvent,
  RegistryModelDetail,
  type RegisterBody,
  type CometRegisterBody,
} from './registry.js';
export {
  TrialStatus,
  TrialRecord,
  OptimizerSuggestion,
  OptimizerStatus,
  RunStatus,
  SeriesSummary,
  RunRow,
  RunsReply,
  XAxis,
  SeriesPoint,
  SeriesReply,
  MultiSeriesReply,
  TrackerEvent,
  SweepTrial,
  SweepConfig,
  SweepInfo,
  ProjectInfo,
  NamedValue,
  AssetInfo,
} from './replies.js';
export {
  parseFilter,
  matchesFilter,
  filterRuns,
  sortRuns,
  columnValue,
  compareValues,
  conditionHolds,
  differingNames,
  RunsQuerySyntaxError,
  type FilterOp,
  type FilterCondition,
  type QueryRow,
} from './runs-query.js';
export type { Static, TSchema } from '@sinclair/typebox';
