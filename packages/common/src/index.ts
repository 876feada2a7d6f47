// Public surface of @ocrops/common: errors, config reading, paths, progress bars and CLI helpers.
export { OcropsError, isOcropsError, formatError } from './errors.js';
export {
  readYamlFile,
  parseYamlText,
  readJsonFile,
  parseJsonText,
  jsonField,
  jsonList,
  ConfigReader,
} from './config.js';
export { captureLog } from './capture.js';
export { replaceDir } from './fs.js';
export { repoRoot, sharedDatasetsDir, sharedDataset, venvBin } from './paths.js';
export { ProgressBar, formatDuration } from './progress.js';
export { freePorts, isPortFree, STABLE_PORT_RANGE } from './net.js';
export { mulberry32, Rng, rngFor, mixSeed } from './random.js';
export { ocropsCommand, spawnOcrops, spawnOcropsSync, type OcropsSpawnOptions } from './ocrops-process.js';
export { helpText, parseCommand, runMain, type Command, type CommandTable, type CommandSpec } from './cli.js';
export {
  loadConfig,
  validateConfig,
  parseConfigDocument,
  readConfigDocument,
  formatIssues,
  formatPosition,
  allowedOf,
  didYouMean,
  camelizeConfig,
  snakeizeConfig,
  snakeToCamel,
  camelToSnake,
  warnOnce,
  type Camelized,
  type ConfigDocument,
  type ConfigIssue,
  type ConfigLocator,
  type ConfigPosition,
  type ReportIssue,
  type ValidateConfigOptions,
  type AliasOptions,
} from './config-schema.js';
