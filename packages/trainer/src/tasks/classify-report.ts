// Reports of a classifier: the Comet confusion-matrix asset, the mistakes grid (PNG) and the evaluation report JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { loadFonts } from '@ocrops/data';
import type { EpochRecord } from '../checkpoint.js';
import { curvesPng } from '../curves.js';
import type { EvaluationReportBase, ReportMistake } from '../evaluate-files.js';
import type { TrackedRun } from '../tracking.js';
import type { Mistake } from './classify-eval.js';
import { cometConfusionMatrix, type ConfusionMatrix } from './classify-metrics.js';

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

/**
 * Writes the confusion matrix as Comet confusion-matrix JSON to `file` and logs it to the run as a
 * `confusion-matrix` asset named `confusion-matrix.json` (as comet_ml's `log_confusion_matrix` does).
 */
export async function logConfusionMatrix(
  run: TrackedRun,
  cm: ConfusionMatrix,
  file: string,
  opts: { title?: string; step?: number; epoch?: number; name?: string } = {},
): Promise<void> {
  writeJson(file, cometConfusionMatrix(cm, { title: opts.title }));
  await run.logAsset(file, {
    name: opts.name ?? 'confusion-matrix.json',
    type: 'confusion-matrix',
    step: opts.step,
    epoch: opts.epoch,
  });
}

let fontFamily: string | undefined | null = null;
/** A registered font for the captions (the default fonts of @ocrops/data), or undefined when none is installed. */
function captionFont(): string | undefined {
  if (fontFamily === null) {
    try {
      fontFamily = loadFonts()[0];
    } catch {
      fontFamily = undefined;
    }
  }
  return fontFamily;
}

/** Draws a mistake's image at (x, y), scaled to w x h. */
function drawImage(ctx: SKRSContext2D, m: Mistake, x: number, y: number, w: number, h: number): void {
  const tile = createCanvas(m.width, m.height);
  const tctx = tile.getContext('2d');
  const img = tctx.createImageData(m.width, m.height);
  for (let p = 0; p < m.width * m.height; p++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = m.pixels[p * m.channels + (m.channels === 1 ? 0 : ch)];
      img.data[p * 4 + ch] = Math.max(0, Math.min(255, Math.round(v * 255)));
    }
    img.data[p * 4 + 3] = 255;
  }
  tctx.putImageData(img, 0, 0);
  ctx.drawImage(tile, x, y, w, h);
}

/**
 * An image grid of mistakes: each tile is the image with its true class (black), the predicted class and its
 * probability (red). Returns the PNG bytes.
 */
export function mistakesGridPng(mistakes: Mistake[], classes: readonly string[], columns = 4): Buffer {
  // small images are shown enlarged: tiles at least 128 pixels wide, aspect kept
  const w0 = mistakes[0]?.width ?? 128;
  const h0 = mistakes[0]?.height ?? 128;
  const scale = Math.max(1, 128 / w0);
  const tileW = Math.round(w0 * scale);
  const tileH = Math.round(h0 * scale);
  const caption = 30;
  const cols = Math.max(1, Math.min(columns, mistakes.length));
  const rows = Math.max(1, Math.ceil(mistakes.length / cols));
  const canvas = createCanvas(cols * (tileW + 4), rows * (tileH + caption + 4));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const font = captionFont();
  mistakes.forEach((m, i) => {
    const x = (i % cols) * (tileW + 4) + 2;
    const y = Math.floor(i / cols) * (tileH + caption + 4) + 2;
    drawImage(ctx, m, x, y, tileW, tileH);
    if (!font) return;
    ctx.font = `11px ${font}`;
    ctx.fillStyle = '#000000';
    ctx.fillText(classes[m.truth] ?? String(m.truth), x, y + tileH + 12, tileW);
    ctx.fillStyle = '#c00000';
    ctx.fillText(`${classes[m.predicted] ?? m.predicted} ${m.confidence.toFixed(2)}`, x, y + tileH + 26, tileW);
  });
  return canvas.toBuffer('image/png');
}

/** Writes the mistakes grid to `file` and logs it to the run as an `image` asset (`mistakes.png` unless named). */
export async function logMistakes(
  run: TrackedRun,
  mistakes: Mistake[],
  classes: readonly string[],
  file: string,
  name = 'mistakes.png',
): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, mistakesGridPng(mistakes, classes));
  await run.logAsset(file, { name, type: 'image' });
}

/** Writes the run's loss and accuracy curves to `file` and logs them as an `image` asset named `curves.png`. */
export async function logCurves(run: TrackedRun, history: EpochRecord[], file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    curvesPng(
      history,
      [
        { title: 'loss', keys: ['train_loss', 'val_loss'] },
        { title: 'accuracy', keys: ['train_top1', 'val_top1', 'val_top5'] },
      ],
      captionFont(),
    ),
  );
  await run.logAsset(file, { name: 'curves.png', type: 'image' });
}

/** The evaluation report of a classifier (reports/<set>-errors.json for classification). */
export interface ClassificationReport extends EvaluationReportBase<ReportMistake & { truth_probability: number }> {
  task: 'classify';
  metrics: Record<string, number>;
  per_class: Array<{ class: string; precision: number; recall: number; support: number }>;
  /** the full matrix: rows are the true classes, columns the predicted ones, both in `labels` order */
  confusion_matrix: { labels: string[]; matrix: number[][] };
}
