// Model registry routes: Comet REST v2's registry endpoints (paths and payloads as the comet_ml SDK 3.58.8 sends
// them, connection_api.py and api_objects/model/model.py) under /api/rest/v2, and ocrops' own under
// /api/ocrops/registry (aliases, tags, lineage, resolution by alias for serving).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dirManifestMd5 } from '@ocrops/versioning';
import { experimentOf, requireWrite, workspaceOf, type RouteContext } from './context.js';
import { HttpError, badRequest } from './http-error.js';
import { hashKey } from './keys.js';
import {
  ALLOWED_STATUS,
  RegistryStore,
  versionJson,
  type ModelRow,
  type NewVersion,
  type VersionRecord,
  type VersionRow,
  type WeightsFile,
} from './registry.js';
import type { ExperimentRow } from './store.js';
import { zipStored } from './zip.js';
import { registryBodies, registryQueries, type CometRegisterBody, type RegisterBody } from '../api/index.js';

const V2 = '/api/rest/v2';
const R = '/api/ocrops/registry';

const { register: registerBody, cometCreate: cometCreateBody } = registryBodies;
const modelQuery = registryQueries.model;

const E = {
  400: 'invalid request: `{msg, sdk_error_code}` naming the field',
  401: 'missing or invalid API key',
  403: "the model or item belongs to another workspace than the API key's",
  404: 'unknown experiment, model, version or alias (the message names it)',
  409: 'conflict: duplicate version, existing model, or weights hash differing from what the run logged (both hashes named)',
};
const errors = (...codes: Array<keyof typeof E>) => Object.fromEntries(codes.map((c) => [c, E[c]]));

// ---- helpers ------------------------------------------------------------------------------------------------------

/** Comet's experimentModelId for a run's logged model: the experiment key and the model name, reversible. */
export function experimentModelId(experimentKey: string, modelName: string): string {
  return `${experimentKey}-${Buffer.from(modelName, 'utf8').toString('base64url')}`;
}

function parseExperimentModelId(id: string): { experimentKey: string; modelName: string } {
  const m = /^([0-9a-f]{32})-([A-Za-z0-9_-]+)$/.exec(id);
  if (!m)
    throw new HttpError(
      404,
      `experimentModelId "${id.slice(0, 100)}" not found (list a run's models with GET experiment/model)`,
    );
  return { experimentKey: m[1], modelName: Buffer.from(m[2], 'base64url').toString('utf8') };
}

/** Who acts: the API key's label and prefix (never the key), or null for read-only access. */
async function whoOf(ctx: RouteContext, req: FastifyRequest): Promise<string | null> {
  const h = req.headers;
  const raw = (h['comet-sdk-api'] ?? h.authorization) as string | undefined;
  const key = raw?.replace(/^Bearer\s+/i, '').trim();
  if (!key) return null;
  const row = await ctx.store.db.get<{ prefix: string; label: string | null }>(
    'SELECT prefix, label FROM api_keys WHERE key_hash = ?',
    [hashKey(key)],
  );
  if (!row) return null;
  return `${req.auth.workspace}/${row.label ?? 'key'} (${row.prefix}…)`;
}

/** Hex md5 of an asset's bytes, streamed from asset storage. */
async function md5Asset(ctx: RouteContext, storageKey: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of await ctx.assets.get(storageKey)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function str(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : String(v);
}

/**
 * Registers the registry routes in their own fastify scope, whose JSON replies carry `content-type: application/json`
 * exactly: the comet_ml SDK rejects `application/json; charset=utf-8` ("data is not json").
 */
export function registerRegistryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  void app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('application/json;'))
        reply.header('content-type', 'application/json');
      return payload;
    });
    defineRoutes(scope, ctx);
  });
}

function defineRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const reg = new RegistryStore(store.db);

  /** A model of the request's workspace; 403 for a name that exists only in another workspace (writes). */
  const modelFor = async (
    req: FastifyRequest,
    name: string,
    requestedWs?: string,
    write = false,
  ): Promise<ModelRow> => {
    const ws = workspaceOf(req, requestedWs);
    try {
      return await reg.model(ws, name);
    } catch (err) {
      if (write && req.auth.workspace !== null && (await reg.existsElsewhere(ws, name)))
        throw new HttpError(403, `registered model "${name}" belongs to another workspace than "${ws}"`);
      throw err;
    }
  };

  /** The files of a run's logged model with their md5s, and the folder's DVC md5. */
  const weightsOf = async (e: ExperimentRow, modelName: string): Promise<VersionRecord['weights']> => {
    const assets = (await store.assets(e.experiment_key, 'model-element')).filter((a) => a.groupingName === modelName);
    if (!assets.length) throw new HttpError(404, `experiment ${e.experiment_key} has no logged model "${modelName}"`);
    const files: WeightsFile[] = [];
    for (const a of assets)
      files.push({ relpath: a.fileName, md5: await md5Asset(ctx, a.storageKey), size: a.fileSize, assetId: a.assetId });
    files.sort((a, b) => (a.relpath < b.relpath ? -1 : a.relpath > b.relpath ? 1 : 0));
    return { md5: dirManifestMd5(files), bytes: files.reduce((n, f) => n + f.size, 0), files, dvc: null };
  };

  /** Everything a version records, read from the run; 409 when the weights differ from what the run logged. */
  const recordOf = async (
    e: ExperimentRow,
    modelName: string,
    b: Partial<Pick<RegisterBody, 'weightsMd5' | 'dvc' | 'evaluation'>>,
  ): Promise<VersionRecord> => {
    const weights = await weightsOf(e, modelName);
    const others = (await store.paramValues([e.experiment_key], 'other')).get(e.experiment_key) ?? {};
    const logged = str(others.model_md5);
    if (logged && logged !== weights.md5)
      throw new HttpError(
        409,
        `weights hash mismatch: the stored model "${modelName}" hashes to ${weights.md5}, the run logged model_md5 ${logged}`,
      );
    if (b.weightsMd5 && b.weightsMd5 !== (logged ?? weights.md5))
      throw new HttpError(
        409,
        `weights hash mismatch: the request says ${b.weightsMd5}, the run ${e.experiment_key} logged ${logged ?? weights.md5}`,
      );
    if (b.dvc) weights.dvc = { path: b.dvc.path ?? null, md5: b.dvc.md5, remote: b.dvc.remote ?? null };
    const summaries = (await store.summaries([e.experiment_key])).get(e.experiment_key) ?? {};
    const metrics: VersionRecord['metrics'] = {};
    for (const [name, s] of Object.entries(summaries)) metrics[name] = { last: s.last, min: s.min, max: s.max };
    const dirty = others.git_dirty;
    return {
      projectName: e.project_name ?? null,
      sweepId: e.optimization_id ?? null,
      weights,
      formats: ['tfjs', ...(weights.files.some((f) => f.relpath.endsWith('.onnx')) ? ['onnx'] : [])],
      evaluation: b.evaluation ?? null,
      metrics,
      lineage: {
        gitCommit: str(others.git_commit),
        gitDirty: dirty === undefined ? null : dirty === true || dirty === 'true',
        configMd5: str(others.config_md5),
        configPath: str(others.config_path),
        datasetMd5: str(others.dataset_md5),
        datasetPath: str(others.dataset_path),
      },
    };
  };

  const registered = (ws: string, modelName: string, alias?: string) =>
    ctx.emit({ type: 'registry', workspaceName: ws, modelName, alias });

  const versionsJson = async (model: ModelRow) => {
    const [rows, aliases] = await Promise.all([reg.versions(model.model_id), reg.aliases(model.model_id)]);
    return rows.map((v) =>
      versionJson(
        model,
        v,
        aliases.filter((a) => a.item_id === v.item_id).map((a) => a.alias),
      ),
    );
  };

  /** Comet's version JSON (registry-model/details `versions[]`), with ocrops' fields beside. */
  const cometVersion = (model: ModelRow, v: ReturnType<typeof versionJson>) => ({
    ...v,
    registryModelItemId: v.registryModelItemId,
    version: v.version,
    comment: v.comment,
    stages: v.stages,
    status: v.status,
    tags: Object.entries(v.tags).map(([k, val]) => (val ? `${k}=${val}` : k)),
    ocropsTags: v.tags,
    userName: v.createdBy,
    experimentModel: {
      experimentModelId: experimentModelId(v.experimentKey, v.experimentModelName),
      experimentKey: v.experimentKey,
      modelName: v.experimentModelName,
    },
    assets: v.weights.files.map((f) => ({
      fileName: f.relpath,
      fileSize: f.size,
      assetId: f.assetId,
      type: 'model-element',
      metadata: null,
    })),
    restApiUrl: `${V2}/registry-model/item/download?workspaceName=${encodeURIComponent(model.workspace)}&modelName=${encodeURIComponent(model.name)}&version=${encodeURIComponent(v.version)}`,
  });

  const modelSummary = async (m: ModelRow) => {
    const versions = await reg.versions(m.model_id);
    const aliases = await reg.aliases(m.model_id);
    const byItem = new Map(versions.map((v) => [v.item_id, v.version]));
    return {
      registryModelId: m.model_id,
      modelName: m.name,
      workspaceName: m.workspace,
      description: m.description ?? '',
      isPublic: !!m.is_public,
      createdAt: Number(m.created_at),
      lastUpdated: Number(m.updated_at),
      userName: m.created_by,
      numberOfVersions: versions.length,
      latestVersion: versions.at(-1)?.version ?? null,
      aliases: Object.fromEntries(aliases.map((a) => [a.alias, byItem.get(a.item_id) ?? null])),
    };
  };

  // ---- Comet: an experiment's logged models -------------------------------------------------------------------
  api.get(
    `${V2}/experiment/model`,
    {
      schema: {
        querystring: registryQueries.experimentKey,
        summary: "A run's logged models: `{models: [{experimentModelId, experimentKey, modelName}]}`",
        errorResponses: errors(400, 401, 404),
      },
    },
    async (req) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      const names = [
        ...new Set((await store.assets(e.experiment_key, 'model-element')).map((a) => a.groupingName ?? '')),
      ].filter(Boolean);
      return {
        models: names.map((modelName) => ({
          experimentModelId: experimentModelId(e.experiment_key, modelName),
          experimentKey: e.experiment_key,
          modelName,
        })),
      };
    },
  );

  // ---- Comet: registry writes ---------------------------------------------------------------------------------
  const cometRegister = (create: boolean) => async (req: FastifyRequest<{ Body: CometRegisterBody }>) => {
    requireWrite(req);
    const b = req.body;
    const { experimentKey, modelName } = parseExperimentModelId(b.experimentModelId);
    const e = await experimentOf(ctx, req, experimentKey);
    const ws = workspaceOf(req, b.workspaceName ?? e.workspace);
    if (!create) await modelFor(req, b.registryModelName, ws, true);
    const v: NewVersion = {
      experimentKey: e.experiment_key,
      experimentModelName: modelName,
      version: b.version,
      comment: b.comment,
      // extra fields pass validation: a Comet body may carry ocrops' weightsMd5/dvc/evaluation too
      stages: b.stages,
      record: await recordOf(e, modelName, b as CometRegisterBody & Partial<RegisterBody>),
    };
    const r = await reg.addVersion(
      ws,
      b.registryModelName,
      v,
      await whoOf(ctx, req),
      create ? { description: b.description, isPublic: b.isPublic, mustBeNew: true } : undefined,
    );
    registered(ws, b.registryModelName);
    return {
      registryModelId: r.model.model_id,
      registryModelItemId: r.version.item_id,
      modelName: r.model.name,
      version: r.version.version,
    };
  };
  api.post(
    `${V2}/write/registry-model`,
    {
      schema: {
        body: cometCreateBody,
        summary: "Create a registered model from a run's logged model (its first version)",
        errorResponses: errors(400, 401, 403, 404, 409),
      },
    },
    cometRegister(true),
  );
  api.post(
    `${V2}/write/registry-model/item`,
    {
      schema: {
        body: cometCreateBody,
        summary: 'Add a version to a registered model',
        errorResponses: errors(400, 401, 403, 404, 409),
      },
    },
    cometRegister(false),
  );

  const itemOf = async (req: FastifyRequest, itemId: string) => {
    requireWrite(req);
    return reg.modelOfItem(req.auth.workspace, itemId);
  };
  api.post(
    `${V2}/write/registry-model/item/status`,
    {
      schema: {
        body: registryBodies.itemStatus,
        summary: "Set a version's status",
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      const b = req.body;
      const { model } = await itemOf(req, b.modelItemId);
      await reg.updateVersion(b.modelItemId, { status: b.status });
      registered(model.workspace, model.name);
      return {};
    },
  );
  api.post(
    `${V2}/write/registry-model/item/update`,
    {
      schema: {
        body: registryBodies.itemUpdate,
        summary: "Update a version's comment and stages",
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      const b = req.body;
      const { model } = await itemOf(req, b.registryModelItemId);
      await reg.updateVersion(b.registryModelItemId, { comment: b.comment ?? undefined, stages: b.stages });
      registered(model.workspace, model.name);
      return {};
    },
  );
  const stageQuery = registryQueries.stage;
  api.get(
    `${V2}/write/registry-model/item/stage`,
    {
      schema: {
        querystring: stageQuery,
        summary: 'Add a stage to a version',
        errorResponses: errors(400, 401, 403, 404),
      },
      config: { auth: 'key' },
    },
    async (req) => {
      const q = req.query;
      const { model, version } = await itemOf(req, q.modelItemId);
      const stages = new Set<string>(JSON.parse(version.stages));
      stages.add(q.stage);
      await reg.updateVersion(q.modelItemId, { stages: [...stages] });
      registered(model.workspace, model.name);
      return {};
    },
  );
  api.get(
    `${V2}/write/registry-model/item/stage/delete`,
    {
      schema: {
        querystring: stageQuery,
        summary: 'Remove a stage from a version',
        errorResponses: errors(400, 401, 403, 404),
      },
      config: { auth: 'key' },
    },
    async (req) => {
      const q = req.query;
      const { model, version } = await itemOf(req, q.modelItemId);
      await reg.updateVersion(q.modelItemId, {
        stages: (JSON.parse(version.stages) as string[]).filter((s) => s !== q.stage),
      });
      registered(model.workspace, model.name);
      return {};
    },
  );

  // ---- Comet: registry reads ----------------------------------------------------------------------------------
  api.get(
    `${V2}/registry-model`,
    {
      schema: {
        querystring: registryQueries.workspace,
        summary: 'Registered models: `{registryModels: [...]}`',
        errorResponses: errors(401, 403),
      },
    },
    async (req) => {
      const ws = workspaceOf(req, req.query.workspaceName);
      return { registryModels: await Promise.all((await reg.models(ws)).map(modelSummary)) };
    },
  );
  api.get(
    `${V2}/registry-model/count`,
    {
      schema: {
        querystring: registryQueries.workspace,
        summary: '`{registryModelCount}`',
        errorResponses: errors(401, 403),
      },
    },
    async (req) => {
      const ws = workspaceOf(req, req.query.workspaceName);
      return { registryModelCount: (await reg.models(ws)).length };
    },
  );
  api.get(
    `${V2}/registry-model/allowed_status_values`,
    {
      schema: {
        querystring: registryQueries.workspace,
        summary: '`{allowedStatus}`',
        errorResponses: errors(401, 403),
      },
    },
    async (req) => {
      workspaceOf(req, req.query.workspaceName);
      return { allowedStatus: ALLOWED_STATUS };
    },
  );
  api.get(
    `${V2}/registry-model/details`,
    {
      schema: {
        querystring: modelQuery,
        summary: 'A registered model and its versions',
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      const q = req.query;
      const model = await modelFor(req, q.modelName, q.workspaceName);
      const versions = await versionsJson(model);
      return {
        ...(await modelSummary(model)),
        notes: model.notes ?? '',
        versions: versions.map((v) => cometVersion(model, v)),
      };
    },
  );
  api.get(
    `${V2}/registry-model/item/download`,
    {
      schema: {
        querystring: registryQueries.download,
        summary:
          "A version's weights as a ZIP archive (by version, or the newest version with a stage; default the newest)",
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (q.version && q.stage) throw badRequest('querystring: give version or stage, not both');
      const model = await modelFor(req, q.modelName, q.workspaceName);
      let v: VersionRow;
      if (q.version) v = await reg.version(model, q.version);
      else {
        const rows = (await reg.versions(model.model_id)).filter(
          (r) => !q.stage || (JSON.parse(r.stages) as string[]).includes(q.stage),
        );
        if (!rows.length)
          throw new HttpError(404, `model "${model.name}" has no version${q.stage ? ` with stage "${q.stage}"` : ''}`);
        v = rows.at(-1)!;
      }
      return sendZip(reply, model, v);
    },
  );

  const sendZip = async (reply: FastifyReply, model: ModelRow, v: VersionRow) => {
    const record = JSON.parse(v.record) as VersionRecord;
    const entries = [];
    for (const f of record.weights.files) {
      const a = await store.asset(v.experiment_key, f.assetId);
      const chunks: Buffer[] = [];
      for await (const c of await ctx.assets.get(a.storageKey)) chunks.push(c as Buffer);
      entries.push({ name: f.relpath, data: Buffer.concat(chunks) });
    }
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-disposition', `attachment; filename="${model.name}_${v.version}.zip"`);
    return reply.send(zipStored(entries));
  };

  // ---- ocrops: registration, aliases, tags, lineage, resolution --------------------------------------------------
  api.post(
    `${R}/register`,
    {
      schema: {
        body: registerBody,
        summary:
          "Register a run's logged model as a new version (creating the model), with lineage, metrics, tags and aliases",
        errorResponses: errors(400, 401, 403, 404, 409),
      },
    },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const e = await experimentOf(ctx, req, b.experimentKey);
      const ws = workspaceOf(req, b.workspaceName);
      if (
        req.auth.workspace !== null &&
        (await reg.existsElsewhere(ws, b.modelName)) &&
        !(await reg.models(ws)).some((m) => m.name === b.modelName)
      )
        throw new HttpError(403, `registered model "${b.modelName}" belongs to another workspace than "${ws}"`);
      let modelName = b.experimentModelName;
      if (!modelName) {
        const names = [
          ...new Set((await store.assets(e.experiment_key, 'model-element')).map((a) => a.groupingName ?? '')),
        ].filter(Boolean);
        if (names.length !== 1)
          throw new HttpError(
            names.length ? 400 : 404,
            names.length
              ? `experiment ${e.experiment_key} logged ${names.length} models (${names.join(', ')}): name one with experimentModelName`
              : `experiment ${e.experiment_key} has no logged model (the trainer logs its best model at the end of a run)`,
          );
        modelName = names[0];
      }
      const v: NewVersion = {
        experimentKey: e.experiment_key,
        experimentModelName: modelName,
        version: b.version,
        comment: b.comment,
        description: b.description,
        status: b.status,
        stages: b.stages,
        tags: b.tags,
        aliases: b.aliases,
        record: await recordOf(e, modelName, b),
      };
      const r = await reg.addVersion(ws, b.modelName, v, await whoOf(ctx, req), { description: b.description });
      registered(ws, b.modelName);
      return reg.versionJson(r.model, r.version);
    },
  );

  api.get(
    `${R}/models`,
    {
      schema: {
        querystring: registryQueries.workspace,
        summary: 'Registered models with version counts and aliases',
        errorResponses: errors(401, 403),
      },
    },
    async (req) => {
      const ws = workspaceOf(req, req.query.workspaceName);
      return { models: await Promise.all((await reg.models(ws)).map(modelSummary)) };
    },
  );

  api.get(
    `${R}/model`,
    {
      schema: {
        querystring: modelQuery,
        summary: 'One model: versions (metrics, lineage, aliases, tags) and the alias history',
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      const q = req.query;
      const model = await modelFor(req, q.modelName, q.workspaceName);
      return {
        model: await modelSummary(model),
        versions: await versionsJson(model),
        aliasHistory: await reg.aliasHistory(model),
      };
    },
  );

  api.get(
    `${R}/version`,
    {
      schema: {
        querystring: registryQueries.version,
        summary: 'Resolve `model@alias` (or `model:version`) to one version with its weight files and md5s',
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      const q = req.query;
      const { version, alias } = q;
      if ((version === undefined) === (alias === undefined))
        throw badRequest('querystring must have exactly one of version or alias');
      const model = await modelFor(req, q.modelName, q.workspaceName);
      const v =
        version !== undefined ? await reg.version(model, version) : await reg.versionByAlias(model, alias as string);
      return reg.versionJson(model, v);
    },
  );

  const aliasBody = registryBodies.alias;
  api.post(
    `${R}/alias`,
    {
      schema: {
        body: aliasBody,
        summary: 'Point an alias at a version (moving it; recorded with who and when)',
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const model = await modelFor(req, b.modelName, b.workspaceName, true);
      await reg.setAlias(model, b.alias, b.version, await whoOf(ctx, req));
      registered(model.workspace, model.name, b.alias);
      return reg.versionJson(model, await reg.version(model, b.version));
    },
  );
  api.post(
    `${R}/alias/delete`,
    {
      schema: {
        body: registryBodies.aliasDelete,
        summary: 'Remove an alias',
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const model = await modelFor(req, b.modelName, b.workspaceName, true);
      await reg.deleteAlias(model, b.alias, await whoOf(ctx, req));
      registered(model.workspace, model.name, b.alias);
      return {};
    },
  );
  api.post(
    `${R}/version/update`,
    {
      schema: {
        body: registryBodies.versionUpdate,
        summary: "Update a version's description, comment, status or tags (tags merge; removeTags drops keys)",
        errorResponses: errors(400, 401, 403, 404),
      },
    },
    async (req) => {
      requireWrite(req);
      const b = req.body;
      const model = await modelFor(req, b.modelName, b.workspaceName, true);
      const v = await reg.version(model, b.version);
      await reg.updateVersion(v.item_id, {
        description: b.description ?? undefined,
        comment: b.comment ?? undefined,
        status: b.status,
        tags: b.tags,
        removeTags: b.removeTags,
      });
      registered(model.workspace, model.name);
      return reg.versionJson(model, await reg.version(model, b.version));
    },
  );

  api.get(
    `${R}/by-run`,
    {
      schema: {
        querystring: registryQueries.experimentKey,
        summary: 'Versions registered from a run: `{versions: [{modelName, version, aliases}]}`',
        errorResponses: errors(400, 401, 404),
      },
    },
    async (req) => {
      const e = await experimentOf(ctx, req, req.query.experimentKey);
      const rows = await reg.versionsOfRun(e.experiment_key);
      const out = [];
      for (const r of rows) {
        const aliases = (await reg.aliases(r.model_id)).filter((a) => a.item_id === r.item_id).map((a) => a.alias);
        out.push({ modelName: r.model_name, version: r.version, aliases, createdAt: Number(r.created_at) });
      }
      return { versions: out };
    },
  );
}
