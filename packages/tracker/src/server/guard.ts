// The server's guard rails, applied to every route by default (routes added later get them without doing anything):
// Host header check, security headers, CORS for explicitly allowed origins only, authentication declared per route
// (`config: { auth }`, looked up on the matched route, so no URL encoding can skip it), a per-IP limit on failed
// authentications, a receive deadline for request bodies, request ids and 500 replies without internal messages.
import { randomBytes } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Auth } from './context.js';
import { HttpError } from './http-error.js';

/**
 * How a route authenticates, declared as `app.get(url, { config: { auth: 'read' } }, handler)`:
 * - `public`: anyone (health, OpenAPI document, dashboard files);
 * - `read`: an API key, or nothing for GET from loopback when the server runs with `--open-read` (read-only, all workspaces);
 * - `key`: an API key, always.
 * A route without `config.auth` is `read` for GET/HEAD and `key` for every other method.
 */
export type RouteAuth = 'public' | 'read' | 'key';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** The reply streams for a long time (server-sent events): no body deadline. */
    longLived?: boolean;
    /** A body the route reads itself (e.g. multipart), described for the OpenAPI document: `{ [contentType]: { schema } }`. */
    requestBody?: Record<string, { schema: Record<string, unknown> }>;
  }
}

export interface GuardOptions {
  /** Bound address; together with loopback names and `allowedHosts` it makes the Host header allow-list. */
  host: string;
  /** Extra names the Host header may carry (a reverse proxy's name, the machine's DNS name). `*` allows any. */
  allowedHosts?: string[];
  /** Origins (`scheme://host:port`) that get CORS replies with credentials; none by default. */
  corsOrigins?: string[];
  openRead: boolean;
  /** Looks up the workspace of an API key (undefined when unknown or revoked). */
  workspaceOfKey(key: string): Promise<string | undefined>;
  /** How long a key's workspace is cached (ms); a revoked key stops working after at most this long. */
  keyCacheMillis: number;
  /** Failed authentications per IP and minute before the IP gets 429 for the rest of that minute. */
  authFailuresPerMinute: number;
  /** Time a client gets to send a whole request body (ms). */
  bodyTimeoutMillis: number;
}

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1', 'localhost.localdomain'];
const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** A short random request id, logged with every 500 and returned in its body. */
export function requestId(): string {
  return randomBytes(6).toString('hex');
}

/** A URL with API keys in its query string replaced by `REDACTED` (for logs). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:api_?key|apikey|token)=)[^&#]*/gi, '$1REDACTED');
}

/** The host names a Host header may carry for a server bound to `host`. */
export function allowedHostNames(host: string, extra: string[] = []): Set<string> {
  const names = new Set<string>([...LOOPBACK_NAMES, ...extra.map((h) => h.toLowerCase())]);
  if (WILDCARD.has(host)) {
    // bound to every interface: the machine's own names and addresses
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) names.add(i.address.toLowerCase());
  } else names.add(host.toLowerCase());
  return names;
}

/** The host part of a Host header (`name:port`, `[v6]:port`), lowercase. */
export function hostOfHeader(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

/** The API key a request presents: header `Authorization` / `Comet-Sdk-Api`, `?apiKey=`, or the dashboard's cookie. */
export function keyFromRequest(req: FastifyRequest): string | undefined {
  const h = req.headers;
  const header = (h['comet-sdk-api'] ?? h.authorization) as string | undefined;
  if (header) return header.replace(/^Bearer\s+/i, '').trim();
  const q = req.query as Record<string, unknown> | undefined;
  if (q && typeof q.apiKey === 'string') return q.apiKey;
  const cookie = h.cookie;
  if (cookie) {
    const m = /(?:^|;\s*)ocrops_api_key=([^;]+)/.exec(cookie);
    if (m) {
      try {
        return decodeURIComponent(m[1]);
      } catch {
        return m[1];
      }
    }
  }
  return undefined;
}

/** The auth mode of the route a request matched (see RouteAuth). */
export function routeAuth(req: FastifyRequest): RouteAuth {
  const declared = req.routeOptions.config?.auth;
  if (declared) return declared;
  return req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'key';
}

/** Counts failed authentications per client IP in one-minute windows. */
class FailureLimiter {
  private readonly windows = new Map<string, { start: number; n: number }>();
  constructor(private readonly perMinute: number) {}
  blocked(ip: string): number {
    const w = this.windows.get(ip);
    if (!w || Date.now() - w.start >= 60_000 || w.n < this.perMinute) return 0;
    return Math.ceil((w.start + 60_000 - Date.now()) / 1000);
  }
  fail(ip: string): void {
    const now = Date.now();
    let w = this.windows.get(ip);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size > 10_000) this.prune(now);
      w = { start: now, n: 0 };
      this.windows.set(ip, w);
    }
    w.n++;
  }
  private prune(now: number): void {
    for (const [ip, w] of this.windows) if (now - w.start >= 60_000) this.windows.delete(ip);
  }
}

