import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { OcropsError, sharedDataset } from '@ocrops/common';
import {
  affineInto,
  augmentClassImage,
  colorJitterInPlace,
  cutMixBatch,
  type ClassAugmentDraw,
} from './classify-augment.js';
import { defaultClassAugment, parseClassifyDataConfig } from './classify-config.js';
import {
  classBatchCount,
  classBatches,
  loadClassImage,
  openPreparedClassify,
  type ClassBatch,
} from './classify-batches.js';
import { prepareClassify } from './classify-prepare.js';
import { parseCsv } from './classify-readers.js';
import { Rng } from './rng.js';
import { openPrepared } from './shards.js';
import { tempDir } from './testing/fixtures.js';

/** Writes a w x h RGB PNG whose pixel (x, y) is (x * 8, y * 8, base). */
async function writeGradient(path: string, w: number, h: number, base: number): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([x * 8, y * 8, base], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}

/** An ImageFolder of 3 classes x 6 gradient images of 16x16, plus one broken .jpg. */
async function smallFolder(root: string): Promise<void> {
  for (const [c, name] of ['RED ADMIRAL', 'Blue Morpho', 'ÉCLAIREUR'].entries()) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < 6; i++) await writeGradient(join(root, name, `${i}.png`), 16, 16, c * 100 + i);
  }
  writeFileSync(join(root, 'Blue Morpho', 'broken.jpg'), 'this is not a JPEG');
}

const noDraw: ClassAugmentDraw = {
  hflip: false,
  vflip: false,
  scale: 1,
  tx: 0,
  ty: 0,
  brightness: 1,
  contrast: 1,
  saturation: 1,
};

test('affine: identity copies, flips mirror, a shift brings in the edge or the constant', () => {
  const h = 3;
  const w = 4;
  const src = Float32Array.from({ length: h * w }, (_, i) => i / 16);
  const out = new Float32Array(h * w);
  affineInto(src, h, w, 1, noDraw, 'edge', 0, out, 0);
  assert.deepEqual(out, src);
  affineInto(src, h, w, 1, { ...noDraw, hflip: true }, 'edge', 0, out, 0);
  assert.deepEqual(
    [...out.subarray(0, 4)],
    [3, 2, 1, 0].map((v) => v / 16),
  );
  affineInto(src, h, w, 1, { ...noDraw, vflip: true }, 'edge', 0, out, 0);
  assert.deepEqual(
    [...out.subarray(0, 4)],
    [8, 9, 10, 11].map((v) => v / 16),
  );
  affineInto(src, h, w, 1, { ...noDraw, tx: 1 }, 'edge', 0, out, 0);
  assert.deepEqual(
    [...out.subarray(0, 4)],
    [0, 0, 1, 2].map((v) => v / 16),
  );
  affineInto(src, h, w, 1, { ...noDraw, tx: 1 }, 'constant', 0.5, out, 0);
  assert.deepEqual([...out.subarray(0, 4)], [0.5, 0, 1 / 16, 2 / 16]);
});

test('colour jitter: brightness scales, contrast keeps the mean grey, saturation 0 gives grey, results clamped', () => {
  const px = Float32Array.from([0.2, 0.4, 0.6, 0.8, 0.6, 0.4]);
  colorJitterInPlace(px, 0, 2, 3, { ...noDraw, brightness: 1.5 });
  assert.deepEqual(
    [...px].map((v) => +v.toFixed(4)),
    [0.3, 0.6, 0.9, 1, 0.9, 0.6],
  );
  const q = Float32Array.from([0.2, 0.2, 0.2, 0.6, 0.6, 0.6]);
  colorJitterInPlace(q, 0, 2, 3, { ...noDraw, contrast: 0.5 });
  assert.deepEqual(
    [...q].map((v) => +v.toFixed(4)),
    [0.3, 0.3, 0.3, 0.5, 0.5, 0.5],
  );
  const r = Float32Array.from([1, 0, 0]);
  colorJitterInPlace(r, 0, 1, 3, { ...noDraw, saturation: 0 });
  assert.deepEqual(
    [...r].map((v) => +v.toFixed(4)),
    [0.299, 0.299, 0.299],
  );
});

