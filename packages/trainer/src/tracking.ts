// The tracked run of a training session: an @ocrops/tracker Experiment, or a no-op stand-in when tracking is off.
import { hostname, platform, release, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Experiment } from '@ocrops/tracker';
import type { TrackerConfig } from './config.js';

/** The subset of the tracker's Experiment the trainer uses. */
export type TrackedRun = Pick<
  Experiment,
  | 'key'
  | 'logMetric'
  | 'logMetrics'
  | 'logParameter'
  | 'logParameters'
  | 'logOther'
  | 'addTag'
  | 'addTags'
  | 'logHtml'
  | 'logAsset'
  | 'logModel'
  | 'end'
  | 'flush'
>;

/** Used when `tracker.enabled: false`: keeps the same calls, records nothing. */
class UntrackedRun implements TrackedRun {
  readonly key = randomBytes(16).toString('hex');
  logMetric(): void {}
  logMetrics(): void {}
  logParameter(): void {}
  logParameters(): void {}
  logOther(): void {}
  addTag(): void {}
  addTags(): void {}
  logHtml(): void {}
  async logAsset(): Promise<void> {}
  async logModel(): Promise<void> {}
  async end(): Promise<void> {}
  async flush(): Promise<void> {}
}

/** Opens (or, with `experimentKey`, continues) the tracked run for a training session. */
export async function openRun(
  cfg: TrackerConfig,
  opts: { name: string; experimentKey?: string; spoolDir?: string },
): Promise<TrackedRun> {
  if (!cfg.enabled) return new UntrackedRun();
  const offline = cfg.offline || process.env.OCROPS_TRACKER_OFFLINE === '1';
  const options: Record<string, unknown> = {
    project: process.env.COMET_PROJECT_NAME ?? cfg.project,
    workspace: process.env.COMET_WORKSPACE ?? cfg.workspace,
    name: opts.name,
    offline,
  };
  if (opts.spoolDir) options.spoolDir = opts.spoolDir;
  if (cfg.url) options.url = cfg.url;
  if (cfg.apiKey) options.apiKey = cfg.apiKey;
  if (opts.experimentKey) options.experimentKey = opts.experimentKey;
  // Loaded on demand: untracked runs never load the tracker client.
  const { Experiment: Exp } = await import('@ocrops/tracker');
  return Exp.create(options as Parameters<typeof Experiment.create>[0]);
}

/**
 * Logs system details as log-other values (`hostname`, `os`, `command`, ...). The run's versions (git, dataset and
 * model hashes) are its lineage, logged by train() from what it actually read and wrote (lineage.ts).
 */
export function logEnvironment(run: TrackedRun, extra: Record<string, unknown>): void {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? '';
  }
  const details: Record<string, unknown> = {
    hostname: hostname(),
    os: `${platform()} ${release()}`,
    user,
    pid: process.pid,
    node: process.version,
    command: process.argv.slice(1).join(' '),
    ...extra,
  };
  for (const [k, v] of Object.entries(details)) run.logOther(k, v);
}
