// Public surface of @ocrops/versioning: DVC runner and readers, DVC 3 hashing, S3 weight download, local SeaweedFS,
// background services and the CLI command tables.
export { dvc, dvcBin, dvcEnv, dvcErrorText, type DvcOptions } from './dvc.js';
export { md5Hex, md5File, dirManifest, dirManifestMd5, hashDirectory, type DirEntry } from './hash.js';
export {
  readDvcLock, readDvcFile, resolveOutput,
  type DvcEntry, type DvcLock, type DvcLockStage, type ResolvedOutput,
} from './lock.js';
export { parseDvcConfig, readS3Remote, s3Client, objectKey, type S3RemoteConfig } from './remote.js';
export { pullWeights, parseManifest, findDvcRoot, downloadOutput, type PullWeightsOptions, type PullReport } from './pull.js';
export { pushDirectory, pullDirectory, s3RemoteFromUrl, type PushReport } from './push.js';
export {
  startSeaweed, stopSeaweed, seaweedStatus, seaweedPorts, freePorts, defaultSeaweedDir,
  LOCAL_S3_CREDENTIALS, DEFAULT_S3_PORT, DEFAULT_BUCKET,
  type SeaweedHandle, type SeaweedOptions, type SeaweedPorts, type SeaweedStatus,
} from './seaweed.js';
export {
  startTracker, stopTracker, trackerStatus, httpAnswers, DEFAULT_TRACKER_PORT,
  type TrackerService, type TrackerServiceOptions,
} from './tracker-service.js';
export { runVersionInfo, versionOthers, VERSIONED_OUTPUTS, type RunVersionInfo } from './version-info.js';
export { commands, weightsCommands, servicesCommands } from './commands.js';
export { runsSummary } from './summary.js';
