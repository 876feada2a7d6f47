/**
 * The HTTP plumbing every route of the inference server shares: the fastify app (bodies as raw bytes), error replies
 * (a JSON body, never a crash), request counts and latency, the answer timeout and multipart uploads.
 */
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Busboy } from '@fastify/busboy';
import { OcropsError, isOcropsError } from '@ocrops/common';
import type { ServeMetrics } from './metrics.js';
import { InputError } from './preprocess.js';

/** A fastify app that hands every request body to the routes as a Buffer, whatever its content type. */
export function createApp(opts: { bodyLimit: number; timeoutMs: number }): FastifyInstance {
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    requestTimeout: opts.timeoutMs,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  return app;
}

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

/** Answers `err` as JSON (counted in the error metrics, logged when it is the server's fault). */
function sendError(
  req: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  metrics: ServeMetrics,
  log: (msg: string) => void,
) {
  const e = errorReply(err);
  if (e.status >= 500) log(`error on ${req.method} ${req.url}: ${e.message}`);
  metrics.errors.inc({ route: req.routeOptions.url ?? 'unknown', code: e.code });
  // the Open Inference Protocol's error body is {"error": "<message>"}; ours adds the code and a hint elsewhere
  const body = req.url.startsWith('/v2')
    ? { error: e.message }
    : { error: e.message, code: e.code, ...(e.hint ? { hint: e.hint } : {}) };
  return reply.code(e.status).type('application/json').send(body);
}

/** Errors thrown by routes and hooks, and unknown routes (404), are answered as JSON. */
export function addErrorReplies(app: FastifyInstance, metrics: ServeMetrics, log: (msg: string) => void): void {
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err, metrics, log));
  app.setNotFoundHandler((req, reply) =>
    sendError(
      req,
      reply,
      new InputError(
        404,
        `no route ${req.method} ${req.url.split('?')[0]}`,
        'see GET /v2 and the README of @ocrops/serve',
      ),
      metrics,
      log,
    ),
  );
}

/** Stamps each request's start and counts it, with its latency, by route and status once answered. */
export function addRequestMetrics(app: FastifyInstance, metrics: ServeMetrics): void {
  app.addHook('onRequest', async (req) => {
    (req as { started?: number }).started = performance.now();
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    const started = (req as { started?: number }).started;
    if (started !== undefined) metrics.latency.observe({ route }, (performance.now() - started) / 1000);
  });
}

/** When the request started (`performance.now()`), as stamped by the request metrics. */
export function requestStarted(req: FastifyRequest): number {
  return (req as { started?: number }).started ?? performance.now();
}

/** `p`, or an OCROPS_SERVE_TIMEOUT error (a 504) when it has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
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
export function multipartFiles(req: FastifyRequest, body: Buffer): Promise<Array<{ name: string; bytes: Buffer }>> {
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
