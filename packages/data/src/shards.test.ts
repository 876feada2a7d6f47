import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAugmentConfig } from './augment.js';
import { parseDataConfig } from './config.js';
import { prepare } from './prepare.js';
import { ShardWriter, batchCount, batches, openPrepared, type Batch, type PreparedSplit } from './shards.js';
import { tempDir } from './testing/fixtures.js';

async function collect(split: PreparedSplit, opts: Parameters<typeof batches>[1]): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batches(split, opts)) out.push(b);
  return out;
}

async function preparedSynthetic(dir: string, channels: 1 | 3 = 1, maxWidth = 400) {
  const cfg = parseDataConfig(
    {
      name: 'tiny',
      source: { format: 'synthetic' },
      image: { height: 24, channels, max_width: maxWidth },
      split: { train: 40, val: 10, test: 10, seed: 3 },
      synthetic: { count: 60, seed: 5 },
    },
    'tiny.yaml',
    dir,
  );
  const report = await prepare(cfg, { progress: false });
  return { report, ds: await openPrepared(cfg.output) };
}

test('prepare + openPrepared: split counts, meta, widths and labels agree', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { report, ds } = await preparedSynthetic(dir);
  assert.deepEqual(report.counts, { train: 40, val: 10, test: 10 });
  assert.equal(ds.height, 24);
  assert.equal(ds.channels, 1);
  assert.equal(ds.charset.numClasses, 208);
  assert.equal(ds.widthCap, 400);
  assert.equal(ds.augment && ds.augment.rotation, 2);
  const tr = ds.splits.train;
  assert.equal(tr.count, 40);
  assert.equal(tr.maxWidth, Math.max(...tr.widths));
  const binSize = readFileSync(join(tr.dir, 'images.bin')).length;
  assert.equal(
    binSize,
    tr.widths.reduce((s, w) => s + w * 24, 0),
  );
  for (const l of tr.labels) assert.deepEqual(ds.charset.missing(l), []);
  const stats = JSON.parse(readFileSync(join(ds.dir, 'stats.json'), 'utf8'));
  assert.equal(stats.counts.total, 60);
  assert.equal(
    stats.widths.all.max,
    Math.max(...['train', 'val', 'test'].flatMap((s) => ds.splits[s as 'train'].widths)),
  );
});

test('ShardWriter records its generated lines, which follow the read ones', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const w = new ShardWriter(join(dir, 'train'), 2, 1);
  const px = new Uint8Array(6);
  w.add('a.png', 'a', px, 3);
  w.add('synth_000000.png', 'b', px, 3, true);
  assert.throws(() => w.add('c.png', 'c', px, 3), /c\.png: a read line after generated ones/);
  w.add('synth_000001.png', 'd', px, 3, true);
  w.close();
  const index = JSON.parse(readFileSync(join(dir, 'train', 'index.json'), 'utf8')) as { generated: number };
  assert.equal(index.generated, 2);
});

test('batches: NHWC float32, right-padded with white to the widest image; pixels match the shard bytes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir);
  const split = ds.splits.val;
  const bs = await collect(split, { batchSize: 4 });
  assert.equal(bs.length, 3);
  assert.deepEqual(
    bs.map((b) => b.shape[0]),
    [4, 4, 2],
  );
  const raw = readFileSync(join(split.dir, 'images.bin'));
  const b = bs[0];
  const [B, H, W, C] = b.shape;
  assert.equal(H, 24);
  assert.equal(C, 1);
  assert.equal(W, Math.max(...split.widths.slice(0, 4)));
  assert.equal(b.images.length, B * H * W * C);
  assert.deepEqual(b.labels, split.labels.slice(0, 4));
  assert.deepEqual(b.ids, split.ids.slice(0, 4));
  for (let k = 0; k < B; k++) {
    const w = b.widths[k];
    for (const [y, x] of [
      [0, 0],
      [12, Math.floor(w / 2)],
      [23, w - 1],
    ]) {
      const v: number = b.images[((k * H + y) * W + x) * C];
      assert.equal(v, Math.fround(raw[split.offsets[k] + y * w + x] * (1 / 255)));
    }
    for (let x = w; x < W; x++)
      for (let y = 0; y < H; y++) assert.equal(b.images[((k * H + y) * W + x) * C], 1, 'padding is white');
  }
  const fixed = await collect(split, { batchSize: 4, fixedWidth: 64 });
  assert.deepEqual(fixed[0].shape, [4, 24, 64, 1]);
  assert.ok(fixed[0].widths.every((w) => w <= 64));
});

