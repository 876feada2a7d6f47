// Shapes of the tracker server's replies that the dashboard reads (docs/architecture.md, "Dashboard API",
// plus Comet's REST v2 read endpoints). Optional fields are ones a server may leave out.

/** Summary of one metric of a run, as the runs table needs it. Timestamps in epoch milliseconds. */
export interface MetricSummary {
  last: number | null;
  min: number | null;
  max: number | null;
  /** Step of the last value. */
  step?: number | null;
  epoch?: number | null;
  count?: number;
  lastTimestamp?: number | null;
}

export type RunStatus = 'running' | 'finished' | 'crashed';

/** One row of `GET /api/ocrops/runs`. */
export interface RunRow {
  experimentKey: string;
  experimentName?: string | null;
  projectName?: string;
  workspaceName?: string;
  status: RunStatus;
  startTimeMillis?: number | null;
  endTimeMillis?: number | null;
  durationMillis?: number | null;
  tags: string[];
  optimizationId?: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, MetricSummary>;
}

export interface RunsReply {
  total: number;
  runs: RunRow[];
}

/** x axis of a metric chart: training step, epoch, or wall time (epoch ms). */
export type XAxis = 'step' | 'epoch' | 'timestamp';

/** One (possibly downsampled) point of `GET /api/ocrops/series`; min/max are the bucket's extremes. */
export interface SeriesPoint {
  x: number;
  step?: number | null;
  epoch?: number | null;
  timestamp?: number | null;
  value: number | null;
  min?: number | null;
  max?: number | null;
}

export interface SeriesReply {
  metricName: string;
  /** Number of raw points in the requested range. */
  total: number;
  downsampled: boolean;
  points: SeriesPoint[];
}

/** Reply of `GET /api/ocrops/series?metricNames=a,b,...`: one entry per asked name, in the order asked. */
export interface MultiSeriesReply {
  series: SeriesReply[];
}

/** One trial of a sweep (Comet optimizer). */
export interface SweepTrial {
  trialId?: string | number;
  pid?: string;
  parameters: Record<string, unknown>;
  status?: string;
  score?: number | null;
  experimentKey?: string | null;
}

/** `GET /api/ocrops/sweep?id` (and items of `/sweeps`, where `trials` may be missing). */
export interface SweepInfo {
  id: string;
  name?: string;
  algorithm?: string;
  status?: string;
  state?: unknown;
  config?: {
    algorithm?: string;
    name?: string;
    spec?: { metric?: string; objective?: 'minimize' | 'maximize'; maxCombo?: number; [k: string]: unknown };
    parameters?: Record<string, unknown>;
    [k: string]: unknown;
  };
  trials?: SweepTrial[];
  [k: string]: unknown;
}

/** Comet `/projects` item. */
export interface ProjectInfo {
  projectId?: string;
  projectName: string;
  workspaceName: string;
  numberOfExperiments?: number;
  lastUpdated?: number;
  projectDescription?: string;
}

/** Comet summary value (`/experiment/parameters`, `/experiment/log-other`). */
export interface NamedValue {
  name: string;
  valueCurrent?: unknown;
  valueMin?: unknown;
  valueMax?: unknown;
  timestampCurrent?: number;
}

/** Comet `/experiment/asset/list` item. */
export interface AssetInfo {
  assetId: string;
  fileName: string;
  fileSize?: number;
  step?: number | null;
  type?: string;
  metadata?: unknown;
  createdAt?: number;
  groupingName?: string | null;
}

/** Event of `GET /api/ocrops/events` (server-sent events). */
export interface TrackerEvent {
  type: 'metric' | 'experiment' | string;
  experimentKey?: string;
  metricName?: string;
}

/** A registered model (`GET /api/ocrops/registry/models`). */
export interface RegistryModel {
  modelName: string;
  workspaceName: string;
  description: string;
  numberOfVersions: number;
  latestVersion: string | null;
  /** alias -> version */
  aliases: Record<string, string | null>;
  lastUpdated: number;
}

/** One registered version, with what it records. */
export interface RegistryVersion {
  modelName: string;
  version: string;
  experimentKey: string;
  description: string;
  status: string;
  stages: string[];
  tags: Record<string, string>;
  aliases: string[];
  createdAt: number;
  createdBy: string | null;
  projectName: string | null;
  sweepId: string | null;
  weights: { md5: string; bytes: number; files: Array<{ relpath: string }>; dvc: { path: string | null; md5: string; remote: string | null } | null };
  formats: string[];
  metrics: Record<string, { last: number | null; min: number | null; max: number | null }>;
  lineage: {
    gitCommit: string | null; gitDirty: boolean | null; configMd5: string | null; configPath: string | null;
    datasetMd5: string | null; datasetPath: string | null;
  };
}

export interface RegistryModelDetail {
  model: RegistryModel;
  versions: RegistryVersion[];
  aliasHistory: Array<{ alias: string; version: string | null; previousVersion: string | null; at: number; by: string | null }>;
}
