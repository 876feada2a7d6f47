/**
 * The routes for people and monitoring: `POST /predict` (a raw image body or multipart files, answered with text or
 * the top-k classes), the web page at `/` and the Prometheus metrics at `/metrics`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { imageToInput, parseTopK } from './classify.js';
import { multipartFiles, requestStarted, withTimeout } from './http.js';
import type { ServeMetrics } from './metrics.js';
import { pageHtml } from './page.js';
import { classifierPageHtml } from './page-classify.js';
import { InputError, imageToLine } from './preprocess.js';
import { classifyImages, readLines } from './reading.js';
import type { InferenceRuntime } from './runtime.js';
import type { ModelSlot, ModelSlots } from './slots.js';

export interface UploadRouteOptions {
  slots: ModelSlots;
  metrics: ServeMetrics;
  timeoutMs: number;
}

type Upload = Array<{ name: string; bytes: Buffer }>;
const CURL_HINT = 'curl -F file=@line.png http://host:port/predict';

/** `?beam=N` of /predict: undefined (greedy decoding) or an integer in 1..100. */
function parseBeam(v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InputError(400, `beam must be an integer in 1..100, got ${JSON.stringify(v)}`);
  return n;
}

/** The images of a /predict request: its multipart files, or the raw body as one image. */
async function uploadedImages(req: FastifyRequest): Promise<Upload> {
  const body = req.body as Buffer | undefined;
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const files = await multipartFiles(req, body ?? Buffer.alloc(0));
    if (files.length === 0) throw new InputError(400, 'the multipart request holds no file', CURL_HINT);
    return files;
  }
  if (!body || body.length === 0)
    throw new InputError(400, 'empty request body: send an image (raw body or multipart file)', CURL_HINT);
  return [{ name: 'request body', bytes: body }];
}

/** Reads (OCR) or classifies the uploaded images on a slot; `query` holds `beam` or `top_k`. */
async function predict(
  slot: ModelSlot,
  files: Upload,
  query: { beam?: string; top_k?: string },
  started: number,
  opts: UploadRouteOptions,
): Promise<object[]> {
  const contract = slot.runtime.contract;
  if (contract.task === 'classify') {
    const topK = parseTopK(query.top_k, contract);
    const items = await Promise.all(files.map((f) => imageToInput(f.bytes, contract, f.name)));
    return withTimeout(classifyImages(slot, opts.metrics, items, topK, started), opts.timeoutMs);
  }
  const beam = parseBeam(query.beam);
  const lines = await Promise.all(files.map((f) => imageToLine(f.bytes, contract, f.name)));
  return withTimeout(readLines(slot, opts.metrics, lines, beam, started), opts.timeoutMs);
}

/** Adds `POST /predict`: one image -> its result, several (multipart) -> `{results}`, each with its file name. */
export function addPredictRoute(app: FastifyInstance, opts: UploadRouteOptions): void {
  app.post('/predict', async (req, reply) => {
    const started = requestStarted(req);
    const query = req.query as { beam?: string; top_k?: string };
    const files = await uploadedImages(req);
    const { results, version } = await opts.slots.withSlot(undefined, async (slot) => ({
      results: await predict(slot, files, query, started, opts),
      version: slot.version,
    }));
    reply.header('x-model-version', version);
    const multipart = (req.headers['content-type'] ?? '').startsWith('multipart/');
    const named = results.map((r, i) => ({ ...(multipart ? { name: files[i].name } : {}), ...r }));
    return named.length === 1 ? named[0] : { results: named };
  });
}

/** Adds the web page of the served model's task at `/` and the Prometheus metrics at `/metrics`. */
export function addPageRoutes(
  app: FastifyInstance,
  opts: { name: string; runtime: InferenceRuntime; needsKey: boolean; metrics: ServeMetrics },
): void {
  const served = opts.runtime.contract;
  const html =
    served.task === 'classify'
      ? classifierPageHtml({
          modelName: opts.name,
          runtime: opts.runtime.detail,
          numClasses: served.numClasses,
          needsKey: opts.needsKey,
        })
      : pageHtml({ modelName: opts.name, runtime: opts.runtime.detail, needsKey: opts.needsKey });
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get('/metrics', async (_req, reply) =>
    reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()),
  );
}
