#!/usr/bin/env node
// Classification batch benchmark: images/s of classBatches() over the train split of a prepared classification set
// (default data/prepared/butterflies-75, from `ocrops data prepare --config configs/data/butterflies.yaml`), batch 32,
// shuffled, without and with the reference recipe's augmentation (flips, colour jitter, affine); per wall-clock and
// per CPU second (one thread).
// Usage: node bench/data/classify.mjs [--prepared DIR] [--batches N] [--out bench/results/data-classify.json]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reexecUnderTsx } from '../tsx.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
reexecUnderTsx(import.meta.url);

const { values: opt } = parseArgs({
  options: {
    prepared: { type: 'string', default: join(root, 'data', 'prepared', 'butterflies-75') },
    batches: { type: 'string', default: '0' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log(
    'Usage: node bench/data/classify.mjs [--prepared DIR] [--batches N] [--out bench/results/data-classify.json]',
  );
  process.exit(0);
}
const { openPreparedClassify, classBatches, classBatchCount } = await import('@ocrops/data');

const ds = openPreparedClassify(resolve(opt.prepared));
const split = ds.splits.train;
const limit = Number(opt.batches) || classBatchCount(split, { batchSize: 32 });

async function measure(augment) {
  let images = 0;
  let b = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for await (const batch of classBatches(split, { batchSize: 32, shuffle: true, seed: 1, augment })) {
    images += batch.shape[0];
    if (++b >= limit) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // per CPU second too: on a shared machine the wall-clock figure mostly measures the other processes
  return {
    images,
    seconds: +seconds.toFixed(2),
    imagesPerSecond: Math.round(images / seconds),
    cpuSeconds: +cpuSeconds.toFixed(2),
    imagesPerCpuSecond: Math.round(images / cpuSeconds),
  };
}

const plain = await measure(false);
const augmented = await measure(ds.augment || undefined);
const result = {
  dataset: ds.name,
  size: [ds.height, ds.width, ds.channels],
  batchSize: 32,
  plain,
  augmented,
  machine: { cpus: cpus().length, loadavg: loadavg().map((x) => +x.toFixed(2)) },
};
console.log(JSON.stringify(result, null, 1));
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(result, null, 1)}\n`);
