// The state one sweep run shares between its steps (trial processes, reports, the worker pool).
import type { ChildProcess } from 'node:child_process';
import type { History } from '@ocrops/search';
import type { TrackerApi } from '@ocrops/tracker';
import type { S3RemoteConfig } from '@ocrops/versioning';
import type { SweepFile } from './sweep-config.js';
import type { Log } from './trial-paths.js';

/** One trial this process runs. */
export interface TrialRun {
  pid: string;
  trial: number;
  history: History;
  /** Set when the trial's process has ended. */
  status?: 'completed' | 'failed' | 'pruned';
  experimentKey?: string;
  child?: ChildProcess;
}

/** A suggestion of the optimizer as a trial: `count` is its number in the sweep (1-based). */
export interface TrialSuggestion {
  pid: string;
  trial: number;
  count: number;
  parameters: Record<string, unknown>;
  lease?: string;
}

export interface SweepContext {
  api: TrackerApi;
  id: string;
  file: SweepFile;
  /** The sweep folder (sweep.json, trials/). */
  out: string;
  metric: string;
  maximize: boolean;
  /** Fixed `--set` overrides of every trial. */
  sets: string[];
  log: Log;
  workers: number;
  leaseSeconds: number;
  workerName: string;
  deliverMillis: number;
  maxTrials?: number;
  weights?: S3RemoteConfig;
  /** This process's trials by `<pid>-<trial>`. */
  runs: Map<string, TrialRun>;
  /** Epoch histories of other workers' finished trials (read from the tracker for the pruner). */
  remote: Map<string, History>;
  stopping: boolean;
  failuresInARow: number;
  /** Why the run gave up (too many failed trials in a row). */
  gaveUp?: string;
  /** Trials asked of the optimizer / run to their end by this process. */
  started: number;
  ran: number;
}
