// A fixed-width model served end to end: a `resnet18` CRNN (the licence-plate recipe's layers, narrow width, random
// weights) is exported to ONNX on the fly by `openModel` and served with either runtime; lines of any width sent at the
// same time (so batched together) must read exactly as `ocrops trainer predict` reads them, which resizes every image
// to the model's width like training did.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createModel, defaultModelConfig, saveModel, selectBackend, type ModelConfig } from '@ocrops/model';
import { openModel, startServe, type RunningServer } from '@ocrops/serve';
import { predict } from '@ocrops/trainer';
import { CAPTCHA_CHARSET } from './serve-fixtures.js';

const CFG: ModelConfig = {
  ...defaultModelConfig('resnet18'),
  height: 32,
  channels: 1,
  width: 96,
  steps: 12,
  rnn: { type: 'gru', hidden: 16, layers: 1, bidirectional: true, dropout: 0 },
};

let dir: string;
const images: string[] = [];

/** A line-like PNG `width` x 40 px with dark strokes. */
async function linePng(path: string, width: number, seed: number): Promise<void> {
  const h = 40;
  const px = Buffer.alloc(width * h, 255);
  for (let x = 0; x < width; x++) {
    if ((x * 5 + seed * 11) % 19 < 8) for (let y = 6 + (x % 4); y < 32 - ((x + seed) % 6); y++) px[y * width + x] = 15;
  }
  await sharp(px, { raw: { width, height: h, channels: 1 } })
    .png()
    .toFile(path);
}

before(async () => {
  await selectBackend({ quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'ocrops-serve-fixed-'));
  const model = createModel(CFG, CAPTCHA_CHARSET.length + 1, { seed: 5 });
  await saveModel(model, join(dir, 'model'), { charset: { chars: CAPTCHA_CHARSET, blank: 0 } });
  model.dispose();
  for (const [i, w] of [40, 96, 180, 333].entries()) {
    const p = join(dir, `line${i}.png`);
    await linePng(p, w, i);
    images.push(p);
  }
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const runtimeName of ['onnx', 'tfjs'] as const) {
  describe(`a fixed-width (resnet18) model served with the ${runtimeName} runtime`, () => {
    let server: RunningServer | undefined;
    after(async () => {
      await server?.close();
    });

    test('lines of any width, batched together, read as ocrops trainer predict reads them', async (t) => {
      const { runtime } = await openModel(join(dir, 'model'), { runtime: runtimeName });
      assert.deepEqual(runtime.contract.input.width, { fixed: 96, min: 96, multiple: 1, max: 96 });
      server = await startServe({
        runtime,
        name: 'plates',
        port: 0,
        maxBatch: 8,
        maxDelayMs: 50,
        bodyLimit: 5 * 1024 * 1024,
      });
      const expected = await predict({ modelDir: join(dir, 'model'), inputs: images, batchSize: images.length });
      const served = await Promise.all(
        images.map(async (p) => {
          const res = await fetch(`${server!.url}/predict`, {
            method: 'POST',
            body: new Uint8Array(readFileSync(p)),
            headers: { 'content-type': 'image/png' },
          });
          const json = (await res.json()) as Record<string, unknown>;
          assert.equal(res.status, 200, JSON.stringify(json));
          return { text: json.text as string, confidence: json.confidence as number };
        }),
      );
      t.diagnostic(
        JSON.stringify({ served, expected: expected.map((e) => ({ text: e.text, confidence: e.confidence })) }),
      );
      assert.deepEqual(
        served.map((s) => s.text),
        expected.map((e) => e.text),
      );
      // random weights read much the same text everywhere; the confidences tell the lines (and their resizing) apart
      served.forEach((s, i) =>
        assert.ok(
          Math.abs(s.confidence - expected[i].confidence) <= 1e-5,
          `line ${i}: confidence ${s.confidence} vs ${expected[i].confidence}`,
        ),
      );
      assert.equal(
        new Set(expected.map((e) => e.confidence.toFixed(5))).size,
        images.length,
        'the lines give different confidences',
      );
    });
  });
}
