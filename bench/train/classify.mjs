// Image-classification part of the training benchmark (`node bench/train/run.mjs --task classify [--minutes M]
// [--threads T] [--parallel]`): on the butterflies (75 species, the prepared split of configs/data/butterflies.yaml), trains the
// reference recipe (configs/train/butterflies-cnn4.yaml) and the stronger model (configs/train/butterflies.yaml) with the
// same time budget (train.max_minutes), runs the PyTorch peer bench/train/classify_ref.py on the same split.csv with the
// same budget and threads, and prints top-1 / top-5 on the test split, epochs reached and training images/s.
// The budget of ocrops runs includes their per-epoch validation; the peer validates once at the end. With a budget shorter
// than the configs' epochs, the stronger model's one-cycle schedule spans the budget (`optim.schedule.horizon: time`).
// `--parallel` runs the chosen rows side by side (each with --threads threads) instead of one after the other.
// `--models resnet_gap,cnn4,cnn4_plus,peer` (the default: all) runs only the named rows, e.g. the stronger model alone.
// `--seed S` trains every row with that seed (ocrops `train.seed`, the peer's --seed) instead of the configs' (42).
// Writes bench/results/train-classify.json: each row with the conditions it ran under (minutes, threads, side by side,
// load, date, seed); rows of other models or seeds are kept from the earlier file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/** Runs a command and resolves with its stdout; rejects on a non-zero exit. */
function exec(cmd, args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')} exited with ${code}`)),
    );
  });
}

/** Overrides of the rows trained for the whole budget: the budget ends the run, not the config's epochs, and the
 * one-cycle schedule spans that budget. */
const WHOLE_BUDGET = ['optim.schedule.horizon=time', 'train.epochs=1000'];

/** The seed of the shipped butterflies configs (train.seed): every row trains with it unless --seed says otherwise. */
const DEFAULT_SEED = 42;

/** The ocrops rows of the benchmark by the name `--models` takes; `peer` (the PyTorch run) is the other name. */
const OCROPS_ROWS = {
  cnn4: {
    name: 'ocrops cnn4 (reference recipe)',
    config: 'configs/train/butterflies-cnn4.yaml',
    out: 'runs/bench-butterflies-cnn4',
    sets: [],
  },
  // the same faithful network and data, trained with ocrops's options instead of the recipe's constant lr: a one-cycle
  // lr spanning the budget (its low start also keeps the first steps off the ln(75) plateau), label smoothing, an
  // average of the weights, and the image's four flips averaged at inference
  cnn4_plus: {
    name: 'ocrops cnn4 (one-cycle, smoothing, EMA, flips)',
    config: 'configs/train/butterflies-cnn4.yaml',
    out: 'runs/bench-butterflies-cnn4-plus',
    sets: [
      'optim.schedule.type=onecycle',
      'loss.label_smoothing=0.1',
      'train.ema=0.999',
      'model.tta=flips',
      ...WHOLE_BUDGET,
    ],
  },
  resnet_gap: {
    name: 'ocrops resnet_gap (stronger)',
    config: 'configs/train/butterflies.yaml',
    out: 'runs/bench-butterflies',
    sets: WHOLE_BUDGET,
  },
};

/** The rows a classification benchmark can run. */
export const CLASSIFY_MODELS = [...Object.keys(OCROPS_ROWS), 'peer'];

export async function benchClassify({
  root,
  minutes = 60,
  threads = 1,
  parallel = false,
  models: only = CLASSIFY_MODELS,
  seed = DEFAULT_SEED,
}) {
  const ocrops = (args) =>
    exec(process.execPath, [join(root, 'packages/cli/bin/ocrops.mjs'), ...args], {
      cwd: root,
      env: {
        TF_CPP_MIN_LOG_LEVEL: '2',
        TF_NUM_INTRAOP_THREADS: String(threads),
        TF_NUM_INTEROP_THREADS: String(threads),
      },
    });
  const prepared = join(root, 'data/prepared/butterflies-75');
  if (!existsSync(join(prepared, 'meta.json'))) {
    console.error('bench/train classify: preparing configs/data/butterflies.yaml');
    await ocrops(['data', 'prepare', '--config', 'configs/data/butterflies.yaml', '--quiet']);
  }
  const load = [loadavg()[0]];
  const train = (m) => () => trainOcrops(m, { root, ocrops, prepared, minutes, threads, seed });
  const jobs = Object.entries(OCROPS_ROWS)
    .filter(([key]) => only.includes(key))
    .map(([, m]) => train(m));
  if (only.includes('peer')) jobs.push(() => trainPeer({ root, prepared, minutes, threads, seed }));
  // side by side: every run shares the machine with the others for the whole budget (each with `threads` threads)
  const ran = (parallel ? await Promise.all(jobs.map((j) => j())) : await sequence(jobs)).filter(Boolean);
  load.push(loadavg()[0]);
  const conditions = {
    minutes,
    threads,
    side_by_side: parallel && jobs.length > 1,
    load,
    date: new Date().toISOString(),
    seed,
  };
  const rows = ran.map((r) => ({ ...r, ...conditions }));
  const table = [
    `butterflies-75, test split, ${minutes} minute(s) of training each, ${threads} thread(s)` +
      `${conditions.side_by_side ? ', the runs side by side' : ''}, seed ${conditions.seed}; ` +
      `1-minute load average ${load.map((l) => l.toFixed(1)).join(' -> ')}`,
    '| model | test top-1 | test top-5 | epochs | images/s |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.test_top1.toFixed(4)} | ${r.test_top5.toFixed(4)} | ${r.epochs} | ${r.images_per_second} |`,
    ),
  ].join('\n');
  console.log(table);
  writeRows(join(root, 'bench/results/train-classify.json'), rows);
  return rows;
}

