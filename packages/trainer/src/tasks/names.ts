// Task names and their default monitored metric (read by the config loader; no task code loaded).
import type { TaskName } from './task.js';

export const TASK_NAMES: readonly TaskName[] = ['ocr', 'classify'];

/** The metric that selects the best model when `train.monitor` is not set, per task. */
export const DEFAULT_MONITOR: Readonly<Record<TaskName, { metric: string; mode: 'min' | 'max' }>> = {
  ocr: { metric: 'val_loss', mode: 'min' },
  classify: { metric: 'val_top1', mode: 'max' },
};
