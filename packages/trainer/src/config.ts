// Train config (YAML): schema, loading, `--set` overrides and the sweep's parameter aliases.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ConfigReader, OcropsError, parseYamlText, readYamlFile, repoRoot } from '@ocrops/common';
import { constantSchedule, readScheduleConfig, type ScheduleConfig } from './schedule.js';
import { DEFAULT_MONITOR, TASK_NAMES } from './tasks/names.js';
import type { TaskName } from './tasks/task.js';

/** Optimiser settings: `optim: {name, lr, amsgrad, weightDecay, clipNorm, schedule}`. */
export interface OptimConfig {
  name: 'adam' | 'rmsprop';
  /** base learning rate (the peak of `onecycle`) */
  lr: number;
  /** adam only: the AMSGrad variant (PyTorch `Adam(amsgrad=True)`) */
  amsgrad: boolean;
  /** lr per step: constant (default), step, cosine, onecycle or plateau, with optional linear warm-up */
  schedule: ScheduleConfig;
  /** L2 penalty added to the gradient (PyTorch `weight_decay` semantics); 0 = off */
  weightDecay: number;
  /** clip gradients to this global L2 norm; 0 = off */
  clipNorm: number;
}

/** Loop settings: `train: {...}`. Steps count optimiser updates (batches), from 0. */
export interface LoopConfig {
  batchSize: number;
  epochs: number;
  /** early stopping: epochs without improvement of `monitor` before stopping; 0 = off */
  patience: number;
  seed: number;
  /** evaluate on the validation split every N steps as well as at each epoch end; 0 = only at epoch ends */
  evalEvery: number;
  /** log step metrics (train_loss, lr, images_per_second) every N steps */
  logEvery: number;
  /** write the `last` checkpoint every N steps as well as at each epoch end; 0 = only at epoch ends */
  checkpointEvery: number;
  /** metric that selects the best model, e.g. `val_loss` or `val_acc_by_char` */
  monitor: string;
  mode: 'min' | 'max';
  /** apply the data config's `augment` section to training batches (seeded per sample and epoch by @ocrops/data) */
  augment: boolean;
  /** batches per epoch, like Keras' steps_per_epoch (each epoch draws a new shuffle); 0 = the whole split */
  maxStepsPerEpoch: number;
  /** cap on validation lines per evaluation; 0 = the whole split */
  maxValSamples: number;
  /**
   * width bucketing of training batches: each window of this many shuffled batches is sorted by image width before it
   * is cut into batches (whose order is then reshuffled), so lines of mixed widths pad less; 0 or 1 = off
   */
  bucketWindow: number;
  /**
   * exponential moving average of the trainable weights, decay per step (e.g. 0.999); validation, the best model and
   * the export use the averaged weights; 0 = off
   */
  ema: number;
  /** time budget of the run in minutes (`max_minutes`): no new epoch starts after it; 0 = none */
  maxMinutes: number;
}

/** CTC loss settings: `loss: {reduction}`. */
export interface LossConfig {
  /** `mean`: each line's loss divided by its label length, averaged over the batch (PyTorch's default); `sum`: summed */
  reduction: 'mean' | 'sum';
  /** classification: cross-entropy label smoothing (`label_smoothing`, PyTorch semantics); 0 = off */
  labelSmoothing: number;
}

/** Tracker settings: `tracker: {project, workspace, url?, offline?, apiKey?}`. */
export interface TrackerConfig {
  project: string;
  workspace?: string;
  /** REST base URL; defaults to COMET_URL_OVERRIDE or the local server */
  url?: string;
  apiKey?: string;
  offline: boolean;
  /** false: no tracking at all */
  enabled: boolean;
}

