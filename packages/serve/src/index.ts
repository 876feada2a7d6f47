// Public surface of @ocrops/serve: the inference server, model loading, runtimes, batching, decoding, the OIP codec.
export { startServe, type ServeOptions, type RunningServer } from './server.js';
export { openModel, findModelFiles, pullModel, type ModelFiles } from './model-source.js';
export { RUNTIMES, batchWidth, packBatch, runBatch, type InferenceRuntime, type RuntimeName } from './runtime.js';
export { Batcher, type BatchItem, type ItemOutput, type BatcherOptions, type BatchRunner } from './batcher.js';
export {
  greedyLine,
  charConfidencesOf,
  logSoftmaxFrames,
  type LineText,
  type CharConfidence,
  type LineFrames,
} from './decode.js';
export {
  parseInferRequest,
  inferResponse,
  encodeResponse,
  readBinaryBytes,
  writeBinaryBytes,
  OIP_OUTPUTS,
  type InferRequest,
  type OipOutputName,
} from './oip.js';
export { imageToLine, pixelsToLines, InputError } from './preprocess.js';
export { createMetrics, type ServeMetrics } from './metrics.js';
export { pageHtml } from './page.js';
export { classifierPageHtml } from './page-classify.js';
export {
  imageToInput,
  pixelsToInputs,
  runClassifierBatch,
  classifierContract,
  probabilitiesOf,
  topClasses,
  parseTopK,
  type TopClass,
} from './classify.js';
export {
  parseClassifyRequest,
  classifyResponse,
  OIP_CLASSIFIER_OUTPUTS,
  type ClassifyRequest,
  type OipClassifierOutput,
} from './oip-classify.js';
export { commands } from './commands.js';
export {
  openRegistryModel,
  followAlias,
  isRegistryRef,
  registryParameters,
  defaultRegistryCacheDir,
  type RegistryModel,
  type RegistryModelOptions,
} from './registry-source.js';
