// Sweep configs are bounded when created (grid size, values, grid points, config size), so no suggestion can block
// the server: the largest grid allowed suggests in well under a second while /api/health keeps answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { optimizerAlgorithm } from '@ocrops/search';
import { startServer } from '@ocrops/tracker';

async function call(url: string, key: string, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await request(`${url}${path}`, {
    method,
    headers: { authorization: key, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
}

const grid = (parameters: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
  config: {
    algorithm: 'grid',
    spec: { metric: 'loss', objective: 'minimize', randomize: true, seed: 1, ...spec },
    parameters,
  },
});

test('bounded grid: oversized sweep configs get 400/413 naming the field; the largest allowed one stays fast', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-sweep-limits-'));
  const server = await startServer({ port: 0, dataDir: dir, optimizer: optimizerAlgorithm });
  const k = server.defaultKey;
  const O = '/api/rest/v2/optimizer';
  try {
    const bad: Array<[unknown, number, RegExp]> = [
      [
        grid({ x: { type: 'float', min: 0, max: 1 } }, { gridSize: 1_000_000 }),
        400,
        /^config\.spec\.gridSize: 1000000/,
      ],
      [grid({ x: { type: 'float', min: 0, max: 1, gridSize: 5000 } }), 400, /^config\.parameters\.x\.gridSize/],
      [
        grid({ c: { type: 'categorical', values: Array.from({ length: 20_000 }, (_, i) => `v${i}`) } }),
        413,
        /^config: \d+ characters/,
      ],
      [
        grid({ c: { type: 'discrete', values: Array.from({ length: 10_001 }, (_, i) => i) } }),
        400,
        /^config\.parameters\.c\.values: 10001 values/,
      ],
      [
        grid({
          a: { type: 'float', min: 0, max: 1, gridSize: 1000 },
          b: { type: 'float', min: 0, max: 1, gridSize: 1000 },
        }),
        400,
        /^config\.parameters: the grid has 1000000 points/,
      ],
    ];
    for (const [body, status, msg] of bad) {
      const r = await call(server.url, k, 'POST', `${O}/create`, body);
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.match(r.json.msg, msg);
    }
    // the largest grid the limits allow: 300 x 300 = 90,000 points, shuffled
    const ok = await call(
      server.url,
      k,
      'POST',
      `${O}/create`,
      grid({
        a: { type: 'float', min: 0, max: 1, gridSize: 300 },
        b: { type: 'float', min: 0, max: 1, gridSize: 300 },
      }),
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const [next, health] = await Promise.all([
        call(server.url, k, 'GET', `${O}/next?id=${ok.json.id}`),
        request(`${server.url}/api/health`).then(async (r) => (await r.body.text(), r.statusCode)),
      ]);
      times.push(performance.now() - t0);
      assert.equal(next.status, 200);
      assert.equal(health, 200);
    }
    const worst = Math.max(...times);
    assert.ok(worst < 2000, `next + health took up to ${worst.toFixed(0)} ms`);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
