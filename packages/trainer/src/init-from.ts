// `train.init_from`: a new run starts from the weights of a saved model (fine-tuning, e.g. a reader trained on
// generated lines continued on the real ones) instead of random values.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError, readJsonFile } from '@ocrops/common';
import { modelFolder, readWeights } from '@ocrops/model';
import type { TaskName, TaskSession } from './tasks/task.js';

/** What `train.init_from` copied into the model. */
export interface InitReport {
  /** the model folder read */
  dir: string;
  loaded: number;
  total: number;
  /** the weights that kept their initial values, each with the reason */
  kept: { name: string; reason: string }[];
}

/** The saved model folder of `path` (itself, or a run folder's `best/`); an error names the field when there is none. */
export function initFolder(path: string): string {
  const dir = modelFolder(path);
  if (!existsSync(join(dir, 'ocrops.json'))) {
    throw new OcropsError(
      'OCROPS_TRAIN_INIT',
      `train.init_from: ${path} holds no saved model (no ocrops.json there or in its best/)`,
      {
        hint: 'name a model folder written by `ocrops trainer train` (runs/<name>/best) or the run folder itself',
      },
    );
  }
  return dir;
}

/**
 * Copies the weights of the model saved at `path` into the session's model, by name: a weight of the same name and
 * shape is copied; one that is absent or shaped otherwise keeps its initial value, and so do the output layer's
 * weights when the saved model's labels (charset or classes) differ from this run's, so that no row is read as the
 * wrong character. Throws when the saved model is of another task or when no weight before the output layer fits
 * (another architecture).
 */
export async function initFromSaved(path: string, task: TaskSession, taskName: TaskName): Promise<InitReport> {
  const dir = initFolder(path);
  const meta = readJsonFile<Record<string, unknown>>(join(dir, 'ocrops.json'));
  const savedTask = typeof meta.task === 'string' ? meta.task : 'ocr';
  if (savedTask !== taskName) {
    throw new OcropsError(
      'OCROPS_TRAIN_INIT',
      `train.init_from: ${dir} holds a '${savedTask}' model; this run trains '${taskName}'`,
      {
        hint: 'start from a model of the same task',
      },
    );
  }
  const sameLabels = task.sameLabels(meta);
  const saved = await readWeights(dir);
  const kept: InitReport['kept'] = [];
  const vars = task.model.namedWeights();
  try {
    for (const [name, v] of vars) {
      const t = saved[name];
      if (!t) kept.push({ name, reason: 'not in the saved model' });
      else if (t.shape.join('x') !== v.shape.join('x'))
        kept.push({ name, reason: `shape [${t.shape}] saved, [${v.shape}] here` });
      else if (!sameLabels && task.outputWeights.includes(name)) kept.push({ name, reason: 'the labels differ' });
      else v.assign(t);
    }
  } finally {
    tf.dispose(Object.values(saved));
  }
  const loaded = vars.size - kept.length;
  const backboneKept = kept.filter((k) => !task.outputWeights.includes(k.name));
  if (backboneKept.length === vars.size - task.outputWeights.length) {
    throw new OcropsError(
      'OCROPS_TRAIN_INIT',
      `train.init_from: no weight of ${dir} fits this model (${backboneKept[0]?.name}: ${backboneKept[0]?.reason})`,
      {
        hint: 'start from a model of the same architecture (model section) as this config',
      },
    );
  }
  return { dir, loaded, total: vars.size, kept };
}

/** One line for the log: how many weights came from where, and which kept their initial values. */
export function describeInit(r: InitReport, shown = 4): string {
  const kept = r.kept.slice(0, shown).map((k) => `${k.name} (${k.reason})`);
  if (r.kept.length > shown) kept.push(`${r.kept.length - shown} more`);
  return `init_from ${r.dir}: ${r.loaded} of ${r.total} weights loaded${kept.length ? `; initial values kept: ${kept.join(', ')}` : ''}`;
}

/** Whether `saved` (a list read from a saved model's `ocrops.json`) holds exactly `labels`, in order. */
export function sameList(saved: unknown, labels: readonly string[]): boolean {
  return Array.isArray(saved) && saved.length === labels.length && saved.every((x, i) => x === labels[i]);
}
