// `export` of an image classifier: model.onnx (softmax probabilities and logits), ocrops's TensorFlow.js weights, the
// contract ocrops-model.json (task classify: classes, fixed input size, normalisation, top-k), the training summary
// and a README.
import { resolve } from 'node:path';
import {
  CONTRACT_FILE,
  ONNX_FILE,
  ONNX_OPSET,
  TFJS_FILE,
  buildClassifierContract,
  exportClassifierOnnx,
  loadClassifier,
  type ClassifierConfig,
  type ClassifierContract,
} from '@ocrops/model';
import { relativeToRoot } from './config.js';
import { contractFiles, exportedMeta, writeExportFiles } from './export-files.js';

/** Options of {@link exportClassifier} (those of exportModel that apply to classifiers). */
export interface ExportClassifierOptions {
  /** Model folder holding a classifier (ocrops.json with task classify). */
  src: string;
  out: string;
  format: 'onnx' | 'tfjs';
  foldBatchNorm?: boolean;
  /** Default top-k recorded in the contract (default 5). */
  topK?: number;
}

function readmeText(cfg: ClassifierConfig, classes: string[], format: 'onnx' | 'tfjs', out: string): string {
  const lines = [
    `# ocrops image classifier (${cfg.arch}, ${classes.length} classes)`,
    '',
    `Input: images resized to exactly ${cfg.width} x ${cfg.height} px (aspect ratio ignored), ${cfg.channels} channel(s),`,
    'pixel bytes / 255, NHWC float32 [batch, height, width, channels].',
    `Output: \`probabilities\` [batch, ${classes.length}] (softmax; column k is class k of ${CONTRACT_FILE} \`classes\`)`,
    'and `logits` [batch, classes] (pre-softmax).',
    '',
    'Files:',
  ];
  if (format === 'onnx')
    lines.push(
      `- \`${ONNX_FILE}\`: standard ONNX (opset ${ONNX_OPSET}, dynamic batch), input \`image\`, outputs \`probabilities\`, \`logits\`;`,
    );
  lines.push(
    `- \`${TFJS_FILE}\`, \`weights.bin\`, \`ocrops.json\`: ocrops's own TensorFlow.js weights, loaded by \`loadClassifier(dir)\``,
    '  (or `loadTaskModel(dir)`) of @ocrops/model.',
    '',
    'Serve it with ocrops (Open Inference Protocol v2, `/predict` and a top-5 web page):',
    '',
    '```',
    `ocrops serve --model ${relativeToRoot(out)}`,
    '```',
    '',
  );
  return lines.join('\n');
}

/** Writes the export folder of the classifier in `src`; returns the contract and the files written (relative to `out`). */
export async function exportClassifier(
  o: ExportClassifierOptions,
): Promise<{ meta: Record<string, unknown>; contract: ClassifierContract; files: string[] }> {
  const { model, meta } = await loadClassifier(o.src);
  try {
    const out = resolve(o.out);
    const { meta: m, exportedFrom, exportedAt } = exportedMeta(o.src, meta as Record<string, unknown>);
    await model.save(out, m);
    const files = [TFJS_FILE, 'weights.bin', 'ocrops.json'];
    const contract = buildClassifierContract({
      config: model.config,
      classes: meta.classes,
      topK: o.topK,
      ...contractFiles(o.format),
      exportedFrom,
      exportedAt,
    });
    writeExportFiles(
      out,
      o.format,
      contract,
      (metadata) => exportClassifierOnnx(model, { foldBatchNorm: o.foldBatchNorm, metadata }),
      readmeText(model.config, meta.classes, o.format, out),
      files,
    );
    return { meta: m, contract, files };
  } finally {
    model.dispose();
  }
}
