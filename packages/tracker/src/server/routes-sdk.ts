// The server side of the official comet_ml Python SDK (3.58.x), so that existing comet_ml code logs to this tracker
// unmodified: the experiment handshake (`logger/add/run`, `logger/get/run`), status reports (heartbeats, end),
// the batch message endpoints, multipart uploads, the offline-archive metadata and the read calls the SDK's `API` makes
// beyond the routes in routes-comet.ts. The SDK addresses three bases derived from COMET_URL_OVERRIDE (the override
// itself, `<root>/api/rest/v2/` and `<root>/clientlib/rest/v2/`, plus `<root>/optimizer/`); `rewriteSdkUrl` maps
// all of them onto canonical routes under /api/, where the server's API-key check and the OpenAPI document apply.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createGunzip } from 'node:zlib';
import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  emitTouched,
  experimentForWrite,
  experimentOf,
  requireWrite,
  workspaceOf,
  type RouteContext,
} from './context.js';
import { storeAssetUpload } from './asset-upload.js';
import { HttpError, badRequest } from './http-error.js';
import { SDK_OPTIMIZER_PREFIX } from './routes-optimizer-sdk.js';
import { matchesPredicates, queryColumns, type QueryRun } from './sdk-query.js';
import { newKey, type ExperimentRow, type MetricInput } from './store.js';
import { sdkBodies, sdkQueries, type SdkMetricItem, type SdkUploadQuery } from '../api/index.js';

const V2 = '/api/rest/v2';
/** The Comet backend version this server claims at `isAlive/ver`: new enough for `metrics/get-all` (3.20.60) and offline fallback. */
export const SDK_BACKEND_VERSION = '3.30.0';

/** First path segments the SDK sends to the root of COMET_URL_OVERRIDE when the override is just `http://host:port/`. */
const ROOT_SEGMENTS = new Set([
  'logger',
  'batch',
  'status-report',
  'health',
  'tags',
  'asset',
  'visualizations',
  'git-patch',
  'notification',
  'notify',
  'log',
  'rpc',
  'symlink',
  'isAlive',
]);

/**
 * Maps the URLs the comet_ml SDK calls onto this server's canonical routes: `/clientlib/rest/v2/x` and `/clientlib/x`
 * -> `/api/rest/v2/x`, `/optimizer/x` -> `/api/comet/optimizer/x`, and the SDK's own endpoints at the root
 * (`/logger/add/run`, `/batch/...`, ...) -> `/api/rest/v2/...`. Every other URL is unchanged.
 */
export function rewriteSdkUrl(url: string): string {
  if (url.startsWith('/clientlib/rest/v2/')) return `${V2}/${url.slice('/clientlib/rest/v2/'.length)}`;
  if (url.startsWith('/clientlib/')) return `${V2}/${url.slice('/clientlib/'.length)}`;
  if (url.startsWith('/optimizer/')) return `${SDK_OPTIMIZER_PREFIX}/${url.slice('/optimizer/'.length)}`;
  const seg = /^\/([A-Za-z-]+)[/?]/.exec(url)?.[1];
  if (seg && ROOT_SEGMENTS.has(seg)) return `${V2}${url}`;
  return url;
}

// ---- helpers ------------------------------------------------------------------------------------------------------

/** Inflates a `Content-Encoding: gzip` request body (the SDK gzips its batches and console output). */
function gunzipBody(req: FastifyRequest, payload: NodeJS.ReadableStream & { receivedEncodedLength?: number }) {
  if (String(req.headers['content-encoding'] ?? '').toLowerCase() !== 'gzip') return payload;
  let encoded = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      encoded += chunk.length;
      done(null, chunk);
    },
  });
  const out = payload.pipe(count).pipe(createGunzip()) as ReturnType<typeof createGunzip> & {
    receivedEncodedLength?: number;
  };
  count.on('end', () => {
    out.receivedEncodedLength = encoded;
  });
  // the body length check compares the compressed bytes with Content-Length, not the inflated ones
  delete req.headers['content-length'];
  count.on('error', (err) => out.destroy(err));
  return out;
}

