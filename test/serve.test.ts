// The inference server against real clients on loopback: the official tritonclient[http] Python client (unmodified),
// bad input of every kind while good requests of the same batches still get their answers, and a graceful SIGTERM of
// the real `ocrops serve` command with requests in flight. The model is the tiny CRNN with random weights: these tests
// check the protocol and the serving path (the client's texts are compared with the server's own /predict), not
// reading quality (see serve-page.test.ts for a model that reads).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { freePorts, repoRoot, spawnOcrops } from '@ocrops/common';
import { openModel, startServe, type RunningServer } from '@ocrops/serve';
import { startServer } from '@ocrops/tracker';
import { saveRandomModel, tinyConfig } from './serve-fixtures.js';
import { postForJson, runPython, tritonclientPython } from './utils.js';

const RUNTIME = (process.env.OCROPS_SERVE_TEST_RUNTIME ?? 'onnx') as 'onnx' | 'tfjs';
let dir: string;
let modelDir: string;
let server: RunningServer;
const images: string[] = [];

/** A text-line-like PNG: dark strokes on white, `width` x 40 px. */
async function linePng(path: string, width: number, seed: number): Promise<void> {
  const h = 40;
  const px = Buffer.alloc(width * h, 255);
  for (let x = 0; x < width; x++) {
    if ((x * 7 + seed * 13) % 23 < 9) for (let y = 8 + (x % 5); y < 30 - ((x + seed) % 7); y++) px[y * width + x] = 20;
  }
  await sharp(px, { raw: { width, height: h, channels: 1 } })
    .png()
    .toFile(path);
}

