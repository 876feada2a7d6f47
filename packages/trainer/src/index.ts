// Public surface of @ocrops/trainer: train, evaluate, predict and export OCR models, fully tracked.
export {
  PARAM_ALIASES,
  loadTrainConfig,
  buildTrainConfig,
  parseSet,
  setDotted,
  flatParameters,
  resolvePath,
  type TrainConfig,
  type OptimConfig,
  type LoopConfig,
  type TrackerConfig,
} from './config.js';
export {
  train,
  configHash,
  modelConfigOf,
  taskModelConfigOf,
  openTrainData,
  plotRecords,
  TrainInterrupted,
  type TrainOptions,
  type TrainResult,
} from './train.js';
export {
  writeCheckpoint,
  readCheckpoint,
  findCheckpoint,
  type TrainState,
  type EpochRecord,
  type CheckpointContents,
} from './checkpoint.js';
export { evaluate, errorReportHtml, type EvaluateOptions, type EvaluateResult, type ErrorReport } from './evaluate.js';
export { evaluateSplit, decodeLogits, type SplitMetrics, type LineResult } from './evaluate-split.js';
export { predict, collectImages, resolveModelDir, type Prediction } from './predict.js';
export { predictClasses, type ClassPrediction } from './predict-classify.js';
export { exportModel, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult } from './export.js';
export { EVENT_PREFIX, emitEvent, parseEventLine, type TrainEvent, type EpochEvent, type EndEvent } from './events.js';
export { labelsTooLong, encodeLabels, frameLengths } from './labels.js';
export { hashSeed, mulberry32, withSeededRandom } from './rng.js';
export { startLineage, lineageOthers, folderMd5, repoPath, type RunLineage } from './lineage.js';
export { taskOf, prepareTrainData } from './tasks/index.js';
export { TASK_NAMES, DEFAULT_MONITOR } from './tasks/names.js';
export type { Task, TaskName, TaskSession, StepBatch, TrainableModel } from './tasks/task.js';
export { commands } from './commands.js';