test('augmentClassImage: the same generator state gives the same image; values stay in [0, 1]', () => {
  const src = Float32Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 7) / 6);
  const a = new Float32Array(src.length);
  const b = new Float32Array(src.length);
  const cfg = defaultClassAugment();
  augmentClassImage(src, 8, 8, 3, cfg, new Rng(5), a);
  augmentClassImage(src, 8, 8, 3, cfg, new Rng(5), b);
  assert.deepEqual(a, b);
  assert.ok(a.every((v) => v >= 0 && v <= 1));
  augmentClassImage(src, 8, 8, 3, cfg, new Rng(6), b);
  assert.notDeepEqual(a, b);
});

async function collect(it: AsyncIterable<ClassBatch>): Promise<ClassBatch[]> {
  const out: ClassBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('CutMix: one box of every image comes from its partner, the rest is untouched, keep is the own-pixel share', () => {
  const [n, h, w, c] = [4, 10, 12, 3];
  const size = h * w * c;
  // image i holds the value i + pixel / size, so every pixel says which image and where it came from
  const original = new Float32Array(n * size).map((_, k) => Math.floor(k / size) + (k % size) / size);
  for (const seed of [1, 2, 3, 4, 5]) {
    const images = original.slice();
    const d = cutMixBatch(images, n, h, w, c, 1, new Rng(seed));
    assert.deepEqual([...d.partner].sort(), [0, 1, 2, 3]);
    const { x0, x1, y0, y1 } = d.box;
    assert.ok(0 <= x0 && x0 <= x1 && x1 <= w && 0 <= y0 && y0 <= y1 && y1 <= h);
    assert.ok(Math.abs(d.keep - (1 - ((x1 - x0) * (y1 - y0)) / (w * h))) < 1e-12);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const inBox = x >= x0 && x < x1 && y >= y0 && y < y1;
          const from = inBox ? d.partner[i] : i;
          for (let k = 0; k < c; k++) {
            const off = (y * w + x) * c + k;
            assert.equal(images[i * size + off], original[from * size + off], `image ${i} (${x}, ${y})`);
          }
        }
      }
    }
    const again = original.slice();
    assert.deepEqual(cutMixBatch(again, n, h, w, c, 1, new Rng(seed)), d);
    assert.deepEqual(again, images);
  }
  // lambda ~ Beta(1, 1): the box takes about half of the image on average (less where it is clipped)
  let keep = 0;
  for (let s = 0; s < 400; s++) keep += cutMixBatch(original.slice(), n, h, w, c, 1, new Rng(100 + s)).keep;
  assert.ok(keep / 400 > 0.5 && keep / 400 < 0.8, `mean keep ${keep / 400}`);
});

