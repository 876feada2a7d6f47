// Public surface of @ocrops/versioning: DVC runner and readers, DVC 3 hashing, S3 weight download and upload, run
// version info and the `ocrops weights` command table. Background services (SeaweedFS, tracker) are @ocrops/services.
export { dvc, dvcBin, dvcEnv, dvcErrorText, type DvcOptions } from './dvc.js';
export { md5Hex, md5File, dirManifest, dirManifestMd5, hashDirectory, type DirEntry } from './hash.js';
export {
  readDvcLock,
  readDvcFile,
  resolveOutput,
  type DvcEntry,
  type DvcLock,
  type DvcLockStage,
  type ResolvedOutput,
} from './lock.js';
export { parseDvcConfig, readS3Remote, s3Client, objectKey, type S3RemoteConfig } from './remote.js';
export {
  pullWeights,
  parseManifest,
  findDvcRoot,
  downloadOutput,
  type PullWeightsOptions,
  type PullReport,
} from './pull.js';
export { pushDirectory, pullDirectory, s3RemoteFromUrl, type PushReport } from './push.js';
export { runVersionInfo, versionOthers, VERSIONED_OUTPUTS, type RunVersionInfo } from './version-info.js';
export { weightsCommands } from './commands.js';