/** The handshake answer the SDK parses (`runId` is required); the SDK prints `focusUrl` + key as the run's link. */
function handshake(req: FastifyRequest, e: ExperimentRow) {
  return {
    runId: e.experiment_key,
    experimentKey: e.experiment_key,
    project_id: e.project_id,
    projectName: e.project_name,
    workspaceName: e.workspace,
    name: e.name,
    focusUrl: `${req.protocol}://${req.headers.host ?? 'localhost'}/#/run/`,
    lastOffset: 0,
    githubEnabled: false,
    s3DirectAccessEnabled: false,
    featureToggles: [],
  };
}

function toMetric(v: SdkMetricItem): MetricInput {
  // booleans are numbers to Comet (True -> 1)
  const raw = typeof v.metricValue === 'boolean' ? Number(v.metricValue) : v.metricValue;
  return {
    name: v.metricName,
    value: raw,
    step: v.step ?? null,
    epoch: v.epoch ?? null,
    timestamp: typeof v.timestamp === 'number' ? Math.round(v.timestamp) : undefined,
    context: v.context ?? null,
  };
}

/** Comet's get-metric/get-all point: the value as the SDK reads it back (a string, as Comet sends it). */
function metricJson(p: {
  metricName: string;
  metricValue: unknown;
  step: number | null;
  epoch: number | null;
  timestamp: number;
  runContext: unknown;
}) {
  return { ...p, metricValue: p.metricValue === null ? null : String(p.metricValue) };
}

// ---- routes -------------------------------------------------------------------------------------------------------

export interface SdkRouteOptions {
  /** Where an unsupported SDK call is reported, once per method and path (default: console.warn). */
  warn?: (line: string) => void;
}

