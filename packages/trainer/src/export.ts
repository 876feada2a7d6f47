// `export`: a self-contained model folder (weights, architecture, charset, input size, training summary, README).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { loadModel, selectBackend } from '@ocrops/model';
import { relativeToRoot } from './config.js';

/**
 * Writes `out` from a model folder (or a run folder, whose `best/` is used): the model in TensorFlow.js format with
 * its ocrops.json (architecture, charset, input height/channels), plus the run's result/metrics and a README.
 */
export async function exportModel(opts: { model: string; out: string }): Promise<{ dir: string; meta: Record<string, unknown> }> {
  let src = resolve(opts.model);
  if (!existsSync(join(src, 'ocrops.json')) && existsSync(join(src, 'best', 'ocrops.json'))) src = join(src, 'best');
  if (!existsSync(src)) {
    throw new OcropsError('OCROPS_EXPORT_MODEL', `model folder ${opts.model} does not exist`, {
      hint: 'pass a run folder (runs/<name>) or a model folder written by train',
    });
  }
  const out = resolve(opts.out);
  if (out === src) throw new OcropsError('OCROPS_EXPORT_OUT', '--out must differ from the model folder');
  await selectBackend({ quiet: true });
  const { model, meta } = await loadModel(src);
  try {
    const runDir = resolve(src, '..');
    const extra: Record<string, unknown> = { exportedFrom: relativeToRoot(src), exportedAt: new Date().toISOString() };
    const resultPath = join(runDir, 'result.json');
    if (existsSync(resultPath)) extra.training = JSON.parse(readFileSync(resultPath, 'utf8'));
    const m = { ...(meta as unknown as Record<string, unknown>), ...extra };
    await model.save(out, m);
    const cfg = model.config;
    writeFileSync(join(out, 'README.md'), [
      `# ocrops OCR model (${cfg.arch})`,
      '',
      `Input: text-line images resized to height ${cfg.height}, ${cfg.channels} channel(s), any width, values in [0,1],`,
      'batches padded on the right with white (1.0). Output: CTC logits [batch, T, classes]; class 0 is the blank.',
      'The charset, architecture and training summary are in ocrops.json; weights in TensorFlow.js format.',
      '',
      'Use it with ocrops:',
      '',
      '```',
      `ocrops trainer predict --model ${relativeToRoot(out)} image.png folder/`,
      '```',
      '',
    ].join('\n'));
    return { dir: out, meta: m };
  } finally {
    model.dispose();
  }
}
