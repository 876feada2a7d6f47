// Train config (YAML): one TypeBox schema, loading, `--set` overrides and the sweep's parameter aliases.
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import {
  OcropsError,
  camelToSnake,
  camelizeConfig,
  parseYamlText,
  readConfigDocument,
  repoRoot,
  snakeizeConfig,
  validateConfig,
  warnOnce,
  type Camelized,
  type ConfigDocument,
  type ConfigLocator,
  type ReportIssue,
} from '@ocrops/common';
import {
  ClassifierModelSchema,
  LM_FILE,
  ModelSchema,
  checkClassifierSection,
  checkModelSection,
  type ClassifierModelYaml,
  type CtcDecoding,
  type ModelYaml,
} from '@ocrops/model';
import { ScheduleSchema, checkSchedule, type ScheduleConfig } from './schedule.js';
import { DEFAULT_MONITOR, TASK_NAMES } from './tasks/names.js';
import type { TaskName } from './tasks/task.js';

const literals = <T extends string>(values: readonly T[], opts: object = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    opts,
  );

/** Optimiser settings: `optim: {name, lr, amsgrad, weight_decay, clip_norm, schedule}`. */
export const OptimSchema = Type.Object(
  {
    name: literals(['adam', 'rmsprop'] as const, { default: 'adam' }),
    /** base learning rate (the peak of `onecycle`) */
    lr: Type.Number({ exclusiveMinimum: 0, default: 1e-3 }),
    /** adam only: the AMSGrad variant (PyTorch `Adam(amsgrad=True)`) */
    amsgrad: Type.Boolean({ default: false }),
    /** lr per step: constant (default), step, cosine, onecycle or plateau, with optional linear warm-up */
    schedule: ScheduleSchema,
    /** L2 penalty added to the gradient (PyTorch `weight_decay` semantics); 0 = off */
    weight_decay: Type.Number({ minimum: 0, default: 0 }),
    /** clip gradients to this global L2 norm; 0 = off */
    clip_norm: Type.Number({ minimum: 0, default: 0 }),
  },
  { default: {} },
);

/** Loop settings: `train: {...}`. Steps count optimiser updates (batches), from 0. */
export const LoopSchema = Type.Object(
  {
    batch_size: Type.Integer({ minimum: 1, default: 32 }),
    epochs: Type.Integer({ minimum: 1, default: 10 }),
    /** early stopping: epochs without improvement of `monitor` before stopping; 0 = off */
    patience: Type.Integer({ minimum: 0, default: 0 }),
    seed: Type.Integer({ default: 42 }),
    /** evaluate on the validation split every N steps as well as at each epoch end; 0 = only at epoch ends */
    eval_every: Type.Integer({ minimum: 0, default: 0 }),
    /** log step metrics (train_loss, lr, images_per_second) every N steps */
    log_every: Type.Integer({ minimum: 1, default: 10 }),
    /** write the `last` checkpoint every N steps as well as at each epoch end; 0 = only at epoch ends */
    checkpoint_every: Type.Integer({ minimum: 0, default: 0 }),
    /** metric that selects the best model, one the task logs at epoch ends (see MONITOR_METRICS) */
    monitor: Type.String({ default: 'val_loss' }),
    mode: literals(['min', 'max'] as const, { default: 'min' }),
    /** apply the data config's `augment` section to training batches (seeded per sample and epoch by @ocrops/data) */
    augment: Type.Boolean({ default: true }),
    /** batches per epoch, like Keras' steps_per_epoch (each epoch draws a new shuffle); 0 = the whole split */
    max_steps_per_epoch: Type.Integer({ minimum: 0, default: 0 }),
    /** cap on validation lines per evaluation; 0 = the whole split */
    max_val_samples: Type.Integer({ minimum: 0, default: 0 }),
    /**
     * width bucketing of training batches: each window of this many shuffled batches is sorted by image width before it
     * is cut into batches (whose order is then reshuffled), so lines of mixed widths pad less; 0 or 1 = off
     */
    bucket_window: Type.Integer({ minimum: 0, default: 20 }),
    /**
     * repeat-factor sampling of training lines (as in LVIS): a line holding a character that appears in a share f < t
     * of the lines is drawn about sqrt(t / f) times per epoch, so rare characters are seen more often; 0 = off
     */
    repeat_threshold: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /**
     * a training split that mixes read lines with generated ones (the data config's `synthetic.mix_train`): each read
     * line is drawn this many times per epoch (times its `repeat_threshold` factor), so that a few thousand real images
     * are not drowned by tens of thousands of generated ones; 1 = off
     */
    real_repeat: Type.Number({ minimum: 1, maximum: 100, default: 1 }),
    /**
     * exponential moving average of the trainable weights, decay per step (e.g. 0.999); validation, the best model and
     * the export use the averaged weights; 0 = off
     */
    ema: Type.Number({ minimum: 0, maximum: 0.999999, default: 0 }),
    /** time budget of the run in minutes: the current epoch ends early, is validated, and the run ends; 0 = none */
    max_minutes: Type.Number({ minimum: 0, default: 0 }),
    /**
     * fine-tuning: a new run starts from the weights of this saved model (a model folder such as runs/<name>/best, or
     * the run folder) instead of random values; weights of the same name and shape are copied, and the output layer
     * only when the labels (charset or classes) are the same. `--resume` continues from the checkpoint instead.
     */
    init_from: Type.Optional(Type.String({ minLength: 1 })),
  },
  { default: {} },
);