test('batches: seeded shuffle, dropLast, startBatch resumes the same order', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir);
  const tr = ds.splits.train;
  const a = await collect(tr, { batchSize: 6, shuffle: true, seed: 11 });
  const b = await collect(tr, { batchSize: 6, shuffle: true, seed: 11 });
  const c = await collect(tr, { batchSize: 6, shuffle: true, seed: 12 });
  assert.deepEqual(
    a.map((x) => x.ids),
    b.map((x) => x.ids),
  );
  assert.notDeepEqual(
    a.map((x) => x.ids),
    c.map((x) => x.ids),
  );
  assert.deepEqual(a.flatMap((x) => x.ids).sort(), [...tr.ids].sort(), 'every item once per epoch');
  assert.equal(a.length, 7);
  const d = await collect(tr, { batchSize: 6, shuffle: true, seed: 11, dropLast: true });
  assert.equal(d.length, 6);
  assert.equal(batchCount(tr, { batchSize: 6, dropLast: true }), 6);
  const r = await collect(tr, { batchSize: 6, shuffle: true, seed: 11, startBatch: 4 });
  assert.deepEqual(
    r.map((x) => x.ids),
    a.slice(4).map((x) => x.ids),
  );
  assert.deepEqual(r[0].images, a[4].images);
});

test('batches with bucketWindow: every item once, less padding, deterministic, resumable', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir, 1, 2000); // widths of the lines vary (none squeezed to the maximum)
  const tr = ds.splits.train;
  assert.ok(new Set(tr.widths).size > 20, 'widths vary');
  const padded = (bs: Batch[]) => bs.reduce((sum, b) => sum + b.shape[0] * b.shape[2], 0);
  const plain = await collect(tr, { batchSize: 4, shuffle: true, seed: 11 });
  const a = await collect(tr, { batchSize: 4, shuffle: true, seed: 11, bucketWindow: 5 });
  const b = await collect(tr, { batchSize: 4, shuffle: true, seed: 11, bucketWindow: 5 });
  assert.deepEqual(
    a.map((x) => x.ids),
    b.map((x) => x.ids),
  );
  assert.equal(a.length, plain.length);
  assert.deepEqual(a.flatMap((x) => x.ids).sort(), [...tr.ids].sort(), 'every item once per epoch');
  const real = tr.widths.reduce((s, w) => s + w, 0);
  assert.ok(padded(a) < padded(plain), `bucketed pixels ${padded(a)} < plain ${padded(plain)}`);
  assert.ok(real / padded(a) > 0.9, `padding efficiency ${(real / padded(a)).toFixed(3)}`);
  // batches are not simply sorted by width across the epoch: the batch order is reshuffled
  const widest = a.map((x) => x.shape[2]);
  assert.notDeepEqual(
    widest,
    [...widest].sort((x, y) => x - y),
  );
  const r = await collect(tr, { batchSize: 4, shuffle: true, seed: 11, bucketWindow: 5, startBatch: 3 });
  assert.deepEqual(
    r.map((x) => x.ids),
    a.slice(3).map((x) => x.ids),
  );
  const d = await collect(tr, { batchSize: 6, shuffle: true, seed: 11, bucketWindow: 3, dropLast: true });
  const dPlain = await collect(tr, { batchSize: 6, shuffle: true, seed: 11, dropLast: true });
  assert.deepEqual(
    d.flatMap((x) => x.ids).sort(),
    dPlain.flatMap((x) => x.ids).sort(),
    'dropLast leaves out the same items',
  );
  assert.ok(d.every((x) => x.shape[0] === 6));
  await assert.rejects(collect(tr, { batchSize: 4, shuffle: true, bucketWindow: -1 }), /bucketWindow/);
});

