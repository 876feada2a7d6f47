// The comet_ml SDK's optimizer protocol (`comet_ml.Optimizer`, `comet optimize`) on top of the tracker's own
// OptimizerService: the same sweeps, trials and algorithms (@ocrops/sweep) as `ocrops sweep`, so `ocrops sweep status`
// and the dashboard show an SDK-driven sweep like their own. The SDK calls `<root>/optimizer/{spec,create,status,next,
// update,algorithms}` (rewritten to /api/comet/optimizer/... by rewriteSdkUrl) and reads `code` fields in the bodies.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { sdkOptimizer } from '../api/index.js';
import type { FastifyInstance } from 'fastify';
import { requireWrite, workspaceOf, type RouteContext } from './context.js';
import { HttpError } from './http-error.js';
import type { TrackerStore } from './store.js';

/** Canonical prefix of the SDK's optimizer calls (`<root>/optimizer/...`, see rewriteSdkUrl). */
export const SDK_OPTIMIZER_PREFIX = '/api/comet/optimizer';

/** The algorithms this server runs for the SDK (those of @ocrops/sweep's optimizer). */
export const SDK_ALGORITHMS = ['grid', 'random', 'bayes'] as const;

/** The spec fields the SDK fills in from `spec?algorithmName=` before creating a sweep (ocrops's defaults). */
export const SDK_SPEC_DEFAULTS: ReadonlyArray<{ name: string; default: unknown }> = [
  { name: 'maxCombo', default: 0 },
  { name: 'objective', default: 'minimize' },
  { name: 'metric', default: 'loss' },
  { name: 'seed', default: 42 },
  { name: 'retryLimit', default: 20 },
  { name: 'retryAssignLimit', default: 0 },
  { name: 'gridSize', default: 10 },
  { name: 'randomize', default: false },
  { name: 'minSampleSize', default: 0 },
];

/** Version string the SDK records as `optimizer_version` on each experiment. */
const VERSION = '2.0.1';

const schemas = sdkOptimizer;

/** SDK trial statuses -> the tracker's (`aborted`: the run logged no objective value). */
function trialStatus(s: string): 'running' | 'completed' | 'failed' {
  if (s === 'completed') return 'completed';
  if (s === 'running') return 'running';
  if (s === 'aborted' || s === 'failed' || s === 'crashed') return 'failed';
  throw new HttpError(400, `body/status must be running, completed or aborted (got "${s}")`);
}

/**
 * Links an SDK optimizer experiment to its trial once it has logged `optimizer_id`, `optimizer_pid` and
 * `optimizer_trial` (the SDK logs these "others" at the experiment's start): the trial gets the experiment key and a
 * sweep created without a project takes the experiment's, so the project's sweep list shows it.
 */
export async function linkSdkOptimizerExperiment(store: TrackerStore, experimentKey: string): Promise<void> {
  const rows = await store.db.all<{ name: string; value: string }>(
    `SELECT name, value FROM params WHERE experiment_key = ? AND kind = 'other' AND name IN ('optimizer_id', 'optimizer_pid', 'optimizer_trial')`,
    [experimentKey],
  );
  const v = Object.fromEntries(rows.map((r) => [r.name, r.value]));
  if (!v.optimizer_id || !v.optimizer_pid || !v.optimizer_trial) return;
  const e = await store.db.get<{ workspace: string; project_name: string }>(
    'SELECT e.workspace, p.name AS project_name FROM experiments e JOIN projects p ON p.project_id = e.project_id WHERE e.experiment_key = ?',
    [experimentKey],
  );
  if (!e) return;
  const opt = await store.db.get<{ workspace: string }>('SELECT workspace FROM optimizers WHERE id = ?', [
    v.optimizer_id,
  ]);
  if (!opt || opt.workspace !== e.workspace) return;
  await store.db.run(
    'UPDATE trials SET experiment_key = ? WHERE optimizer_id = ? AND pid = ? AND trial = ? AND experiment_key IS NULL',
    [experimentKey, v.optimizer_id, v.optimizer_pid, Number(v.optimizer_trial)],
  );
  await store.db.run('UPDATE optimizers SET project_name = ? WHERE id = ? AND project_name IS NULL', [
    e.project_name,
    v.optimizer_id,
  ]);
}

