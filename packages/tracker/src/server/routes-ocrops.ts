// Dashboard endpoints (/api/ocrops/*) and the optimizer resource (/api/rest/v2/optimizer/*).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { experimentOf, requireWrite, workspaceOf, type RouteContext } from './context.js';
import { badRequest } from './http-error.js';
import { checkSweepConfig } from './limits.js';
import {
  bodies,
  matchesFilter,
  parseFilter,
  queries,
  sortRuns,
  RunsQuerySyntaxError,
  type FilterCondition,
} from '../api/index.js';
import type { RunRow, SeriesReply, TrackerEvent } from '../types.js';

/** The runs filter's conditions; 400 naming the part that does not parse. */
function filterOf(expr: string): FilterCondition[] {
  try {
    return parseFilter(expr);
  } catch (err) {
    if (err instanceof RunsQuerySyntaxError) throw badRequest(err.message);
    throw err;
  }
}

export function registerOcropsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;

  api.get(
    '/api/ocrops/runs',
    { schema: { querystring: queries.runs, summary: 'Runs table: sort/filter on metric summaries and params' } },
    async (req) => {
      const q = req.query;
      const ws = workspaceOf(req, q.workspaceName);
      const conds = q.filter ? filterOf(q.filter) : [];
      const rows = await store.experiments(ws, { projectName: q.projectName });
      const keys = rows.map((r) => r.experiment_key);
      const [summaries, params, tags] = await Promise.all([
        store.summaries(keys),
        store.paramValues(keys, 'parameter'),
        store.tags(keys),
      ]);
      let runs: RunRow[] = rows.map((r) => {
        const j = store.experimentJson(r);
        return {
          experimentKey: j.experimentKey,
          experimentName: j.experimentName,
          projectName: j.projectName,
          workspaceName: j.workspaceName,
          status: store.status(r),
          startTimeMillis: j.startTimeMillis,
          endTimeMillis: j.endTimeMillis,
          durationMillis: j.durationMillis,
          tags: tags.get(r.experiment_key) ?? [],
          optimizationId: j.optimizationId,
          params: params.get(r.experiment_key) ?? {},
          metrics: summaries.get(r.experiment_key) ?? {},
        };
      });
      if (conds.length) runs = runs.filter((r) => matchesFilter(r, conds));
      runs = sortRuns(runs, q.sort ?? 'startTimeMillis', q.order ?? (q.sort ? 'asc' : 'desc'));
      const total = runs.length;
      const offset = q.offset ?? 0;
      return { total, runs: runs.slice(offset, offset + (q.limit ?? 1000)) };
    },
  );

  api.get(
    '/api/ocrops/series',
    {
      schema: {
        querystring: queries.series,
        summary:
          'Metric series downsampled to N points each (min/max kept per bucket): one (metricName) or several (metricNames=a,b)',
      },
    },
    async (req) => {
      const q = req.query;
      if ((q.metricName === undefined) === (q.metricNames === undefined))
        throw badRequest('querystring must have exactly one of metricName or metricNames (comma-separated)');
      const names = q.metricName !== undefined ? [q.metricName as string] : parseMetricNames(q.metricNames as string);
      const e = await experimentOf(ctx, req, q.experimentKey);
      const x = (q.x ?? 'step') as 'step' | 'epoch' | 'timestamp';
      const series: SeriesReply[] = [];
      for (const name of names) {
        series.push({
          metricName: name,
          ...(await store.series(e.experiment_key, name, x, q.points ?? 500, q.from, q.to)),
        });
      }
      return q.metricName !== undefined ? series[0] : { series };
    },
  );

  api.get(
    '/api/ocrops/events',
    {
      schema: { querystring: queries.events, summary: 'Server-sent events {type, experimentKey} for live runs' },
      config: { longLived: true },
    },
    async (req, reply) => {
      const q = req.query;
      const ws = workspaceOf(req, q.workspaceName);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      const listener = (e: TrackerEvent) => {
        if (e.workspaceName !== ws || (q.projectName && e.projectName && e.projectName !== q.projectName)) return;
        res.write(`data: ${JSON.stringify(e)}\n\n`);
      };
      ctx.events.on('event', listener);
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      req.raw.on('close', () => {
        clearInterval(ping);
        ctx.events.off('event', listener);
      });
    },
  );

  api.get(
    '/api/ocrops/sweeps',
    { schema: { querystring: queries.optimizerList, summary: 'Sweeps of a project' } },
    async (req) => {
      const q = req.query;
      return { sweeps: await ctx.optimizer.list(workspaceOf(req, q.workspaceName), q.projectName) };
    },
  );
  api.get(
    '/api/ocrops/sweep',
    { schema: { querystring: queries.sweep, summary: 'One sweep: config, state, trials' } },
    async (req) => {
      const q = req.query;
      return ctx.optimizer.status(workspaceOf(req), q.id);
    },
  );

  // ---- optimizer resource -----------------------------------------------------------------------------------
  const O = '/api/rest/v2/optimizer';
  api.post(
    `${O}/create`,
    { schema: { body: bodies.optimizerCreate, summary: 'Create a sweep from a Comet optimizer config' } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      checkSweepConfig(b.config);
      const ws = workspaceOf(req, b.workspaceName);
      const r = await ctx.optimizer.create(ws, { config: b.config, projectName: b.projectName });
      ctx.emit({ type: 'sweep', optimizerId: r.id, workspaceName: ws, projectName: b.projectName });
      return r;
    },
  );
  api.get(
    `${O}/next`,
    {
      schema: { querystring: queries.optimizerNext, summary: 'Next suggestion (204 when done), leased to the caller' },
      config: { auth: 'key' },
    },
    async (req, reply) => {
      requireWrite(req);
      const q = req.query;
      const ws = workspaceOf(req);
      const s = await ctx.optimizer.next(ws, q.id, {
        leaseMillis: q.leaseSeconds !== undefined ? q.leaseSeconds * 1000 : undefined,
        worker: q.worker,
      });
      if (!s) {
        reply.code(204);
        return reply.send();
      }
      ctx.emit({ type: 'sweep', optimizerId: q.id, workspaceName: ws });
      return s;
    },
  );
  api.post(
    `${O}/update`,
    { schema: { body: bodies.optimizerUpdate, summary: 'Report a trial status / score' } },
    async (req) => {
      requireWrite(req);
      const ws = workspaceOf(req);
      const r = await ctx.optimizer.update(ws, req.body);
      ctx.emit({ type: 'sweep', optimizerId: req.body.id, workspaceName: ws });
      return r;
    },
  );
  api.post(
    `${O}/heartbeat`,
    { schema: { body: bodies.optimizerHeartbeat, summary: "Renew a worker's lease on its trial" } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      return ctx.optimizer.heartbeat(workspaceOf(req), { id: b.id, pid: b.pid, trial: b.trial, lease: b.lease });
    },
  );
  api.post(
    `${O}/release`,
    { schema: { body: bodies.optimizerRelease, summary: 'Hand a running trial back for re-suggestion' } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      return ctx.optimizer.release(workspaceOf(req), b.id, b.pid, b.trial);
    },
  );
  api.get(
    `${O}/status`,
    { schema: { querystring: queries.optimizerId, summary: 'Sweep config, trials and best trial' } },
    async (req) => ctx.optimizer.status(workspaceOf(req), req.query.id),
  );
  api.get(
    `${O}/list`,
    { schema: { querystring: queries.optimizerList, summary: 'Sweeps of a workspace/project' } },
    async (req) => {
      const q = req.query;
      return { optimizers: await ctx.optimizer.list(workspaceOf(req, q.workspaceName), q.projectName) };
    },
  );
}

/** Splits `metricNames=a,b,c` (trimmed, duplicates dropped, 1..100 names) or answers 400 naming the field. */
export function parseMetricNames(raw: string): string[] {
  const names = [...new Set(raw.split(',').map((n) => n.trim()))];
  if (names.some((n) => n === '' || n.length > 500))
    throw badRequest('querystring/metricNames must be comma-separated names of 1..500 characters (no empty names)');
  if (names.length > 100)
    throw badRequest(`querystring/metricNames has ${names.length} names; ask for at most 100 per request`);
  return names;
}
