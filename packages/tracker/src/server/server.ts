// The tracking server: fastify 5 + SQLite (WAL) or PostgreSQL, assets in a local folder or S3, Comet REST v2 routes,
// dashboard routes, the optimizer resource, OpenAPI and the dashboard's static build.
import { EventEmitter } from 'node:events';
import { chmodSync, createReadStream, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import AjvModule from 'ajv';
import { repoRoot } from '@ocrops/common';
import { LocalAssetStorage, S3AssetStorage, type AssetStorage, type S3AssetConfig } from './asset-storage.js';
import type { Auth, RouteContext } from './context.js';
import { installGuard, redactUrl, requestId } from './guard.js';
import { installJsonParser } from './json-body.js';
import { openPostgres, openSqlite, type Db } from './db.js';
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
  /** Largest asset upload in bytes (default 2 GiB), enforced while the upload streams to disk/S3. */
  maxAssetBytes?: number;
  /** Extra names the Host header may carry besides the bound address and loopback names (`*` = any). */
  allowedHosts?: string[];
  /** Origins allowed to call the API from a browser with credentials (CORS); none by default. */
  corsOrigins?: string[];
  /** Time a client gets to send a request body (ms, default 30 min). */
  bodyTimeoutMillis?: number;
  /** A connection with no traffic for this long is closed (ms, default 120 s). */
  idleTimeoutMillis?: number;
  /** Failed authentications per client IP and minute before it gets 429 (default 30). */
  authFailuresPerMinute?: number;
  /** A key's workspace is cached this long, so a revoked key stops working within it (ms, default 5 s). */
  keyCacheMillis?: number;
  /** Where log lines go (default stdout); errors are always logged, every request with `logger`. */
  logStream?: { write(line: string): void };
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
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await ensureWorkspace(db, 'default');
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    if (key && (await workspaceOfKey(db, key)) === 'default') return key;
  }
  const key = await createApiKey(db, 'default', 'default-key');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Data folder 0700 and database files 0600: API key hashes, parameters and assets are the users' business only. */
function restrictDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const f of ['tracker.db', 'tracker.db-wal', 'tracker.db-shm', 'default-key'])
    if (existsSync(join(dataDir, f))) chmodSync(join(dataDir, f), 0o600);
}

/** Starts the tracking server; resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<TrackerServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = await openDatabase(dataDir, opts.databaseUrl);
  const defaultKey = await ensureDefaultKey(db, dataDir);
  await ensureRegistrySchema(db);
  restrictDataDir(dataDir);
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
    logger: {
      level: opts.logger ? 'info' : 'error',
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      serializers: {
        req: (req: any) => ({ method: req.method, url: redactUrl(String(req.url)), remoteAddress: req.ip }),
      },
    },
    genReqId: () => requestId(),
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    connectionTimeout: opts.idleTimeoutMillis ?? 120_000,
    forceCloseConnections: true,
    return503OnClosing: true,
    // the comet_ml SDK's URLs (/clientlib/..., /optimizer/..., root endpoints) onto the canonical /api/ routes
    rewriteUrl: (req) => rewriteSdkUrl(req.url ?? '/'),
  });
  installJsonParser(app);
  // Bodies: strict types (a string is not a number). Query strings: numbers and booleans coerced from text.
  const Ajv = ((AjvModule as any).default ?? AjvModule) as typeof AjvModule.default;
  const strict = new Ajv({ allErrors: false, coerceTypes: false, strict: false, useDefaults: true });
  const coerce = new Ajv({ allErrors: false, coerceTypes: true, strict: false, useDefaults: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coerce).compile(schema));

  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/'))
      routes.push({ method: r.method, url: r.url, schema: r.schema as RouteDoc['schema'], config: r.config });
  });

  app.decorateRequest('auth', null as unknown as Auth);
  const host = opts.host ?? '127.0.0.1';
  installGuard(app, {
    host,
    allowedHosts: opts.allowedHosts,
    corsOrigins: opts.corsOrigins,
    openRead: !!opts.openRead,
    workspaceOfKey: (key) => workspaceOfKey(db, key),
    keyCacheMillis: opts.keyCacheMillis ?? 5000,
    authFailuresPerMinute: opts.authFailuresPerMinute ?? 30,
    bodyTimeoutMillis: opts.bodyTimeoutMillis ?? 30 * 60_000,
  });

  // multipart bodies are streamed by the upload route itself (no body limit: the asset limit applies)
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));

  const ctx: RouteContext = {
    store,
    optimizer: new OptimizerService(db, opts.optimizer, opts.trialLeaseMillis),
    assets,
    events,
    emit,
    maxAssetBytes: opts.maxAssetBytes ?? 2 * 1024 ** 3,
  };
  registerSdkRoutes(app, ctx);
  registerCometRoutes(app, ctx);
  registerOcropsRoutes(app, ctx);
  registerRegistryRoutes(app, ctx);
  registerSdkOptimizerRoutes(app, ctx);
  app.get('/api/openapi.json', { config: { auth: 'public' } }, async () => buildOpenApi(routes));
  app.get('/api/health', { config: { auth: 'public' } }, async () => ({ ok: true }));

  const staticDir = opts.staticDir ?? join(repoRoot(), 'packages', 'dashboard', 'web-dist');
  if (existsSync(join(staticDir, 'index.html'))) {
    // the dashboard's files are public (the API calls they make are not)
    await app.register(async (scope) => {
      scope.addHook('onRoute', (r) => void (r.config = { ...(r.config ?? {}), auth: 'public' }));
      await scope.register(fastifyStatic, { root: staticDir, prefix: '/', wildcard: false });
    });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/'))
        return reply.type('text/html; charset=utf-8').send(createReadStream(join(staticDir, 'index.html')));
      return reply.code(404).send({ msg: `no route ${req.method} ${req.url.split('?')[0]}`, sdk_error_code: 40400 });
    });
  } else {
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send({ msg: `no route ${req.method} ${req.url.split('?')[0]}`, sdk_error_code: 40400 }),
    );
  }

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
