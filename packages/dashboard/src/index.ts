// Public surface of @ocrops/dashboard (node side): the built web app's location and its build.
// The browser app itself lives in src/ui (entry src/ui/main.tsx) and is built by Vite into web-dist/.
export { webDistDir, buildDashboard, ensureDashboardBuilt } from './web.js';
export type {
  RunRow,
  RunsReply,
  MetricSummary,
  RunStatus,
  SeriesPoint,
  SeriesReply,
  XAxis,
  SweepInfo,
  SweepTrial,
  ProjectInfo,
  TrackerEvent,
} from './lib/api-types.js';
export { parameterImportance, etaSquared, spearman, type ParamImportance, type ScoredTrial } from './lib/importance.js';
export { emaSmooth, bestSoFar } from './lib/smoothing.js';
export { parseFilter, matchesFilter, sortRuns, columnValue, compareValues, type FilterClause } from './lib/query.js';
