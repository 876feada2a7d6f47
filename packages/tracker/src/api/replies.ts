// Replies of the tracker's routes that the TypeScript client, the dashboard, sweeps and serving read: the dashboard
// API (/api/ocrops), the optimizer resource, the Comet REST v2 read endpoints and the model registry. Each is a
// TypeBox schema (JSON Schema for documentation and tests) and its TypeScript type of the same name. Fields marked
// optional are ones the server leaves out in some replies.
import { Type, type Static } from '@sinclair/typebox';
import { TrialRecord, TrialStatus } from '@ocrops/search/trial';
import { Json, StringEnum } from './schema-kit.js';

const NUM_OR_NULL = Json<number | null>({ type: ['number', 'null'] });
const STR_OR_NULL = Json<string | null>({ type: ['string', 'null'] });
const PARAMS = Type.Record(Type.String(), Type.Unknown());

// ---- optimizer -----------------------------------------------------------------------------------------------------

// one trial: defined with the search algorithms that read it
export { TrialRecord, TrialStatus };

/** A suggestion from `GET /optimizer/next`. */
export const OptimizerSuggestion = Type.Object({
  id: Type.String(),
  pid: Type.String(),
  trial: Type.Integer(),
  /** Total number of suggestions handed out so far in this sweep (Comet's `optimizer_count`). */
  count: Type.Integer(),
  parameters: PARAMS,
  /** The lease on this trial: send it with updates and heartbeats. */
  lease: Type.Optional(Type.String()),
  /** When the lease runs out without a heartbeat (epoch ms; only when a heartbeat lease was asked for). */
  leaseExpiresAt: Type.Optional(Type.Number()),
  /** 1 for the first assignment of this trial, 2 after its first re-assignment, ... */
  assignment: Type.Optional(Type.Integer()),
});
export type OptimizerSuggestion = Static<typeof OptimizerSuggestion>;

/** `GET /optimizer/status` */
export const OptimizerStatus = Type.Object({
  id: Type.String(),
  name: Type.Optional(Type.String()),
  workspaceName: Type.String(),
  projectName: Type.Optional(Type.String()),
  config: PARAMS,
  state: StringEnum(['running', 'completed']),
  trials: Type.Array(
    Type.Composite([
      TrialRecord,
      Type.Object({ trialId: Type.String(), createdAt: Type.Number(), updatedAt: Type.Number() }),
    ]),
  ),
  best: Type.Optional(TrialRecord),
});
export type OptimizerStatus = Static<typeof OptimizerStatus>;

// ---- dashboard API -------------------------------------------------------------------------------------------------

/** Lifecycle state of an experiment as the dashboard shows it. */
export const RunStatus = StringEnum(['running', 'finished', 'crashed']);
export type RunStatus = Static<typeof RunStatus>;

/** Summary of one metric series (the per-series summary table). Timestamps in epoch milliseconds. */
export const SeriesSummary = Type.Object({
  last: NUM_OR_NULL,
  min: NUM_OR_NULL,
  max: NUM_OR_NULL,
  /** Step of the last value. */
  step: NUM_OR_NULL,
  epoch: NUM_OR_NULL,
  count: Type.Integer(),
  lastTimestamp: Type.Number(),
});
export type SeriesSummary = Static<typeof SeriesSummary>;

/** One row of `GET /api/ocrops/runs`. */
export const RunRow = Type.Object({
  experimentKey: Type.String(),
  experimentName: STR_OR_NULL,
  projectName: Type.String(),
  workspaceName: Type.String(),
  status: RunStatus,
  startTimeMillis: NUM_OR_NULL,
  endTimeMillis: NUM_OR_NULL,
  durationMillis: NUM_OR_NULL,
  tags: Type.Array(Type.String()),
  optimizationId: STR_OR_NULL,
  params: PARAMS,
  metrics: Type.Record(Type.String(), SeriesSummary),
});
export type RunRow = Static<typeof RunRow>;

/** Reply of `GET /api/ocrops/runs`: the page of rows after filter and sort, and how many rows matched. */
export const RunsReply = Type.Object({ total: Type.Integer(), runs: Type.Array(RunRow) });
export type RunsReply = Static<typeof RunsReply>;

/** x axis of a metric chart: training step, epoch, or wall time (epoch ms). */
export const XAxis = StringEnum(['step', 'epoch', 'timestamp']);
export type XAxis = Static<typeof XAxis>;

