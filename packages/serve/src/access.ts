/**
 * Who may call the inference server: CORS headers for the allowed origins (preflight answered), and API keys — fixed
 * ones and those the ocrops tracker accepts — on every route but the page, the metrics and the health checks.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OcropsError } from '@ocrops/common';

export interface AccessOptions {
  /** accepted API keys; none (and no tracker) = open */
  apiKeys?: string[];
  /** also accept keys the tracker at this URL accepts (checked against its REST API, cached for a minute) */
  trackerUrl?: string;
  /** origins allowed by CORS; none = no CORS headers */
  corsOrigins?: string[];
}

const PUBLIC_ROUTES = new Set(['/', '/metrics', '/v2/health/live', '/v2/health/ready']);
const TRACKER_VERDICT_MS = 60_000;

/**
 * Whether an API key is accepted: a fixed key, or one the tracker accepts (asked once a minute per key). Undefined
 * when the server needs no key.
 */
function apiKeyCheck(opts: AccessOptions): ((key: string) => Promise<boolean>) | undefined {
  const keys = new Set(opts.apiKeys ?? []);
  if (keys.size === 0 && opts.trackerUrl === undefined) return undefined;
  const trackerVerdicts = new Map<string, { ok: boolean; at: number }>();
  return async (key) => {
    if (keys.has(key)) return true;
    if (!opts.trackerUrl) return false;
    const cached = trackerVerdicts.get(key);
    if (cached && Date.now() - cached.at < TRACKER_VERDICT_MS) return cached.ok;
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
  };
}

/** Sets the CORS headers for an allowed origin; true when the request is a preflight (OPTIONS) to answer with 204. */
function corsHeaders(req: FastifyRequest, reply: FastifyReply, origins: string[] | undefined): boolean {
  const origin = req.headers.origin;
  if (!origin || !origins?.includes(origin)) return false;
  reply.header('access-control-allow-origin', origin).header('vary', 'origin');
  if (req.method !== 'OPTIONS') return false;
  reply
    .header('access-control-allow-methods', 'GET, POST, OPTIONS')
    .header('access-control-allow-headers', 'content-type, authorization, x-api-key, inference-header-content-length')
    .header('access-control-expose-headers', 'inference-header-content-length');
  return true;
}

/** Throws OCROPS_SERVE_AUTH (a 401) unless the request carries an accepted key. */
async function requireKey(req: FastifyRequest, keyAccepted: (key: string) => Promise<boolean>): Promise<void> {
  const header = req.headers.authorization ?? (req.headers['x-api-key'] as string | undefined) ?? '';
  const key = header.replace(/^Bearer\s+/i, '').trim();
  if (!key || !(await keyAccepted(key))) {
    throw new OcropsError('OCROPS_SERVE_AUTH', key ? 'API key not accepted' : 'this server needs an API key', {
      hint: 'send Authorization: Bearer <key> (or X-API-Key: <key>)',
    });
  }
}

/** Adds CORS and the API key check to every request; `authOn` says whether clients need a key. */
export function addAccessControl(app: FastifyInstance, opts: AccessOptions): { authOn: boolean } {
  const keyAccepted = apiKeyCheck(opts);
  app.addHook('onRequest', async (req, reply) => {
    if (corsHeaders(req, reply, opts.corsOrigins)) return reply.code(204).send();
    if (!keyAccepted || PUBLIC_ROUTES.has(req.url.split('?')[0])) return;
    await requireKey(req, keyAccepted);
  });
  return { authOn: keyAccepted !== undefined };
}
