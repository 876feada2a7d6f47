#!/usr/bin/env node
// Benchmark of @ocrops/model: training images/s, inference lines/s and peak RSS of the reference CTCModel (vgg)
// (inner_dim 128, input 64x256, BiGRU 256) on real vn-handwriting lines, for each TensorFlow.js backend and for our
// PyTorch reference (bench/model/torch_ref.py) in the same run, at the same thread count; prints ratios and writes
// bench/results/model.json.
//
//   node bench/model/run.mjs [--batches 16,32] [--steps 20] [--threads 1] [--backends tensorflow,wasm,cpu]
//                            [--slow-steps 2] [--rounds 2] [--no-torch] [--no-before] [--ablation]
// (default backends tensorflow,wasm: the pure-JS cpu backend needs well over ten minutes per step of this model
// on one core; add it with --backends tensorflow,wasm,cpu)
//
// Data: the first lines of ../shared/datasets/vn-handwriting (grayscale, height 64) whose transcript fits the 63 output
// frames (CTC needs label length + repeats <= T), each resized (squashed) to exactly 64x256 and replicated to 3
// channels, as the reference recipe reads images. Both sides train on the same batches in the same order.
// The machine is shared: PyTorch and tfjs-node runs alternate for --rounds rounds and each keeps its fastest round
// (wasm runs once, on --slow-steps steps; cpu one step without warm-up, first batch size only). "before" = the same model from stock tfjs-layers (bench/model/layers_ref.ts)
// on tfjs-node, measured once per batch size on --slow-steps steps; --ablation adds our model with the autodiff GRU.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: a } = parseArgs({
  options: {
    batches: { type: 'string', default: '16,32' },
    steps: { type: 'string', default: '20' },
    'slow-steps': { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    backends: { type: 'string', default: 'tensorflow,wasm' },
    'no-torch': { type: 'boolean', default: false },
    ablation: { type: 'boolean', default: false },
    'no-before': { type: 'boolean', default: false },
    lines: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(2);
  console.log(
    lines
      .slice(
        0,
        lines.findIndex((l) => !l.startsWith('//')),
      )
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n'),
  );
  process.exit(0);
}
const datasets = process.env.OCROPS_DATASETS ?? resolve(root, '..', 'shared', 'datasets');
const ds = join(datasets, 'vn-handwriting');
if (!existsSync(join(ds, 'labels.json'))) {
  console.error(`bench/model: ${ds} absent; nothing to measure`);
  process.exit(0);
}

// ---- data
const H = 64;
const W = 256;
const T = Math.floor(W / 4) - 1;
const labels = JSON.parse(readFileSync(join(ds, 'labels.json'), 'utf8'));
const chars = [...new Set(Object.values(labels).join('').normalize('NFC'))].sort();
const fits = (s) => {
  const cps = Array.from(s.normalize('NFC'));
  return cps.length + cps.filter((ch, i) => i > 0 && cps[i - 1] === ch).length <= T;
};
const files = Object.keys(labels)
  .sort()
  .filter((f) => fits(labels[f]))
  .slice(0, Number(a.lines));
const dataDir = mkdtempSync(join(tmpdir(), 'ocrops-bench-model-'));
const images = new Float32Array(files.length * H * W * 3);
await Promise.all(
  files.map(async (f, i) => {
    const buf = await sharp(join(ds, 'images', f))
      .grayscale()
      .resize(W, H, { fit: 'fill' })
      .raw()
      .toBuffer();
    for (let k = 0; k < H * W; k++) {
      const v = buf[k] / 255;
      const o = (i * H * W + k) * 3;
      images[o] = v;
      images[o + 1] = v;
      images[o + 2] = v;
    }
  }),
);
const ids = files.map((f) => Array.from(labels[f].normalize('NFC'), (ch) => chars.indexOf(ch) + 1));
writeFileSync(join(dataDir, 'images.f32'), Buffer.from(images.buffer));
writeFileSync(
  join(dataDir, 'meta.json'),
  JSON.stringify({ shape: [files.length, H, W, 3], labels: ids, numClasses: chars.length + 1 }),
);
console.log(
  `bench/model: ${files.length} vn-handwriting lines (of ${Object.keys(labels).length}; transcripts that fit T=${T}), ` +
    `resized to ${H}x${W}x3; ${chars.length + 1} classes; ${a.threads} compute thread(s) on every side; ${cpus().length} CPUs, ` +
    `load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`,
);

// ---- runs
const threads = a.threads;
const env = {
  ...process.env,
  TF_NUM_INTRAOP_THREADS: threads,
  TF_NUM_INTEROP_THREADS: threads,
  OMP_NUM_THREADS: threads,
  MKL_NUM_THREADS: threads,
  TF_CPP_MIN_LOG_LEVEL: '2',
};
function runJson(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = res.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (res.status !== 0 || !line) {
    return { error: (res.stderr || res.stdout || `exit ${res.status}`).trim().split('\n').slice(-3).join(' | ') };
  }
  return JSON.parse(line);
}
const results = [];
const batches = a.batches.split(',').map(Number);
const steps = Number(a.steps);
const slow = Number(a['slow-steps']);
const node = [
  process.execPath,
  ['--conditions=@ocrops/source', '--import', 'tsx', 'bench/model/worker.ts', '--data', dataDir, '--threads', threads],
];
const python = join(root, '.venv-bench', 'bin', 'python');
const best = (runs) => {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return runs[runs.length - 1];
  const top = ok.reduce((p, q) => (q.msPerStep < p.msPerStep ? q : p));
  return { ...top, rounds: ok.map((r) => Math.round(r.msPerStep)) };
};
const rounds = Number(a.rounds);
for (const B of batches) {
  const row = { batch: B, runs: [] };
  const torchRuns = [];
  const fastRuns = {};
  for (let round = 0; round < rounds; round++) {
    if (!a['no-torch']) {
      if (existsSync(python)) {
        torchRuns.push(
          runJson(python, [
            'bench/model/torch_ref.py',
            '--data',
            dataDir,
            '--batch',
            String(B),
            '--steps',
            String(steps),
            '--threads',
            threads,
          ]),
        );
      } else torchRuns.push({ impl: 'pytorch', error: `${python} absent (scripts/setup --bench)` });
    }
    if (a.backends.split(',').includes('tensorflow')) {
      const args = [
        '--backend',
        'tensorflow',
        '--batch',
        String(B),
        '--steps',
        String(steps),
        '--warmup',
        '3',
        '--infer-batches',
        '10',
      ];
      (fastRuns['ocrops/tensorflow'] ??= []).push(runJson(node[0], [...node[1], ...args]));
      if (a.ablation)
        (fastRuns['ocrops/tensorflow/autodiff-gru'] ??= []).push(
          runJson(node[0], [...node[1], ...args, '--rnn-impl', 'autodiff']),
        );
    }
  }
  if (torchRuns.length) row.runs.push({ impl: 'pytorch', ...best(torchRuns) });
  for (const [impl, runs] of Object.entries(fastRuns)) row.runs.push({ ...best(runs), impl });
  if (!a['no-before'] && a.backends.split(',').includes('tensorflow')) {
    const r = runJson(node[0], [
      '--conditions=@ocrops/source',
      '--import',
      'tsx',
      'bench/model/layers_ref.ts',
      '--data',
      dataDir,
      '--threads',
      threads,
      '--batch',
      String(B),
      '--steps',
      String(slow),
    ]);
    row.runs.push({ impl: 'tfjs-layers/tensorflow', ...r });
  }
  for (const backend of a.backends.split(',').filter((b) => b && b !== 'tensorflow')) {
    // the pure-JS cpu backend needs minutes per step: one step, no warm-up, first batch size only
    if (backend === 'cpu' && B !== batches[0]) continue;
    const cpu = backend === 'cpu';
    const args = [
      '--backend',
      backend,
      '--batch',
      String(B),
      '--steps',
      cpu ? '1' : String(slow),
      '--warmup',
      cpu ? '0' : '1',
      '--infer-batches',
      cpu ? '1' : '2',
    ];
    row.runs.push({ impl: `ocrops/${backend}`, ...runJson(node[0], [...node[1], ...args]) });
  }
  results.push(row);
}

// ---- report
const torchOf = (row) => row.runs.find((r) => r.impl === 'pytorch' && !r.error);
const fmt = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '-');
console.log(
  '\nimpl                         batch  ms/step  train img/s  vs torch  infer lines/s  vs torch  peak RSS MB',
);
for (const row of results) {
  const ref = torchOf(row);
  for (const r of row.runs) {
    if (r.error) {
      console.log(`${(r.impl ?? '?').padEnd(28)} ${String(row.batch).padStart(5)}  error: ${r.error}`);
      continue;
    }
    const ratio = ref ? `${(r.imagesPerSec / ref.imagesPerSec).toFixed(2)}x` : '-';
    const iratio = ref ? `${(r.inferLinesPerSec / ref.inferLinesPerSec).toFixed(2)}x` : '-';
    console.log(
      `${r.impl.padEnd(28)} ${String(row.batch).padStart(5)} ${fmt(r.msPerStep, 0).padStart(8)} ${fmt(r.imagesPerSec).padStart(12)} ` +
        `${ratio.padStart(9)} ${fmt(r.inferLinesPerSec).padStart(14)} ${iratio.padStart(9)} ${fmt(r.peakRssMB, 0).padStart(12)}`,
    );
  }
}
console.log(
  '\nbefore, as measured before the rewrite of @ocrops/model (stock tfjs-layers on tfjs-node, batch 16, 1 thread): 7.2 img/s = 0.26x PyTorch',
);
for (const row of results) {
  const ref = torchOf(row);
  const tfn = row.runs.find((r) => r.impl === 'ocrops/tensorflow' && !r.error);
  const layers = row.runs.find((r) => r.impl === 'tfjs-layers/tensorflow' && !r.error);
  if (ref && layers)
    console.log(
      `before (batch ${row.batch}, this run): ${fmt(layers.imagesPerSec)} img/s = ${(layers.imagesPerSec / ref.imagesPerSec).toFixed(2)}x PyTorch`,
    );
  if (ref && tfn)
    console.log(
      `after  (batch ${row.batch}, this run): ${fmt(tfn.imagesPerSec)} img/s = ${(tfn.imagesPerSec / ref.imagesPerSec).toFixed(2)}x PyTorch`,
    );
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = {
  date: new Date().toISOString(),
  model: {
    arch: 'vgg',
    innerDim: 128,
    height: H,
    width: W,
    T,
    channels: 3,
    rnn: 'BiGRU 256',
    numClasses: chars.length + 1,
  },
  data: {
    set: 'vn-handwriting',
    lines: files.length,
    preprocessing: 'grayscale, resized (squashed) to 64x256, 3 channels',
  },
  threads: Number(threads),
  steps: { tensorflow: steps, slowBackends: slow },
  rounds,
  loadAverage: (await import('node:os')).loadavg(),
  results,
};
writeFileSync(join(root, 'bench', 'results', 'model.json'), JSON.stringify(out, null, 2) + '\n');
rmSync(dataDir, { recursive: true, force: true });
console.log(`\nwrote bench/results/model.json`);
