// Types shared by the tracker client, the server and the packages that use them (trainer, sweep, dashboard).

/** Trials and the search-algorithm interface of the optimizer resource are defined by @ocrops/search. */
import type { OptimizerAlgorithm, TrialRecord } from '@ocrops/search';
export type { OptimizerAlgorithm, TrialRecord };

/** A suggestion from `GET /optimizer/next`. */
export interface OptimizerSuggestion {
  id: string;
  pid: string;
  trial: number;
  /** Total number of suggestions handed out so far in this sweep (Comet's `optimizer_count`). */
  count: number;
  parameters: Record<string, unknown>;
  /** The lease on this trial: send it with updates and heartbeats. */
  lease?: string;
  /** When the lease runs out without a heartbeat (epoch ms; only when a heartbeat lease was asked for). */
  leaseExpiresAt?: number;
  /** 1 for the first assignment of this trial, 2 after its first re-assignment, ... */
  assignment?: number;
}

/** `GET /optimizer/status` */
export interface OptimizerStatus {
  id: string;
  name?: string;
  workspaceName: string;
  projectName?: string;
  config: Record<string, unknown>;
  state: 'running' | 'completed';
  trials: Array<TrialRecord & { trialId: string; createdAt: number; updatedAt: number }>;
  best?: TrialRecord;
}

/** Lifecycle state of an experiment as the dashboard shows it. */
export type RunStatus = 'running' | 'finished' | 'crashed';

/** Summary of one metric series (the per-series summary table). */
export interface SeriesSummary {
  last: number | null;
  min: number | null;
  max: number | null;
  step: number | null;
  epoch: number | null;
  count: number;
  lastTimestamp: number;
}

/** One row of `GET /api/ocrops/runs`. */
export interface RunRow {
  experimentKey: string;
  experimentName: string | null;
  projectName: string;
  workspaceName: string;
  status: RunStatus;
  startTimeMillis: number | null;
  endTimeMillis: number | null;
  durationMillis: number | null;
  tags: string[];
  optimizationId: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, SeriesSummary>;
}

/** One point of `GET /api/ocrops/series`; `min`/`max` span the bucket the point stands for. */
export interface SeriesPoint {
  x: number;
  step: number | null;
  epoch: number | null;
  timestamp: number;
  value: number | null;
  min: number | null;
  max: number | null;
}

/** Reply of `GET /api/ocrops/series?metricName=...` (one series). */
export interface SeriesReply {
  metricName: string;
  total: number;
  downsampled: boolean;
  points: SeriesPoint[];
}

/** Reply of `GET /api/ocrops/series?metricNames=a,b,...`: the series in the order asked. */
export interface MultiSeriesReply {
  series: SeriesReply[];
}

/** Events sent on `GET /api/ocrops/events`. */
export interface TrackerEvent {
  type: 'metric' | 'experiment' | 'sweep' | 'registry';
  experimentKey?: string;
  /** Registry events: the model whose versions or aliases changed, and the alias when one moved. */
  modelName?: string;
  alias?: string;
  optimizerId?: string;
  workspaceName: string;
  projectName?: string;
}