test('prepare a small ImageFolder: shards, meta (task classify), split.csv, skipped broken file, byte-identical rerun; batches, augmentation, resume', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  await smallFolder(join(dir, 'src'));
  const cfg = parseClassifyDataConfig(
    {
      task: 'classify',
      name: 'tiny',
      source: { kind: 'imagefolder', dir: 'src' },
      image: { height: 8, width: 8, channels: 3 },
      split: { val: 0.2, test: 0.2, seed: 3 },
      out_dir: 'out',
    },
    'tiny.yaml',
    dir,
  );
  const rep = await prepareClassify(cfg, { progress: false });
  assert.deepEqual(rep.classes, ['Blue Morpho', 'RED ADMIRAL', 'ÉCLAIREUR']);
  // 7 items in Blue Morpho (one broken): its split is drawn with 7 and the broken one is skipped at decode
  assert.equal(rep.counts.train + rep.counts.val + rep.counts.test, 18);
  assert.equal(rep.skipped.length, 1);
  assert.equal(rep.skipped[0].path, join(dir, 'src', 'Blue Morpho', 'broken.jpg'));
  const meta = JSON.parse(readFileSync(join(dir, 'out', 'meta.json'), 'utf8'));
  assert.equal(meta.task, 'classify');
  assert.deepEqual(meta.classes, rep.classes);
  assert.deepEqual(meta.counts.val, [1, 1, 1]);
  assert.deepEqual(meta.counts.test, [1, 1, 1]);
  const rows = parseCsv(readFileSync(join(dir, 'out', 'split.csv'), 'utf8'));
  assert.deepEqual(rows[0], ['path', 'label', 'split']);
  assert.equal(rows.length - 1, 18);
  assert.ok(rows.some((r) => r[0] === 'ÉCLAIREUR/0.png' && r[1] === 'ÉCLAIREUR'));

  const first = readFileSync(join(dir, 'out', 'train', 'images.bin'));
  const firstCsv = readFileSync(join(dir, 'out', 'split.csv'), 'utf8');
  await prepareClassify(cfg, { progress: false });
  assert.ok(first.equals(readFileSync(join(dir, 'out', 'train', 'images.bin'))), 'same config, same bytes');
  assert.equal(readFileSync(join(dir, 'out', 'split.csv'), 'utf8'), firstCsv);
  assert.deepEqual(readdirSync(dir).sort(), ['out', 'src'], 'no work folder left behind');

  const ds = openPreparedClassify(join(dir, 'out'));
  assert.deepEqual(ds.augment, defaultClassAugment());
  const train = ds.splits.train;
  assert.equal(train.count, 12);
  // plain batches give the stored pixels: a decoded image equals loadClassImage of its file
  const plain = await collect(classBatches(train, { batchSize: 4 }));
  assert.equal(plain.length, classBatchCount(train, { batchSize: 4 }));
  assert.deepEqual(plain[0].shape, [4, 8, 8, 3]);
  assert.deepEqual(
    plain.flatMap((b) => b.ids),
    train.ids,
  );
  assert.deepEqual(
    plain.flatMap((b) => b.labels),
    train.labels,
  );
  const direct = await loadClassImage(join(dir, 'src', ...train.ids[0].split('/')), ds);
  assert.deepEqual(plain[0].images.subarray(0, 8 * 8 * 3), direct);
  assert.equal(plain[0].labels[0], ds.classes.indexOf(train.ids[0].split('/')[0]));

  const opts = { batchSize: 3, shuffle: true, seed: 11, augment: ds.augment };
  const full = await collect(classBatches(train, opts));
  const again = await collect(classBatches(train, opts));
  assert.deepEqual(again, full, 'deterministic');
  const resumed = await collect(classBatches(train, { ...opts, startBatch: 2 }));
  assert.deepEqual(resumed, full.slice(2), 'a resumed epoch gives the same batches');
  const other = await collect(classBatches(train, { ...opts, seed: 12 }));
  assert.notDeepEqual(other[0].images, full[0].images);
  assert.ok(full.every((b) => b.images.every((v) => v >= 0 && v <= 1)));
  assert.equal((await collect(classBatches(train, { batchSize: 5, dropLast: true }))).length, 2);

  await assert.rejects(
    openPrepared(join(dir, 'out')),
    (e: unknown) =>
      e instanceof OcropsError &&
      /a prepared classification set/.test(e.message) &&
      /openPreparedClassify/.test(e.hint ?? ''),
  );
  assert.throws(
    () => openPreparedClassify(join(dir, 'nothing')),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_DATA_NOT_PREPARED',
  );
});

test('butterflies-75: prepare a bounded subset (5 classes x 12 images) and stream augmented batches', async (t) => {
  const ds = sharedDataset('butterflies-75');
  if (!ds) {
    t.skip('../shared/datasets/butterflies-75 is absent (set OCROPS_DATASETS to the folder that holds it)');
    return;
  }
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const classes = readdirSync(join(ds, 'train')).sort().slice(0, 5);
  for (const c of classes) {
    mkdirSync(join(dir, 'src', c), { recursive: true });
    for (const f of readdirSync(join(ds, 'train', c))
      .sort()
      .slice(0, 12))
      cpSync(join(ds, 'train', c, f), join(dir, 'src', c, f));
  }
  const cfg = parseClassifyDataConfig(
    {
      task: 'classify',
      name: 'bf5',
      source: { kind: 'imagefolder', dir: 'src' },
      image: { height: 128, width: 128, channels: 3 },
      split: { val: 0.1, test: 0.1, seed: 42 },
    },
    'bf5.yaml',
    dir,
  );
  const rep = await prepareClassify(cfg, { progress: false });
  assert.deepEqual(rep.classes, classes);
  assert.deepEqual(rep.counts, { train: 50, val: 5, test: 5 });
  assert.equal(rep.skipped.length, 0);
  const prepared = openPreparedClassify(cfg.outDir);
  assert.deepEqual(prepared.counts.val, [1, 1, 1, 1, 1]);
  const batches = await collect(
    classBatches(prepared.splits.train, { batchSize: 16, shuffle: true, seed: 1, augment: prepared.augment }),
  );
  assert.deepEqual(
    batches.map((b) => b.shape[0]),
    [16, 16, 16, 2],
  );
  assert.deepEqual(batches[0].shape, [16, 128, 128, 3]);
  assert.deepEqual(new Set(batches.flatMap((b) => b.labels)), new Set([0, 1, 2, 3, 4]));
});
