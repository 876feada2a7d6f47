#!/usr/bin/env node
// Data benchmark (issue 2): lines/second for
//   - `prepare` on ../shared/datasets/vn-handwriting (decode + resize + write shards),
//   - synthetic line generation at height 32 and 64 (goal >= 300 lines/s),
//   - streaming prepared batches (batch 32, shuffled, float32 NHWC; goal >= 5,000 lines/s), with and without
//     augmentation, and, in the same run, decoding the same PNGs with sharp for every batch (what document 000's
//     loader does) for the ratio.
// Usage: node bench/data/run.mjs [--synth 600] [--epochs 2] [--out bench/results]
// Prints the figures and goals; writes <out>/data.json. Needs no build (re-runs itself with tsx).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

if (!process.env.OCROPS_BENCH_CHILD) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@ocrops/source', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, OCROPS_BENCH_CHILD: '1' } },
  );
  process.exit(r.status ?? 1);
}

const { values: opt } = parseArgs({
  options: {
    synth: { type: 'string', default: '600' },
    epochs: { type: 'string', default: '2' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
  },
});

const { sharedDataset } = await import('@ocrops/common');
const { SyntheticLines, defaultSyntheticOptions, loadDataConfig, prepare, openPrepared, batches, defaultAugmentConfig, decodeLine } =
  await import('@ocrops/data');

const results = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, figures: {}, goals: {} };
const fig = (name, value, unit, goal) => {
  results.figures[name] = { value: Math.round(value * 10) / 10, unit };
  if (goal !== undefined) results.goals[name] = { goal, met: value >= goal };
  console.log(`${name.padEnd(40)} ${value.toFixed(0).padStart(8)} ${unit}${goal !== undefined ? `   (goal >= ${goal}: ${value >= goal ? 'met' : 'NOT met'})` : ''}`);
};
const tmp = mkdtempSync(join(tmpdir(), 'ocrops-bench-data-'));

try {
  // synthetic generation
  const n = Number(opt.synth);
  for (const h of [32, 64]) {
    const gen = new SyntheticLines({ ...defaultSyntheticOptions(), seed: 1 }, h, 1, h * 30);
    for (let i = 0; i < 20; i++) gen.line(i); // warm-up (font loading)
    const t0 = performance.now();
    for (let i = 0; i < n; i++) gen.line(1000 + i);
    fig(`synthetic generation, height ${h}`, n / ((performance.now() - t0) / 1000), 'lines/s', 300);
  }

  const vn = sharedDataset('vn-handwriting');
  if (!vn) {
    console.log('vn-handwriting absent (../shared/datasets): prepare and streaming figures skipped');
  } else {
    const cfg = loadDataConfig(join(root, 'configs/data/vn-handwriting.yaml'));
    cfg.output = join(tmp, 'vn');
    const rep = await prepare(cfg, { progress: false });
    fig('prepare vn-handwriting (1538 lines, h64)', rep.linesPerSecond, 'lines/s');

    const ds = await openPrepared(cfg.output);
    const split = ds.splits.train;
    const epochs = Number(opt.epochs);
    const stream = async (augment) => {
      let lines = 0;
      const t0 = performance.now();
      for (let e = 0; e < epochs; e++) {
        for await (const b of batches(split, { batchSize: 32, shuffle: true, seed: e, augment })) lines += b.shape[0];
      }
      return lines / ((performance.now() - t0) / 1000);
    };
    fig('stream prepared batches (b32, h64)', await stream(false), 'lines/s', 5000);
    fig('stream + augmentation (b32, h64)', await stream(defaultAugmentConfig()), 'lines/s');

    // baseline in the same run: decode every PNG again for each batch (document 000's loader)
    const t0 = performance.now();
    let lines = 0;
    const ids = split.ids.slice(0, 320);
    for (let i = 0; i < ids.length; i += 32) {
      const chunk = ids.slice(i, i + 32);
      await Promise.all(chunk.map((id) => decodeLine(join(vn, 'images', id), { height: 64, channels: 1 })));
      lines += chunk.length;
    }
    const decodeRate = lines / ((performance.now() - t0) / 1000);
    fig('decode PNGs per batch instead (baseline)', decodeRate, 'lines/s');
    results.figures['stream / decode ratio'] = {
      value: Math.round((results.figures['stream prepared batches (b32, h64)'].value / decodeRate) * 10) / 10,
      unit: 'x',
    };
    console.log(`${'stream / decode ratio'.padEnd(40)} ${results.figures['stream / decode ratio'].value.toFixed(1).padStart(8)} x`);
  }
  mkdirSync(opt.out, { recursive: true });
  writeFileSync(join(opt.out, 'data.json'), `${JSON.stringify(results, null, 1)}\n`);
  console.log(`wrote ${join(opt.out, 'data.json')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
