// `evaluate` of an image classifier: top-1/top-5, loss, per-class precision/recall and the confusion matrix of a split
// -> metrics.json (flat, `dvc metrics show`) and the report JSON; the confusion matrix goes to the tracker as well.
import { OcropsError, ProgressBar } from '@ocrops/common';
import { selectBackend } from '@ocrops/model';
import { writeEvaluationFiles, type EvaluateTaskOptions } from '../evaluate-files.js';
import { relativeToRoot } from '../config.js';
import type { ClassifyDeps } from './classify-data.js';
import { evaluateClassSplit } from './classify-eval.js';
import { logConfusionMatrix, logMistakes, type ClassificationReport } from './classify-report.js';

/** The options of evaluate (all of them but the OCR decoding). */
export type ClassifierEvaluateOptions = EvaluateTaskOptions;

/** Evaluates a saved classifier on a prepared split and writes the metrics, report and plots files. */
export async function evaluateClassifier(
  opts: ClassifierEvaluateOptions,
  deps: ClassifyDeps,
): Promise<{ metrics: Record<string, number>; report: ClassificationReport }> {
  const split = opts.split ?? 'test';
  await selectBackend({ quiet: true });
  const { model, meta } = await deps.loadModel(opts.modelDir);
  try {
    const data = await deps.openPrepared(opts.preparedDir);
    const classes = meta.classes as string[];
    if (JSON.stringify(classes) !== JSON.stringify(data.classes)) {
      throw new OcropsError(
        'OCROPS_TRAIN_DATA',
        `${relativeToRoot(opts.modelDir)} was trained on ${classes.length} classes that differ from the ${data.classes.length} of ${relativeToRoot(data.dir)}`,
        { hint: 'evaluate on the prepared set the model was trained on' },
      );
    }
    if (!data.counts[split]) {
      throw new OcropsError('OCROPS_TRAIN_DATA', `${relativeToRoot(data.dir)} has no '${split}' images`, {
        hint: 'choose another --split or give the data config a share for it',
      });
    }
    const bar = new ProgressBar(`evaluate ${split}`, data.counts[split]!, { unit: 'image', silent: opts.quiet });
    const worst = opts.worst ?? 50;
    const r = (await evaluateClassSplit(model, data, split, {
      batchSize: opts.batchSize ?? 32,
      keepMistakes: Math.max(worst, 16),
      onBatch: (n) => bar.update(n),
    }))!;
    bar.done();
    const macro = r.confusion.macro();
    const metrics: Record<string, number> = {
      [`${split}_loss`]: r.metrics.loss,
      [`${split}_top1`]: r.metrics.top1,
      [`${split}_top5`]: r.metrics.top5,
      [`${split}_macro_precision`]: macro.precision,
      [`${split}_macro_recall`]: macro.recall,
      [`${split}_count`]: r.metrics.count,
    };
    const errors = r.metrics.count - r.confusion.counts.reduce((a, row, i) => a + row[i], 0);
    const report: ClassificationReport = {
      task: 'classify',
      model: relativeToRoot(opts.modelDir),
      dataset: relativeToRoot(data.dir),
      split,
      count: r.metrics.count,
      errors,
      metrics,
      per_class: r.confusion.perClass().map(({ predicted: _p, ...row }) => row),
      confusion_matrix: { labels: [...data.classes], matrix: r.confusion.counts },
      worst: r.mistakes.slice(0, worst).map((m) => ({
        id: m.id,
        ...(data.imagePath?.(m.id) ? { image: data.imagePath(m.id) } : {}),
        truth: data.classes[m.truth],
        prediction: data.classes[m.predicted],
        confidence: m.confidence,
        truth_probability: m.truthProbability,
      })),
    };
    writeEvaluationFiles(opts, metrics, report);
    if (opts.run) {
      opts.run.logMetrics(metrics);
      const base = opts.errorsPath.replace(/\.json$/, '');
      await logConfusionMatrix(opts.run, r.confusion, `${base}-confusion-matrix.json`, {
        title: `Confusion matrix (${split} split)`,
        name: `confusion-matrix-${split}.json`,
      });
      if (r.mistakes.length > 0) {
        await logMistakes(
          opts.run,
          r.mistakes.slice(0, 16),
          data.classes,
          `${base}-mistakes.png`,
          `mistakes-${split}.png`,
        );
      }
      await opts.run.logAsset(opts.errorsPath, { name: 'classification-report.json', type: 'ocrops-errors' });
      await opts.run.logAsset(opts.metricsPath, { name: 'metrics.json' });
      await opts.run.flush();
    }
    return { metrics, report };
  } finally {
    model.dispose();
  }
}