export function registerSdkOptimizerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const O = SDK_OPTIMIZER_PREFIX;

  api.get(
    `${O}/spec`,
    { schema: { querystring: schemas.spec, summary: 'comet_ml Optimizer: spec fields and defaults of an algorithm' } },
    async (req) => {
      const name = req.query.algorithmName ?? 'bayes';
      if (!(SDK_ALGORITHMS as readonly string[]).includes(name))
        return {
          code: 400,
          message: `algorithm "${name}" is not available here; use one of ${SDK_ALGORITHMS.join(', ')}`,
        };
      return SDK_SPEC_DEFAULTS;
    },
  );

  api.get(`${O}/algorithms`, { schema: { summary: 'comet_ml Optimizer: available algorithms' } }, async () =>
    Object.fromEntries(SDK_ALGORITHMS.map((a) => [a, { version: VERSION }])),
  );

  api.post(
    `${O}/create`,
    { schema: { body: schemas.create, summary: 'comet_ml Optimizer: create a sweep (an ocrops sweep)' } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const ws = workspaceOf(req);
      const config: Record<string, unknown> = {
        algorithm: b.algorithm,
        parameters: b.parameters,
        spec: b.spec ?? {},
        trials: b.trials ?? 1,
      };
      if (typeof b.name === 'string' && b.name) config.name = b.name;
      try {
        const { id } = await ctx.optimizer.create(ws, { config });
        ctx.emit({ type: 'sweep', optimizerId: id, workspaceName: ws });
        return { code: 200, id };
      } catch (err) {
        if (err instanceof HttpError && err.statusCode === 400) return { code: 400, message: err.message };
        throw err;
      }
    },
  );

  api.get(
    `${O}/status`,
    {
      schema: {
        querystring: schemas.id,
        summary: 'comet_ml Optimizer: the sweep config (as created), status and trials',
      },
    },
    async (req) => {
      const s = await ctx.optimizer.status(workspaceOf(req), req.query.id);
      const c = s.config;
      const row = await ctx.store.db.get<{ created_at: number; updated_at: number }>(
        'SELECT created_at, updated_at FROM optimizers WHERE id = ?',
        [s.id],
      );
      const lastUpdate = Math.max(Number(row?.updated_at ?? 0), ...s.trials.map((t) => t.updatedAt));
      return {
        id: s.id,
        name: s.name ?? s.id,
        algorithm: c.algorithm,
        parameters: c.parameters,
        spec: c.spec,
        trials: c.trials ?? 1,
        status: s.state,
        version: VERSION,
        // `comet optimize` prints these times when the sweep is over
        startTime: Number(row?.created_at ?? 0),
        endTime: s.state === 'completed' ? lastUpdate : null,
        lastUpdateTime: lastUpdate,
        projectName: s.projectName ?? null,
        comboCount: s.trials.length,
        best: s.best ?? null,
      };
    },
  );

  api.get(
    `${O}/next`,
    {
      schema: {
        querystring: schemas.id,
        summary: 'comet_ml Optimizer: next parameter set (`code` 204 when the sweep is done)',
      },
      config: { auth: 'key' },
    },
    async (req) => {
      requireWrite(req);
      const ws = workspaceOf(req);
      const id = req.query.id;
      const s = await ctx.optimizer.next(ws, id);
      if (!s) return { code: 204, message: `optimizer ${id}: no more parameter sets` };
      ctx.emit({ type: 'sweep', optimizerId: id, workspaceName: ws });
      return { code: 200, parameters: { parameters: s.parameters, pid: s.pid, trial: s.trial, count: s.count } };
    },
  );

  api.post(
    `${O}/update`,
    {
      schema: {
        body: schemas.update,
        summary: 'comet_ml Optimizer: a trial ended (completed with its score, or aborted)',
      },
    },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const ws = workspaceOf(req);
      const t = await ctx.optimizer.update(ws, {
        id: b.id,
        pid: b.pid,
        trial: b.trial,
        status: trialStatus(b.status),
        score: typeof b.score === 'number' ? b.score : null,
        epoch: typeof b.epoch === 'number' ? b.epoch : null,
      });
      ctx.emit({ type: 'sweep', optimizerId: b.id, workspaceName: ws });
      return { code: 200, ...t };
    },
  );
}