/** The validated train config. Paths are absolute. */
export interface TrainConfig {
  /** path of the config file (or `<inline>`) */
  source: string;
  /** what is trained: `ocr` (text lines, CTC; the default) or `classify` (images -> one of N classes) */
  task: TaskName;
  /** data config path (`configs/data/<x>.yaml`) */
  data: string;
  /** prepared dataset folder override (default: from the data config) */
  prepared?: string;
  /** model config, as a plain mapping (inlined from `model:` file or mapping, overrides applied) */
  model: Record<string, unknown>;
  /** the model config file it came from, if any */
  modelSource?: string;
  optim: OptimConfig;
  train: LoopConfig;
  loss: LossConfig;
  tracker: TrackerConfig;
  /** decoding used for validation/evaluation metrics */
  decode: { method: 'greedy' | 'beam'; beamWidth: number };
  /** preferred TensorFlow.js backend (env OCROPS_BACKEND still overrides) */
  backend?: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** run folder, e.g. runs/<name> */
  out: string;
  /** experiment name in the tracker (default: basename of out) */
  name: string;
}

/**
 * Sweep parameter names (the reference CTCModel recipe and the Comet optimizer configs) -> dotted config keys.
 * `--set inner_dim=128` is the same as `--set model.inner_dim=128`.
 */
export const PARAM_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  inner_dim: 'model.inner_dim',
  lr: 'optim.lr',
  learning_rate: 'optim.lr',
  batch_size: 'train.batchSize',
  epochs: 'train.epochs',
  optimizer: 'optim.name',
  hidden: 'model.rnn.hidden',
  layers: 'model.rnn.layers',
  dropout: 'model.rnn.dropout',
  weight_decay: 'optim.weightDecay',
  rnn_type: 'model.rnn.type',
  patience: 'train.patience',
});

const TOP_KEYS = ['task', 'data', 'prepared', 'model', 'optim', 'train', 'loss', 'tracker', 'decode', 'backend', 'out', 'name'] as const;
const OPTIM_KEYS = ['name', 'lr', 'amsgrad', 'weightDecay', 'clipNorm', 'schedule'] as const;
const LOOP_KEYS = [
  'batchSize', 'epochs', 'patience', 'seed', 'evalEvery', 'logEvery', 'checkpointEvery', 'monitor', 'mode', 'augment',
  'maxStepsPerEpoch', 'maxValSamples', 'bucketWindow', 'ema', 'max_minutes',
] as const;
const TRACKER_KEYS = ['project', 'workspace', 'url', 'apiKey', 'offline', 'enabled'] as const;

/**
 * `train.mode` when the config gives none: the task's default monitor's direction; for a classifier's own monitor, max
 * unless it is a loss; for OCR, min (as always).
 */
function defaultMode(task: TaskName, monitor: string | undefined): 'min' | 'max' {
  if (monitor === undefined) return DEFAULT_MONITOR[task].mode;
  return task === 'classify' && !monitor.endsWith('_loss') ? 'max' : 'min';
}

/** Resolves a config-relative path: absolute as is, else from the current directory if it exists, else the repo root. */
export function resolvePath(p: string): string {
  if (isAbsolute(p)) return p;
  const fromCwd = resolve(p);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = join(repoRoot(), p);
  return existsSync(fromRoot) ? fromRoot : fromCwd;
}

/** Parses one `key=value` override; the value is a YAML scalar (`0.001`, `true`, `adam`, `[1,2]`). */
export function parseSet(expr: string, source = '--set'): { key: string; value: unknown } {
  const eq = expr.indexOf('=');
  if (eq <= 0) {
    throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `${source} '${expr}' is not of the form key=value`, {
      hint: 'e.g. --set optim.lr=0.001 or --set inner_dim=128',
    });
  }
  const rawKey = expr.slice(0, eq).trim();
  const key = PARAM_ALIASES[rawKey] ?? rawKey;
  const text = expr.slice(eq + 1);
  const value = text === '' ? '' : parseYamlText(text, `${source} ${rawKey}`);
  return { key, value };
}

/** Sets a dotted key in a plain object, creating intermediate mappings. */
export function setDotted(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) {
    throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `override key '${key}' has an empty component`);
  }
  let cur: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined || next === null) cur[p] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `override '${key}': '${p}' is not a mapping in the config`);
    }
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

