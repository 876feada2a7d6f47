// Helpers shared by the tracker tests: temp folders, a server child process, raw HTTP calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { OptimizerAlgorithm } from '../src/index.js';

export function tempDir(prefix = 'ocrops-tracker-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const here = dirname(fileURLToPath(import.meta.url));

/** Starts `serve.ts` in a child process; resolves once it listens. */
export function spawnServer(
  dataDir: string,
  port = 0,
  heartbeatMillis?: number,
): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--conditions=@ocrops/source', '--import', 'tsx', join(here, 'serve.ts'), dataDir, String(port)];
  if (heartbeatMillis) args.push(String(heartbeatMillis));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`server child exited (${code}): ${err}`)));
  });
}

/** Raw JSON request (no client library) to check the server's replies as-is. */
export async function raw(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  opts: {
    key?: string;
    body?: unknown;
    rawBody?: string | Buffer;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; json: any; text: string }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = opts.key;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await request(`${url}${path}`, { method, headers, body });
  const text = await res.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text };
}

/**
 * A sweep algorithm for tests: suggests the untried values of the discrete parameter `x` in order (or `x: 1` every time
 * when the config says `repeat: true`, to exercise the search for a unique parameter set).
 */
export const listAlgorithm: OptimizerAlgorithm = {
  validate() {},
  suggest(config, trials, count) {
    const c = config as { repeat?: boolean; parameters: { x: { values: number[] } } };
    if (c.repeat) return [{ x: 1 }];
    const used = new Set(trials.map((t) => t.parameters.x));
    return c.parameters.x.values
      .filter((v) => !used.has(v))
      .slice(0, count)
      .map((x) => ({ x }));
  },
};
