// The tasks the trainer knows, by the name a train config's `task` field gives.
import { OcropsError } from '@ocrops/common';
import { makeClassifyTask } from './classify.js';
import { classifyDeps } from './classify-deps.js';
import { ocrTask } from './ocr.js';
import type { TrainConfig } from '../config.js';
import type { Task, TaskName } from './task.js';

const TASKS: Record<TaskName, Task> = { ocr: ocrTask, classify: makeClassifyTask(classifyDeps) };

/** The task of a train config. */
export function taskOf(name: TaskName): Task {
  const task = TASKS[name] as Task | undefined;
  if (!task)
    throw new OcropsError('OCROPS_CONFIG_INVALID', `task '${name}' is not known to the trainer`, {
      hint: `use one of ${Object.keys(TASKS).join(', ')}`,
    });
  return task;
}

/** Prepares a train config's data (any task) when its prepared folder does not exist yet. */
export async function prepareTrainData(cfg: TrainConfig, opts: { quiet?: boolean } = {}): Promise<void> {
  await taskOf(cfg.task).prepareData(cfg, opts);
}
