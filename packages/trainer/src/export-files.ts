// The steps `export` takes for models of either task: the metadata saved beside the weights, the files the contract
// names, and the graph, contract and README written last.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONTRACT_FILE, ONNX_FILE, ONNX_OPSET, TFJS_FILE } from '@ocrops/model';
import { relativeToRoot } from './config.js';

/**
 * The model's metadata plus where and when it was exported from, and the training summary (`result.json` beside the
 * model folder `src`) when there is one.
 */
export function exportedMeta(
  src: string,
  meta: Record<string, unknown>,
): { meta: Record<string, unknown>; exportedFrom: string; exportedAt: string } {
  const exportedFrom = relativeToRoot(src);
  const exportedAt = new Date().toISOString();
  const extra: Record<string, unknown> = { exportedFrom, exportedAt };
  const resultPath = join(resolve(src, '..'), 'result.json');
  if (existsSync(resultPath)) extra.training = JSON.parse(readFileSync(resultPath, 'utf8'));
  return { meta: { ...meta, ...extra }, exportedFrom, exportedAt };
}

/** What a contract of an export in `format` says of its files and opset. */
export function contractFiles(format: 'onnx' | 'tfjs'): { files: { onnx?: string; tfjs?: string }; opset?: number } {
  return format === 'onnx'
    ? { files: { onnx: ONNX_FILE, tfjs: TFJS_FILE }, opset: ONNX_OPSET }
    : { files: { tfjs: TFJS_FILE }, opset: undefined };
}

/**
 * Writes model.onnx (format onnx; removed otherwise: a stale graph of an earlier export would contradict the
 * contract), the contract and the README into `out`, adding them to `files` (the graph first).
 */
export function writeExportFiles(
  out: string,
  format: 'onnx' | 'tfjs',
  contract: unknown,
  onnx: (metadata: Record<string, string>) => Uint8Array,
  readme: string,
  files: string[],
): void {
  if (format === 'onnx') {
    writeFileSync(join(out, ONNX_FILE), onnx({ [CONTRACT_FILE]: JSON.stringify(contract) }));
    files.unshift(ONNX_FILE);
  } else rmSync(join(out, ONNX_FILE), { force: true });
  writeFileSync(join(out, CONTRACT_FILE), JSON.stringify(contract, null, 2) + '\n');
  writeFileSync(join(out, 'README.md'), readme);
  files.push(CONTRACT_FILE, 'README.md');
}
