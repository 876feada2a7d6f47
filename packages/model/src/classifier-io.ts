/**
 * Saving and loading image classifiers in the same folder layout as OCR models (`model.json` + `weights.bin` +
 * `ocrops.json`), with `format: 'ocrops-classifier/1'`, `task: 'classify'` and the class names in `ocrops.json`; and a
 * loader of either kind for code that serves or resumes both tasks.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { parseClassifierConfig, type ClassifierConfig } from './classifier-config.js';
import { createClassifier, type ClassifierModel } from './classifier.js';
import {
  MODEL_FORMAT,
  assignWeights,
  loadModel,
  modelFolder,
  readJson,
  writeModelFiles,
  type ModelMeta,
} from './io.js';
import type { OcrModel } from './model.js';

export const CLASSIFIER_FORMAT = 'ocrops-classifier/1';

/** Contents of a classifier's `ocrops.json`. Callers' metadata (training summary, ...) sits beside these keys. */
export interface ClassifierMeta {
  format: typeof CLASSIFIER_FORMAT;
  task: 'classify';
  config: ClassifierConfig;
  numClasses: number;
  /** Class names in class-id order (class k is classes[k]); numClasses entries. */
  classes: string[];
  savedAt: string;
  tfjsVersion: string;
  [key: string]: unknown;
}

/** The class names of `meta.classes`, checked against the class count (errors name `source`). */
export function classesOf(meta: Record<string, unknown>, numClasses: number, source: string): string[] {
  const classes = meta.classes;
  if (!Array.isArray(classes) || classes.some((c) => typeof c !== 'string' || c === '')) {
    throw new OcropsError(
      'OCROPS_MODEL_LOAD',
      `${source}: 'classes' must be the list of class names (non-empty strings)`,
      {
        hint: "save the classifier with model.save(dir, { classes: [...] }) (the trainer passes its dataset's class names)",
      },
    );
  }
  if (classes.length !== numClasses) {
    throw new OcropsError(
      'OCROPS_MODEL_LOAD',
      `${source}: 'classes' lists ${classes.length} names for ${numClasses} classes`,
    );
  }
  if (new Set(classes).size !== classes.length)
    throw new OcropsError('OCROPS_MODEL_LOAD', `${source}: 'classes' lists a name twice`);
  return classes as string[];
}

/**
 * Writes a classifier to `dir`. `meta.classes` (the class names, in class-id order) is required; other keys are kept
 * (they must not be `format`, `task`, `config` or `numClasses`).
 */
export async function saveClassifier(
  model: ClassifierModel,
  dir: string,
  meta: Record<string, unknown>,
): Promise<void> {
  const classes = classesOf(meta, model.numClasses, `saving a classifier to ${dir}`);
  const full: ClassifierMeta = {
    ...meta,
    format: CLASSIFIER_FORMAT,
    task: 'classify',
    config: model.config,
    numClasses: model.numClasses,
    classes,
    savedAt: new Date().toISOString(),
    tfjsVersion: tf.version.tfjs,
  };
  await writeModelFiles(model.namedWeights(), dir, full);
}

/** Loads a classifier saved by {@link saveClassifier} (or a run folder's `best/`); weights checked by name and shape. */
export async function loadClassifier(dir: string): Promise<{ model: ClassifierModel; meta: ClassifierMeta }> {
  dir = modelFolder(dir);
  const metaPath = join(dir, 'ocrops.json');
  const meta = await readJson(metaPath);
  if (meta.format !== CLASSIFIER_FORMAT) {
    throw new OcropsError(
      'OCROPS_MODEL_LOAD',
      `${metaPath}: format '${String(meta.format)}' is not ${CLASSIFIER_FORMAT}`,
      {
        hint:
          meta.format === MODEL_FORMAT
            ? 'this folder holds an OCR model: load it with loadModel(dir) or loadTaskModel(dir)'
            : undefined,
      },
    );
  }
  const config = parseClassifierConfig(meta.config, `${metaPath} (config)`);
  const numClasses = meta.numClasses;
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 2) {
    throw new OcropsError(
      'OCROPS_MODEL_LOAD',
      `${metaPath}: numClasses must be an integer >= 2, got ${JSON.stringify(numClasses)}`,
    );
  }
  const classes = classesOf(meta, numClasses, metaPath);
  const model = createClassifier(config, numClasses);
  await assignWeights(model.namedWeights(), dir, () => model.dispose());
  return { model, meta: { ...(meta as ClassifierMeta), config, classes } };
}

/** A loaded model of either task, told apart by `task`. */
export type TaskModel =
  | { task: 'ocr'; model: OcrModel; meta: ModelMeta }
  | { task: 'classify'; model: ClassifierModel; meta: ClassifierMeta };

/** The task of the model saved in `dir` (or its run folder's `best/`): from `ocrops.json`, without loading weights. */
export async function savedModelTask(dir: string): Promise<'ocr' | 'classify'> {
  const meta = await readJson(join(modelFolder(dir), 'ocrops.json'));
  return meta.task === 'classify' || meta.format === CLASSIFIER_FORMAT ? 'classify' : 'ocr';
}

/** Loads an OCR model or a classifier, whichever `dir` holds (`ocrops.json`'s `task`; absent = ocr). */
export async function loadTaskModel(dir: string): Promise<TaskModel> {
  if ((await savedModelTask(dir)) === 'classify') return { task: 'classify', ...(await loadClassifier(dir)) };
  return { task: 'ocr', ...(await loadModel(dir)) };
}
