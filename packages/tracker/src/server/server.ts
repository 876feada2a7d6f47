// The tracking server: fastify 5 + SQLite (WAL) or PostgreSQL, assets in a local folder or S3, Comet REST v2 routes,
// dashboard routes, the optimizer resource, OpenAPI and the dashboard's static build.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import AjvModule from 'ajv';
import { repoRoot } from '@ocrops/common';
import { LocalAssetStorage, S3AssetStorage, type AssetStorage, type S3AssetConfig } from './asset-storage.js';
import type { Auth, RouteContext } from './context.js';
import { openPostgres, openSqlite, type Db } from './db.js';
import { HttpError } from './http-error.js';
import { createApiKey, ensureWorkspace, workspaceOfKey } from './keys.js';
import { buildOpenApi, type RouteDoc } from './openapi.js';
import { OptimizerService } from './optimizer.js';
import { registerCometRoutes } from './routes-comet.js';
import { registerOcropsRoutes } from './routes-ocrops.js';
import { ensureRegistrySchema } from './registry.js';
import { registerRegistryRoutes } from './routes-registry.js';
import { registerSdkOptimizerRoutes } from './routes-optimizer-sdk.js';
import { registerSdkRoutes, rewriteSdkUrl } from './routes-sdk.js';
import { TrackerStore } from './store.js';
import type { OptimizerAlgorithm, TrackerEvent } from '../types.js';

export interface ServerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Folder for the SQLite database, local assets and `default-key`. */
  dataDir: string;
  /** `postgres://...` to store everything but assets in PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** Assets in S3 instead of `<dataDir>/assets`. */
  s3?: S3AssetConfig;
  /** The sweep algorithm behind the optimizer resource (from @ocrops/sweep). */
  optimizer?: OptimizerAlgorithm;
  /** Largest JSON body in bytes (default 16 MiB); larger bodies get 413. */
  bodyLimit?: number;
  /** Largest asset upload in bytes (default 20 GiB); uploads stream to disk/S3. */
  maxAssetBytes?: number;
  /** Serve GET requests from loopback without an API key (read-only, all workspaces), for a local dashboard. */
  openRead?: boolean;
  /** Heartbeat interval asked of clients (ms, default 10,000). */
  heartbeatMillis?: number;
  /** A running sweep trial without an update for this long is re-issued (ms, default 6 h). */
  trialLeaseMillis?: number;
  /** Dashboard build to serve at `/` (default packages/dashboard/web-dist when it exists). */
  staticDir?: string;
  /** fastify request logging. */
  logger?: boolean;
}

export interface TrackerServer {
  /** Base URL, e.g. `http://127.0.0.1:5959`. */
  url: string;
  port: number;
  /** API key of the `default` workspace (also in `<dataDir>/default-key`). */
  defaultKey: string;
  app: FastifyInstance;
  store: TrackerStore;
  close(): Promise<void>;
}

/** Default data dir: `.ocrops/tracker` at the repository root. */
export function defaultDataDir(): string {
  return join(repoRoot(), '.ocrops', 'tracker');
}

/** Opens the server's database: PostgreSQL when a URL is given, else `<dataDir>/tracker.db`. */
export async function openDatabase(dataDir: string, databaseUrl?: string): Promise<Db> {
  return databaseUrl ? openPostgres(databaseUrl) : openSqlite(join(dataDir, 'tracker.db'));
}

/** Reads `<dataDir>/default-key`, creating the default workspace and its key on first start. */
export async function ensureDefaultKey(db: Db, dataDir: string): Promise<string> {
  const path = join(dataDir, 'default-key');
  mkdirSync(dataDir, { recursive: true });
  await ensureWorkspace(db, 'default');
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    if (key && (await workspaceOfKey(db, key)) === 'default') return key;
  }
  const key = await createApiKey(db, 'default', 'default-key');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_ORIGIN = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

function keyFromRequest(req: FastifyRequest): string | undefined {
  const h = req.headers;
  const header = (h['comet-sdk-api'] ?? h.authorization) as string | undefined;
  if (header) return header.replace(/^Bearer\s+/i, '').trim();
  const q = req.query as Record<string, unknown> | undefined;
  if (q && typeof q.apiKey === 'string') return q.apiKey;
  const cookie = h.cookie;
  if (cookie) {
    const m = /(?:^|;\s*)ocrops_api_key=([^;]+)/.exec(cookie);
    if (m) return decodeURIComponent(m[1]);
  }
  return undefined;
}

