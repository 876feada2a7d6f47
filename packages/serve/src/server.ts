/**
 * The inference server (fastify) of an OCR model or an image classifier: Open Inference Protocol / KServe v2 REST
 * under `/v2`, `POST /predict` for plain uploads, the web page at `/` (transcripts, or the top-5 classes), Prometheus
 * metrics at `/metrics`. Lines of concurrent requests are batched dynamically; bad input is answered with a 4xx JSON
 * error and never reaches the batch, so it cannot fail other requests' lines.
 * `startServe` composes the steps: the model slots (slots.ts), the app and its error replies (http.ts), access
 * (access.ts), the OIP routes (routes-oip.ts), /predict, the page and the metrics (routes-upload.ts).
 */
import type { FastifyInstance } from 'fastify';
import { addAccessControl } from './access.js';
import { addErrorReplies, addRequestMetrics, createApp } from './http.js';
import { createMetrics, type ServeMetrics } from './metrics.js';
import { addOipRoutes } from './routes-oip.js';
import { addPageRoutes, addPredictRoute } from './routes-upload.js';
import type { InferenceRuntime } from './runtime.js';
import { ModelSlots } from './slots.js';

export interface ServeOptions {
  /** the loaded model */
  runtime: InferenceRuntime;
  /** model name in `/v2/models/{name}` */
  name: string;
  /** version in `/v2/models/{name}/versions/{v}` (default '1') */
  version?: string;
  host?: string;
  port: number;
  maxBatch?: number;
  maxDelayMs?: number;
  /** lines join a batch within this width ratio of its oldest line (default 1.5) */
  widthRatio?: number;
  /** accepted API keys (`Authorization: Bearer <key>`, `Authorization: <key>` or `X-API-Key`); none = open */
  apiKeys?: string[];
  /** also accept keys the tracker at this URL accepts (checked against its REST API, cached for a minute) */
  trackerUrl?: string;
  /** origins allowed by CORS; none = no CORS headers */
  corsOrigins?: string[];
  /** largest request body in bytes (default 20 MiB) */
  bodyLimit?: number;
  /** a request not answered within this many ms gets 504 (default 30 s) */
  timeoutMs?: number;
  /** log lines (default: none) */
  log?: (msg: string) => void;
  /**
   * Loads another version of the model on demand for `/v2/models/{name}/versions/{v}` (a model from the registry);
   * without it only `version` is served.
   */
  loadVersion?: (version: string) => Promise<InferenceRuntime>;
  /** pinned versions kept loaded besides the served one (default 2; the least recently used is released) */
  versionCacheSize?: number;
  /** extra model metadata parameters (e.g. the registry reference) */
  parameters?: Record<string, string | number>;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  metrics: ServeMetrics;
  /** The version answering requests that name none. */
  readonly version: string;
  /**
   * Serves `runtime` as `version` from now on: it is warmed up first, then requests that start afterwards use it;
   * the previous model is released only once the requests that started on it have finished.
   */
  swap(runtime: InferenceRuntime, version: string, parameters?: Record<string, string | number>): Promise<void>;
  /** Stops accepting requests, lets in-flight ones finish, releases the model. */
  close(): Promise<void>;
}

/** Starts the server (the model is warmed up first) and listens on host:port. */
export async function startServe(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const maxBatch = opts.maxBatch ?? 16;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const metrics = createMetrics(maxBatch);
  const slots = await ModelSlots.open(opts.runtime, opts.version ?? '1', opts.parameters ?? {}, {
    name: opts.name,
    maxBatch,
    maxDelayMs: opts.maxDelayMs ?? 5,
    widthRatio: opts.widthRatio ?? 1.5,
    metrics,
    log,
    loadVersion: opts.loadVersion,
    cacheSize: opts.versionCacheSize ?? 2,
  });

  const app = createApp({ bodyLimit: opts.bodyLimit ?? 20 * 1024 * 1024, timeoutMs });
  addErrorReplies(app, metrics, log);
  addRequestMetrics(app, metrics);
  const { authOn } = addAccessControl(app, opts);
  addOipRoutes(app, { name: opts.name, slots, metrics, maxBatch, timeoutMs });
  addPredictRoute(app, { slots, metrics, timeoutMs });
  addPageRoutes(app, { name: opts.name, runtime: opts.runtime, needsKey: authOn, metrics });

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    app,
    metrics,
    get version() {
      return slots.version;
    },
    swap: (runtime, version, parameters) => slots.swap(runtime, version, parameters),
    close() {
      // in-flight requests finish, new ones get 503; then every loaded version is released
      closed ??= slots.close(() => app.close());
      return closed;
    },
  };
}
