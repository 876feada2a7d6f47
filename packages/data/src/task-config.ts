// Loading a data config of either task: `task: classify` configs go to the classification parser, everything else
// (no `task`, or `task: ocr`) to the text-line one.
import { readConfigDocument } from '@ocrops/common';
import { dataConfigTask, parseClassifyDataConfig, type ClassifyDataConfig } from './classify-config.js';
import { parseDataConfig, type DataConfig } from './config.js';

/** A data config of either task, tagged. */
export type AnyDataConfig = { task: 'ocr'; config: DataConfig } | { task: 'classify'; config: ClassifyDataConfig };

/** Reads a data config file (YAML) of either task; relative paths in it are resolved from the current directory. */
export function loadAnyDataConfig(path: string): AnyDataConfig {
  const { value, locate } = readConfigDocument(path);
  return dataConfigTask(value, path, locate) === 'classify'
    ? { task: 'classify', config: parseClassifyDataConfig(value, path, process.cwd(), locate) }
    : { task: 'ocr', config: parseDataConfig(value, path, process.cwd(), locate) };
}

/** Reads a classification data config file (YAML); relative paths are resolved from the current directory. */
export function loadClassifyDataConfig(path: string): ClassifyDataConfig {
  const { value, locate } = readConfigDocument(path);
  return parseClassifyDataConfig(value, path, process.cwd(), locate);
}