/** Starts the tracking server; resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<TrackerServer> {
  const dataDir = resolve(opts.dataDir);
  const db = await openDatabase(dataDir, opts.databaseUrl);
  const defaultKey = await ensureDefaultKey(db, dataDir);
  await ensureRegistrySchema(db);
  const store = new TrackerStore(db, opts.heartbeatMillis ?? 10_000);
  let assets: AssetStorage;
  if (opts.s3) {
    const s3 = new S3AssetStorage(opts.s3, join(dataDir, 'upload-tmp'));
    await s3.init();
    assets = s3;
  } else assets = new LocalAssetStorage(join(dataDir, 'assets'));

  const events = new EventEmitter();
  events.setMaxListeners(1000);
  const lastEmit = new Map<string, number>();
  const pending = new Map<string, NodeJS.Timeout>();
  const emit = (e: TrackerEvent) => {
    if (e.type !== 'metric' || !e.experimentKey) return void events.emit('event', e);
    const k = e.experimentKey;
    const now = Date.now();
    const wait = 250 - (now - (lastEmit.get(k) ?? 0));
    if (wait <= 0) {
      lastEmit.set(k, now);
      events.emit('event', e);
    } else if (!pending.has(k)) {
      pending.set(
        k,
        setTimeout(() => {
          pending.delete(k);
          lastEmit.set(k, Date.now());
          events.emit('event', e);
        }, wait).unref(),
      );
    }
  };

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
    // the comet_ml SDK's URLs (/clientlib/..., /optimizer/..., root endpoints) onto the canonical /api/ routes
    rewriteUrl: (req) => rewriteSdkUrl(req.url ?? '/'),
  });
  // Bodies: strict types (a string is not a number). Query strings: numbers and booleans coerced from text.
  const Ajv = ((AjvModule as any).default ?? AjvModule) as typeof AjvModule.default;
  const strict = new Ajv({ allErrors: false, coerceTypes: false, strict: false, useDefaults: true });
  const coerce = new Ajv({ allErrors: false, coerceTypes: true, strict: false, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coerce).compile(schema));

  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/')) routes.push({ method: r.method, url: r.url, schema: r.schema as any });
  });

  // CORS for a dashboard dev server on another loopback port (the built dashboard is same-origin)
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !LOOPBACK_ORIGIN.test(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'origin');
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-headers', 'authorization, comet-sdk-api, content-type');
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
      return reply.code(204).send();
    }
  });

  app.decorateRequest('auth', null as unknown as Auth);
  const keyCache = new Map<string, { ws: string; at: number }>();
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/') || req.url.startsWith('/api/openapi.json') || req.url === '/api/health') return;
    const key = keyFromRequest(req);
    if (key) {
      const c = keyCache.get(key);
      let ws = c && Date.now() - c.at < 30_000 ? c.ws : undefined;
      if (!ws && key.length <= 200) {
        ws = await workspaceOfKey(db, key);
        if (ws) keyCache.set(key, { ws, at: Date.now() });
      }
      if (!ws) throw new HttpError(401, 'invalid API key');
      req.auth = { workspace: ws, readOnly: false };
      return;
    }
    if (opts.openRead && req.method === 'GET' && LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      req.auth = { workspace: null, readOnly: true };
      return;
    }
    throw new HttpError(401, 'missing API key: send header "Authorization: <API_KEY>" (or Comet-Sdk-Api)');
  });

  app.setErrorHandler((err: any, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ msg: err.message, sdk_error_code: err.sdkErrorCode });
    if (err.validation) {
      return reply.code(400).send({ msg: err.message, sdk_error_code: 40000, field: err.validation[0]?.instancePath || err.validationContext });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) app.log.error(err);
    return reply.code(status).send({ msg: status === 500 ? `internal error: ${err.message}` : err.message, sdk_error_code: status * 100 });
  });

  // multipart bodies are streamed by the upload route itself (no body limit: the asset limit applies)
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));

  const ctx: RouteContext = {
    store,
    optimizer: new OptimizerService(db, opts.optimizer, opts.trialLeaseMillis),
    assets,
    events,
    emit,
    maxAssetBytes: opts.maxAssetBytes ?? 20 * 1024 ** 3,
  };
  registerSdkRoutes(app, ctx);
  registerCometRoutes(app, ctx);
  registerOcropsRoutes(app, ctx);
  registerRegistryRoutes(app, ctx);
  registerSdkOptimizerRoutes(app, ctx);
  app.get('/api/openapi.json', async () => buildOpenApi(routes));
  app.get('/api/health', async () => ({ ok: true }));

  const staticDir = opts.staticDir ?? join(repoRoot(), 'packages', 'dashboard', 'web-dist');
  if (existsSync(join(staticDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: staticDir, prefix: '/', wildcard: false });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) return reply.sendFile('index.html');
      return reply.code(404).send({ msg: `no route ${req.method} ${req.url.split('?')[0]}`, sdk_error_code: 40400 });
    });
  } else {
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send({ msg: `no route ${req.method} ${req.url.split('?')[0]}`, sdk_error_code: 40400 }),
    );
  }

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url,
    port,
    defaultKey,
    app,
    store,
    async close() {
      for (const t of pending.values()) clearTimeout(t);
      await app.close();
      await db.close();
    },
  };
}
