import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { OcropsError } from '@ocrops/common';
import { decodeLine, loadImageForModel, scaledWidth } from './image.js';
import { tempDir, writeLineImage } from './testing/fixtures.js';

test('decodeLine: resizes to the height keeping the aspect ratio, grayscale and RGB, PNG and JPEG', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await writeLineImage(join(dir, 'a.png'), 300, 60);
  await writeLineImage(join(dir, 'b.jpg'), 300, 60, { jpeg: true });
  const g = await decodeLine(join(dir, 'a.png'), { height: 32, channels: 1 });
  assert.equal(g.width, 160);
  assert.equal(g.data.length, 160 * 32);
  assert.equal(g.sourceWidth, 300);
  assert.ok(g.data[0] > 240, 'corner is white');
  assert.ok(g.data[16 * 160 + 80] < 60, 'centre is dark');
  const c = await decodeLine(join(dir, 'b.jpg'), { height: 32, channels: 3 });
  assert.equal(c.data.length, 160 * 32 * 3);
  assert.ok(c.data[(16 * 160 + 80) * 3] < 60);
});

test('decodeLine: RGBA is flattened onto white; fixed width; max width squeezes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await writeLineImage(join(dir, 'rgba.png'), 200, 50, { channels: 4 });
  const r = await decodeLine(join(dir, 'rgba.png'), { height: 50, channels: 1 });
  assert.equal(r.width, 200);
  assert.equal(r.data[0], 255, 'transparent background becomes white');
  assert.ok(r.data[25 * 200 + 100] < 40);
  const f = await decodeLine(join(dir, 'rgba.png'), { height: 32, channels: 1, width: 100 });
  assert.equal(f.width, 100);
  const s = await decodeLine(join(dir, 'rgba.png'), { height: 50, channels: 1, maxWidth: 120 });
  assert.equal(s.width, 120);
  assert.equal(s.squeezed, true);
  assert.equal(scaledWidth(1000, 10, { height: 32, channels: 1 }), 1280);
  assert.equal(scaledWidth(1, 1000, { height: 32, channels: 1 }), 1);
});

test('decodeLine: truncated, empty, non-image and missing files give OCROPS_DATA_IMAGE naming the path and reason', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await writeLineImage(join(dir, 'ok.png'), 400, 64);
  const bytes = readFileSync(join(dir, 'ok.png'));
  writeFileSync(join(dir, 'trunc.png'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  writeFileSync(join(dir, 'empty.png'), '');
  writeFileSync(join(dir, 'text.png'), 'not an image');
  const cases: [string, RegExp][] = [
    ['trunc.png', /truncated/],
    ['empty.png', /empty file/],
    ['text.png', /not an image/],
    ['missing.png', /not found/],
  ];
  for (const [name, reason] of cases) {
    const p = join(dir, name);
    await assert.rejects(decodeLine(p, { height: 32, channels: 1 }), (e: unknown) => {
      assert.ok(e instanceof OcropsError);
      assert.equal(e.code, 'OCROPS_DATA_IMAGE');
      assert.ok(e.message.startsWith(p), e.message);
      assert.match(e.message, reason);
      return true;
    });
  }
});

test('decodeLine: 16-bit PNGs come out as 8-bit pixels', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const w = 60;
  const h = 20;
  const px = new Uint16Array(w * h * 3).fill(65535);
  for (let y = 8; y < 12; y++) for (let x = 10; x < 50; x++) px.fill(0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toFile(join(dir, 'deep.png'));
  assert.equal((await sharp(join(dir, 'deep.png')).metadata()).depth, 'ushort');
  const img = await decodeLine(join(dir, 'deep.png'), { height: 20, channels: 1 });
  assert.equal(img.data.length, w * h);
  assert.equal(img.data[0], 255);
  assert.equal(img.data[10 * w + 30], 0);
});

test('loadImageForModel: float32 [H,W,C] in [0,1], white = 1', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await writeLineImage(join(dir, 'a.png'), 128, 64);
  const { data, width } = await loadImageForModel(join(dir, 'a.png'), { height: 32, channels: 3 });
  assert.equal(width, 64);
  assert.equal(data.length, 32 * 64 * 3);
  assert.equal(data[0], 1);
  let min = 1;
  for (const v of data) {
    assert.ok(v >= 0 && v <= 1);
    min = Math.min(min, v);
  }
  assert.ok(min < 0.2);
});