/** Loss settings: `loss: {reduction, label_smoothing, cutmix, cutmix_alpha}`. */
export const LossSchema = Type.Object(
  {
    /** CTC: `mean`: each line's loss divided by its label length, averaged over the batch (PyTorch's default); `sum`: summed */
    reduction: literals(['mean', 'sum'] as const, { default: 'mean' }),
    /** classification: cross-entropy label smoothing (PyTorch semantics); 0 = off */
    label_smoothing: Type.Number({ minimum: 0, maximum: 0.999, default: 0 }),
    /**
     * classification: share of training batches mixed by CutMix (a box of each image replaced by the same box of
     * another image of the batch, the loss weighted by the pixel shares of both labels); 0 = off
     */
    cutmix: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /** CutMix: the box's area share is 1 - lambda with lambda ~ Beta(cutmix_alpha, cutmix_alpha) */
    cutmix_alpha: Type.Number({ exclusiveMinimum: 0, default: 1 }),
  },
  { default: {} },
);

/** Tracker settings: `tracker: {project, workspace, url, offline, api_key, enabled}`. */
export const TrackerSchema = Type.Object(
  {
    project: Type.String({ default: 'ocr' }),
    workspace: Type.Optional(Type.String()),
    /** REST base URL; defaults to COMET_URL_OVERRIDE or the local server */
    url: Type.Optional(Type.String()),
    api_key: Type.Optional(Type.String()),
    offline: Type.Boolean({ default: false }),
    /** false: no tracking at all */
    enabled: Type.Boolean({ default: true }),
  },
  { default: {} },
);

