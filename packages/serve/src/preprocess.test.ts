// Preprocessing as the contract says, for a fixed-width model (resnet18: input.width.fixed, constant frame count) and an
// any-width one: images resized to the fixed width, pixel tensors of another width refused, batches never padded past it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildContract, defaultModelConfig } from '@ocrops/model';
import { InputError, imageToLine, pixelsToLines } from './preprocess.js';
import { packBatch, runBatch, type InferenceRuntime } from './runtime.js';

const fixed = buildContract({
  config: { ...defaultModelConfig('resnet18'), height: 32, channels: 1, width: 96, steps: 12 },
  charset: ['A', 'B'],
  files: { onnx: 'model.onnx' },
});
const free = buildContract({
  config: { ...defaultModelConfig('small'), height: 32, channels: 1 },
  charset: ['A', 'B'],
  files: { onnx: 'model.onnx' },
});

/** A gray PNG `width` x `height` with a dark left half. */
async function png(width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(width * height, 255);
  for (let y = 0; y < height; y++) px.fill(0, y * width, y * width + Math.floor(width / 2));
  return sharp(px, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

test('a fixed-width model gets every image resized to exactly its width; an any-width one keeps the aspect ratio', async () => {
  for (const w of [40, 300]) {
    const line = await imageToLine(await png(w, 64), fixed, 'line.png');
    assert.equal(line.width, 96, `${w} px wide image`);
    assert.equal(line.pixels.length, 32 * 96);
  }
  assert.equal((await imageToLine(await png(300, 64), free, 'line.png')).width, 150);
});

test('pixel tensors of a fixed-width model must have that width', () => {
  const ok = pixelsToLines(new Uint8Array(2 * 32 * 96), [2, 32, 96, 1], 'UINT8', fixed, 'pixels');
  assert.deepEqual(
    ok.map((l) => l.width),
    [96, 96],
  );
  assert.throws(
    () => pixelsToLines(new Uint8Array(32 * 80), [1, 32, 80, 1], 'UINT8', fixed, 'pixels'),
    (e: unknown) => e instanceof InputError && e.status === 400 && /exactly 96 px/.test(e.message),
  );
  assert.equal(pixelsToLines(new Uint8Array(32 * 80), [1, 32, 80, 1], 'UINT8', free, 'pixels')[0].width, 80);
});

test('a fixed-width batch is packed at that width and every line keeps all its frames', async () => {
  const lines = pixelsToLines(new Uint8Array(2 * 32 * 96).fill(255), [2, 32, 96, 1], 'UINT8', fixed, 'pixels');
  assert.deepEqual(packBatch(fixed, lines).dims, [2, 32, 96, 1]);
  let seen: number[] = [];
  const runtime: InferenceRuntime = {
    name: 'onnx',
    contract: fixed,
    detail: 'test',
    parallel: 1,
    infer: async (input, dims) => {
      seen = [...dims];
      return { data: new Float32Array(dims[0] * 12 * 3), dims: [dims[0], 12, 3] };
    },
    dispose: async () => {},
  };
  const out = await runBatch(runtime, lines);
  assert.deepEqual(seen, [2, 32, 96, 1]);
  assert.deepEqual(
    out.map((o) => o.frames),
    [12, 12],
  );
});
