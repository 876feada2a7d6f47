// First steps of a sweep run: find the sweep (a new one from the file, one to join by id, or the one recorded in
// <out>/sweep.json to resume), then open it (create or join in the tracker, record sweep.json, release the running
// trials of an interrupted run, prepare the training data once).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { TrackerHttpError, type OptimizerStatus, type TrackerApi } from '@ocrops/tracker';
import { loadTrainConfig, prepareTrainData } from '@ocrops/trainer';
import { loadSweepFile, parseSweepFile, type SweepFile } from './sweep-config.js';
import { shownPath, type Log } from './trial-paths.js';

/** The sweep this process works on, before it is opened in the tracker. */
export interface ResolvedSweep {
  file: SweepFile;
  /** Undefined for a new sweep (created by `openSweep`). */
  sweepId?: string;
  /** The tracker's state of a joined or resumed sweep. */
  status?: OptimizerStatus;
}

/** The id recorded in `<out>/sweep.json` by an earlier run of this sweep file. */
function recordedSweepId(file: SweepFile | undefined, out: string | undefined): string {
  if (!file) throw new OcropsError('OCROPS_USAGE', '--resume needs --config (or --sweep-id)');
  const statePath = join(out ?? file.run.out, 'sweep.json');
  if (!existsSync(statePath)) {
    throw new OcropsError('OCROPS_SWEEP_RESUME', `nothing to resume: ${statePath} does not exist`, {
      hint: 'start the sweep without --resume, or pass --sweep-id <id>',
    });
  }
  return (JSON.parse(readFileSync(statePath, 'utf8')) as { sweepId: string }).sweepId;
}

/** The tracker's state of sweep `id`, with a clear error when the tracker does not know it. */
async function knownSweep(api: TrackerApi, id: string): Promise<OptimizerStatus> {
  try {
    return await api.optimizerStatus(id);
  } catch (err) {
    if (err instanceof TrackerHttpError && err.code === 'OCROPS_TRACKER_HTTP_404') {
      throw new OcropsError('OCROPS_SWEEP_UNKNOWN', `sweep ${id} is not known to the tracker at ${api.http.url}`, {
        hint: 'check --sweep-id and COMET_URL_OVERRIDE / COMET_WORKSPACE',
      });
    }
    throw err;
  }
}

/** Finds the sweep to run from `--config`, `--sweep-id` and `--resume`. */
export async function resolveSweep(
  api: TrackerApi,
  opts: { config?: string; sweepId?: string; resume?: boolean; out?: string },
): Promise<ResolvedSweep> {
  let file = opts.config ? loadSweepFile(opts.config) : undefined;
  const sweepId = opts.sweepId ?? (opts.resume ? recordedSweepId(file, opts.out) : undefined);
  if (!sweepId) {
    if (!file) throw new OcropsError('OCROPS_USAGE', 'give --config <sweep.yaml> or --sweep-id <id>');
    return { file };
  }
  const status = await knownSweep(api, sweepId);
  file ??= parseSweepFile(status.config, `sweep ${sweepId} (config stored in the tracker)`);
  return { file, sweepId, status };
}

/** Formats a parameter value for the trainer's `--set key=value` (JSON is valid YAML). */
export function setValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
}

/** The fixed `--set` overrides of every trial: the file's `ocrops.set`, and the sweep metric as the trainer's monitor. */
export function fixedSets(file: SweepFile): string[] {
  const { metric, objective } = file.optimizer.spec;
  const sets = Object.entries(file.run.set).map(([k, v]) => `${k}=${setValue(v)}`);
  if (/^(train|val)_[a-z0-9_]+$/.test(metric))
    sets.push(`train.monitor=${metric}`, `train.mode=${objective === 'maximize' ? 'max' : 'min'}`);
  return sets;
}

/**
 * Creates the sweep in the tracker (or joins it), records `<out>/sweep.json`, releases the running trials of a resumed
 * sweep and prepares the training data once (before parallel trials would race to do it). Returns the sweep id.
 */
export async function openSweep(
  api: TrackerApi,
  sweep: ResolvedSweep,
  o: { out: string; sets: string[]; resume?: boolean; log: Log },
): Promise<string> {
  const { file } = sweep;
  const trainCfg = loadTrainConfig(file.run.train, o.sets);
  const project = file.run.project ?? trainCfg.tracker.project;
  let id = sweep.sweepId;
  if (!id) {
    id = await api.optimizerCreate(file.raw, { projectName: project });
    o.log(
      `sweep ${id} created (${file.optimizer.algorithm}, metric ${file.optimizer.spec.metric} ${file.optimizer.spec.objective})`,
    );
  } else {
    o.log(`sweep ${id} joined`);
  }
  mkdirSync(join(o.out, 'trials'), { recursive: true });
  writeFileSync(
    join(o.out, 'sweep.json'),
    `${JSON.stringify(
      {
        sweepId: id,
        config: shownPath(file.source),
        tracker: api.http.url,
        workspace: api.workspace,
        project,
      },
      null,
      2,
    )}\n`,
  );
  if (o.resume && sweep.status) {
    for (const t of sweep.status.trials.filter((x) => x.status === 'running')) {
      await api.optimizerRelease(id, t.pid, t.trial);
      o.log(`released trial ${t.pid.slice(0, 12)}-${t.trial} of the interrupted sweep: it runs again`);
    }
  }
  await prepareTrainData(trainCfg, { quiet: true });
  return id;
}