/** Stores `rows` in the results file, replacing earlier rows of the same model and seed and keeping the others. */
function writeRows(file, rows) {
  const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).rows ?? []) : [];
  const seedOf = (r) => r.seed ?? DEFAULT_SEED;
  const kept = earlier.filter((e) => !rows.some((r) => r.model === e.model && seedOf(r) === seedOf(e)));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ rows: [...kept, ...rows] }, null, 1)}\n`);
}

/** Runs the jobs one after the other; resolves with their results in order. */
async function sequence(jobs) {
  const out = [];
  for (const j of jobs) out.push(await j());
  return out;
}

/** Trains one ocrops config within the budget, evaluates its best model on the test split, returns its table row. */
async function trainOcrops(m, { root, ocrops, prepared, minutes, threads, seed }) {
  const out = join(root, m.out);
  rmSync(out, { recursive: true, force: true });
  console.error(`bench/train classify: ${m.name}, ${minutes} minute(s), ${threads} thread(s)`);
  await ocrops([
    'trainer',
    'train',
    '--config',
    m.config,
    '--out',
    out,
    '--quiet',
    ...[`train.max_minutes=${minutes}`, `train.seed=${seed}`, 'tracker.enabled=false', ...m.sets].flatMap((s) => [
      '--set',
      s,
    ]),
  ]);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  const plots = JSON.parse(readFileSync(join(out, 'plots.json'), 'utf8'));
  const metricsPath = join(out, 'test-metrics.json');
  await ocrops([
    'trainer',
    'evaluate',
    '--model',
    join(out, 'best'),
    '--prepared',
    prepared,
    '--split',
    'test',
    '--metrics',
    metricsPath,
    '--errors',
    join(out, 'test-report.json'),
    '--quiet',
  ]);
  const test = JSON.parse(readFileSync(metricsPath, 'utf8'));
  const trainCount = JSON.parse(readFileSync(join(prepared, 'meta.json'), 'utf8')).splits.train.count;
  const batch = 32;
  const seconds = plots.reduce((a, p) => a + p.epoch_time, 0);
  const images = plots.reduce((a, p) => a + p.images_per_second * p.epoch_time, 0);
  return {
    model: m.name,
    test_top1: test.test_top1,
    test_top5: test.test_top5,
    epochs: +(result.steps / Math.ceil(trainCount / batch)).toFixed(2),
    best_epoch: result.best?.epoch ?? null,
    images_per_second: +(images / seconds).toFixed(1),
    wall_seconds: result.wallTimeSeconds,
  };
}

/** Runs the PyTorch peer (classify_ref.py) on the same split and budget; null (with a message) without .venv-bench. */
async function trainPeer({ root, prepared, minutes, threads, seed }) {
  const py = join(root, '.venv-bench/bin/python');
  if (!existsSync(py)) {
    console.error(
      'bench/train classify: .venv-bench/bin/python absent: no PyTorch peer row (scripts/setup --bench installs it)',
    );
    return null;
  }
  const file = join(root, 'runs/bench-butterflies-pytorch.json');
  console.error(`bench/train classify: PyTorch peer (classify_ref.py), ${minutes} minute(s), ${threads} thread(s)`);
  await exec(
    py,
    [
      join(root, 'bench/train/classify_ref.py'),
      '--prepared',
      prepared,
      '--minutes',
      String(minutes),
      '--threads',
      String(threads),
      '--out',
      file,
      '--seed',
      String(seed),
    ],
    { cwd: root, env: {} },
  );
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return {
    model: 'PyTorch cnn4 (classify_ref.py)',
    test_top1: r.test_top1,
    test_top5: r.test_top5,
    epochs: r.epochs_reached,
    best_epoch: null,
    images_per_second: r.images_per_second,
    wall_seconds: r.train_seconds,
  };
}
