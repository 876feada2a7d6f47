// Learning-rate schedules: the lr of each optimiser step (steps count from 0), with an optional linear warm-up.
//   constant   lr
//   step       lr * gamma^floor((step - warmup) / stepSize)            (PyTorch StepLR, counted in steps)
//   cosine     minLr + (lr - minLr) * (1 + cos(pi * t)) / 2, t = (step - warmup) / (total - warmup)  (CosineAnnealingLR)
//   onecycle   PyTorch OneCycleLR (cosine annealing): lr/divFactor -> lr over pctStart of the run -> lr/(divFactor*finalDivFactor)
//   plateau    lr * factor^k, k = reductions so far: ReduceLROnPlateau on the monitored metric, decided at epoch ends
// The warm-up ramps linearly from lr * warmupStart to the schedule's value over `warmupSteps` (not used by onecycle,
// which has its own ramp).
// `horizon: time` (cosine, onecycle; needs `train.max_minutes`) sets the schedule's total to the steps that fit in the
// time budget, estimated from the pace so far ({@link budgetSteps}), so a run cut by its budget still anneals.
import { Type, type Static } from '@sinclair/typebox';
import { OcropsError, camelizeConfig, validateConfig, type Camelized, type ReportIssue } from '@ocrops/common';

export type ScheduleType = 'constant' | 'step' | 'cosine' | 'onecycle' | 'plateau';
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['constant', 'step', 'cosine', 'onecycle', 'plateau'];

/** `optim.schedule: {type, warmup_steps, ...}` (or just the type name). */
export const ScheduleSchema = Type.Object(
  {
    type: Type.Union(
      SCHEDULE_TYPES.map((t) => Type.Literal(t)),
      { default: 'constant' },
    ),
    /** linear warm-up steps (constant, step, cosine, plateau); 0 = none */
    warmup_steps: Type.Integer({ minimum: 0, default: 0 }),
    /** warm-up starts at lr * warmup_start */
    warmup_start: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
    /** step: steps between decays */
    step_size: Type.Integer({ minimum: 1, default: 1000 }),
    /** step: decay factor */
    gamma: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /** cosine: final lr */
    min_lr: Type.Number({ minimum: 0, default: 0 }),
    /** onecycle: share of the steps spent rising */
    pct_start: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
    /** onecycle: initial lr = lr / div_factor */
    div_factor: Type.Number({ minimum: 1, default: 25 }),
    /** onecycle: final lr = initial lr / final_div_factor */
    final_div_factor: Type.Number({ minimum: 1, default: 1e4 }),
    /** plateau: lr multiplier on each reduction */
    factor: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /** plateau: epochs without improvement before a reduction */
    patience: Type.Integer({ minimum: 0, default: 10 }),
    /** plateau: relative improvement needed to count as better (PyTorch threshold, mode 'rel') */
    threshold: Type.Number({ minimum: 0, default: 1e-4 }),
    /** plateau: lower bound of the lr */
    floor_lr: Type.Number({ minimum: 0, default: 0 }),
    /**
     * cosine, onecycle: what the schedule spans. `steps`: epochs x batches per epoch; `time`: the steps that fit in
     * `train.max_minutes` at the pace so far (the lr then depends on the machine's speed).
     */
    horizon: Type.Union([Type.Literal('steps'), Type.Literal('time')], { default: 'steps' }),
  },
  { default: {} },
);

/** A resolved schedule (camelCase properties). */
export type ScheduleConfig = Camelized<Static<typeof ScheduleSchema>> & { type: ScheduleType };

/** Keys each schedule type reads besides `type` (others are reported as unused). */
const USED: Record<ScheduleType, readonly string[]> = {
  constant: ['warmup_steps', 'warmup_start'],
  step: ['warmup_steps', 'warmup_start', 'step_size', 'gamma'],
  cosine: ['warmup_steps', 'warmup_start', 'min_lr', 'horizon'],
  onecycle: ['pct_start', 'div_factor', 'final_div_factor', 'horizon'],
  plateau: ['warmup_steps', 'warmup_start', 'factor', 'patience', 'threshold', 'floor_lr'],
};

/** The constant schedule without warm-up (what a config without `optim.schedule` gets). */
export function constantSchedule(): ScheduleConfig {
  return readScheduleConfig({}, '<default>');
}

/**
 * The checks between the fields of a schedule: only the keys its type reads may be written (`given`: the section
 * before defaults), and no factor may drop the lr to 0. `at` prefixes the reported paths.
 */
export function checkSchedule(
  s: Static<typeof ScheduleSchema>,
  given: unknown,
  report: ReportIssue,
  at: readonly string[] = [],
): void {
  const written = given && typeof given === 'object' ? Object.keys(given) : [];
  for (const k of written) {
    if (k !== 'type' && !USED[s.type].includes(k)) {
      report([...at, k], `is not used by schedule type '${s.type}'`, USED[s.type].join(', '));
    }
  }
  if (s.type === 'step' && s.gamma === 0) report([...at, 'gamma'], 'must be > 0 (the lr would drop to 0)');
  if (s.type === 'plateau' && s.factor === 0) report([...at, 'factor'], 'must be > 0 (the lr would drop to 0)');
  if (s.type === 'onecycle' && (s.pct_start <= 0 || s.pct_start >= 1))
    report([...at, 'pct_start'], `must be in (0, 1), got ${s.pct_start}`);
}