/** Registers the comet_ml SDK routes, the exact `application/json` content type and gzip request bodies. */
export function registerSdkRoutes(app: FastifyInstance, ctx: RouteContext, opts: SdkRouteOptions = {}): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const touched = (e: ExperimentRow, type: 'metric' | 'experiment') => emitTouched(ctx, e, type);
  const write = (req: FastifyRequest, key: string) => experimentForWrite(ctx, req, key);

  // The SDK accepts JSON only with exactly this content type ("data is not json" otherwise).
  app.addHook('onSend', async (_req, reply, payload) => {
    const ct = reply.getHeader('content-type');
    if (typeof ct === 'string' && ct.startsWith('application/json')) reply.header('content-type', 'application/json');
    return payload;
  });
  app.addHook('preParsing', async (req, _reply, payload) => gunzipBody(req, payload as any));

  // ---- handshake and status ---------------------------------------------------------------------------------------
  for (const path of [`${V2}/isAlive/ver`, `${V2}/clientlib/isAlive/ver`])
    api.get(
      path,
      { schema: { summary: 'comet_ml SDK: backend version (public, as on comet.com)' }, config: { auth: 'public' } },
      async () => ({ version: SDK_BACKEND_VERSION }),
    );
  api.post(
    `${V2}/asset/3d-limits`,
    { schema: { body: sdkBodies.statusReport, summary: 'comet_ml SDK: 3D point cloud limits (the SDK defaults)' } },
    async () => ({
      maxPoints: 1_000_000,
      maxPointsFileSizeInBytes: 0,
      maxBoxes: 250_000,
      maxBoxesFileSizeInBytes: 0,
    }),
  );
  api.get(`${V2}/health/ping`, { schema: { summary: 'comet_ml SDK: connection check' } }, async () => ({ ok: true }));

  api.post(
    `${V2}/logger/add/run`,
    { schema: { body: sdkBodies.addRun, summary: 'comet_ml SDK: create an experiment (client-chosen key)' } },
    async (req, reply) => {
      requireWrite(req);
      const b = req.body;
      let ws: string;
      try {
        ws = workspaceOf(req, b.teamName ?? undefined);
      } catch (err) {
        reply.code(403);
        return { msg: (err as Error).message, sdk_error_code: 90219 };
      }
      const existing = await store.db.get<{ workspace: string }>(
        'SELECT workspace FROM experiments WHERE experiment_key = ?',
        [b.experimentKey],
      );
      if (existing && !b.getOrCreateEnabled) {
        reply.code(400);
        return { msg: `experiment ${b.experimentKey} already exists`, sdk_error_code: 90999 };
      }
      const r = await store.createExperiment(ws, b.projectName || 'general', null, b.experimentKey);
      const e = await experimentOf(ctx, req, r.experimentKey);
      ctx.emit({ type: 'experiment', experimentKey: r.experimentKey, workspaceName: ws, projectName: r.projectName });
      return handshake(req, e);
    },
  );

  api.post(
    `${V2}/logger/get/run`,
    { schema: { body: sdkBodies.getRun, summary: 'comet_ml SDK: continue an existing experiment' } },
    async (req, reply) => {
      requireWrite(req);
      const b = req.body;
      try {
        const e = await experimentOf(ctx, req, b.previousExperiment);
        await store.updateStatus(e.experiment_key, { isAlive: true });
        touched(e, 'experiment');
        return handshake(req, e);
      } catch (err) {
        if (!(err instanceof HttpError) || err.statusCode !== 404) throw err;
        reply.code(400);
        return { msg: err.message, sdk_error_code: 90210 };
      }
    },
  );

  api.post(
    `${V2}/status-report/update`,
    {
      schema: {
        body: sdkBodies.statusReport,
        summary: 'comet_ml SDK: heartbeat; `is_alive: false` ends the experiment',
      },
    },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      if (b.is_alive === false) await store.updateStatus(e.experiment_key, { isAlive: false });
      else await store.heartbeat(e.experiment_key);
      if (b.is_alive === false) touched(e, 'experiment');
      return {
        is_alive_beat_duration_millis: store.heartbeatMillis,
        gpu_monitor_interval_millis: 60_000,
        cpu_monitor_interval_millis: 60_000,
        pending_rpcs: false,
      };
    },
  );

  api.post(
    `${V2}/status-report/offline-metadata`,
    {
      schema: {
        body: sdkBodies.offlineMetadata,
        summary: 'comet_ml SDK: start/end time of an uploaded offline experiment',
      },
    },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      const start = typeof b.startTimestamp === 'number' ? Math.round(b.startTimestamp) : undefined;
      const end = typeof b.endTimestamp === 'number' ? Math.round(b.endTimestamp) : undefined;
      await store.setStartEnd(e.experiment_key, start, end);
      touched(e, 'experiment');
      return {};
    },
  );

  // ---- messages -------------------------------------------------------------------------------------------------
  api.post(
    `${V2}/batch/logger/experiment/metric`,
    { schema: { body: sdkBodies.metricBatch, summary: 'comet_ml SDK: a batch of metric values' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.addMetrics(e.experiment_key, b.values.map(toMetric));
      touched(e, 'metric');
      return {};
    },
  );

  api.post(
    `${V2}/batch/logger/experiment/parameter`,
    { schema: { body: sdkBodies.parameterBatch, summary: 'comet_ml SDK: a batch of parameters' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.setParams(
        e.experiment_key,
        'parameter',
        b.values.map((v) => ({
          name: v.parameterName,
          value: v.parameterValue,
          step: v.step ?? null,
          timestamp: typeof v.timestamp === 'number' ? Math.round(v.timestamp) : undefined,
        })),
      );
      touched(e, 'experiment');
      return {};
    },
  );

  api.post(
    `${V2}/tags/add-tags-to-experiment`,
    { schema: { body: sdkBodies.addTags, summary: 'comet_ml SDK: add tags' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.addTags(e.experiment_key, b.addedTags);
      touched(e, 'experiment');
      return {};
    },
  );

  api.post(
    `${V2}/write/experiment/file-path`,
    {
      schema: {
        body: sdkBodies.filePath,
        summary: 'comet_ml SDK: the script path (kept in the system details as `filePath`)',
      },
    },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.mergeDetails(e.experiment_key, 'system', { filePath: b.path ?? b.filePath ?? null });
      return {};
    },
  );

  // the model graph (set_model_graph, framework auto-logging) is one text per run, kept beside the git/system details
  api.post(
    `${V2}/write/experiment/graph`,
    { schema: { body: sdkBodies.graph, summary: 'comet_ml SDK: the model graph (text)' } },
    async (req) => {
      const b = req.body;
      const e = await write(req, b.experimentKey);
      await store.db.run(
        `INSERT INTO details (experiment_key, kind, data) VALUES (?, 'graph', ?)
       ON CONFLICT (experiment_key, kind) DO UPDATE SET data = excluded.data`,
        [e.experiment_key, JSON.stringify({ graph: b.graph })],
      );
      touched(e, 'experiment');
      return {};
    },
  );
  api.get(
    `${V2}/experiment/graph`,
    {
      schema: {
        querystring: sdkQueries.experimentKey,
        summary: 'The model graph (`graph`: null when none was logged)',
      },
    },
    async (req) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      const row = await store.db.get<{ data: string }>(
        `SELECT data FROM details WHERE experiment_key = ? AND kind = 'graph'`,
        [e.experiment_key],
      );
      return row ? (JSON.parse(row.data) as { graph: string }) : { graph: null };
    },
  );

  // ---- uploads ----------------------------------------------------------------------------------------------------
  const upload = async (
    req: FastifyRequest,
    q: SdkUploadQuery,
    reply: FastifyReply,
    defaultType: string,
    defaultName?: string,
  ) => {
    const key = q.experimentId ?? q.experimentKey;
    if (!key) throw badRequest('querystring must have experimentId (the experiment key)');
    const e = await write(req, key);
    const clientId: string = q.assetId ?? newKey();
    // the SDK names source files by their absolute path: stored relative (bytes live under server ids anyway)
    const queryName = q.fileName ?? q.figName ?? defaultName;
    const stored = await storeAssetUpload(ctx, req, reply, e, {
      clientId,
      queryName: queryName === undefined ? undefined : String(queryName).replace(/^\/+/, ''),
      // the SDK's own asset id becomes the server's when it is a free 32-hex key
      assetId: async () =>
        /^[0-9a-f]{32}$/.test(clientId) &&
        !(await store.db.get('SELECT 1 AS x FROM assets WHERE asset_id = ?', [clientId]))
          ? clientId
          : newKey(),
      step: q.step ?? null,
      epoch: q.epoch ?? null,
      type: q.type ?? defaultType,
      groupingName: q.groupingName ?? null,
      overwrite: q.overwrite === true || String(q.overwrite).toLowerCase() === 'true',
    });
    if (stored.duplicate) return stored;
    touched(e, 'experiment');
    return { assetId: stored.assetId, fileName: stored.fileName };
  };
  const uploadSummary =
    'comet_ml SDK: upload an asset (multipart/form-data, part `file`, optional part `metadata`); the SDK `assetId` makes replays idempotent';
  api.post(`${V2}/asset/upload`, { schema: { querystring: sdkQueries.upload, summary: uploadSummary } }, (req, reply) =>
    upload(req, req.query, reply, 'asset'),
  );
  api.post(
    `${V2}/visualizations/upload`,
    { schema: { querystring: sdkQueries.upload, summary: `${uploadSummary} (images, figures)` } },
    (req, reply) => upload(req, req.query, reply, 'image'),
  );
  api.post(
    `${V2}/git-patch/upload`,
    { schema: { querystring: sdkQueries.upload, summary: `${uploadSummary} (git patch)` } },
    (req, reply) => upload(req, req.query, reply, 'git-patch', 'git-patch.zip'),
  );
  api.get(
    `${V2}/experiment/git/patch`,
    {
      schema: {
        querystring: sdkQueries.experimentKey,
        summary: 'The git patch (a zip holding git_diff.patch) the SDK uploaded last',
      },
    },
    async (req, reply) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      const patches = await store.assets(e.experiment_key, 'git-patch');
      const a = patches[patches.length - 1];
      if (!a) throw new HttpError(404, `experiment ${e.experiment_key} has no git patch`);
      reply.header('content-type', 'application/octet-stream');
      reply.header('content-length', String(a.fileSize));
      return reply.send(await ctx.assets.get(a.storageKey));
    },
  );

  // ---- reads the SDK's API makes beyond routes-comet.ts -----------------------------------------------------------
  // comet_ml.login() checks the key here; a key is its workspace's "user"
  api.get(
    `${V2}/account-details`,
    { schema: { summary: "comet_ml SDK: the API key's user and default workspace (both the workspace)" } },
    async (req) => {
      const ws = workspaceOf(req);
      return { userName: ws, defaultWorkspaceName: ws };
    },
  );
  api.get(
    `${V2}/experiment/metrics/get-all`,
    { schema: { querystring: sdkQueries.experimentKey, summary: 'Every point of every metric' } },
    async (req) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      const names = (await store.metricsSummary(e.experiment_key)).map((s) => s.name);
      const metrics = [];
      for (const n of names) metrics.push(...(await store.metricPoints(e.experiment_key, n)).map(metricJson));
      return { metrics };
    },
  );

  /** The values an SDK query looks at, for every run of a project. */
  const queryRuns = async (ws: string, projectName: string): Promise<QueryRun[]> => {
    const rows = await store.experiments(ws, { projectName });
    const keys = rows.map((r) => r.experiment_key);
    const [summaries, params, others, tags] = await Promise.all([
      store.summaries(keys),
      store.paramValues(keys, 'parameter'),
      store.paramValues(keys, 'other'),
      store.tags(keys),
    ]);
    return rows.map((r) => ({
      experimentKey: r.experiment_key,
      metrics: Object.fromEntries(Object.entries(summaries.get(r.experiment_key) ?? {}).map(([k, v]) => [k, v.last])),
      params: params.get(r.experiment_key) ?? {},
      others: others.get(r.experiment_key) ?? {},
      tags: tags.get(r.experiment_key) ?? [],
      metadata: {
        experiment_key: r.experiment_key,
        experiment_name: r.name,
        start_server_timestamp: r.start_time === null ? null : Number(r.start_time),
        end_server_timestamp: r.end_time === null ? null : Number(r.end_time),
        status: store.status(r),
      },
    }));
  };
  api.get(
    `${V2}/project/column-names`,
    {
      schema: {
        querystring: sdkQueries.project,
        summary: 'comet_ml API.query: the columns (metrics, params, others, metadata, tags) of a project',
      },
    },
    async (req) => {
      const q = req.query;
      return { columns: queryColumns(await queryRuns(workspaceOf(req, q.workspaceName), q.projectName)) };
    },
  );
  api.post(
    `${V2}/project/query`,
    {
      schema: {
        body: sdkBodies.projectQuery,
        summary: 'comet_ml API.query: keys of the runs matching all predicates (metrics compare their last value)',
      },
    },
    async (req) => {
      const b = req.body;
      const runs = await queryRuns(workspaceOf(req, b.workspaceName), b.projectName);
      return { experimentKeys: runs.filter((r) => matchesPredicates(r, b.predicates)).map((r) => r.experimentKey) };
    },
  );

  // ---- everything else the SDK may call -------------------------------------------------------------------------
  const reported = new Set<string>();
  const unsupported = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    const id = `${req.method} ${path}`;
    if (!reported.has(id)) {
      reported.add(id);
      warn(`ocrops tracker: unsupported Comet SDK call ${id} (answered 404)`);
    }
    if (req.raw.readable) req.raw.resume();
    // 404, not 501: an unknown path is the caller's to fix, and the SDK neither retries it nor treats it as a server
    // fault (its notification call, for one, takes 404 as "not available here")
    reply.code(404);
    return {
      msg: `the ocrops tracker does not implement ${id} (see "Use your existing comet_ml code" in the README for what is supported)`,
      sdk_error_code: 40400,
    };
  };
  const catchAll = {
    schema: { summary: 'Comet SDK calls this tracker does not implement: a JSON 404 naming the call, logged once' },
  };
  for (const url of [`${V2}/*`, `${SDK_OPTIMIZER_PREFIX}/*`])
    api.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url, ...catchAll, handler: unsupported });
}