function asMapping(v: unknown, what: string): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${what}: expected a mapping`);
  }
  return structuredClone(v) as Record<string, unknown>;
}

/**
 * Reads a train config file, inlines its model config, applies `key=value` overrides (dotted keys or aliases) and
 * validates the result. Errors name the file and field.
 */
export function loadTrainConfig(path: string, overrides: string[] = [], opts: { out?: string } = {}): TrainConfig {
  const file = resolvePath(path);
  if (!existsSync(file)) {
    throw new OcropsError('OCROPS_CONFIG_MISSING', `train config ${path} does not exist`, {
      hint: 'pass --config configs/train/<name>.yaml (see configs/train/)',
    });
  }
  const raw = asMapping(readYamlFile(file), file);
  return buildTrainConfig(raw, file, overrides, opts);
}

/** Same as `loadTrainConfig` for an in-memory mapping (`source` names it in errors). */
export function buildTrainConfig(
  rawIn: Record<string, unknown>,
  source: string,
  overrides: string[] = [],
  opts: { out?: string } = {},
): TrainConfig {
  const raw = structuredClone(rawIn);
  let modelSource: string | undefined;
  if (typeof raw.model === 'string') {
    modelSource = resolvePath(raw.model);
    if (!existsSync(modelSource)) {
      throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: field 'model' names ${raw.model}, which does not exist`, {
        hint: 'use a file under configs/model/ or an inline mapping',
      });
    }
    const file = asMapping(readYamlFile(modelSource), modelSource);
    // configs/model/*.yaml hold their fields under `model:` (or at the top level)
    raw.model = file.model !== undefined && file.arch === undefined ? asMapping(file.model, `${modelSource}: field 'model'`) : file;
  }
  for (const o of overrides) {
    const { key, value } = parseSet(o);
    const top = key.split('.')[0];
    if (!(TOP_KEYS as readonly string[]).includes(top)) {
      throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `override '${o}': '${top}' is not a train config section`, {
        hint: `use one of ${TOP_KEYS.join(', ')} or an alias (${Object.keys(PARAM_ALIASES).join(', ')})`,
      });
    }
    setDotted(raw, key, value);
  }
  const r = ConfigReader.from(raw, source).only(TOP_KEYS);
  const task = r.oneOf('task', TASK_NAMES, 'ocr');
  const data = resolvePath(r.string('data'));
  if (!existsSync(data)) {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: field 'data' names ${r.string('data')}, which does not exist`, {
      hint: 'point it at a data config under configs/data/',
    });
  }
  const prepared = r.optionalString('prepared');
  if (!r.has('model')) r.fail('model', 'is required (a configs/model/<x>.yaml path or an inline mapping)');
  const model = asMapping(raw.model, `${modelSource ?? source}: field 'model'`);

  const o = r.section('optim').only(OPTIM_KEYS);
  const optim: OptimConfig = {
    name: o.oneOf('name', ['adam', 'rmsprop'] as const, 'adam'),
    lr: o.number('lr', 1e-3, { min: 0 }),
    amsgrad: o.boolean('amsgrad', false),
    schedule: constantSchedule(),
    weightDecay: o.number('weightDecay', 0, { min: 0 }),
    clipNorm: o.number('clipNorm', 0, { min: 0 }),
  };
  if (optim.lr <= 0) o.fail('lr', `must be > 0, got ${optim.lr}`);
  if (optim.amsgrad && optim.name !== 'adam') o.fail('amsgrad', `is an Adam variant; optim.name is '${optim.name}'`);
  if (o.has('schedule')) {
    const raw = o.raw('schedule');
    optim.schedule = typeof raw === 'string'
      ? readScheduleConfig(ConfigReader.from({ type: raw }, `${source} (optim.schedule)`))
      : readScheduleConfig(o.section('schedule'));
  }

  const t = r.section('train').only(LOOP_KEYS);
  const train: LoopConfig = {
    batchSize: t.integer('batchSize', 32, { min: 1 }),
    epochs: t.integer('epochs', 10, { min: 1 }),
    patience: t.integer('patience', 0, { min: 0 }),
    seed: t.integer('seed', 42),
    evalEvery: t.integer('evalEvery', 0, { min: 0 }),
    logEvery: t.integer('logEvery', 10, { min: 1 }),
    checkpointEvery: t.integer('checkpointEvery', 0, { min: 0 }),
    monitor: t.string('monitor', DEFAULT_MONITOR[task].metric),
    mode: t.oneOf('mode', ['min', 'max'] as const, defaultMode(task, t.has('monitor') ? t.string('monitor') : undefined)),
    augment: t.boolean('augment', true),
    maxStepsPerEpoch: t.integer('maxStepsPerEpoch', 0, { min: 0 }),
    maxValSamples: t.integer('maxValSamples', 0, { min: 0 }),
    bucketWindow: t.integer('bucketWindow', 20, { min: 0 }),
    ema: t.number('ema', 0, { min: 0, max: 0.999999 }),
    maxMinutes: t.number('max_minutes', 0, { min: 0 }),
  };
  if (!/^(train|val)_[a-z0-9_]+$/.test(train.monitor)) {
    t.fail('monitor', `must name a train_* or val_* metric (e.g. val_loss, val_acc_by_char), got '${train.monitor}'`);
  }

  const l = r.section('loss').only(['reduction', 'label_smoothing']);
  const loss: LossConfig = {
    reduction: l.oneOf('reduction', ['mean', 'sum'] as const, 'mean'),
    labelSmoothing: l.number('label_smoothing', 0, { min: 0, max: 0.999 }),
  };
  if (loss.labelSmoothing > 0 && task !== 'classify') l.fail('label_smoothing', 'applies to `task: classify` only');

  const k = r.section('tracker').only(TRACKER_KEYS);
  const tracker: TrackerConfig = {
    project: k.string('project', 'ocr'),
    workspace: k.optionalString('workspace'),
    url: k.optionalString('url'),
    apiKey: k.optionalString('apiKey'),
    offline: k.boolean('offline', false),
    enabled: k.boolean('enabled', true),
  };

  const d = r.section('decode').only(['method', 'beamWidth']);
  const decode = {
    method: d.oneOf('method', ['greedy', 'beam'] as const, 'greedy'),
    beamWidth: d.integer('beamWidth', 10, { min: 1 }),
  };
  const backend = r.has('backend')
    ? r.oneOf('backend', ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const)
    : undefined;
  const outRel = opts.out ?? r.string('out', `runs/${basename(source).replace(/\.(ya?ml|json)$/, '')}`);
  const out = isAbsolute(outRel) ? outRel : resolve(outRel);
  const name = r.string('name', basename(out));
  return {
    source, task, data, prepared: prepared ? resolvePath(prepared) : undefined, model, modelSource, optim, train, loss, tracker,
    decode, backend, out, name,
  };
}

/** The flat parameter dict logged to the tracker (sweep aliases included so runs compare by `inner_dim`, `lr`...). */
export function flatParameters(cfg: TrainConfig): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else if (v !== undefined) flat[prefix] = Array.isArray(v) ? JSON.stringify(v) : v;
  };
  walk('model', cfg.model);
  walk('optim', cfg.optim);
  walk('train', cfg.train);
  walk('loss', cfg.loss);
  walk('decode', cfg.decode);
  flat.task = cfg.task;
  flat.data = relativeToRoot(cfg.data);
  if (cfg.prepared) flat.prepared = relativeToRoot(cfg.prepared);
  if (cfg.modelSource) flat.model_config = relativeToRoot(cfg.modelSource);
  for (const [alias, key] of Object.entries(PARAM_ALIASES)) {
    if (alias === 'learning_rate') continue;
    if (flat[key] !== undefined) flat[alias] = flat[key];
  }
  return flat;
}

/** A path relative to the repo root when it is inside it (for logs and reports). */
export function relativeToRoot(p: string): string {
  const root = repoRoot();
  return p.startsWith(root + '/') ? p.slice(root.length + 1) : p;
}
