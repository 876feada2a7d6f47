/**
 * The inference server (fastify) of an OCR model or an image classifier: Open Inference Protocol / KServe v2 REST
 * under `/v2`, `POST /predict` for plain uploads, the web page at `/` (transcripts, or the top-5 classes), Prometheus metrics at `/metrics`. Lines of concurrent requests are batched
 * dynamically; bad input is answered with a 4xx JSON error and never reaches the batch, so it cannot fail other
 * requests' lines.
 */
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Busboy } from '@fastify/busboy';
import { OcropsError, isOcropsError } from '@ocrops/common';
import { Batcher, type BatchItem, type ItemOutput } from './batcher.js';
import { charConfidencesOf, greedyLine, type LineText } from './decode.js';
import { createMetrics, type ServeMetrics } from './metrics.js';
import { OIP_OUTPUTS, inferResponse, parseInferRequest } from './oip.js';
import { pageHtml } from './page.js';
import { classifierPageHtml } from './page-classify.js';
import {
  classifierContract,
  imageToInput,
  parseTopK,
  probabilitiesOf,
  runClassifierBatch,
  topClasses,
  type TopClass,
} from './classify.js';
import { OIP_CLASSIFIER_OUTPUTS, classifyResponse, parseClassifyRequest } from './oip-classify.js';
import { InputError, imageToLine } from './preprocess.js';
import type { ModelContract } from '@ocrops/model/contract';
import { runBatch, type InferenceRuntime } from './runtime.js';

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

const PUBLIC_ROUTES = new Set(['/', '/metrics', '/v2/health/live', '/v2/health/ready']);

/** Status and JSON body for an error: InputError's status, 413 for a too large body, 5xx for the rest. */
function errorReply(err: unknown): { status: number; code: string; message: string; hint?: string } {
  if (err instanceof InputError) return { status: err.status, code: err.code, message: err.message, hint: err.hint };
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return {
      status: 413,
      code: 'OCROPS_SERVE_TOO_LARGE',
      message: 'request body is larger than the server accepts (--body-limit)',
    };
  if (isOcropsError(err) && err.code === 'OCROPS_SERVE_TIMEOUT')
    return { status: 504, code: err.code, message: err.message };
  if (isOcropsError(err) && err.code === 'OCROPS_SERVE_CLOSING')
    return { status: 503, code: err.code, message: err.message };
  if (isOcropsError(err) && err.code === 'OCROPS_SERVE_AUTH')
    return { status: 401, code: err.code, message: err.message, hint: err.hint };
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return { status: e.statusCode, code: e.code ?? 'OCROPS_SERVE_INPUT', message: e.message ?? 'bad request' };
  return {
    status: 500,
    code: isOcropsError(err) ? err.code : 'OCROPS_SERVE_INTERNAL',
    message: e.message ?? String(err),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OcropsError('OCROPS_SERVE_TIMEOUT', `no answer within ${ms} ms (server busy); try again`)),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Files of a multipart/form-data body, in order. */
function multipartFiles(req: FastifyRequest, body: Buffer): Promise<Array<{ name: string; bytes: Buffer }>> {
  return new Promise((resolve, reject) => {
    let bb;
    try {
      bb = new Busboy({ headers: req.headers as never, limits: { files: 64, fields: 16, fieldSize: 1 << 16 } });
    } catch (err) {
      reject(new InputError(400, `malformed multipart request: ${(err as Error).message}`));
      return;
    }
    const files: Array<{ name: string; bytes: Buffer }> = [];
    const reading: Promise<void>[] = [];
    bb.on('file', (_field: string, stream: Readable, filename: string) => {
      const chunks: Buffer[] = [];
      reading.push(
        new Promise((done) => {
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.push({ name: filename || `file ${files.length + 1}`, bytes: Buffer.concat(chunks) });
            done();
          });
        }),
      );
    });
    bb.on('error', (err: Error) => reject(new InputError(400, `malformed multipart request: ${err.message}`)));
    bb.on('finish', () => void Promise.all(reading).then(() => resolve(files)));
    Readable.from([body]).pipe(bb);
  });
}

