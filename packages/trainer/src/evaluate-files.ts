// The files `evaluate` writes for either task: metrics.json (flat, `dvc metrics show`), the report JSON and a copy of
// the run's per-epoch plots file (`dvc plots show`).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OcropsError } from '@ocrops/common';
import type { TrackedRun } from './tracking.js';

/** Where evaluate writes its files. */
export interface EvaluationPaths {
  /** metrics.json path (flat dict, `dvc metrics show` format) */
  metricsPath: string;
  /**
   * report path: an OCR model's worst lines, or a classifier's per-class precision/recall, confusion matrix and most
   * confident mistakes
   */
  errorsPath: string;
  /** copy a run's per-epoch records (`<run>/plots.json`) to this path for `dvc plots show` */
  plots?: { from: string; to: string };
}

/** What evaluate takes for a model of either task. */
export interface EvaluateTaskOptions extends EvaluationPaths {
  /** model folder written by save() (a run's `best/`, an export, `models/best`) */
  modelDir: string;
  /** prepared dataset folder (data/prepared/<name>) */
  preparedDir: string;
  split?: 'train' | 'val' | 'test';
  batchSize?: number;
  /** how many worst lines (OCR) or most confident mistakes (classifier) the report keeps */
  worst?: number;
  /** also log the metrics and reports to this tracked run */
  run?: TrackedRun;
  quiet?: boolean;
}

/** One wrong prediction in an evaluation report, either task. */
export interface ReportMistake {
  id: string;
  /** path of the source image when it is known */
  image?: string;
  truth: string;
  prediction: string;
  confidence: number;
}

/** What the evaluation reports of both tasks hold: which model on which split, how many items and errors, the worst. */
export interface EvaluationReportBase<M extends ReportMistake> {
  model: string;
  dataset: string;
  split: string;
  count: number;
  errors: number;
  /** the worst predictions: an OCR model's lowest-scoring lines, a classifier's most confident mistakes */
  worst: M[];
}

/** Writes `value` as indented JSON (2 spaces, final newline), creating the folder. */
export function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Writes the metrics and the report, and copies the plots file when asked (it must exist). */
export function writeEvaluationFiles(paths: EvaluationPaths, metrics: Record<string, number>, report: unknown): void {
  writeJson(paths.metricsPath, metrics);
  writeJson(paths.errorsPath, report);
  if (paths.plots) {
    if (!existsSync(paths.plots.from)) {
      throw new OcropsError('OCROPS_TRAIN_PLOTS', `${paths.plots.from} does not exist`, {
        hint: 'point --run at the training run folder (it holds plots.json)',
      });
    }
    mkdirSync(dirname(paths.plots.to), { recursive: true });
    copyFileSync(paths.plots.from, paths.plots.to);
  }
}