function predict(
  url: string,
  body: Buffer,
  type = 'image/png',
): Promise<{ status: number; json: Record<string, unknown> }> {
  return postForJson(`${url}/predict`, new Uint8Array(body), type);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocrops-serve-'));
  modelDir = join(dir, 'model');
  await saveRandomModel(modelDir);
  for (const [i, w] of [120, 200, 64, 310].entries()) {
    const p = join(dir, `line${i}.png`);
    await linePng(p, w, i);
    images.push(p);
  }
  const { runtime } = await openModel(modelDir, { runtime: RUNTIME });
  server = await startServe({
    runtime,
    name: 'tiny',
    port: 0,
    maxBatch: 8,
    maxDelayMs: 30,
    bodyLimit: 5 * 1024 * 1024,
  });
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`ocrops serve (${RUNTIME} runtime)`, () => {
  test('the official tritonclient[http] client: health, metadata, BYTES (binary and JSON), UINT8 pixels, errors', async (t) => {
    const python = tritonclientPython();
    if (!python) {
      t.skip('tritonclient[http] is not installed in .venv (run scripts/setup)');
      return;
    }
    const expected = await Promise.all(
      images.map(async (p) => (await predict(server.url, await sharp(p).png().toBuffer())).json.text as string),
    );
    const cfg = tinyConfig();
    // (asynchronously: the server runs in this process)
    const py = await runPython(python, [
      join(repoRoot(), 'test', 'serve_tritonclient.py'),
      server.url.replace('http://', ''),
      'tiny',
      String(cfg.height),
      '1',
      ...images,
    ]);
    assert.equal(py.status, 0, `tritonclient script failed:\n${py.stderr}`);
    const r = JSON.parse(py.stdout.trim().split('\n').pop()!);
    assert.equal(r.live, true);
    assert.equal(r.ready, true);
    assert.equal(r.model_ready, true);
    assert.equal(r.model_ready_v1, true);
    assert.equal(r.metadata.name, 'tiny');
    assert.deepEqual(
      r.metadata.outputs.map((o: { name: string }) => o.name),
      ['text', 'confidence', 'char_confidence'],
    );
    assert.deepEqual(r.binary.text, expected, 'binary BYTES infer reads what /predict reads');
    assert.equal(r.binary.confidence.length, images.length);
    assert.equal(r.binary.confidence_dtype, 'float32');
    assert.ok(r.binary.confidence.every((c: number) => c > 0 && c <= 1));
    assert.deepEqual(r.json.text, expected, 'JSON BYTES infer reads the same');
    assert.equal(r.json.id, 'req-7');
    const longest = Math.max(...expected.map((s) => [...s].length));
    assert.deepEqual(r.json.char_confidence_shape, [images.length, longest]);
    r.json.char_confidence.forEach((row: number[], i: number) => {
      const n = [...expected[i]].length;
      assert.ok(
        row.slice(0, n).every((c) => c > 0 && c <= 1),
        `line ${i}: a confidence per character`,
      );
      assert.ok(
        row.slice(n).every((c) => c === -1),
        `line ${i}: -1 past its transcript`,
      );
    });
    assert.deepEqual(r.pixels.shape, [1]);
    assert.equal(r.errors.shape.status, '400');
    assert.match(r.errors.shape.message, /height 32/);
    assert.equal(r.errors.model.status, '404');
    assert.match(r.errors.model.message, /unknown model 'no-such-model'/);
  });

  test('bad input gets a 4xx JSON error naming the problem; good requests of the same batches still get answers', async () => {
    const good = await sharp(images[0]).png().toBuffer();
    const alone = (await predict(server.url, good)).json;
    const infer = (body: unknown, name = 'tiny') =>
      fetch(`${server.url}/v2/models/${name}/infer`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    const cfg = tinyConfig();
    const bad: Array<[string, () => Promise<Response>, number, RegExp]> = [
      [
        'not an image',
        () =>
          fetch(`${server.url}/predict`, {
            method: 'POST',
            body: 'hello, not a png',
            headers: { 'content-type': 'image/png' },
          }),
        400,
        /not an image/,
      ],
      [
        'empty body',
        () =>
          fetch(`${server.url}/predict`, {
            method: 'POST',
            body: new Uint8Array(0),
            headers: { 'content-type': 'image/png' },
          }),
        400,
        /empty/,
      ],
      [
        'truncated PNG',
        () =>
          fetch(`${server.url}/predict`, {
            method: 'POST',
            body: new Uint8Array(good.subarray(0, good.length / 2)),
            headers: { 'content-type': 'image/png' },
          }),
        400,
        /truncated/,
      ],
      [
        'multipart without a file',
        () => {
          const f = new FormData();
          f.append('note', 'x');
          return fetch(`${server.url}/predict`, { method: 'POST', body: f });
        },
        400,
        /no file/,
      ],
      [
        'bad beam',
        () =>
          fetch(`${server.url}/predict?beam=zero`, {
            method: 'POST',
            body: new Uint8Array(good),
            headers: { 'content-type': 'image/png' },
          }),
        400,
        /beam/,
      ],
      [
        'wrong tensor shape',
        () =>
          infer({
            inputs: [
              {
                name: 'pixels',
                datatype: 'UINT8',
                shape: [1, cfg.height, 10, 3],
                data: new Array(cfg.height * 30).fill(255),
              },
            ],
          }),
        400,
        /height 32 and 1 channel/,
      ],
      [
        'data not matching shape',
        () =>
          infer({ inputs: [{ name: 'pixels', datatype: 'UINT8', shape: [1, cfg.height, 10, 1], data: [1, 2, 3] }] }),
        400,
        /needs 320/,
      ],
      [
        'wrong datatype',
        () => infer({ inputs: [{ name: 'pixels', datatype: 'INT64', shape: [1], data: [1] }] }),
        400,
        /datatype "INT64"/,
      ],
      [
        'not JSON',
        () =>
          fetch(`${server.url}/v2/models/tiny/infer`, {
            method: 'POST',
            body: '{"inputs": [',
            headers: { 'content-type': 'application/json' },
          }),
        400,
        /not valid JSON/,
      ],
      [
        'BYTES that is no image',
        () =>
          infer({
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [Buffer.from('nope').toString('base64')] }],
          }),
        400,
        /not an image/,
      ],
      [
        'unknown output',
        () =>
          infer({
            inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [good.toString('base64')] }],
            outputs: [{ name: 'logits' }],
          }),
        400,
        /unknown output 'logits'/,
      ],
      ['unknown model', () => infer({ inputs: [] }, 'nope'), 404, /unknown model 'nope'/],
      ['unknown version', () => fetch(`${server.url}/v2/models/tiny/versions/9`), 404, /unknown version '9'/],
    ];
    // all at once, interleaved with good requests that land in the same batches (max delay 30 ms)
    const goods = Array.from({ length: 6 }, () => predict(server.url, good));
    const answers = await Promise.all(
      bad.map(async ([what, send, status, pattern]) => {
        const res = await send();
        const body = (await res.json()) as { error?: string };
        return { what, status, pattern, got: res.status, error: body.error ?? '' };
      }),
    );
    for (const a of answers) {
      assert.equal(a.got, a.status, `${a.what}: HTTP ${a.got} (${a.error})`);
      assert.match(a.error, a.pattern, `${a.what}: error names the problem`);
    }
    for (const g of await Promise.all(goods)) {
      assert.equal(g.status, 200);
      assert.equal(g.json.text, alone.text);
    }
    // OIP routes use the protocol's error body: {"error": "..."} only
    const oip = (await (await infer({ inputs: [] }, 'nope')).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(oip), ['error']);
    // the server is still serving
    assert.equal((await predict(server.url, good)).status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /ocrops_serve_requests_total\{route="\/predict",status="400"\} [1-9]/);
    assert.match(metrics, /ocrops_serve_batch_size_bucket/);
    assert.match(metrics, /ocrops_serve_queue_depth 0/);
  });

  test('a body over the limit is refused with 413 (a 200 MB body against a 5 MiB limit) and the server keeps serving', async () => {
    const port = new URL(server.url).port;
    const size = 200 * 1024 * 1024;
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/predict',
          method: 'POST',
          headers: { 'content-type': 'image/png', 'content-length': size },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(reply.status, 413);
    assert.match(JSON.parse(reply.body).error, /larger than the server accepts/);
    assert.equal((await predict(server.url, await sharp(images[1]).png().toBuffer())).status, 200);
  });

  test('API keys: without a key 401 (health and the page stay open); CORS headers only for allowed origins', async () => {
    const { runtime } = await openModel(modelDir, { runtime: RUNTIME });
    const guarded = await startServe({
      runtime,
      name: 'tiny',
      port: 0,
      apiKeys: ['s3cret'],
      corsOrigins: ['http://app.example'],
    });
    try {
      const png = await sharp(images[2]).png().toBuffer();
      const no = await fetch(`${guarded.url}/predict`, {
        method: 'POST',
        body: new Uint8Array(png),
        headers: { 'content-type': 'image/png' },
      });
      assert.equal(no.status, 401);
      assert.match(((await no.json()) as { error: string }).error, /needs an API key/);
      const wrong = await fetch(`${guarded.url}/v2/models/tiny`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      const ok = await fetch(`${guarded.url}/predict`, {
        method: 'POST',
        body: new Uint8Array(png),
        headers: { 'content-type': 'image/png', authorization: 'Bearer s3cret', origin: 'http://app.example' },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'http://app.example');
      const other = await fetch(`${guarded.url}/v2/health/ready`, { headers: { origin: 'http://evil.example' } });
      assert.equal(other.status, 200);
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      assert.equal((await fetch(`${guarded.url}/`)).status, 200);
      const plain = await fetch(`${server.url}/v2/health/live`, { headers: { origin: 'http://app.example' } });
      assert.equal(plain.headers.get('access-control-allow-origin'), null, 'CORS is off by default');
    } finally {
      await guarded.close();
    }
  });

  test("the tracker's API keys are accepted with --tracker-keys; a request not answered in time gets 504", async () => {
    const tracker = await startServer({ port: 0, dataDir: join(dir, 'tracker') });
    const { runtime } = await openModel(modelDir, { runtime: RUNTIME });
    const guarded = await startServe({
      runtime,
      name: 'tiny',
      port: 0,
      trackerUrl: tracker.url,
      timeoutMs: 1,
      maxDelayMs: 200,
    });
    try {
      const png = new Uint8Array(await sharp(images[0]).png().toBuffer());
      const send = (key: string) =>
        fetch(`${guarded.url}/predict`, {
          method: 'POST',
          body: png,
          headers: { 'content-type': 'image/png', authorization: `Bearer ${key}` },
        });
      assert.equal((await send('not-a-tracker-key')).status, 401);
      const slow = await send(tracker.defaultKey);
      assert.equal(
        slow.status,
        504,
        'the key passes; the line waits 200 ms for its batch, longer than the 1 ms timeout',
      );
      assert.match(((await slow.json()) as { error: string }).error, /no answer within 1 ms/);
    } finally {
      await guarded.close();
      await tracker.close();
    }
  });

  test('multipart uploads: one result per file, named', async () => {
    const form = new FormData();
    for (const p of images.slice(0, 3))
      form.append(
        'file',
        new Blob([new Uint8Array(await sharp(p).png().toBuffer())], { type: 'image/png' }),
        p.split('/').pop(),
      );
    const res = await fetch(`${server.url}/predict?beam=4`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { results: Array<{ name: string; text: string; chars: unknown[]; ms: number }> };
    assert.deepEqual(
      body.results.map((r) => r.name),
      ['line0.png', 'line1.png', 'line2.png'],
    );
    for (const r of body.results) {
      assert.equal(r.chars.length, [...r.text].length);
      assert.ok(r.ms > 0);
    }
  });
});

test('`ocrops serve` finishes in-flight requests on SIGTERM, then exits 0', { timeout: 300_000 }, async () => {
  const [port] = await freePorts(1);
  const child = spawnOcrops(
    [
      'serve',
      '--model',
      modelDir,
      '--runtime',
      RUNTIME,
      '--port',
      String(port),
      '--max-delay-ms',
      '3000',
      '--max-batch',
      '64',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000;
  while (!/serving /.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) assert.fail(`ocrops serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const png = await sharp(images[3]).png().toBuffer();
  // SIGTERM arrives while 12 requests wait in the batcher (up to 3 s for a batch of 64)
  const inflight = Array.from({ length: 12 }, () => predict(url, png));
  for (;;) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (/ocrops_serve_queue_depth 12/.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGTERM');
  const answers = await Promise.all(inflight);
  assert.ok(
    answers.every((a) => a.status === 200 && typeof a.json.text === 'string'),
    JSON.stringify(answers.map((a) => a.status)),
  );
  assert.equal(await exited, 0, out);
  assert.match(out, /SIGTERM: finishing in-flight requests/);
  writeFileSync(join(dir, 'serve-sigterm.log'), out);
});
