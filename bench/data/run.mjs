#!/usr/bin/env node
// Data benchmark: lines/second for
//   - `prepare` on ../shared/datasets/vn-handwriting (decode + resize + write shards),
//   - synthetic line generation at height 32 and 64 (goal >= 300 lines/s),
//   - streaming prepared batches (batch 32, shuffled, float32 NHWC, reused buffers; goal >= 5,000 lines/s), with a
//     new buffer per batch, with augmentation, and, in the same run, decoding the same PNGs with sharp for every batch (what the reference recipe's
//     loader does) for the ratio.
// Usage: node bench/data/run.mjs [--synth 600] [--epochs 3] [--out bench/results]
// Prints the figures and goals; writes <out>/data.json. Needs no build (re-runs itself with tsx).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reexecUnderTsx } from '../tsx.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

reexecUnderTsx(import.meta.url);

const { values: opt } = parseArgs({
  options: {
    synth: { type: 'string', default: '600' },
    epochs: { type: 'string', default: '3' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log('Usage: node bench/data/run.mjs [--synth 600] [--epochs 3] [--out bench/results]');
  process.exit(0);
}

const { sharedDataset } = await import('@ocrops/common');
const {
  SyntheticLines,
  defaultSyntheticOptions,
  loadDataConfig,
  prepare,
  openPrepared,
  batches,
  defaultAugmentConfig,
  decodeLine,
} = await import('@ocrops/data');

const results = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  figures: {},
  goals: {},
};
// Each figure is measured in wall-clock time and per CPU-second of this process (user + system, all its threads):
// on a shared, loaded machine the second is the steadier one. Goals are judged on wall-clock time.
let clock;
const start = () => (clock = { t: performance.now(), cpu: process.cpuUsage() });
const fig = (name, count, unit, goal) => {
  const wall = (performance.now() - clock.t) / 1000;
  const c = process.cpuUsage(clock.cpu);
  const cpu = (c.user + c.system) / 1e6;
  const value = count / wall;
  const perCpu = count / cpu;
  results.figures[name] = { value: Math.round(value * 10) / 10, perCpuSecond: Math.round(perCpu * 10) / 10, unit };
  if (goal !== undefined) results.goals[name] = { goal, met: value >= goal };
  console.log(
    `${name.padEnd(42)} ${value.toFixed(0).padStart(7)} ${unit} (${perCpu.toFixed(0).padStart(6)} per CPU-s)` +
      `${goal !== undefined ? `   goal >= ${goal}: ${value >= goal ? 'met' : 'NOT met'}` : ''}`,
  );
  return value;
};
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores`,
);
results.machine.loadAverageAtStart = loadavg()[0];
const tmp = mkdtempSync(join(tmpdir(), 'ocrops-bench-data-'));

try {
  // synthetic generation
  const n = Number(opt.synth);
  for (const h of [32, 64]) {
    const gen = new SyntheticLines({ ...defaultSyntheticOptions(), seed: 1 }, h, 1, h * 30);
    for (let i = 0; i < 20; i++) gen.line(i); // warm-up (font loading)
    start();
    for (let i = 0; i < n; i++) gen.line(1000 + i);
    fig(`synthetic generation, height ${h}`, n, 'lines/s', 300);
  }

  const vn = sharedDataset('vn-handwriting');
  if (!vn) {
    console.log('vn-handwriting absent (../shared/datasets): prepare and streaming figures skipped');
  } else {
    const cfg = loadDataConfig(join(root, 'configs/data/vn-handwriting.yaml'));
    cfg.output = join(tmp, 'vn');
    start();
    const rep = await prepare(cfg, { progress: false });
    fig('prepare vn-handwriting (1538 lines, h64)', rep.counts.train + rep.counts.val + rep.counts.test, 'lines/s');

    const ds = await openPrepared(cfg.output);
    const split = ds.splits.train;
    const epochs = Number(opt.epochs);
    const stream = async (augment, epochs, reuseBuffers) => {
      let lines = 0;
      for (let e = 0; e < epochs; e++) {
        for await (const b of batches(split, { batchSize: 32, shuffle: true, seed: e, augment, reuseBuffers }))
          lines += b.shape[0];
      }
      return lines;
    };
    await stream(false, 1, true); // warm-up (page cache, JIT)
    start();
    const streamRate = fig(
      'stream prepared batches (b32, h64, reuse)',
      await stream(false, epochs, true),
      'lines/s',
      5000,
    );
    start();
    fig('stream, a new buffer per batch', await stream(false, epochs, false), 'lines/s');
    start();
    fig('stream + augmentation (reuse)', await stream(defaultAugmentConfig(), 1, true), 'lines/s');

    // baseline in the same run: decode every PNG again for each batch (the reference recipe's loader)
    start();
    let lines = 0;
    const ids = split.ids.slice(0, 320);
    for (let i = 0; i < ids.length; i += 32) {
      const chunk = ids.slice(i, i + 32);
      await Promise.all(chunk.map((id) => decodeLine(join(vn, 'images', id), { height: 64, channels: 1 })));
      lines += chunk.length;
    }
    const decodeRate = fig('decode PNGs per batch instead (baseline)', lines, 'lines/s');
    results.figures['stream / decode ratio'] = { value: Math.round((streamRate / decodeRate) * 10) / 10, unit: 'x' };
    console.log(
      `${'stream / decode ratio'.padEnd(40)} ${results.figures['stream / decode ratio'].value.toFixed(1).padStart(8)} x`,
    );
  }
  mkdirSync(opt.out, { recursive: true });
  writeFileSync(join(opt.out, 'data.json'), `${JSON.stringify(results, null, 1)}\n`);
  console.log(`wrote ${join(opt.out, 'data.json')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
