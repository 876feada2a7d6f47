// Public surface of @ocrops/tracker: the Comet-style client, the read/optimizer API, the tracking server and commands.
export { Experiment, type ExperimentOptions, type DeliveryStats } from './client/experiment.js';
export { TrackerApi, type TrackerApiOptions } from './client/api.js';
export {
  resolveClientConfig,
  localDefaultKey,
  defaultSpoolDir,
  DEFAULT_URL,
  type ClientConfig,
} from './client/config.js';
export {
  syncSpool,
  Spool,
  deadLetterFile,
  type SyncOptions,
  type SyncReport,
  type SpoolRecord,
} from './client/spool.js';
export { TrackerHttpError, restBase, originOf } from './client/http.js';
export { gitMetadata, systemDetails } from './client/details.js';
export {
  ModelRegistry,
  parseModelRef,
  formatModelRef,
  resolveRegistryModel,
  watchAlias,
  downloadVersion,
  verifyFolder,
  type RegistryVersion,
  type RegistryModelSummary,
  type ModelRef,
  type RegisterOptions,
  type ResolvedModel,
  type AliasWatch,
} from './client/registry.js';
export {
  startServer,
  defaultDataDir,
  openDatabase,
  ensureDefaultKey,
  type ServerOptions,
  type TrackerServer,
} from './server/server.js';
export { createApiKey, listApiKeys, revokeApiKeys } from './server/keys.js';
export { downsample } from './server/query.js';
export { parseFilter } from './api/index.js';
export { makeTrackerCommands, commands } from './commands.js';
export { modelsCommands, registerSource, registrationSource, type RegistrationSource } from './commands-models.js';
export type {
  TrialRecord,
  OptimizerAlgorithm,
  OptimizerSuggestion,
  OptimizerStatus,
  RunStatus,
  RunRow,
  SeriesSummary,
  SeriesPoint,
  SeriesReply,
  MultiSeriesReply,
  TrackerEvent,
} from './types.js';
