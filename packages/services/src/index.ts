// Public surface of @ocrops/services: the local background services of a checkout (SeaweedFS as the S3 remote, the
// tracker server started as `ocrops tracker serve`), the quickstart's run summary and the `ocrops services` commands.
// Test launchers (a SeaweedFS on free ports, a throw-away DVC repository) are the separate entry `@ocrops/services/testkit`.
export {
  startSeaweed,
  stopSeaweed,
  seaweedStatus,
  seaweedPorts,
  defaultSeaweedDir,
  LOCAL_S3_CREDENTIALS,
  DEFAULT_S3_PORT,
  DEFAULT_BUCKET,
  type SeaweedHandle,
  type SeaweedOptions,
  type SeaweedPorts,
  type SeaweedStatus,
} from './seaweed.js';
export {
  startTracker,
  stopTracker,
  trackerStatus,
  httpAnswers,
  DEFAULT_TRACKER_PORT,
  type TrackerService,
  type TrackerServiceOptions,
} from './tracker-service.js';
export { servicesCommands } from './commands.js';
export { runsSummary } from './summary.js';
