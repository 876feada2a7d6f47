// Public surface of @ocrops/model: backends, model configs and architectures, CTC loss, decoding, metrics, save/load.
export { selectBackend, BACKENDS, type BackendName, type SelectBackendOptions } from './backend.js';
export {
  loadModelConfig,
  readModelConfig,
  checkModelSection,
  resolveModelSection,
  ModelSchema,
  RnnSchema,
  type ModelYaml,
  parseModelConfig,
  defaultModelConfig,
  ARCHS,
  type Arch,
  type ModelConfig,
  type RnnConfig,
} from './config.js';
export { createModel, minHeight, type OcrModel, type CreateModelOptions } from './model.js';
export { saveModel, loadModel, modelFolder, readWeights, MODEL_FORMAT, type ModelMeta } from './io.js';
export {
  CLASSIFIER_ARCHS,
  ClassifierModelSchema,
  checkClassifierSection,
  resolveClassifierSection,
  defaultClassifierConfig,
  readClassifierConfig,
  parseClassifierConfig,
  readTaskModelConfig,
  isClassifierConfig,
  minClassifierSide,
  type ClassifierArch,
  type ClassifierConfig,
  type ClassifierModelYaml,
} from './classifier-config.js';
export { createClassifier, type ClassifierModel } from './classifier.js';
export {
  saveClassifier,
  loadClassifier,
  loadTaskModel,
  savedModelTask,
  classesOf,
  CLASSIFIER_FORMAT,
  type ClassifierMeta,
  type TaskModel,
} from './classifier-io.js';
export { ctcLoss, ctcForwardBackward, type CtcLossOptions, type CtcResult } from './ctc.js';
export { greedyDecode, beamSearchDecode, fusionOf, type DecodeResult, type LmFusion } from './decode.js';
export { CharNgramLm, CHAR_LM_FORMAT, LM_FILE, lmGroupsProblem, readDecodingLm, type CharLmJson } from './char-lm.js';
export { accByChar, meanAccByChar, accByField, cer, wer, editDistance, matchingCharacters } from './metrics.js';
export { registerWasmKernels } from './wasm-kernels.js';
export {
  CONTRACT_FILE,
  CONTRACT_FORMAT,
  ONNX_FILE,
  TFJS_FILE,
  buildContract,
  parseContract,
  readContract,
  frameSteps,
  framesForWidth,
  frameLengthsForBatch,
  minWidthForFrames,
  charOfClass,
  type ModelContract,
  type ContractInput,
  type ContractOutput,
  type ContractDecoding,
  type CtcDecoding,
  type LmDecoding,
  GREEDY_DECODING,
  decodingOfMeta,
  decodingWith,
  type ContractExport,
  type FrameStep,
  type BuildContractOptions,
  CLASSIFIER_OUTPUTS,
  buildClassifierContract,
  parseClassifierContract,
  parseTaskContract,
  readTaskContract,
  type ClassifierContract,
  type ClassifierInput,
  type ClassifierOutput,
  type TaskContract,
  type BuildClassifierContractOptions,
  topClasses,
  type TopClass,
} from './contract.js';
export { exportOnnx, ONNX_OPSET, type OnnxExportOptions } from './onnx-export.js';
export { exportClassifierOnnx } from './onnx-classifier.js';
