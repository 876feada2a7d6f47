// Public surface of @ocrops/sweep: the sweep runner (trials as `ocrops trainer train` child processes, worker pool,
// best weights) and the `ocrops sweep` commands. The search maths is @ocrops/search.
export { parseSweepFile, loadSweepFile, type SweepFile, type SweepRunConfig } from './sweep-config.js';
export { runSweep, trialDirName, type RunSweepOptions, type SweepSummary, type BestRecord } from './runner.js';
export { commands } from './commands.js';