/** Installs the hooks; call before registering routes. */
export function installGuard(app: FastifyInstance, opts: GuardOptions): void {
  const hosts = allowedHostNames(opts.host, opts.allowedHosts);
  const anyHost = opts.allowedHosts?.includes('*') ?? false;
  const cors = new Set(opts.corsOrigins ?? []);
  const keyCache = new Map<string, { ws: string; at: number }>();
  const limiter = new FailureLimiter(opts.authFailuresPerMinute);
  /** Keys that were valid when last looked up (still checked against the database after the cache time). */
  const knownGood = new Set<string>();

  // DNS rebinding: a page on another name that resolves to this server must not be answered
  app.addHook('onRequest', async (req) => {
    const header = req.headers.host;
    if (anyHost || header === undefined || hosts.has(hostOfHeader(header))) return;
    throw new HttpError(
      421,
      `Host "${header.slice(0, 100)}" is not one this server answers to; start it with --allowed-hosts NAME to allow it`,
    );
  });

  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !cors.has(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'origin');
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-headers', 'authorization, comet-sdk-api, content-type');
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
      return reply.code(204).send();
    }
  });

  app.addHook('onRequest', async (req) => {
    if (req.is404) return;
    const mode = routeAuth(req);
    if (mode === 'public') return;
    const ip = req.socket.remoteAddress ?? '';
    const key = keyFromRequest(req);
    if (key) {
      // a blocked address may still use keys it has shown to be valid: other clients behind it keep working
      const wait = knownGood.has(key) ? 0 : limiter.blocked(ip);
      if (wait > 0) throw new HttpError(429, `too many failed authentications from ${ip}; retry in ${wait} s`);
      const ws = await lookup(key);
      if (!ws) {
        limiter.fail(ip);
        throw new HttpError(401, 'invalid API key (unknown or revoked)');
      }
      req.auth = { workspace: ws, readOnly: false };
      return;
    }
    if (
      mode === 'read' &&
      opts.openRead &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      LOOPBACK_ADDRESSES.has(ip)
    ) {
      req.auth = { workspace: null, readOnly: true } satisfies Auth;
      return;
    }
    throw new HttpError(401, 'missing API key: send header "Authorization: <API_KEY>" (or Comet-Sdk-Api)');
  });

  async function lookup(key: string): Promise<string | undefined> {
    if (key.length > 200) return undefined;
    const c = keyCache.get(key);
    if (c && Date.now() - c.at < opts.keyCacheMillis) return c.ws;
    const ws = await opts.workspaceOfKey(key);
    if (ws) {
      if (keyCache.size > 10_000) keyCache.clear();
      keyCache.set(key, { ws, at: Date.now() });
      if (knownGood.size > 10_000) knownGood.clear();
      knownGood.add(key);
    } else {
      keyCache.delete(key);
      knownGood.delete(key);
    }
    return ws;
  }

  // a body must arrive within the deadline: a client trickling a byte every few seconds is cut off
  app.addHook('onRequest', async (req) => {
    const h = req.headers;
    const hasBody =
      (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    if (!hasBody || req.routeOptions.config?.longLived) return;
    const raw = req.raw;
    const timer = setTimeout(() => {
      req.log.warn({ reqId: req.id }, 'request body not received in time; connection closed');
      raw.destroy();
    }, opts.bodyTimeoutMillis);
    timer.unref();
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
  });

  app.addHook('onSend', async (_req, reply: FastifyReply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    return payload;
  });

  app.setErrorHandler((err: any, req, reply) => {
    if (err instanceof HttpError)
      return reply.code(err.statusCode).send({ msg: err.message, sdk_error_code: err.sdkErrorCode });
    if (err.validation) {
      return reply.code(400).send({
        msg: err.message,
        sdk_error_code: 40000,
        field: err.validation[0]?.instancePath || err.validationContext,
      });
    }
    const status =
      typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send({ msg: err.message, sdk_error_code: status * 100 });
    req.log.error({ err, reqId: req.id }, 'request failed');
    return reply.code(500).send({
      msg: `internal error; the server log has the details under request id ${req.id}`,
      sdk_error_code: 50000,
      requestId: req.id,
    });
  });
}