/** Reads `optim.schedule` on its own (a type name or a mapping); errors name the source and field. */
export function readScheduleConfig(value: unknown, source: string): ScheduleConfig {
  const v = typeof value === 'string' ? { type: value } : value;
  const s = validateConfig(ScheduleSchema, v, { source, check: (x, report, given) => checkSchedule(x, given, report) });
  return camelizeConfig(ScheduleSchema, s) as ScheduleConfig;
}

/**
 * The schedule's total steps under `horizon: time`: the steps that fit in `budgetSeconds` at the pace of the first
 * `step` steps in `elapsedSeconds` (validation time included), at most `totalSteps` (the epochs' end) and at least
 * `step + 1` (past the budget the schedule stays at its end).
 */
export function budgetSteps(step: number, elapsedSeconds: number, budgetSeconds: number, totalSteps: number): number {
  if (step <= 0 || elapsedSeconds <= 0) return totalSteps;
  const fit = Math.round((step * budgetSeconds) / elapsedSeconds);
  return Math.max(Math.min(fit, totalSteps), step + 1);
}

/** Plateau state carried across epochs (saved in checkpoints so a resumed run continues the same schedule). */
export interface PlateauState {
  /** lr = base lr * scale */
  scale: number;
  best: number | null;
  badEpochs: number;
}

export function freshPlateau(): PlateauState {
  return { scale: 1, best: null, badEpochs: 0 };
}

/**
 * The lr of optimiser step `step` (0-based) out of `totalSteps`, for base lr `lr`. `plateau` gives the current reduced
 * lr (`plateau.scale`), updated by {@link plateauEpochEnd}.
 */
export function lrAt(s: ScheduleConfig, lr: number, step: number, totalSteps: number, plateau?: PlateauState): number {
  if (step < 0 || !Number.isInteger(step))
    throw new OcropsError('OCROPS_TRAIN_SCHEDULE', `step must be an integer >= 0, got ${step}`);
  if (s.type === 'onecycle') return oneCycle(s, lr, step, totalSteps);
  let v: number;
  const after = step - s.warmupSteps;
  switch (s.type) {
    case 'constant':
      v = lr;
      break;
    case 'step':
      v = lr * Math.pow(s.gamma, Math.floor(Math.max(after, 0) / s.stepSize));
      break;
    case 'cosine': {
      const span = Math.max(totalSteps - s.warmupSteps, 1);
      const t = Math.min(Math.max(after, 0) / span, 1);
      v = s.minLr + ((lr - s.minLr) * (1 + Math.cos(Math.PI * t))) / 2;
      break;
    }
    case 'plateau':
      v = Math.max(lr * (plateau?.scale ?? 1), s.floorLr);
      break;
  }
  if (step < s.warmupSteps) {
    const f = s.warmupStart + ((1 - s.warmupStart) * step) / s.warmupSteps;
    return v * f;
  }
  return v;
}

/** PyTorch OneCycleLR with cosine annealing: up from lr/div over the first pctStart of the steps, then down. */
function oneCycle(s: ScheduleConfig, lr: number, step: number, totalSteps: number): number {
  const initial = lr / s.divFactor;
  const final = initial / s.finalDivFactor;
  const upEnd = s.pctStart * totalSteps - 1;
  const downEnd = totalSteps - 1;
  const cos = (a: number, b: number, t: number) =>
    b + ((a - b) * (1 + Math.cos(Math.PI * Math.min(Math.max(t, 0), 1)))) / 2;
  if (step <= upEnd) return cos(initial, lr, upEnd > 0 ? step / upEnd : 1);
  return cos(lr, final, downEnd > upEnd ? (step - upEnd) / (downEnd - upEnd) : 1);
}

/**
 * ReduceLROnPlateau's epoch-end rule: if `value` did not improve on the best by `threshold` (relative) for more than
 * `patience` epochs, multiply the lr by `factor` and reset the count. Returns true when the lr was reduced.
 */
export function plateauEpochEnd(s: ScheduleConfig, state: PlateauState, value: number, mode: 'min' | 'max'): boolean {
  if (!Number.isFinite(value)) {
    state.badEpochs += 1;
  } else if (
    state.best === null ||
    (mode === 'min' ? value < state.best * (1 - s.threshold) : value > state.best * (1 + s.threshold))
  ) {
    state.best = value;
    state.badEpochs = 0;
    return false;
  } else {
    state.badEpochs += 1;
  }
  if (state.badEpochs > s.patience) {
    state.scale *= s.factor;
    state.badEpochs = 0;
    return true;
  }
  return false;
}
