// What every route module gets: the store, the optimizer service, asset storage, the event bus and auth helpers.
import type { EventEmitter } from 'node:events';
import type { FastifyRequest } from 'fastify';
import type { AssetStorage } from './asset-storage.js';
import { HttpError } from './http-error.js';
import type { OptimizerService } from './optimizer.js';
import type { ExperimentRow, TrackerStore } from './store.js';
import type { TrackerEvent } from '../types.js';

/** Who a request acts for: a workspace (API key), or any workspace read-only (`--open-read` from loopback). */
export interface Auth {
  workspace: string | null;
  readOnly: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Auth;
  }
  /** What the OpenAPI document (openapi.ts) reads from a route schema besides its body and query string. */
  interface FastifySchema {
    summary?: string;
    description?: string;
    /** Error replies of this route, by status code: what they mean here. */
    errorResponses?: Record<string, string>;
  }
}

export interface RouteContext {
  store: TrackerStore;
  optimizer: OptimizerService;
  assets: AssetStorage;
  events: EventEmitter;
  maxAssetBytes: number;
  /** Emits an event for SSE listeners (metric events are throttled per experiment). */
  emit(e: TrackerEvent): void;
}

/** The workspace a request may use: its key's, checked against a requested name; 403 for another workspace. */
export function workspaceOf(req: FastifyRequest, requested?: string): string {
  const { workspace } = req.auth;
  if (workspace === null) return requested ?? 'default';
  if (requested !== undefined && requested !== workspace)
    throw new HttpError(403, `workspaceName: this API key belongs to workspace "${workspace}", not "${requested}"`);
  return workspace;
}

/** Rejects writes from read-only (unauthenticated) access. */
export function requireWrite(req: FastifyRequest): void {
  if (req.auth.readOnly) throw new HttpError(401, 'writing needs an API key (header Authorization: <API_KEY>)');
}

/** The experiment a request names, when its key may see it (404 otherwise). */
export function experimentOf(ctx: RouteContext, req: FastifyRequest, key: string): Promise<ExperimentRow> {
  return ctx.store.experiment(req.auth.workspace, key);
}

/** The experiment a write names: a key is required, and it must see the experiment (401/404 otherwise). */
export async function experimentForWrite(ctx: RouteContext, req: FastifyRequest, key: string): Promise<ExperimentRow> {
  requireWrite(req);
  return experimentOf(ctx, req, key);
}

/** Tells the dashboard's live view that an experiment changed. */
export function emitTouched(
  ctx: RouteContext,
  e: Pick<ExperimentRow, 'experiment_key' | 'workspace' | 'project_name'>,
  type: 'metric' | 'experiment',
): void {
  ctx.emit({ type, experimentKey: e.experiment_key, workspaceName: e.workspace, projectName: e.project_name });
}
