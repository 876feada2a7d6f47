// Comet REST v2 write and read endpoints (references.md section 1) under /api/rest/v2.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  emitTouched,
  experimentForWrite,
  experimentOf,
  requireWrite,
  workspaceOf,
  type RouteContext,
} from './context.js';
import { storeAssetUpload } from './asset-upload.js';
import { checkExperimentName, checkValueSize } from './limits.js';
import { linkSdkOptimizerExperiment } from './routes-optimizer-sdk.js';
import { bodies, queries, type MetricItem } from '../api/index.js';
import { type ExperimentRow, type MetricInput } from './store.js';

const V2 = '/api/rest/v2';

export function registerCometRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const write = (req: FastifyRequest, key: string) => experimentForWrite(ctx, req, key);
  const touched = (e: ExperimentRow, type: 'metric' | 'experiment') => emitTouched(ctx, e, type);

  // ---- write ------------------------------------------------------------------------------------------------
  api.post(
    `${V2}/write/project/create`,
    { schema: { body: bodies.projectCreate, summary: 'Create a project' } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      return store.project(
        workspaceOf(req, b.workspaceName),
        b.projectName,
        b.projectDescription ?? undefined,
        b.isPublic,
      );
    },
  );

  api.post(
    `${V2}/write/experiment/create`,
    { schema: { body: bodies.experimentCreate, summary: 'Create an experiment' } },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const ws = workspaceOf(req, b.workspaceName);
      const r = await store.createExperiment(ws, b.projectName ?? 'general', b.experimentName ?? null, b.experimentKey);
      ctx.emit({ type: 'experiment', experimentKey: r.experimentKey, workspaceName: ws, projectName: r.projectName });
      return { ...r, link: `/experiments/${r.experimentKey}` };
    },
  );

  api.post(
    `${V2}/write/experiment/metric`,
    { schema: { body: bodies.metric, summary: 'Log one metric value' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.addMetrics(e.experiment_key, [toMetric(b)]);
      touched(e, 'metric');
      return {};
    },
  );

  api.post(
    '/api/rest/v2/clientlib/batch/logger/experiment/metric',
    { schema: { body: bodies.metricBatch, summary: 'Log a batch of metric values (deduplicated by `id`)' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      const inserted = await store.addMetrics(e.experiment_key, b.values.map(toMetric));
      touched(e, 'metric');
      return { inserted };
    },
  );
  api.post(
    `${V2}/write/experiment/parameter`,
    { schema: { body: bodies.parameter, summary: 'Log a parameter' } },
    async (req) => {
      const b = req.body;
      checkValueSize('parameterValue', b.parameterValue);
      const e = await write(req, b.experimentKey);
      await store.setParams(e.experiment_key, 'parameter', [
        { name: b.parameterName, value: b.parameterValue, step: b.step, timestamp: round(b.timestamp) },
      ]);
      touched(e, 'experiment');
      return {};
    },
  );
  api.post(
    '/api/rest/v2/clientlib/batch/logger/experiment/parameter',
    { schema: { body: bodies.parameterBatch, summary: 'Log a batch of parameters' } },
    async (req) => {
      const b = req.body;
      b.values.forEach((v, i) => checkValueSize(`values/${i}/parameterValue`, v.parameterValue));
      const e = await write(req, b.experimentKey);
      await store.setParams(
        e.experiment_key,
        'parameter',
        b.values.map((v) => ({
          name: v.parameterName,
          value: v.parameterValue,
          step: v.step,
          timestamp: round(v.timestamp),
        })),
      );
      touched(e, 'experiment');
      return {};
    },
  );
  api.post(
    `${V2}/write/experiment/log-other`,
    { schema: { body: bodies.logOther, summary: 'Log an "other" value' } },
    async (req) => {
      const b = req.body;
      checkValueSize('value', b.value);
      if (b.key === 'Name') checkExperimentName('value', b.value);
      const e = await write(req, b.experimentKey);
      await store.setParams(e.experiment_key, 'other', [
        { name: b.key, value: b.value, timestamp: round(b.timestamp) },
      ]);
      if (b.key === 'optimizer_id' && typeof b.value === 'string' && /^[0-9a-f]{32}$/.test(b.value))
        await store.setOptimizationId(e.experiment_key, b.value);
      if (typeof b.key === 'string' && b.key.startsWith('optimizer_'))
        await linkSdkOptimizerExperiment(store, e.experiment_key);
      if (b.key === 'Name' && typeof b.value === 'string')
        await store.db.run('UPDATE experiments SET name = ? WHERE experiment_key = ?', [b.value, e.experiment_key]);
      touched(e, 'experiment');
      return {};
    },
  );
  api.post(`${V2}/write/experiment/tags`, { schema: { body: bodies.tags, summary: 'Add tags' } }, async (req) => {
    const b = req.body;
    const e = await write(req, b.experimentKey);
    await store.addTags(e.experiment_key, b.addedTags);
    touched(e, 'experiment');
    return {};
  });
  api.post(`${V2}/write/experiment/html`, { schema: { body: bodies.html, summary: 'Log HTML' } }, async (req) => {
    const b = req.body;
    const e = await write(req, b.experimentKey);
    const ts = b.timestamp ?? undefined;
    await store.addHtml(
      e.experiment_key,
      b.html,
      !!b.override,
      b.id,
      round(ts !== undefined && ts > 1e14 ? ts / 1000 : ts),
    );
    return {};
  });
  api.post(
    `${V2}/write/experiment/output`,
    { schema: { body: bodies.output, summary: 'Log console output lines' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.addOutput(
        e.experiment_key,
        b.outputLines.map((l) => ({
          id: l.id,
          output: l.output,
          stderr: l.stderr,
          offset: l.offset,
          localTimestamp: round(l.localTimestamp),
        })),
        b.runContext,
      );
      return {};
    },
  );
  api.post(
    `${V2}/write/experiment/git/metadata`,
    { schema: { body: bodies.gitMetadata, summary: 'Log git metadata' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.mergeDetails(e.experiment_key, 'git', b);
      return {};
    },
  );
  api.post(
    `${V2}/write/experiment/system-details`,
    { schema: { body: bodies.systemDetails, summary: 'Log system details (partial updates merge)' } },
    async (req) => {
      const b = req.body;
      for (const [k, v] of Object.entries(b)) checkValueSize(k.slice(0, 100), v);
      const e = await write(req, b.experimentKey);
      await store.mergeDetails(e.experiment_key, 'system', b);
      return {};
    },
  );
  api.get(
    `${V2}/write/experiment/set-status`,
    { schema: { querystring: queries.experimentKey, summary: 'Heartbeat' }, config: { auth: 'key' } },
    async (req) => {
      const q = req.query;
      const e = await write(req, q.experimentKey);
      await store.heartbeat(e.experiment_key);
      return { isAliveBeatDurationMillis: store.heartbeatMillis };
    },
  );
  api.post(
    `${V2}/write/experiment/set-start-end-time`,
    { schema: { body: bodies.startEnd, summary: 'Set start/end time (ends a run)' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.setStartEnd(e.experiment_key, round(b.startTimeMillis), round(b.endTimeMillis));
      touched(e, 'experiment');
      return {};
    },
  );
  api.post(
    `${V2}/write/experiment/update-status`,
    { schema: { body: bodies.updateStatus, summary: 'Update alive/crashed status' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.updateStatus(e.experiment_key, b);
      touched(e, 'experiment');
      return {};
    },
  );

  api.post(
    `${V2}/write/experiment/upload-asset`,
    {
      schema: {
        querystring: queries.upload,
        summary:
          'Upload an asset (multipart/form-data, part `file`, optional part `metadata`); `id` makes replays idempotent',
      },
      config: {
        auth: 'key',
        requestBody: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: {
                file: { type: 'string', format: 'binary', description: 'the asset bytes' },
                metadata: { type: 'string', description: 'optional JSON object stored with the asset' },
              },
              required: ['file'],
            },
          },
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const e = await write(req, q.experimentKey);
      const stored = await storeAssetUpload(ctx, req, reply, e, {
        clientId: q.id ?? randomUUID(),
        queryName: q.fileName,
        step: q.step ?? null,
        epoch: q.epoch ?? null,
        type: q.type ?? 'asset',
        groupingName: q.groupingName ?? null,
        overwrite: q.overwrite === true,
      });
      if (!stored.duplicate) touched(e, 'experiment');
      return stored;
    },
  );

  // ---- read -------------------------------------------------------------------------------------------------
  api.get(`${V2}/workspaces`, { schema: { summary: 'Workspaces of this API key' } }, async (req) => {
    if (req.auth.workspace !== null) return { workspaceNames: [req.auth.workspace] };
    const rows = await store.db.all<{ name: string }>('SELECT name FROM workspaces ORDER BY name');
    return { workspaceNames: rows.map((r) => r.name) };
  });
  api.get(
    `${V2}/projects`,
    { schema: { querystring: queries.workspace, summary: 'Projects of a workspace' } },
    async (req) => {
      const q = req.query;
      return { projects: await store.projects(workspaceOf(req, q.workspaceName)) };
    },
  );
  api.get(
    `${V2}/experiments`,
    { schema: { querystring: queries.experiments, summary: 'Experiments of a project' } },
    async (req) => {
      const q = req.query;
      const rows = await store.experiments(workspaceOf(req, q.workspaceName), q);
      return { experiments: rows.map((r) => store.experimentJson(r)) };
    },
  );
  const readKey = (path: string, summary: string, fn: (key: string) => Promise<unknown>) =>
    api.get(`${V2}${path}`, { schema: { querystring: queries.experimentKey, summary } }, async (req) => {
      const q = req.query;
      const e = await experimentOf(ctx, req, q.experimentKey);
      return fn(e.experiment_key);
    });
  api.get(
    `${V2}/experiment/metadata`,
    { schema: { querystring: queries.experimentKey, summary: 'Experiment metadata' } },
    async (req) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      return store.experimentJson(e);
    },
  );
  readKey('/experiment/metrics/summary', 'Per-metric summary', async (k) => ({
    values: await store.metricsSummary(k),
  }));
  api.get(
    `${V2}/experiment/metrics/get-metric`,
    { schema: { querystring: queries.getMetric, summary: 'Every point of one metric' } },
    async (req) => {
      const q = req.query;
      const e = await experimentOf(ctx, req, q.experimentKey);
      return { metrics: await store.metricPoints(e.experiment_key, q.metricName) };
    },
  );
  readKey('/experiment/parameters', 'Parameters', async (k) => ({ values: await store.params(k, 'parameter') }));
  readKey('/experiment/log-other', 'Other values', async (k) => ({ values: await store.params(k, 'other') }));
  readKey('/experiment/tags', 'Tags', async (k) => ({ tags: (await store.tags([k])).get(k) ?? [] }));
  readKey('/experiment/html', 'HTML', async (k) => ({ html: await store.html(k) }));
  readKey('/experiment/output', 'Console output', async (k) => {
    const lines = await store.output(k);
    return { output: lines.map((l) => l.output).join(''), lines };
  });
  readKey('/experiment/git/metadata', 'Git metadata', (k) => store.details(k, 'git'));
  readKey('/experiment/system-details', 'System details', (k) => store.details(k, 'system'));
  api.get(
    `${V2}/experiment/asset/list`,
    { schema: { querystring: queries.assetList, summary: 'Assets' } },
    async (req) => {
      const q = req.query;
      const e = await experimentOf(ctx, req, q.experimentKey);
      const list = await store.assets(e.experiment_key, q.type);
      return { assets: list.map(({ storageKey: _s, ...a }) => a) };
    },
  );
  api.get(
    `${V2}/experiment/asset/get-asset`,
    { schema: { querystring: queries.getAsset, summary: 'Asset bytes' } },
    async (req, reply) => {
      const q = req.query;
      const e = await experimentOf(ctx, req, q.experimentKey);
      const a = await store.asset(e.experiment_key, q.assetId);
      const stream = await ctx.assets.get(a.storageKey);
      reply.header('content-type', 'application/octet-stream');
      reply.header('content-length', String(a.fileSize));
      reply.header(
        'content-disposition',
        `attachment; filename*=UTF-8''${encodeURIComponent(a.fileName.split('/').pop()!)}`,
      );
      return reply.send(stream);
    },
  );
}

function round(v: unknown): number | undefined {
  return typeof v === 'number' ? Math.round(v) : undefined;
}

function toMetric(b: MetricItem): MetricInput {
  return {
    id: b.id,
    name: b.metricName,
    value: b.metricValue,
    step: b.step ?? null,
    epoch: b.epoch ?? null,
    timestamp: round(b.timestamp),
    context: b.context ?? null,
  };
}
