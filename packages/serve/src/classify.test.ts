import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildClassifierContract, type ClassifierContract } from '@ocrops/model/contract';
import { imageToInput, parseTopK, pixelsToInputs, probabilitiesOf, topClasses } from './classify.js';
import { InputError } from './preprocess.js';

const contract: ClassifierContract = buildClassifierContract({
  config: {
    task: 'classify',
    arch: 'cnn4',
    height: 16,
    width: 24,
    channels: 3,
    baseChannels: 4,
    dropout: 0,
    tta: 'none',
  },
  classes: ['a', 'b', 'c', 'd'],
  files: { onnx: 'model.onnx' },
});

test('top classes: most probable first, ties by class id; logits go through a softmax', () => {
  const p = Float32Array.of(0.1, 0.4, 0.1, 0.4);
  assert.deepEqual(topClasses(p, contract.classes, 3), [
    { label: 'b', id: 1, p: p[1] },
    { label: 'd', id: 3, p: p[3] },
    { label: 'a', id: 0, p: p[0] },
  ]);
  const out = {
    data: Float32Array.of(9, 9, 9, 0, Math.log(2), Math.log(3)),
    offset: 3,
    frames: 1,
    classes: 3,
    batchSize: 2,
  };
  const q = probabilitiesOf(out, 'logits');
  assert.deepEqual(
    Array.from(q, (v) => Number(v.toFixed(6))),
    [1 / 6, 2 / 6, 3 / 6].map((v) => Number(v.toFixed(6))),
  );
  assert.equal(probabilitiesOf(out, 'probabilities')[2], Math.fround(Math.log(3)));
});

test('top_k: default from the contract, 1..classes, anything else is a 400', () => {
  assert.equal(parseTopK(undefined, contract), 4);
  assert.equal(parseTopK('2', contract), 2);
  for (const bad of ['0', '5', '1.5', 'x', -1]) {
    assert.throws(
      () => parseTopK(bad, contract),
      (e: unknown) => e instanceof InputError && e.status === 400 && /1\.\.4/.test(e.message),
      String(bad),
    );
  }
});

test('images are resized to exactly width x height and normalised; pixel tensors must have that size', async () => {
  const png = await sharp({
    create: { width: 50, height: 10, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } },
  })
    .png()
    .toBuffer();
  const item = await imageToInput(png, contract, 'red.png');
  assert.equal(item.width, 24);
  assert.equal(item.pixels.length, 16 * 24 * 3);
  assert.deepEqual(Array.from(item.pixels.slice(0, 3)), [1, 0, 0]);
  await assert.rejects(imageToInput(Buffer.alloc(0), contract, 'empty.png'), /empty\.png is empty/);
  const ok = pixelsToInputs(new Array(2 * 16 * 24 * 3).fill(255), [2, 16, 24, 3], 'UINT8', contract, 'pixels');
  assert.deepEqual([ok.length, ok[1].pixels[0]], [2, 1]);
  assert.throws(
    () => pixelsToInputs(new Array(16 * 20 * 3).fill(0), [16, 20, 3], 'UINT8', contract, 'pixels'),
    /\[16,20,3\].*\[N, 16, 24, 3\]/,
  );
  assert.throws(() => pixelsToInputs(new Array(10).fill(0), [1, 16, 24, 3], 'FP32', contract, 'pixels'), /10 values/);
});