/** Decoding used for validation/evaluation metrics. */
export const DecodeSchema = Type.Object(
  {
    method: literals(['greedy', 'beam'] as const, { default: 'greedy' }),
    beam_width: Type.Integer({ minimum: 1, default: 10 }),
    /**
     * beam search only: a character n-gram language model estimated from the training split's labels, saved with the
     * model (`lm.json`) and fused into the search (a prefix gains weight * log P_lm + bonus per character)
     */
    lm: Type.Object(
      {
        /** n of the n-gram; 0 = no language model */
        order: Type.Integer({ minimum: 0, default: 0 }),
        weight: Type.Number({ minimum: 0, default: 0.5 }),
        bonus: Type.Number({ default: 2 }),
        /**
         * groups of interchangeable characters, each counted by the model as one token whose probability its
         * characters share equally (e.g. ['0123456789'] for numbers that follow no pattern); [] = none
         */
        groups: Type.Array(Type.String({ minLength: 2 }), { default: [] }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

/** A train config (configs/train/*.yaml) after its `model:` file is inlined and the `--set` overrides applied. */
export const TrainSchema = Type.Object({
  /** what is trained: `ocr` (text lines, CTC) or `classify` (images -> one of N classes) */
  task: literals(TASK_NAMES, { default: 'ocr' }),
  /** data config path (`configs/data/<x>.yaml`) */
  data: Type.String(),
  /** prepared dataset folder override (default: from the data config) */
  prepared: Type.Optional(Type.String()),
  /** the model section (inlined from a configs/model/*.yaml path) */
  model: ModelSchema,
  optim: OptimSchema,
  train: LoopSchema,
  loss: LossSchema,
  tracker: TrackerSchema,
  decode: DecodeSchema,
  /** preferred TensorFlow.js backend (env OCROPS_BACKEND still overrides) */
  backend: Type.Optional(literals(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const)),
  /** run folder (default runs/<config name>) */
  out: Type.Optional(Type.String()),
  /** experiment name in the tracker (default: basename of out) */
  name: Type.Optional(Type.String()),
});

/** A classifier's train config: the same sections, with @ocrops/model's classifier model schema for `model`. */
const ClassifyTrainSchema = Type.Object({
  ...TrainSchema.properties,
  model: ClassifierModelSchema,
});

export type { ClassifierModelYaml };

export type TrainYaml = Static<typeof TrainSchema>;
export type OptimConfig = Omit<Camelized<Static<typeof OptimSchema>>, 'schedule'> & { schedule: ScheduleConfig };
export type LoopConfig = Camelized<Static<typeof LoopSchema>>;
export type LossConfig = Camelized<Static<typeof LossSchema>>;
export type TrackerConfig = Camelized<Static<typeof TrackerSchema>>;

/** The validated train config (camelCase properties; the model section keeps its YAML keys). Paths are absolute. */
export type TrainConfig = Omit<Camelized<TrainYaml>, 'model' | 'optim' | 'out' | 'name'> & {
  /** path of the config file (or `<inline>`) */
  source: string;
  /** the model section as written (validated; `taskModelConfigOf` resolves the architecture's defaults) */
  model: ModelYaml | ClassifierModelYaml;
  /** the model config file it came from, if any */
  modelSource?: string;
  optim: OptimConfig;
  /** run folder, e.g. runs/<name> */
  out: string;
  /** experiment name in the tracker (default: basename of out) */
  name: string;
};

/**
 * The metrics each task logs at epoch ends, each with the mode that improves it: `train.monitor` must be one of its
 * task's (checked when the config loads, not after the first epoch).
 */
export const MONITOR_METRICS: Readonly<Record<TaskName, Readonly<Record<string, 'min' | 'max'>>>> = Object.freeze({
  ocr: {
    train_loss: 'min',
    train_acc_by_char: 'max',
    train_acc_by_field: 'max',
    val_loss: 'min',
    val_acc_by_char: 'max',
    val_acc_by_field: 'max',
    val_cer: 'min',
    val_wer: 'min',
  },
  classify: {
    train_loss: 'min',
    train_top1: 'max',
    train_top5: 'max',
    val_loss: 'min',
    val_top1: 'max',
    val_top5: 'max',
  },
});

/**
 * Sweep parameter names (the reference CTCModel recipe and the Comet optimizer configs) -> dotted config keys.
 * `--set inner_dim=128` is the same as `--set model.inner_dim=128`.
 */
export const PARAM_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  inner_dim: 'model.inner_dim',
  lr: 'optim.lr',
  learning_rate: 'optim.lr',
  batch_size: 'train.batch_size',
  epochs: 'train.epochs',
  optimizer: 'optim.name',
  hidden: 'model.rnn.hidden',
  layers: 'model.rnn.layers',
  dropout: 'model.rnn.dropout',
  weight_decay: 'optim.weight_decay',
  rnn_type: 'model.rnn.type',
  patience: 'train.patience',
});

const TOP_KEYS = Object.keys(TrainSchema.properties);

/** Resolves a config-relative path: absolute as is, else from the current directory if it exists, else the repo root. */
export function resolvePath(p: string): string {
  if (isAbsolute(p)) return p;
  const fromCwd = resolve(p);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = join(repoRoot(), p);
  return existsSync(fromRoot) ? fromRoot : fromCwd;
}

/**
 * Parses one `key=value` override; the value is a YAML scalar (`0.001`, `true`, `adam`, `[1,2]`). The key is an alias
 * or a dotted path; camelCase components (the old key names, e.g. `train.batchSize`) become snake_case with a warning.
 */
export function parseSet(
  expr: string,
  source = '--set',
  warn: (m: string) => void = warnOnce,
): { key: string; value: unknown } {
  const eq = expr.indexOf('=');
  if (eq <= 0) {
    throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `${source} '${expr}' is not of the form key=value`, {
      hint: 'e.g. --set optim.lr=0.001 or --set inner_dim=128',
    });
  }
  const rawKey = expr.slice(0, eq).trim();
  let key = PARAM_ALIASES[rawKey] ?? rawKey;
  const snake = key.split('.').map(camelToSnake).join('.');
  if (snake !== key) {
    warn(`${source} ${rawKey}: ${key} is deprecated, use ${snake}`);
    key = snake;
  }
  const text = expr.slice(eq + 1);
  const value = text === '' ? '' : parseYamlText(text, `${source} ${rawKey}`);
  return { key, value };
}

/** Sets a dotted key in a plain object, creating intermediate mappings; a null value removes the key. */
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
  // `key=null` (YAML null) removes the key, so the field takes its default (e.g. `model.depth=null` for an arch without one)
  if (value === null) delete cur[parts[parts.length - 1]];
  else cur[parts[parts.length - 1]] = value;
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
 * validates the result. Errors list every problem as file:line:col: field.
 */
export function loadTrainConfig(path: string, overrides: string[] = [], opts: { out?: string } = {}): TrainConfig {
  const file = resolvePath(path);
  if (!existsSync(file)) {
    throw new OcropsError('OCROPS_CONFIG_MISSING', `train config ${path} does not exist`, {
      hint: 'pass --config configs/train/<name>.yaml (see configs/train/)',
    });
  }
  const doc = readConfigDocument(file);
  return buildTrainConfig(asMapping(doc.value, file), file, overrides, { ...opts, locate: doc.locate });
}

/** The checks of a train config that its schema cannot express: files that must exist, the model, schedule and monitor. */
function checkTrainConfig(v: TrainYaml, report: ReportIssue, given: unknown): void {
  if (!existsSync(resolvePath(v.data)))
    report(['data'], `names ${v.data}, which does not exist`, 'a data config under configs/data/');
  if (v.train.init_from !== undefined && !existsSync(resolvePath(v.train.init_from)))
    report(
      ['train', 'init_from'],
      `names ${v.train.init_from}, which does not exist`,
      'a saved model folder, e.g. runs/<name>/best',
    );
  if (v.task === 'classify') checkClassifierSection(v.model as unknown as ClassifierModelYaml, report, ['model']);
  else checkModelSection(v.model, report, ['model']);
  const g = given as { optim?: { schedule?: unknown } };
  checkSchedule(v.optim.schedule, g.optim?.schedule ?? {}, report, ['optim', 'schedule']);
  if (v.optim.schedule.horizon === 'time' && !(v.train.max_minutes > 0))
    report(['optim', 'schedule', 'horizon'], "is 'time', which spans train.max_minutes; set train.max_minutes > 0");
  if (v.optim.amsgrad && v.optim.name !== 'adam')
    report(['optim', 'amsgrad'], `is an Adam variant; optim.name is '${v.optim.name}'`);
  // text-line sampling options: their schema defaults turn them off
  for (const key of ['repeat_threshold', 'real_repeat'] as const) {
    if (v.task === 'classify' && v.train[key] !== LoopSchema.properties[key].default)
      report(['train', key], 'applies to `task: ocr` only');
  }
  if (v.decode.lm.order > 0 && v.task === 'classify') report(['decode', 'lm', 'order'], 'applies to `task: ocr` only');
  else if (v.decode.lm.order > 0 && v.decode.method !== 'beam')
    report(['decode', 'lm', 'order'], 'fuses a language model into the beam search; set decode.method: beam', 'beam');
  for (const key of ['label_smoothing', 'cutmix'] as const) {
    if (v.loss[key] > 0 && v.task !== 'classify') report(['loss', key], 'applies to `task: classify` only');
  }
  const metrics = MONITOR_METRICS[v.task];
  const want = metrics[v.train.monitor];
  if (want === undefined) {
    report(
      ['train', 'monitor'],
      `is not a metric the ${v.task === 'ocr' ? 'OCR' : 'classification'} task logs, got '${v.train.monitor}'`,
      Object.keys(metrics).join(', '),
    );
  } else if (want !== v.train.mode) {
    report(
      ['train', 'mode'],
      `is '${v.train.mode}', but ${v.train.monitor} improves when it goes ${want === 'min' ? 'down' : 'up'}`,
      want,
    );
  }
}

/**
 * `train.monitor` defaults to the task's own metric (val_top1 for a classifier) and `train.mode` to the direction that
 * improves the monitor, so a config that sets only `monitor: val_acc_by_char` needs no `mode: max`.
 */
function applyTaskDefaults(raw: Record<string, unknown>): void {
  const task: TaskName = raw.task === 'classify' ? 'classify' : 'ocr';
  if (raw.train !== undefined && (typeof raw.train !== 'object' || raw.train === null || Array.isArray(raw.train)))
    return;
  const loop = (raw.train ?? {}) as Record<string, unknown>;
  if (loop.monitor === undefined) loop.monitor = DEFAULT_MONITOR[task].metric;
  if (loop.mode === undefined && typeof loop.monitor === 'string') {
    loop.mode = MONITOR_METRICS[task][loop.monitor] ?? DEFAULT_MONITOR[task].mode;
  }
  raw.train = loop;
}

/**
 * Same as `loadTrainConfig` for an in-memory mapping (`source` names it in errors; `locate` gives the positions of its
 * keys when it was read from a file).
 */
export function buildTrainConfig(
  rawIn: Record<string, unknown>,
  source: string,
  overrides: string[] = [],
  opts: { out?: string; locate?: ConfigLocator } = {},
): TrainConfig {
  const raw = structuredClone(rawIn);
  let modelSource: string | undefined;
  let modelDoc: { doc: ConfigDocument; at: string[] } | undefined;
  if (typeof raw.model === 'string') {
    modelSource = resolvePath(raw.model);
    if (!existsSync(modelSource)) {
      throw new OcropsError(
        'OCROPS_CONFIG_INVALID',
        `${source}: field 'model' names ${raw.model}, which does not exist`,
        {
          hint: 'use a file under configs/model/ or an inline mapping',
        },
      );
    }
    const doc = readConfigDocument(modelSource);
    const file = asMapping(doc.value, modelSource);
    // configs/model/*.yaml hold their fields under `model:` (or at the top level)
    const nested = file.model !== undefined && file.arch === undefined;
    raw.model = nested ? asMapping(file.model, `${modelSource}: field 'model'`) : file;
    modelDoc = { doc, at: nested ? ['model'] : [] };
  }
  const overridden: { key: string; expr: string }[] = [];
  for (const o of overrides) {
    const { key, value } = parseSet(o);
    const top = key.split('.')[0];
    if (!TOP_KEYS.includes(top)) {
      throw new OcropsError('OCROPS_CONFIG_OVERRIDE', `override '${o}': '${top}' is not a train config section`, {
        hint: `use one of ${TOP_KEYS.join(', ')} or an alias (${Object.keys(PARAM_ALIASES).join(', ')})`,
      });
    }
    setDotted(raw, key, value);
    overridden.push({ key, expr: o });
  }
  // `schedule: cosine` is short for `schedule: {type: cosine}`
  if (
    typeof raw.optim === 'object' &&
    raw.optim !== null &&
    typeof (raw.optim as Record<string, unknown>).schedule === 'string'
  ) {
    (raw.optim as Record<string, unknown>).schedule = { type: (raw.optim as Record<string, unknown>).schedule };
  }
  if (raw.model === undefined || raw.model === null) {
    throw new OcropsError(
      'OCROPS_CONFIG_INVALID',
      `${source}: field 'model' is required (a configs/model/<x>.yaml path or an inline mapping)`,
    );
  }
  const locate: ConfigLocator = (path) => {
    const dotted = path.join('.');
    const o = overridden.findLast((x) => dotted === x.key || dotted.startsWith(`${x.key}.`));
    if (o) return { file: `--set ${o.expr}`, line: 0, col: 0 };
    if (path[0] === 'model' && modelDoc) return modelDoc.doc.locate([...modelDoc.at, ...path.slice(1)]);
    return opts.locate?.(path);
  };
  applyTaskDefaults(raw);
  const schema = raw.task === 'classify' ? ClassifyTrainSchema : TrainSchema;
  const v = validateConfig(schema as typeof TrainSchema, raw, { source, locate, check: checkTrainConfig });
  const { model, out: outYaml, name: nameYaml, ...rest } = v;
  const cfg = camelizeConfig(TrainSchema, { ...rest, model } as TrainYaml);
  const outRel = opts.out ?? outYaml ?? `runs/${basename(source).replace(/\.(ya?ml|json)$/, '')}`;
  const out = isAbsolute(outRel) ? outRel : resolve(outRel);
  return {
    ...cfg,
    train: { ...cfg.train, initFrom: v.train.init_from === undefined ? undefined : resolvePath(v.train.init_from) },
    source,
    data: resolvePath(v.data),
    prepared: v.prepared ? resolvePath(v.prepared) : undefined,
    model,
    modelSource,
    optim: cfg.optim as OptimConfig,
    out,
    name: nameYaml ?? basename(out),
  };
}

/** The decoding a train config's `decode` section asks for (its language model, if any, in the model's `lm.json`). */
export function ctcDecodingOf(d: TrainConfig['decode']): CtcDecoding {
  return {
    method: d.method,
    beamWidth: d.beamWidth,
    ...(d.method === 'beam' && d.lm.order > 0
      ? { lm: { order: d.lm.order, weight: d.lm.weight, bonus: d.lm.bonus, file: LM_FILE } }
      : {}),
  };
}

/** The flat parameter dict logged to the tracker, with the YAML key names (sweep aliases included so runs compare by `inner_dim`, `lr`...). */
export function flatParameters(cfg: TrainConfig): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else if (v !== undefined) flat[prefix] = Array.isArray(v) ? JSON.stringify(v) : v;
  };
  const yaml = snakeizeConfig(TrainSchema, {
    optim: cfg.optim,
    train: cfg.train,
    loss: cfg.loss,
    decode: cfg.decode,
  }) as Record<string, unknown>;
  walk('model', cfg.model);
  for (const k of ['optim', 'train', 'loss', 'decode']) walk(k, yaml[k]);
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
