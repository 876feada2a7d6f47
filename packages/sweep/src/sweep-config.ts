// Sweep files: a Comet optimizer config plus an `ocrops` section saying how to run each trial.
import { isAbsolute, resolve } from 'node:path';
import { ConfigReader, OcropsError, readYamlFile, repoRoot } from '@ocrops/common';
import { parseOptimizerConfig, type OptimizerConfig, type PrunerConfig } from '@ocrops/search';

/** The `ocrops` section of a sweep file. Paths are resolved against the repository root. */
export interface SweepRunConfig {
  /** Train config every trial starts from. */
  train: string;
  /** Parallel trials on this machine (child processes). */
  workers: number;
  /** Fixed overrides passed to every trial as `--set key=value` (dotted keys or trainer aliases). */
  set: Record<string, unknown>;
  pruner: PrunerConfig;
  /** Sweep folder: `sweep.json` (the sweep id), `trials/<pid>-<trial>/` run folders. */
  out: string;
  /** Where the best trial's weights go at the end, with `best.json`. */
  best: string;
  /** Tracker project of the sweep (default: the train config's). */
  project?: string;
}

export interface SweepFile {
  source: string;
  /** The Comet part, validated. */
  optimizer: OptimizerConfig;
  /** The whole document as given (sent to the tracker, so workers elsewhere can read the `ocrops` section). */
  raw: Record<string, unknown>;
  run: SweepRunConfig;
}

const RUN_KEYS = ['train', 'workers', 'set', 'pruner', 'out', 'best', 'project'];

function abs(p: string): string {
  return isAbsolute(p) ? p : resolve(repoRoot(), p);
}

/** Validates a parsed sweep document (Comet config + `ocrops` section). */
export function parseSweepFile(raw: unknown, source: string): SweepFile {
  const optimizer = parseOptimizerConfig(raw, source, ['ocrops']);
  const doc = raw as Record<string, unknown>;
  const r = ConfigReader.from(doc, source).section('ocrops', true).only(RUN_KEYS);
  const setRaw = r.raw('set');
  if (setRaw !== undefined && setRaw !== null && (typeof setRaw !== 'object' || Array.isArray(setRaw))) {
    r.fail('set', 'must be a mapping of config key to value (e.g. {train.epochs: 2})');
  }
  const p = r.section('pruner').only(['type', 'minEpochs', 'minTrials', 'reductionFactor']);
  const type = p.oneOf('type', ['none', 'median', 'asha'] as const, 'none');
  let pruner: PrunerConfig;
  if (type === 'median') {
    pruner = { type, minEpochs: p.integer('minEpochs', 4, { min: 1 }), minTrials: p.integer('minTrials', 2, { min: 1 }) };
  } else if (type === 'asha') {
    pruner = {
      type, minEpochs: p.integer('minEpochs', 1, { min: 1 }), reductionFactor: p.integer('reductionFactor', 3, { min: 2 }),
    };
  } else pruner = { type: 'none' };
  const name = (optimizer.name ?? source.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''))
    .toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
  const run: SweepRunConfig = {
    train: abs(r.string('train')),
    workers: r.integer('workers', 1, { min: 1, max: 64 }),
    set: (setRaw as Record<string, unknown>) ?? {},
    pruner,
    out: abs(r.string('out', `runs/sweeps/${name}`)),
    best: abs(r.string('best', 'models/best')),
    project: r.optionalString('project'),
  };
  return { source, optimizer, raw: doc, run };
}

/** Reads and validates a sweep file (YAML or JSON). */
export function loadSweepFile(path: string): SweepFile {
  const raw = readYamlFile(path);
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('ocrops' in raw)) {
    throw new OcropsError('OCROPS_SWEEP_CONFIG', `${path}: no 'ocrops' section`, {
      hint: "add ocrops: {train: configs/train/<name>.yaml, workers: 2} to say how each trial is trained",
    });
  }
  return parseSweepFile(raw, path);
}
