// Public surface of @ocrops/dashboard (node side): the built web app's location and its build.
// The browser app itself lives in src/ui (entry src/ui/main.tsx) and is built by Vite into web-dist/. The wire types it
// reads and the runs query language are @ocrops/tracker/api's.
export { webDistDir, buildDashboard, ensureDashboardBuilt } from './web.js';
export { parameterImportance, etaSquared, spearman, type ParamImportance, type ScoredTrial } from './lib/importance.js';
export { emaSmooth, bestSoFar } from './lib/smoothing.js';
