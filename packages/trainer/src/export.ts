// `export`: a self-contained model folder: model.onnx (standard ONNX) and/or ocrops's TensorFlow.js weights, the
// preprocessing/decoding contract ocrops-model.json, the training summary and a README.
import { copyFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OcropsError } from '@ocrops/common';
import {
  CONTRACT_FILE,
  ONNX_FILE,
  ONNX_OPSET,
  TFJS_FILE,
  buildContract,
  decodingOfMeta,
  decodingWith,
  exportOnnx,
  loadModel,
  readDecodingLm,
  savedModelTask,
  selectBackend,
  type CtcDecoding,
  type ModelConfig,
  type TaskContract,
} from '@ocrops/model';
import { exportClassifier } from './export-classify.js';
import { relativeToRoot } from './config.js';
import { contractFiles, exportedMeta, writeExportFiles } from './export-files.js';
import { charsetOfModel } from './evaluate.js';

/** Export formats: `onnx` (model.onnx beside ocrops's own weights) or `tfjs` (ocrops's own weights only). */
export type ExportFormat = 'onnx' | 'tfjs';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['onnx', 'tfjs'];

/** Options of {@link exportModel}. */
export interface ExportOptions {
  /** Run folder (its best/ is used) or model folder written by train. */
  model: string;
  /** Folder to write (must differ from the model folder). */
  out: string;
  /** Default `onnx`. */
  format?: ExportFormat;
  /** ONNX only: fold batch norm into the convolutions (default true) or keep BatchNormalization nodes. */
  foldBatchNorm?: boolean;
  /** Decoding recorded in the contract (default: the model's, from its ocrops.json, changed by `beam` and `lm`). */
  decode?: CtcDecoding;
  /** beam width of the recorded decoding (1 = greedy), keeping the model's language model */
  beam?: number;
  /** false: record the decoding without the model's language model */
  lm?: boolean;
  /** Image classifiers: default top-k recorded in the contract (default 5). */
  topK?: number;
}

/** What {@link exportModel} wrote. */
export interface ExportResult {
  dir: string;
  meta: Record<string, unknown>;
  /** An OCR contract, or a classifier's (`task: 'classify'`) for a classifier model. */
  contract: TaskContract;
  /** Files written, relative to `dir`. */
  files: string[];
}

function sourceFolder(model: string): string {
  let src = resolve(model);
  if (!existsSync(join(src, 'ocrops.json')) && existsSync(join(src, 'best', 'ocrops.json'))) src = join(src, 'best');
  if (!existsSync(src)) {
    throw new OcropsError('OCROPS_EXPORT_MODEL', `model folder ${model} does not exist`, {
      hint: 'pass a run folder (runs/<name>) or a model folder written by train',
    });
  }
  return src;
}

function readmeText(cfg: ModelConfig, numClasses: number, format: ExportFormat, out: string): string {
  const resize =
    cfg.width !== undefined
      ? `resized to exactly ${cfg.width} x ${cfg.height} px (fixed width, aspect ratio ignored; ${cfg.steps} frames out)`
      : `resized to height ${cfg.height} keeping the aspect ratio`;
  const lines = [
    `# ocrops OCR model (${cfg.arch})`,
    '',
    `Input: text-line images ${resize}, ${cfg.channels} channel(s), pixel`,
    'bytes / 255 (white = 1), NHWC float32 [batch, height, width, channels]; batches padded on the right with 1.0.',
    `Output: CTC logits [batch, frames, ${numClasses}] (pre-softmax); class 0 is the blank.`,
    `${CONTRACT_FILE} states all of it (charset, normalisation, width rules, frame count per width, decoding).`,
    '',
    'Files:',
  ];
  if (format === 'onnx') {
    lines.push(
      `- \`${ONNX_FILE}\`: standard ONNX (opset ${ONNX_OPSET}, dynamic batch${cfg.width !== undefined ? `, width ${cfg.width}` : ' and width'}), input \`image\`, output \`logits\`;`,
      '  runs on any ONNX runtime (onnxruntime, onnxruntime-node, ...).',
    );
  }
  lines.push(
    `- \`${TFJS_FILE}\`, \`weights.bin\`, \`ocrops.json\`: ocrops's own TensorFlow.js weights (a tfjs weights manifest`,
    "  without a topology: the architecture is ocrops's code). Load them with `loadModel(dir)` of @ocrops/model;",
    '  tf.loadLayersModel and tf.loadGraphModel cannot load them.',
    '',
    'Use it with ocrops:',
    '',
    '```',
    `ocrops trainer predict --model ${relativeToRoot(out)} image.png folder/`,
    '```',
    '',
  );
  return lines.join('\n');
}

/**
 * Writes `out` from a model folder (an image classifier's is written by exportClassifier) (or a run folder, whose `best/` is used): `model.onnx` (format onnx), ocrops's
 * TensorFlow.js weights with ocrops.json (both formats), the contract `ocrops-model.json`, the run's result and a
 * README.
 */
export async function exportModel(opts: ExportOptions): Promise<ExportResult> {
  const format = opts.format ?? 'onnx';
  if (!EXPORT_FORMATS.includes(format)) {
    throw new OcropsError(
      'OCROPS_USAGE',
      `export format '${String(format)}' is not one of ${EXPORT_FORMATS.join(', ')}`,
    );
  }
  const src = sourceFolder(opts.model);
  const out = resolve(opts.out);
  if (out === src) throw new OcropsError('OCROPS_EXPORT_OUT', '--out must differ from the model folder');
  await selectBackend({ quiet: true });
  if ((await savedModelTask(src)) === 'classify') {
    return {
      dir: out,
      ...(await exportClassifier({ src, out, format, foldBatchNorm: opts.foldBatchNorm, topK: opts.topK })),
    };
  }
  const { model, meta } = await loadModel(src);
  try {
    const charset = charsetOfModel(meta, src);
    const { meta: m, exportedFrom, exportedAt } = exportedMeta(src, meta as unknown as Record<string, unknown>);
    await model.save(out, m);
    const files = [TFJS_FILE, 'weights.bin', 'ocrops.json'];
    const decoding = opts.decode ?? decodingWith(decodingOfMeta(meta), { beam: opts.beam, lm: opts.lm });
    if (decoding.lm) {
      readDecodingLm(src, decoding, model.numClasses); // fails clearly when the model folder lacks it
      copyFileSync(join(src, decoding.lm.file), join(out, decoding.lm.file));
      files.push(decoding.lm.file);
    }
    const contract = buildContract({
      config: model.config,
      charset: charset.chars,
      decoding,
      ...contractFiles(format),
      exportedFrom,
      exportedAt,
    });
    writeExportFiles(
      out,
      format,
      contract,
      (metadata) => exportOnnx(model, { foldBatchNorm: opts.foldBatchNorm, metadata }),
      readmeText(model.config, model.numClasses, format, out),
      files,
    );
    return { dir: out, meta: m, contract, files };
  } finally {
    model.dispose();
  }
}