test('batches with reuseBuffers: the same data when each batch is used before the next two are requested', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir);
  const fresh = await collect(ds.splits.train, { batchSize: 7, shuffle: true, seed: 4 });
  let k = 0;
  for await (const b of batches(ds.splits.train, { batchSize: 7, shuffle: true, seed: 4, reuseBuffers: true })) {
    assert.deepEqual(b.shape, fresh[k].shape);
    assert.deepEqual(Array.from(b.images), Array.from(fresh[k].images));
    k++;
  }
  assert.equal(k, fresh.length);
});

test('batches with augment: deterministic for a seed, changes pixels, stays in [0,1], keeps shapes', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir, 3);
  const split = ds.splits.test;
  const aug = { ...defaultAugmentConfig(), geometryP: 1, blurP: 1, noiseP: 1, colorP: 1 };
  const plain = await collect(split, { batchSize: 5 });
  const a = await collect(split, { batchSize: 5, augment: aug, seed: 1 });
  const b = await collect(split, { batchSize: 5, augment: aug, seed: 1 });
  const c = await collect(split, { batchSize: 5, augment: aug, seed: 2 });
  assert.deepEqual(a[0].shape, plain[0].shape);
  assert.equal(a[0].shape[3], 3);
  assert.deepEqual(a[0].images, b[0].images);
  assert.notDeepEqual(a[0].images, c[0].images);
  let diff = 0;
  for (let i = 0; i < a[0].images.length; i++) {
    const v = a[0].images[i];
    assert.ok(v >= 0 && v <= 1);
    diff += Math.abs(v - plain[0].images[i]);
  }
  assert.ok(diff / a[0].images.length > 0.005, 'augmentation changed the images');
});

test('batches rejects a bad batch size', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir);
  await assert.rejects(collect(ds.splits.val, { batchSize: 0 }), /batchSize must be a positive integer/);
  await assert.rejects(
    openPrepared(join(dir, 'nope')),
    (e: unknown) =>
      /meta\.json not found/.test((e as Error).message) &&
      /ocrops data prepare/.test((e as { hint?: string }).hint ?? ''),
  );
});

test('batches with repeats: rare lines drawn more often, batchCount follows, resumable', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { ds } = await preparedSynthetic(dir);
  const tr = ds.splits.train;
  const repeats = tr.ids.map((_, i) => (i < 4 ? 3 : 1));
  const opts = { batchSize: 8, shuffle: true, seed: 7, bucketWindow: 3, repeats };
  const a = await collect(tr, opts);
  assert.equal(a.length, batchCount(tr, opts));
  assert.equal(batchCount(tr, opts), Math.ceil(48 / 8));
  const ids = a.flatMap((x) => x.ids);
  assert.equal(ids.length, 48);
  for (let i = 0; i < tr.count; i++)
    assert.equal(ids.filter((id) => id === tr.ids[i]).length, i < 4 ? 3 : 1, tr.ids[i]);
  const r = await collect(tr, { ...opts, startBatch: 2 });
  assert.deepEqual(
    r.map((x) => x.ids),
    a.slice(2).map((x) => x.ids),
  );
  await assert.rejects(collect(tr, { batchSize: 8, repeats }), /repeats need shuffle/);
  await assert.rejects(collect(tr, { batchSize: 8, shuffle: true, repeats: [1, 2] }), /2 repeat factors for 40 lines/);
});