/** One (possibly downsampled) point of `GET /api/ocrops/series`; `min`/`max` span the bucket the point stands for. */
export const SeriesPoint = Type.Object({
  x: Type.Number(),
  step: NUM_OR_NULL,
  epoch: NUM_OR_NULL,
  timestamp: Type.Number(),
  value: NUM_OR_NULL,
  min: NUM_OR_NULL,
  max: NUM_OR_NULL,
});
export type SeriesPoint = Static<typeof SeriesPoint>;

/** Reply of `GET /api/ocrops/series?metricName=...` (one series). */
export const SeriesReply = Type.Object({
  metricName: Type.String(),
  /** Number of raw points in the requested range. */
  total: Type.Integer(),
  downsampled: Type.Boolean(),
  points: Type.Array(SeriesPoint),
});
export type SeriesReply = Static<typeof SeriesReply>;

/** Reply of `GET /api/ocrops/series?metricNames=a,b,...`: the series in the order asked. */
export const MultiSeriesReply = Type.Object({ series: Type.Array(SeriesReply) });
export type MultiSeriesReply = Static<typeof MultiSeriesReply>;

/** Events sent on `GET /api/ocrops/events` (server-sent events). */
export const TrackerEvent = Type.Object({
  type: StringEnum(['metric', 'experiment', 'sweep', 'registry']),
  experimentKey: Type.Optional(Type.String()),
  /** Registry events: the model whose versions or aliases changed, and the alias when one moved. */
  modelName: Type.Optional(Type.String()),
  alias: Type.Optional(Type.String()),
  optimizerId: Type.Optional(Type.String()),
  workspaceName: Type.String(),
  projectName: Type.Optional(Type.String()),
});
export type TrackerEvent = Static<typeof TrackerEvent>;

/** One trial in `GET /api/ocrops/sweep?id` (Comet optimizer trial). */
export const SweepTrial = Type.Object({
  trialId: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  pid: Type.Optional(Type.String()),
  parameters: PARAMS,
  status: Type.Optional(Type.String()),
  score: Type.Optional(NUM_OR_NULL),
  experimentKey: Type.Optional(STR_OR_NULL),
});
export type SweepTrial = Static<typeof SweepTrial>;

/** A sweep's config as the dashboard reads it (the Comet optimizer config; other fields pass through). */
export const SweepConfig = Type.Object(
  {
    algorithm: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    spec: Type.Optional(
      Type.Object(
        {
          metric: Type.Optional(Type.String()),
          objective: Type.Optional(StringEnum(['minimize', 'maximize'])),
          maxCombo: Type.Optional(Type.Number()),
        },
        { additionalProperties: true },
      ),
    ),
    parameters: Type.Optional(PARAMS),
  },
  { additionalProperties: true },
);

/** `GET /api/ocrops/sweep?id` (and items of `/sweeps`, where `trials` may be missing). */
export const SweepInfo = Type.Object(
  {
    id: Type.String(),
    name: Type.Optional(Type.String()),
    algorithm: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    state: Type.Optional(Type.Unknown()),
    config: Type.Optional(SweepConfig),
    trials: Type.Optional(Type.Array(SweepTrial)),
  },
  { additionalProperties: true },
);
export type SweepInfo = Static<typeof SweepInfo> & Record<string, unknown>;

// ---- Comet REST v2 reads -------------------------------------------------------------------------------------------

/** Comet `/projects` item. */
export const ProjectInfo = Type.Object({
  projectId: Type.Optional(Type.String()),
  projectName: Type.String(),
  workspaceName: Type.String(),
  numberOfExperiments: Type.Optional(Type.Integer()),
  lastUpdated: Type.Optional(Type.Number()),
  projectDescription: Type.Optional(Type.String()),
});
export type ProjectInfo = Static<typeof ProjectInfo>;

/** Comet summary value (`/experiment/parameters`, `/experiment/log-other`). */
export const NamedValue = Type.Object({
  name: Type.String(),
  valueCurrent: Type.Optional(Type.Unknown()),
  valueMin: Type.Optional(Type.Unknown()),
  valueMax: Type.Optional(Type.Unknown()),
  timestampCurrent: Type.Optional(Type.Number()),
});
export type NamedValue = Static<typeof NamedValue>;

/** Comet `/experiment/asset/list` item. */
export const AssetInfo = Type.Object({
  assetId: Type.String(),
  fileName: Type.String(),
  fileSize: Type.Optional(Type.Number()),
  step: Type.Optional(NUM_OR_NULL),
  type: Type.Optional(Type.String()),
  metadata: Type.Optional(Type.Unknown()),
  createdAt: Type.Optional(Type.Number()),
  groupingName: Type.Optional(STR_OR_NULL),
});
export type AssetInfo = Static<typeof AssetInfo>;