function parseBeam(v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InputError(400, `beam must be an integer in 1..100, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * One loaded model version with its own batcher. Requests hold it from start to answer (`users`), so a model that is
 * swapped out or evicted is released only after the requests that started on it have finished.
 */
interface ModelSlot {
  version: string;
  runtime: InferenceRuntime;
  batcher: Batcher;
  parameters: Record<string, string | number>;
  users: number;
  retired: boolean;
  released?: Promise<void>;
}

/** Starts the server (the model is warmed up first) and listens on host:port. */
export async function startServe(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const maxBatch = opts.maxBatch ?? 16;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const metrics = createMetrics(maxBatch);
  let closing = false;

  function newSlot(runtime: InferenceRuntime, version: string, parameters: Record<string, string | number>): ModelSlot {
    const run = runtime.contract.task === 'classify' ? runClassifierBatch : runBatch;
    const batcher = new Batcher((items) => run(runtime, items), {
      maxBatch,
      parallel: runtime.parallel,
      maxDelayMs: opts.maxDelayMs ?? 5,
      widthRatio: opts.widthRatio ?? 1.5,
      onBatch: (size, ms) => {
        metrics.batchSize.observe(size);
        metrics.batchSeconds.observe(ms / 1000);
      },
      onQueue: (depth) => metrics.queueDepth.set(depth),
    });
    return { version, runtime, batcher, parameters, users: 0, retired: false };
  }

  // warm-up: one line through the whole path, so the first request does not pay for lazy initialisation
  async function warmUp(runtime: InferenceRuntime): Promise<void> {
    const c = runtime.contract;
    const run = c.task === 'classify' ? runClassifierBatch : runBatch;
    const warmWidth =
      c.task === 'classify' ? c.input.width : (c.input.width.fixed ?? Math.max(c.input.width.min, c.input.height * 4));
    const fill = c.task === 'classify' ? 1 : c.input.padValue;
    const warm: BatchItem = {
      pixels: new Float32Array(c.input.height * warmWidth * c.input.channels).fill(fill),
      width: warmWidth,
    };
    const warmStart = Date.now();
    await run(runtime, [warm]);
    await Promise.all(
      Array.from({ length: runtime.parallel }, () =>
        run(
          runtime,
          Array.from({ length: Math.min(maxBatch, 4) }, () => warm),
        ),
      ),
    );
    log(`warm-up: ${Date.now() - warmStart} ms`);
  }

  /** Releases a retired slot once no request holds it: its queued batches run, then the model is disposed. */
  function releaseWhenIdle(slot: ModelSlot): Promise<void> {
    slot.retired = true;
    if (slot.users > 0) return Promise.resolve();
    slot.released ??= (async () => {
      await slot.batcher.drain();
      await slot.runtime.dispose();
      log(`released version ${slot.version}`);
    })();
    return slot.released;
  }

  await warmUp(opts.runtime);
  let current = newSlot(opts.runtime, opts.version ?? '1', opts.parameters ?? {});
  /** pinned versions loaded on demand, least recently used first */
  const pinned = new Map<string, Promise<ModelSlot>>();
  const pinnedSize = opts.versionCacheSize ?? 2;

  /** The slot answering `version` (the served one when none is named), loading a pinned version when allowed. */
  async function slotFor(version: string | undefined): Promise<ModelSlot> {
    if (version === undefined || version === current.version) return current;
    const loader = opts.loadVersion;
    if (!loader)
      throw new InputError(
        404,
        `unknown version '${version}' of model '${opts.name}'; it has version ${current.version}`,
      );
    let p = pinned.get(version);
    if (p) pinned.delete(version);
    else {
      p = (async () => {
        const runtime = await loader(version).catch((err: unknown) => {
          if ((err as { status?: number }).status === 404)
            throw new InputError(404, `model '${opts.name}' has no version '${version}' in the registry`);
          throw err;
        });
        await warmUp(runtime);
        return newSlot(runtime, version, {});
      })();
      const loading = p;
      loading.catch(() => {
        if (pinned.get(version) === loading) pinned.delete(version);
      });
    }
    pinned.set(version, p);
    while (pinned.size > pinnedSize) {
      const [oldest, old] = pinned.entries().next().value as [string, Promise<ModelSlot>];
      pinned.delete(oldest);
      void old.then(releaseWhenIdle, () => {});
    }
    return p;
  }

  /** Runs `fn` holding the slot of `version`, so the slot is not released under it. */
  async function withSlot<T>(version: string | undefined, fn: (slot: ModelSlot) => Promise<T>): Promise<T> {
    let slot = await slotFor(version);
    // a slot swapped out or evicted while this request waited for it may already be released: take the new one
    while (slot.released && !closing) slot = await slotFor(version);
    slot.users++;
    try {
      return await fn(slot);
    } finally {
      slot.users--;
      if (slot.retired && slot.users === 0) void releaseWhenIdle(slot);
    }
  }

  let beamDecoder: ((out: ItemOutput, width: number, contract: ModelContract) => Promise<LineText>) | undefined;
  async function decode(out: ItemOutput, beam: number | undefined, contract: ModelContract): Promise<LineText> {
    if (!beam) return greedyLine(out, contract);
    if (!beamDecoder) {
      const [tf, { beamSearchDecode }] = await Promise.all([import('@tensorflow/tfjs'), import('@ocrops/model')]);
      beamDecoder = async (o, width, contract) => {
        const frames = o.data.subarray(o.offset, o.offset + o.frames * o.classes);
        const logits = tf.tensor3d(frames, [1, o.frames, o.classes]);
        try {
          const r = beamSearchDecode(logits, { beamWidth: width, blank: contract.blank });
          const chars = charConfidencesOf(r.ids[0], o, contract);
          return { text: chars.map((c) => c.char).join(''), confidence: r.confidence[0], chars };
        } finally {
          logits.dispose();
        }
      };
    }
    return beamDecoder(out, beam, contract);
  }

  /** Reads lines through the batcher; resolves per line with its text and the ms since `started`. */
  async function readLines(
    slot: ModelSlot,
    lines: BatchItem[],
    beam: number | undefined,
    started: number,
  ): Promise<Array<LineText & { ms: number }>> {
    const contract = slot.runtime.contract;
    if (contract.task === 'classify')
      throw new OcropsError(
        'OCROPS_SERVE_RUNTIME',
        'readLines reads text lines; this server serves an image classifier',
      );
    metrics.lines.inc(lines.length);
    return Promise.all(
      lines.map(async (line) => {
        const out = await slot.batcher.submit(line);
        const text = await decode(out, beam, contract);
        return { ...text, ms: Number((performance.now() - started).toFixed(2)) };
      }),
    );
  }

  /** Classifies images through the batcher; resolves per image with its top-k classes and the ms since `started`. */
  async function classifyImages(
    slot: ModelSlot,
    items: BatchItem[],
    topK: number,
    started: number,
  ): Promise<Array<{ top: TopClass[]; ms: number }>> {
    const c = classifierContract(slot.runtime);
    metrics.lines.inc(items.length);
    return Promise.all(
      items.map(async (item) => {
        const out = await slot.batcher.submit(item);
        const top = topClasses(probabilitiesOf(out, c.outputs[0].kind), c.classes, topK);
        return { top, ms: Number((performance.now() - started).toFixed(2)) };
      }),
    );
  }

  // API keys: fixed ones, and the tracker's (asked once a minute per key)
  const keys = new Set(opts.apiKeys ?? []);
  const trackerVerdicts = new Map<string, { ok: boolean; at: number }>();
  async function keyAccepted(key: string): Promise<boolean> {
    if (keys.has(key)) return true;
    if (!opts.trackerUrl) return false;
    const cached = trackerVerdicts.get(key);
    if (cached && Date.now() - cached.at < 60_000) return cached.ok;
    let ok = false;
    try {
      const res = await fetch(new URL('/api/rest/v2/workspaces', opts.trackerUrl), {
        headers: { authorization: key },
        signal: AbortSignal.timeout(5000),
      });
      ok = res.ok;
    } catch {
      ok = false;
    }
    trackerVerdicts.set(key, { ok, at: Date.now() });
    return ok;
  }
  const authOn = keys.size > 0 || opts.trackerUrl !== undefined;

  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 20 * 1024 * 1024,
    requestTimeout: timeoutMs,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const isV2 = (req: FastifyRequest) => req.url.startsWith('/v2');
  function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown) {
    const e = errorReply(err);
    if (e.status >= 500) log(`error on ${req.method} ${req.url}: ${e.message}`);
    metrics.errors.inc({ route: req.routeOptions.url ?? 'unknown', code: e.code });
    // the Open Inference Protocol's error body is {"error": "<message>"}; ours adds the code and a hint elsewhere
    const body = isV2(req)
      ? { error: e.message }
      : { error: e.message, code: e.code, ...(e.hint ? { hint: e.hint } : {}) };
    return reply.code(e.status).type('application/json').send(body);
  }
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      new InputError(
        404,
        `no route ${req.method} ${req.url.split('?')[0]}`,
        'see GET /v2 and the README of @ocrops/serve',
      ),
    ),
  );

  app.addHook('onRequest', async (req, reply) => {
    (req as { started?: number }).started = performance.now();
    const origin = req.headers.origin;
    if (origin && opts.corsOrigins?.includes(origin)) {
      reply.header('access-control-allow-origin', origin).header('vary', 'origin');
      if (req.method === 'OPTIONS') {
        reply
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header(
            'access-control-allow-headers',
            'content-type, authorization, x-api-key, inference-header-content-length',
          )
          .header('access-control-expose-headers', 'inference-header-content-length');
        return reply.code(204).send();
      }
    }
    if (!authOn || PUBLIC_ROUTES.has(req.url.split('?')[0])) return;
    const header = req.headers.authorization ?? (req.headers['x-api-key'] as string | undefined) ?? '';
    const key = header.replace(/^Bearer\s+/i, '').trim();
    if (!key || !(await keyAccepted(key))) {
      throw new OcropsError('OCROPS_SERVE_AUTH', key ? 'API key not accepted' : 'this server needs an API key', {
        hint: 'send Authorization: Bearer <key> (or X-API-Key: <key>)',
      });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    const started = (req as { started?: number }).started;
    if (started !== undefined) metrics.latency.observe({ route }, (performance.now() - started) / 1000);
  });

  // ---- Open Inference Protocol ----
  function checkName(params: { name?: string }) {
    if (params.name !== opts.name)
      throw new InputError(404, `unknown model '${params.name}'; this server serves '${opts.name}'`);
  }
  /** What the metadata says that depends on the task: the pixel input's shape, the outputs, the task's parameters. */
  const taskMetadata = (
    contract: InferenceRuntime['contract'],
  ): {
    pixelsShape: number[];
    outputs: Array<{ name: string; datatype: string; shape: number[] }>;
    parameters: Record<string, unknown>;
  } => {
    if (contract.task === 'classify') {
      return {
        pixelsShape: [-1, contract.input.height, contract.input.width, contract.input.channels],
        outputs: Object.entries(OIP_CLASSIFIER_OUTPUTS).map(([name, datatype]) => ({
          name,
          datatype,
          shape: [-1, -1],
        })),
        parameters: { task: 'classify', num_classes: contract.numClasses, top_k: contract.topK },
      };
    }
    return {
      pixelsShape: [-1, contract.input.height, -1, contract.input.channels],
      outputs: Object.entries(OIP_OUTPUTS).map(([name, datatype]) => ({
        name,
        datatype,
        shape: name === 'char_confidence' ? [-1, -1] : [-1],
      })),
      parameters: { charset_size: contract.charset.length },
    };
  };
  const metadata = (slot: ModelSlot) => {
    const { runtime } = slot;
    const task = taskMetadata(runtime.contract);
    return {
      name: opts.name,
      versions: [slot.version],
      platform: runtime.name === 'onnx' ? 'onnxruntime_onnx' : 'tensorflowjs',
      inputs: [
        { name: 'image', datatype: 'BYTES', shape: [-1] },
        { name: 'pixels', datatype: 'UINT8', shape: task.pixelsShape },
      ],
      outputs: task.outputs,
      parameters: {
        ...task.parameters,
        runtime: runtime.detail,
        max_batch: maxBatch,
        parallel_batches: runtime.parallel,
        served_version: current.version,
        ...slot.parameters,
      },
    };
  };
  app.get('/v2', async () => ({ name: 'ocrops', version: '0.1.0', extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) =>
    closing ? reply.code(503).send({ ready: false }) : { ready: true },
  );
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, async (req) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      return withSlot(params.version, async (slot) => metadata(slot));
    });
    app.get(`${prefix}/ready`, async (req) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      return withSlot(params.version, async () => ({ name: opts.name, ready: !closing }));
    });
    app.post(`${prefix}/infer`, async (req, reply) => {
      const params = req.params as { name: string; version?: string };
      checkName(params);
      const started = (req as { started?: number }).started ?? performance.now();
      const header = req.headers['inference-header-content-length'];
      const body = req.body as Buffer | undefined;
      const headerLength = Array.isArray(header) ? header[0] : header;
      const res = await withSlot(params.version, async (slot) => {
        const contract = slot.runtime.contract;
        if (contract.task === 'classify') {
          const parsed = parseClassifyRequest(body, headerLength, contract);
          const items = await parsed.items();
          const results = await withTimeout(classifyImages(slot, items, parsed.topK, started), timeoutMs);
          return classifyResponse(
            parsed,
            results.map((r) => r.top),
            { name: opts.name, version: slot.version },
          );
        }
        const parsed = parseInferRequest(body, headerLength, contract);
        const lines = await parsed.lines();
        const results = await withTimeout(readLines(slot, lines, parsed.beam, started), timeoutMs);
        return inferResponse(parsed, results, { name: opts.name, version: slot.version });
      });
      if (res.headerLength === undefined) return res.body;
      return reply
        .header('inference-header-content-length', String(res.headerLength))
        .type('application/octet-stream')
        .send(res.body);
    });
  }

  // ---- plain upload ----
  app.post('/predict', async (req, reply) => {
    const started = (req as { started?: number }).started ?? performance.now();
    const query = req.query as { beam?: string; top_k?: string };
    const body = req.body as Buffer | undefined;
    const type = req.headers['content-type'] ?? '';
    let files: Array<{ name: string; bytes: Buffer }>;
    if (type.startsWith('multipart/form-data')) {
      files = await multipartFiles(req, body ?? Buffer.alloc(0));
      if (files.length === 0)
        throw new InputError(
          400,
          'the multipart request holds no file',
          'curl -F file=@line.png http://host:port/predict',
        );
    } else {
      if (!body || body.length === 0)
        throw new InputError(
          400,
          'empty request body: send an image (raw body or multipart file)',
          'curl -F file=@line.png http://host:port/predict',
        );
      files = [{ name: 'request body', bytes: body }];
    }
    const { results, version } = await withSlot(
      undefined,
      async (slot): Promise<{ results: object[]; version: string }> => {
        const contract = slot.runtime.contract;
        if (contract.task === 'classify') {
          const topK = parseTopK(query.top_k, contract);
          const items = await Promise.all(files.map((f) => imageToInput(f.bytes, contract, f.name)));
          return {
            results: await withTimeout(classifyImages(slot, items, topK, started), timeoutMs),
            version: slot.version,
          };
        }
        const beam = parseBeam(query.beam);
        const lines = await Promise.all(files.map((f) => imageToLine(f.bytes, contract, f.name)));
        return { results: await withTimeout(readLines(slot, lines, beam, started), timeoutMs), version: slot.version };
      },
    );
    reply.header('x-model-version', version);
    const named = results.map((r, i) => ({ ...(type.startsWith('multipart/') ? { name: files[i].name } : {}), ...r }));
    return named.length === 1 ? named[0] : { results: named };
  });

  // ---- page and metrics ----
  const served = opts.runtime.contract;
  const html =
    served.task === 'classify'
      ? classifierPageHtml({
          modelName: opts.name,
          runtime: opts.runtime.detail,
          numClasses: served.numClasses,
          needsKey: authOn,
        })
      : pageHtml({ modelName: opts.name, runtime: opts.runtime.detail, needsKey: authOn });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  let closed: Promise<void> | undefined;
  let swapping: Promise<void> = Promise.resolve();
  return {
    url,
    app,
    metrics,
    get version() {
      return current.version;
    },
    swap(runtime, version, parameters) {
      const next = swapping.then(async () => {
        if (closing) {
          await runtime.dispose();
          throw new OcropsError(
            'OCROPS_SERVE_CLOSING',
            `the server is shutting down; version ${version} was not switched to`,
          );
        }
        await warmUp(runtime);
        const previous = current;
        current = newSlot(runtime, version, { ...previous.parameters, ...parameters });
        log(`now serving version ${version} (was ${previous.version})`);
        const stale = pinned.get(version);
        if (stale) {
          pinned.delete(version);
          void stale.then(releaseWhenIdle, () => {});
        }
        await releaseWhenIdle(previous);
      });
      swapping = next.catch(() => {});
      return next;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        await app.close(); // in-flight requests finish; new ones get 503
        await swapping;
        const slots = [
          current,
          ...(await Promise.allSettled(pinned.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
        ];
        pinned.clear();
        await Promise.all(slots.map(releaseWhenIdle));
      })();
      return closed;
    },
  };
}
