// Sweep files: a Comet optimizer config plus an `ocrops` section saying how to run each trial.
import { isAbsolute, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  readConfigDocument,
  repoRoot,
  validateConfig,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';
import { parseOptimizerConfig, type OptimizerConfig, type PrunerConfig } from '@ocrops/search';

/** `ocrops.pruner`: stops hopeless trials early (median rule or ASHA); the defaults depend on the type. */
export const PrunerSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('none'), Type.Literal('median'), Type.Literal('asha')], { default: 'none' }),
    /** median, asha: epochs before a trial can be pruned (default 4 for median, 1 for asha) */
    min_epochs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** median: trials that must have reached the epoch before the rule applies (default 2) */
    min_trials: Type.Optional(Type.Integer({ minimum: 1 })),
    /** asha: keep the best 1/reduction_factor at each rung (default 3) */
    reduction_factor: Type.Optional(Type.Integer({ minimum: 2 })),
  },
  { default: {} },
);

/** The `ocrops` section of a sweep file (how each trial is trained). Paths are resolved against the repository root. */
export const SweepRunSchema = Type.Object({
  /** Train config every trial starts from. */
  train: Type.String(),
  /** Parallel trials on this machine (child processes). */
  workers: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** Fixed overrides passed to every trial as `--set key=value` (dotted keys or trainer aliases). */
  set: Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    allowed: 'a mapping of config key to value (e.g. {train.epochs: 2})',
  }),
  pruner: PrunerSchema,
  /** Sweep folder: `sweep.json` (the sweep id), `trials/<pid>-<trial>/` run folders (default runs/sweeps/<name>). */
  out: Type.Optional(Type.String()),
  /** Where the best trial's weights go at the end, with `best.json`. */
  best: Type.String({ default: 'models/best' }),
  /** Tracker project of the sweep (default: the train config's). */
  project: Type.Optional(Type.String()),
});

/** The `ocrops` section, resolved (absolute paths, the pruner's defaults). */
export type SweepRunConfig = Omit<Static<typeof SweepRunSchema>, 'pruner' | 'out'> & {
  pruner: PrunerConfig;
  out: string;
};

const PRUNER_FIELDS: Record<string, readonly string[]> = {
  none: [],
  median: ['min_epochs', 'min_trials'],
  asha: ['min_epochs', 'reduction_factor'],
};

function checkRun(v: Static<typeof SweepRunSchema>, report: ReportIssue): void {
  if (Array.isArray(v.set)) report(['set'], 'is a list', 'a mapping of config key to value (e.g. {train.epochs: 2})');
  const p = v.pruner;
  for (const k of ['min_epochs', 'min_trials', 'reduction_factor'] as const) {
    if (p[k] !== undefined && !PRUNER_FIELDS[p.type].includes(k)) {
      report(['pruner', k], `is not used by pruner type '${p.type}'`, PRUNER_FIELDS[p.type].join(', ') || 'none');
    }
  }
}

function prunerOf(p: Static<typeof PrunerSchema>): PrunerConfig {
  if (p.type === 'median') return { type: 'median', minEpochs: p.min_epochs ?? 4, minTrials: p.min_trials ?? 2 };
  if (p.type === 'asha')
    return { type: 'asha', minEpochs: p.min_epochs ?? 1, reductionFactor: p.reduction_factor ?? 3 };
  return { type: 'none' };
}

export interface SweepFile {
  source: string;
  /** The Comet part, validated. */
  optimizer: OptimizerConfig;
  /** The whole document as given (sent to the tracker, so workers elsewhere can read the `ocrops` section). */
  raw: Record<string, unknown>;
  run: SweepRunConfig;
}

function abs(p: string): string {
  return isAbsolute(p) ? p : resolve(repoRoot(), p);
}

/** Validates a parsed sweep document (Comet config + `ocrops` section); `locate` gives the positions of its keys. */
export function parseSweepFile(raw: unknown, source: string, locate?: ConfigLocator): SweepFile {
  const optimizer = parseOptimizerConfig(raw, source, ['ocrops']);
  const doc = raw as Record<string, unknown>;
  if (doc.ocrops === undefined || doc.ocrops === null) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: field 'ocrops' is required`, {
      hint: 'add ocrops: {train: configs/train/<name>.yaml, workers: 2} to say how each trial is trained',
    });
  }
  const { ocrops: v } = validateConfig(
    Type.Object({ ocrops: SweepRunSchema }),
    { ocrops: doc.ocrops },
    {
      source,
      locate,
      check: (x, report) => checkRun(x.ocrops, (path, ...rest) => report(['ocrops', ...path], ...rest)),
    },
  );
  const name = (optimizer.name ?? source.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-');
  const run: SweepRunConfig = {
    ...v,
    train: abs(v.train),
    pruner: prunerOf(v.pruner),
    out: abs(v.out ?? `runs/sweeps/${name}`),
    best: abs(v.best),
  };
  return { source, optimizer, raw: doc, run };
}

/** Reads and validates a sweep file (YAML or JSON). */
export function loadSweepFile(path: string): SweepFile {
  const { value: raw, locate } = readConfigDocument(path);
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('ocrops' in raw)) {
    throw new OcropsError('OCROPS_SWEEP_CONFIG', `${path}: no 'ocrops' section`, {
      hint: 'add ocrops: {train: configs/train/<name>.yaml, workers: 2} to say how each trial is trained',
    });
  }
  return parseSweepFile(raw, path, locate);
}
