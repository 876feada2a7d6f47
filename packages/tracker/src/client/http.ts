// HTTP transport of the tracker clients (undici): JSON requests, multipart uploads, retries with exponential backoff.
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Agent, FormData, request } from 'undici';
import { OcropsError } from '@ocrops/common';

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

/**
 * Normalises a server URL to the Comet REST base (`http://host:port/api/rest/v2`); Comet's own form of
 * COMET_URL_OVERRIDE, `http://host:port/clientlib/` (what the Python SDK is given), names the same server.
 */
export function restBase(url: string): string {
  const u = url.replace(/\/+$/, '').replace(/\/clientlib$/, '');
  return u.endsWith('/api/rest/v2') ? u : `${u}/api/rest/v2`;
}

/** The server origin of a REST base (`http://host:port`), where /api/ocrops lives. */
export function originOf(url: string): string {
  return restBase(url).replace(/\/api\/rest\/v2$/, '');
}

/** A request that reached the server and got a non-2xx status. */
export class TrackerHttpError extends OcropsError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    msg: string,
  ) {
    super(`OCROPS_TRACKER_HTTP_${status}`, `${method} ${path} -> ${status}: ${msg}`, {
      hint: status === 401 ? 'check the API key (COMET_API_KEY or .ocrops/tracker/default-key)' : undefined,
    });
  }
  /** 5xx, 408 and 429 are worth retrying; other 4xx are not. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path below the REST base (`/write/experiment/metric`) or absolute from the origin when it starts with `/api/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  /** Multipart upload of a local file as part `file` (plus optional `metadata` JSON). */
  upload?: { file: string; fileName?: string; metadata?: Record<string, unknown> };
}

export interface HttpOptions {
  url: string;
  apiKey?: string;
  /** Per-request timeout (ms, default 30 s; uploads 10 min). */
  timeoutMs?: number;
}

/** Whether an error means "could not reach the server or it failed transiently" (spool/retry) rather than "rejected". */
export function isTransient(err: unknown): boolean {
  if (err instanceof TrackerHttpError) return err.retryable;
  return !(err instanceof OcropsError);
}

/** Sends one request; resolves to the parsed JSON (or undefined for empty replies / 204), raw bytes when `raw`. */
export async function send(http: HttpOptions, spec: RequestSpec, raw = false): Promise<any> {
  const base = restBase(http.url);
  const url = new URL(spec.path.startsWith('/api/') ? `${originOf(base)}${spec.path}` : `${base}${spec.path}`);
  for (const [k, v] of Object.entries(spec.query ?? {}))
    if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {};
  if (http.apiKey) headers.authorization = http.apiKey;
  let body: string | FormData | undefined;
  if (spec.upload) {
    const form = new FormData();
    if (spec.upload.metadata) form.append('metadata', JSON.stringify(spec.upload.metadata));
    form.append('file', await openAsBlob(spec.upload.file), spec.upload.fileName ?? basename(spec.upload.file));
    body = form;
  } else if (spec.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(spec.body);
  }
  const timeout = http.timeoutMs ?? (spec.upload ? 600_000 : 30_000);
  const res = await request(url, {
    method: spec.method,
    headers,
    body,
    dispatcher: agent,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  if (res.statusCode >= 400) {
    const text = await res.body.text().catch(() => '');
    let msg = text.slice(0, 500);
    try {
      msg = JSON.parse(text).msg ?? msg;
    } catch {
      /* not JSON */
    }
    throw new TrackerHttpError(res.statusCode, spec.method, url.pathname, msg);
  }
  if (raw) return Buffer.from(await res.body.arrayBuffer());
  const text = await res.body.text();
  if (res.statusCode === 204 || !text) return undefined;
  return JSON.parse(text);
}

/** `send` with retries on transient failures: delays base, 2x base, 4x base ... (ms). */
export async function sendWithRetry(
  http: HttpOptions,
  spec: RequestSpec,
  retries = 3,
  baseDelayMs = 200,
): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(http, spec);
    } catch (err) {
      if (!isTransient(err) || attempt >= retries) throw err;
      await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** attempt));
    }
  }
}
