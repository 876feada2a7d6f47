// `evaluate`: metrics of a saved model on a split -> metrics.json (dvc metrics), reports/errors.json (worst lines),
// and the run's per-epoch plots file (dvc plots).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError, ProgressBar } from '@ocrops/common';
import { Charset, openPrepared, type CharsetJSON, type PreparedDataset } from '@ocrops/data';
import {
  decodingOfMeta,
  decodingWith,
  loadModel,
  modelFolder,
  readDecodingLm,
  savedModelTask,
  selectBackend,
  type CtcDecoding,
} from '@ocrops/model';
import {
  writeEvaluationFiles,
  type EvaluateTaskOptions,
  type EvaluationReportBase,
  type ReportMistake,
} from './evaluate-files.js';
import { relativeToRoot } from './config.js';
import { evaluateSplit, type LineResult, type SplitMetrics } from './evaluate-split.js';
import { classifyDeps } from './tasks/classify-deps.js';
import { evaluateClassifier } from './tasks/classify-evaluate.js';
import type { ClassificationReport } from './tasks/classify-report.js';

export interface EvaluateOptions extends EvaluateTaskOptions {
  /** the decoding to evaluate with (default: the model's, from its ocrops.json) */
  decode?: CtcDecoding;
  /** beam width instead (1 = greedy), keeping the decoding's language model */
  beam?: number;
  /** false: without the decoding's language model */
  lm?: boolean;
}

/** The error report: the worst lines first (lowest acc_by_char, then lowest confidence). */
export type ErrorReport = EvaluationReportBase<ReportMistake & { acc_by_char: number }>;

export interface EvaluateResult {
  metrics: Record<string, number>;
  /** the worst lines of an OCR model, or a classifier's report (per-class precision/recall, confusion matrix) */
  report: ErrorReport | ClassificationReport;
}

/** Reads the charset a saved model was trained with (from its ocrops.json metadata). */
export function charsetOfModel(meta: unknown, modelDir: string): Charset {
  const c = (meta as { charset?: CharsetJSON } | undefined)?.charset;
  if (!c) {
    throw new OcropsError('OCROPS_MODEL_META', `${modelDir} has no charset in its metadata`, {
      hint: 'use a model folder written by ocrops trainer train / export',
    });
  }
  return Charset.fromJSON(c);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An HTML table of the worst lines (logged to the tracker for the dashboard). */
export function errorReportHtml(report: ErrorReport): string {
  const rows = report.worst
    .map(
      (w) =>
        `<tr><td>${escapeHtml(w.id)}</td><td>${escapeHtml(w.truth)}</td><td>${escapeHtml(w.prediction)}</td>` +
        `<td>${w.confidence.toFixed(3)}</td><td>${w.acc_by_char.toFixed(3)}</td></tr>`,
    )
    .join('\n');
  return (
    `<h3>Worst lines: ${escapeHtml(report.split)} split of ${escapeHtml(report.dataset)} ` +
    `(${report.errors} of ${report.count} lines wrong)</h3>\n<table class="ocrops-errors">\n` +
    `<tr><th>image</th><th>truth</th><th>prediction</th><th>confidence</th><th>acc_by_char</th></tr>\n${rows}\n</table>`
  );
}

function imageDirOf(data: PreparedDataset): string | undefined {
  const meta = join(data.dir, 'meta.json');
  if (!existsSync(meta)) return undefined;
  try {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { source?: { images?: string }; images?: string };
    return m.source?.images ?? m.images;
  } catch {
    return undefined;
  }
}

/** Evaluates a saved model on a prepared split and writes the metrics, error report and plots files. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluateResult> {
  const split = opts.split ?? 'test';
  if (!existsSync(opts.modelDir)) {
    throw new OcropsError('OCROPS_TRAIN_MODEL_MISSING', `model folder ${opts.modelDir} does not exist`, {
      hint: 'train first (ocrops trainer train), or pass --model <folder> / --weights <file.dvc>',
    });
  }
  if ((await savedModelTask(opts.modelDir)) === 'classify') return evaluateClassifier(opts, classifyDeps);
  await selectBackend({ quiet: true });
  const { model, meta } = await loadModel(opts.modelDir);
  try {
    const charset = charsetOfModel(meta, opts.modelDir);
    const data = await openPrepared(opts.preparedDir);
    const s = data.splits[split];
    if (!s || s.count === 0) {
      throw new OcropsError('OCROPS_TRAIN_DATA', `${relativeToRoot(data.dir)} has no '${split}' lines`, {
        hint: 'choose another --split or give the data config a share for it',
      });
    }
    if (model.config.height !== data.height || model.config.channels !== data.channels) {
      throw new OcropsError(
        'OCROPS_TRAIN_INPUT_MISMATCH',
        `model ${opts.modelDir} expects height ${model.config.height} x ${model.config.channels} channel(s), ` +
          `${relativeToRoot(data.dir)} holds ${data.height} x ${data.channels}`,
      );
    }
    const bar = new ProgressBar(`evaluate ${split}`, s.count, { unit: 'line', silent: opts.quiet });
    const decode = decodingWith(opts.decode ?? decodingOfMeta(meta), { beam: opts.beam, lm: opts.lm });
    const r = await evaluateSplit(model, s, charset, {
      batchSize: opts.batchSize ?? 32,
      decode,
      lm: readDecodingLm(modelFolder(opts.modelDir), decode, charset.numClasses),
      collect: true,
      onBatch: (n) => bar.update(n),
    });
    bar.done();
    const m = r!.metrics as SplitMetrics;
    const metrics: Record<string, number> = {
      [`${split}_loss`]: m.loss,
      [`${split}_acc_by_char`]: m.acc_by_char,
      [`${split}_acc_by_field`]: m.acc_by_field,
      [`${split}_cer`]: m.cer,
      [`${split}_wer`]: m.wer,
      // the decoding the figures are for: 1 = greedy, else the beam width
      [`${split}_beam_width`]: decode.method === 'beam' ? decode.beamWidth : 1,
      [`${split}_count`]: m.count,
      [`${split}_labels_too_long`]: m.labels_too_long,
    };
    const imagesDir = imageDirOf(data);
    const wrong = r!.lines.filter((l: LineResult) => l.prediction.normalize('NFC') !== l.truth.normalize('NFC'));
    wrong.sort((a, b) => a.accByChar - b.accByChar || a.confidence - b.confidence);
    const report: ErrorReport = {
      model: relativeToRoot(opts.modelDir),
      dataset: relativeToRoot(data.dir),
      split,
      count: m.count,
      errors: wrong.length,
      worst: wrong.slice(0, opts.worst ?? 50).map((l) => ({
        id: l.id,
        ...(imagesDir ? { image: join(imagesDir, l.id) } : {}),
        truth: l.truth,
        prediction: l.prediction,
        confidence: l.confidence,
        acc_by_char: l.accByChar,
      })),
    };
    writeEvaluationFiles(opts, metrics, report);
    if (opts.run) {
      opts.run.logMetrics(metrics);
      opts.run.logHtml(errorReportHtml(report));
      await opts.run.logAsset(opts.errorsPath, { name: 'errors.json', type: 'ocrops-errors' });
      await opts.run.logAsset(opts.metricsPath, { name: 'metrics.json' });
      await opts.run.flush();
    }
    return { metrics, report };
  } finally {
    model.dispose();
  }
}
