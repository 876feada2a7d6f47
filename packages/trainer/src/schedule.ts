// Learning-rate schedules: the lr of each optimiser step (steps count from 0), with an optional linear warm-up.
//   constant   lr
//   step       lr * gamma^floor((step - warmup) / stepSize)            (PyTorch StepLR, counted in steps)
//   cosine     minLr + (lr - minLr) * (1 + cos(pi * t)) / 2, t = (step - warmup) / (total - warmup)  (CosineAnnealingLR)
//   onecycle   PyTorch OneCycleLR (cosine annealing): lr/divFactor -> lr over pctStart of the run -> lr/(divFactor*finalDivFactor)
//   plateau    lr * factor^k, k = reductions so far: ReduceLROnPlateau on the monitored metric, decided at epoch ends
// The warm-up ramps linearly from lr * warmupStart to the schedule's value over `warmupSteps` (not used by onecycle,
// which has its own ramp).
import { ConfigReader, OcropsError } from '@ocrops/common';

export type ScheduleType = 'constant' | 'step' | 'cosine' | 'onecycle' | 'plateau';
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['constant', 'step', 'cosine', 'onecycle', 'plateau'];

/** `optim.schedule: {type, warmupSteps, ...}`. */
export interface ScheduleConfig {
  type: ScheduleType;
  /** linear warm-up steps (constant, step, cosine, plateau); 0 = none */
  warmupSteps: number;
  /** warm-up starts at lr * warmupStart */
  warmupStart: number;
  /** step: steps between decays */
  stepSize: number;
  /** step: decay factor */
  gamma: number;
  /** cosine: final lr */
  minLr: number;
  /** onecycle: share of the steps spent rising */
  pctStart: number;
  /** onecycle: initial lr = lr / divFactor */
  divFactor: number;
  /** onecycle: final lr = initial lr / finalDivFactor */
  finalDivFactor: number;
  /** plateau: lr multiplier on each reduction */
  factor: number;
  /** plateau: epochs without improvement before a reduction */
  patience: number;
  /** plateau: relative improvement needed to count as better (PyTorch threshold, mode 'rel') */
  threshold: number;
  /** plateau: lower bound of the lr */
  floorLr: number;
}

export const SCHEDULE_KEYS = [
  'type', 'warmupSteps', 'warmupStart', 'stepSize', 'gamma', 'minLr', 'pctStart', 'divFactor', 'finalDivFactor',
  'factor', 'patience', 'threshold', 'floorLr',
] as const;

/** Keys each schedule type reads besides `type` (others are reported as unused). */
const USED: Record<ScheduleType, readonly string[]> = {
  constant: ['warmupSteps', 'warmupStart'],
  step: ['warmupSteps', 'warmupStart', 'stepSize', 'gamma'],
  cosine: ['warmupSteps', 'warmupStart', 'minLr'],
  onecycle: ['pctStart', 'divFactor', 'finalDivFactor'],
  plateau: ['warmupSteps', 'warmupStart', 'factor', 'patience', 'threshold', 'floorLr'],
};

/** The constant schedule without warm-up (what a config without `optim.schedule` gets). */
export function constantSchedule(): ScheduleConfig {
  return {
    type: 'constant', warmupSteps: 0, warmupStart: 0, stepSize: 1000, gamma: 0.1, minLr: 0, pctStart: 0.3,
    divFactor: 25, finalDivFactor: 1e4, factor: 0.1, patience: 10, threshold: 1e-4, floorLr: 0,
  };
}

/** Reads `optim.schedule` (a type name or a mapping); errors name the file and field. */
export function readScheduleConfig(r: ConfigReader): ScheduleConfig {
  const d = constantSchedule();
  r.only(SCHEDULE_KEYS);
  const type = r.oneOf('type', SCHEDULE_TYPES, 'constant');
  for (const k of SCHEDULE_KEYS) {
    if (k !== 'type' && r.has(k) && !USED[type].includes(k)) {
      r.fail(k, `is not used by schedule type '${type}' (it reads ${USED[type].join(', ')})`);
    }
  }
  const s: ScheduleConfig = {
    type,
    warmupSteps: r.integer('warmupSteps', d.warmupSteps, { min: 0 }),
    warmupStart: r.number('warmupStart', d.warmupStart, { min: 0, max: 1 }),
    stepSize: r.integer('stepSize', d.stepSize, { min: 1 }),
    gamma: r.number('gamma', d.gamma, { min: 0, max: 1 }),
    minLr: r.number('minLr', d.minLr, { min: 0 }),
    pctStart: r.number('pctStart', d.pctStart, { min: 0, max: 1 }),
    divFactor: r.number('divFactor', d.divFactor, { min: 1 }),
    finalDivFactor: r.number('finalDivFactor', d.finalDivFactor, { min: 1 }),
    factor: r.number('factor', d.factor, { min: 0, max: 1 }),
    patience: r.integer('patience', d.patience, { min: 0 }),
    threshold: r.number('threshold', d.threshold, { min: 0 }),
    floorLr: r.number('floorLr', d.floorLr, { min: 0 }),
  };
  if (type === 'step' && s.gamma === 0) r.fail('gamma', 'must be > 0 (the lr would drop to 0)');
  if (type === 'plateau' && s.factor === 0) r.fail('factor', 'must be > 0 (the lr would drop to 0)');
  if (type === 'onecycle' && (s.pctStart <= 0 || s.pctStart >= 1)) r.fail('pctStart', `must be in (0, 1), got ${s.pctStart}`);
  return s;
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
  if (step < 0 || !Number.isInteger(step)) throw new OcropsError('OCROPS_TRAIN_SCHEDULE', `step must be an integer >= 0, got ${step}`);
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
  const cos = (a: number, b: number, t: number) => b + ((a - b) * (1 + Math.cos(Math.PI * Math.min(Math.max(t, 0), 1)))) / 2;
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
