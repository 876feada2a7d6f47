#!/usr/bin/env node
// Quality benchmark of @ocrops/trainer (not a test): trains the shipped configs on the shared datasets and reports
// what they reach, honestly: CER, field accuracy (acc_by_field), acc_by_char, wall time and backend.
//
//   node bench/train/run.mjs [--set <name>] [--epochs N] [--deadline-minutes M] [--resume] [--set key=value ...] [--show]
//   node bench/train/run.mjs --set <name> --from <run folder>
//     (reports a finished `ocrops trainer train --config configs/train/<name>.yaml` run instead of training: only if its
//     config, comments aside, is the shipped one and it read the bench's prepared split)
//   node bench/train/run.mjs --peer --set <name> [--threads T] [--minutes M] [--epochs N] [--seed S]
//     (the set's reference recipe in PyTorch on the same prepared split: bench/train/ocr_ref.py, needs .venv-bench)
//   node bench/train/run.mjs --task classify [--minutes M] [--threads T] [--parallel] [--seed S] [--models resnet_gap,cnn4,cnn4_plus,peer]
//     (image classification: bench/train/classify.mjs)
//
// --set <name> (captcha-v2, vn-handwriting, plates-cn, iiit5k, synthetic; --only is a synonym) benches one set and
// prints its row of the results table; `--set key=value` (a value with '=') is a train config override as before.
// --show prints the stored row(s) of bench/results/train.json without training. Each row gives held-out field accuracy,
// acc_by_char, CER and WER with greedy decoding, then held-out and test field accuracy and CER with beam search (the
// config's decode.beam_width, else 10, with its character language model when decode.lm has one). `--peer` trains the set's reference recipe in PyTorch instead (the Keras
// captcha recipe, the reference CTCModel, the licence-plate ResNet-18 + GRU, the Synth90k CRNN) on the same prepared
// split and stores its test-split row beside ocrops's (`peer` in bench/results/train.json).
//
// Each set trains its shipped configs/train/<set>.yaml as it is (its own epochs unless --epochs); the goals (TASKS
// below) are printed with the row. captcha-v2: the held-out 10% is the data config's val 5% + test 5% (val also drives
// early stopping, test is never seen in training), and `predict` also reads the original PNGs of the test split.
// Writes bench/results/train.json and bench/results/train.md (merging with results of earlier tasks).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { reexecUnderTsx } from '../tsx.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(root, 'packages/trainer/src/main.ts');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const flag = (name) => args.includes(`--${name}`);
if (opt('seed') !== undefined && !Number.isInteger(Number(opt('seed')))) {
  console.error(`bench/train: --seed: '${opt('seed')}' is not an integer`);
  process.exit(2);
}
if (flag('help') || args.includes('-h')) {
  // the usage is this file's opening comment
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  const usage = text.slice(
    1,
    text.findIndex((l) => l.startsWith('import ')),
  );
  console.log(usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const setArgs = args.flatMap((a, i) => (a === '--set' ? [args[i + 1]] : []));
const sets = setArgs.filter((s) => s.includes('='));
const named = setArgs.filter((s) => !s.includes('='));
const only = opt('only') ?? named[0];
if (opt('from') !== undefined) {
  if (!only || sets.length > 0 || opt('epochs') !== undefined || flag('peer')) {
    console.error(
      'bench/train: --from <run> reports one finished run: give --set <name>, and no --epochs, key=value or --peer',
    );
    process.exit(2);
  }
  reexecUnderTsx(import.meta.url); // the run's checks import @ocrops/trainer (TypeScript)
}
const datasets = process.env.OCROPS_DATASETS ?? join(root, '..', 'shared', 'datasets');

const TASKS = {
  'captcha-v2': {
    config: 'configs/train/captcha-v2.yaml',
    data: 'configs/data/captcha-v2.yaml',
    peer: 'captcha',
    goal: 'acc_by_field >= 0.99 on the held-out 10%, for every seed (--set train.seed=N)',
    images: join(datasets, 'captcha-v2', 'images'),
  },
  'vn-handwriting': {
    config: 'configs/train/vn-handwriting.yaml',
    data: 'configs/data/vn-handwriting.yaml',
    peer: 'ctcmodel',
    goal: 'acc_by_char >= 0.95 and CER <= 0.05 (the reference CTCModel: val acc_by_char 0.906 in 50 epochs)',
    images: join(datasets, 'vn-handwriting', 'images'),
  },
  'plates-cn': {
    config: 'configs/train/plates-cn.yaml',
    data: 'configs/data/plates-cn.yaml',
    peer: 'plates',
    goal: 'field accuracy >= 0.95',
    images: join(datasets, 'plates-cn', 'images'),
  },
  iiit5k: {
    config: 'configs/train/iiit5k.yaml',
    data: 'configs/data/iiit5k.yaml',
    peer: 'crnn',
    goal: 'word accuracy >= 0.80, lexicon-free (CRNN level)',
    images: join(datasets, 'iiit5k-train', 'images'),
  },
  synthetic: {
    config: 'configs/train/synthetic.yaml',
    data: 'configs/data/synthetic.yaml',
    peer: 'ctcmodel',
    goal: 'exact lines >= 0.5 (quickstart budget)',
    images: undefined, // generated lines: no image files to predict on
  },
};
if (opt('task') === 'classify') {
  // image classification: bench/train/classify.mjs (butterflies; ocrops cnn4 and resnet_gap vs the PyTorch peer)
  const { benchClassify, CLASSIFY_MODELS } = await import('./classify.mjs');
  const models = opt('models', CLASSIFY_MODELS.join(',')).split(',');
  const unknown = models.filter((m) => !CLASSIFY_MODELS.includes(m));
  if (unknown.length > 0) {
    console.error(`bench/train: --models: unknown '${unknown.join(', ')}' (names: ${CLASSIFY_MODELS.join(', ')})`);
    process.exit(2);
  }
  await benchClassify({
    models,
    root,
    minutes: Number(opt('minutes', 60)),
    threads: Number(opt('threads', 1)),
    parallel: flag('parallel'),
    seed: opt('seed') === undefined ? undefined : Number(opt('seed')),
  });
  process.exit(0);
}
if (only && !TASKS[only]) {
  console.error(`bench/train: unknown set '${only}' (one of ${Object.keys(TASKS).join(', ')})`);
  process.exit(2);
}

/** Runs a command from the repository root; with `deadlineMs`, sends SIGINT when it is reached (the trainer
 * checkpoints and exits 130). Resolves with the stdout when `capture`, else with `{ timedOut }`; `label` names the command in errors. */
function exec(cmd, cmdArgs, { capture = false, deadlineMs, label = `${cmd} ${cmdArgs[0]}` } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
      env: { TF_CPP_MIN_LOG_LEVEL: '2', ...process.env },
    });
    let out = '';
    let timedOut = false;
    const timer = deadlineMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGINT');
        }, deadlineMs)
      : undefined;
    if (capture) child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (code === 0 || (timedOut && code === 130)) resolve(capture ? out : { timedOut });
      else reject(new Error(`${label} exited with ${code}`));
    });
  });
}

/** Runs a trainer command (packages/trainer/src/main.ts from source). */
const run = (cmdArgs, options) =>
  exec(process.execPath, ['--conditions=@ocrops/source', '--import', 'tsx', main, ...cmdArgs], {
    label: `trainer ${cmdArgs[0]}`,
    ...options,
  });

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

/**
 * Prepares the set from a private copy of its data config into its own folder (other jobs may re-prepare
 * data/prepared/<name>), every time: a few seconds, and an edited data config never meets shards of the old one.
 */
async function privateData(name, task) {
  const dataCfg = YAML.parse(readFileSync(join(root, task.data), 'utf8'));
  dataCfg.output = join(root, 'runs', 'bench', 'data', name);
  mkdirSync(join(root, 'runs', 'bench'), { recursive: true });
  const dataFile = join(root, 'runs', 'bench', `data-${name}.yaml`);
  writeFileSync(dataFile, YAML.stringify(dataCfg));
  const cli = join(root, 'packages', 'cli', 'bin', 'ocrops.mjs');
  await exec(process.execPath, [cli, 'data', 'prepare', '--config', dataFile, '--quiet']);
  return { dataCfg, dataFile };
}

/** The 1-minute load average at the start and now, to one decimal. */
const load = (load0) => ({
  loadavg_at_start: Math.round(load0 * 10) / 10,
  loadavg_at_end: Math.round(loadavg()[0] * 10) / 10,
});

/** Trains the set's reference recipe in PyTorch (bench/train/ocr_ref.py) on the same prepared split as ocrops's row. */
async function benchPeer(name, task) {
  const py = join(root, '.venv-bench', 'bin', 'python');
  if (!existsSync(py)) {
    console.log(`${name}: no PyTorch peer: ${py} is absent (scripts/setup --bench installs it)`);
    return undefined;
  }
  const { dataCfg } = await privateData(name, task);
  const peerArgs = ['--prepared', dataCfg.output, '--recipe', task.peer, '--threads', opt('threads', '2')];
  for (const k of ['epochs', 'minutes', 'seed']) if (opt(k) !== undefined) peerArgs.push(`--${k}`, opt(k));
  const load0 = loadavg()[0];
  console.log(`\n== ${name}: PyTorch peer bench/train/ocr_ref.py ${peerArgs.join(' ')}`);
  const out = await exec(py, [join(root, 'bench', 'train', 'ocr_ref.py'), ...peerArgs], { capture: true });
  const result = JSON.parse(out.trim().split('\n').at(-1));
  return { ...result, machine: load(load0), date: new Date().toISOString() };
}

/**
 * Trains the shipped config on the bench's private split into `out` (or continues it with --resume). `trainedEpochs`:
 * the epochs this call trained (0 when --resume finds the run finished).
 */
async function trainShipped(name, task, out, dataFile, epochs) {
  const trainArgs = [
    'train',
    '--config',
    task.config,
    '--out',
    out,
    '--set',
    `data=${dataFile}`,
    '--set',
    `epochs=${epochs}`,
    '--set',
    'tracker.enabled=false',
    ...sets.flatMap((s) => ['--set', s]),
  ];
  const statePath = join(out, 'checkpoints', 'last', 'state.json');
  const resuming = existsSync(statePath) && args.includes('--resume');
  if (resuming) trainArgs.push('--resume');
  const epochsBefore = resuming ? readJson(statePath).history.length : 0;
  console.log(`\n== ${name}: trainer ${trainArgs.join(' ')}`);
  const deadline = opt('deadline-minutes');
  const { timedOut } = await run(trainArgs, { deadlineMs: deadline ? Number(deadline) * 60_000 : undefined });
  if (!timedOut) {
    const result = readJson(join(out, 'result.json'));
    return { result, timedOut, runDir: out, trainedEpochs: result.epochs - epochsBefore };
  }
  // Stopped at the time budget: report the best model so far (the run can continue with --resume).
  const st = readJson(statePath);
  const last = st.history.at(-1);
  console.log(
    `${name}: time budget of ${deadline} min reached after ${st.history.length} epochs; evaluating the best model so far`,
  );
  const result = {
    backend: readJson(join(out, 'best', 'ocrops.json')).backend ?? 'tensorflow',
    epochs: st.history.length,
    stoppedEarly: false,
    best: st.best,
    wallTimeSeconds: st.wallTimeSeconds,
    final: { metrics: last?.metrics ?? {} },
  };
  return { result, timedOut, runDir: out, trainedEpochs: st.history.length - epochsBefore };
}

/** The parsed YAML of a file at a git commit and now (comments and layout do not count), or why they differ. */
function configDrift(commit, path) {
  const then = spawnSync('git', ['show', `${commit}:${path}`], { cwd: root, encoding: 'utf8' });
  if (then.status !== 0) return `${path} is not in commit ${commit}`;
  const now = JSON.stringify(YAML.parse(readFileSync(join(root, path), 'utf8')));
  return JSON.stringify(YAML.parse(then.stdout)) === now ? undefined : `${path} has changed since commit ${commit}`;
}

/**
 * A finished run of the shipped config trained elsewhere (`ocrops trainer train --config <set config> --out <dir>`),
 * reported instead of training again: only if it ran the set's config as it is now (same values at its clean git
 * commit, comments aside; no --set that changes the model, optimiser or data; its epochs) on the very prepared split
 * of the bench (same DVC md5 of the folder).
 */
async function adoptRun(name, task, from, prepared) {
  const fail = (why) => {
    console.error(`bench/train: --from ${from}: ${why}`);
    process.exit(1);
  };
  const resultPath = join(from, 'result.json');
  if (!existsSync(resultPath)) fail('no result.json: give the folder of a finished `ocrops trainer train` run');
  const result = readJson(resultPath);
  const l = result.lineage ?? {};
  if (l.configPath !== task.config) fail(`the run trained ${l.configPath ?? 'an unknown config'}, not ${task.config}`);
  if (!l.gitCommit || l.gitDirty) fail('the run did not start from a clean git commit, so its config is unknown');
  for (const path of [task.config, task.data]) {
    const drift = configDrift(l.gitCommit, path);
    if (drift) fail(`${drift}: train it again with the config as it is`);
  }
  // --set values of a run are not in its config file: its checkpoint's fingerprint must be the shipped config's
  const { configHash, folderMd5, loadTrainConfig } = await import('@ocrops/trainer');
  const shipped = loadTrainConfig(join(root, task.config));
  const state = readJson(join(from, 'checkpoints', 'last', 'state.json'));
  if (state.configHash !== configHash(shipped))
    fail('the run overrode its config (--set): model, optimiser or data differ');
  if (!result.stoppedEarly && result.epochs !== shipped.train.epochs)
    fail(`the run trained ${result.epochs} epochs, the shipped config ${shipped.train.epochs}`);
  const md5 = await folderMd5(prepared); // as the run's lineage recorded it
  if (md5 !== l.datasetMd5) fail(`the run read prepared data ${l.datasetMd5}, the bench's split of ${name} is ${md5}`);
  console.log(`\n== ${name}: the run in ${from} (commit ${l.gitCommit.slice(0, 7)}, same config and split)`);
  return { result, timedOut: false, runDir: from, trainedEpochs: 0 };
}

/** `trainer evaluate` of a run's best model on one split (beam 1 = greedy); its metrics, also kept in `out`. */
async function evaluateBest(runDir, prepared, out, split, beam, extra = []) {
  const name = `${split}${beam > 1 ? '-beam' : ''}`;
  await run([
    'evaluate',
    '--model',
    join(runDir, 'best'),
    '--prepared',
    prepared,
    '--split',
    split,
    '--beam',
    String(beam),
    ...extra,
    '--metrics',
    join(out, `eval-${name}.json`),
    '--errors',
    join(out, `errors-${name}.json`),
    '--quiet',
  ]);
  return readJson(join(out, `eval-${name}.json`));
}

/** Val and test figures pooled over their lines (the held-out share of a set). */
function heldoutOf({ val, test }) {
  const nv = val.val_count;
  const nt = test.test_count;
  const pooled = (key) => (val[`val_${key}`] * nv + test[`test_${key}`] * nt) / (nv + nt);
  return {
    lines: nv + nt,
    acc_by_field: pooled('acc_by_field'),
    acc_by_char: pooled('acc_by_char'),
    cer_line_weighted: pooled('cer'),
    wer_line_weighted: pooled('wer'),
  };
}

async function bench(name, task) {
  const out = join(root, 'runs', 'bench', name);
  const shipped = YAML.parse(readFileSync(join(root, task.config), 'utf8'));
  // the shipped config's own length unless --epochs says otherwise (the goals are for the configs as shipped)
  const epochs = Number(opt('epochs', shipped.train.epochs));
  const load0 = loadavg()[0];
  const t0 = Date.now();
  const { dataCfg, dataFile } = await privateData(name, task);
  mkdirSync(out, { recursive: true }); // the evaluations' files, also for a run reported with --from
  const from = opt('from');
  const { result, timedOut, runDir, trainedEpochs } = from
    ? await adoptRun(name, task, from, dataCfg.output)
    : await trainShipped(name, task, out, dataFile, epochs);
  const wall = (Date.now() - t0) / 1000;
  const prepared = dataCfg.output;
  const beamWidth = shipped.decode?.beam_width ?? 10;
  const evals = {};
  const beams = {};
  for (const split of ['val', 'test']) {
    // greedy, logged to the run (its plots), then by beam search with the config's width and language model
    evals[split] = await evaluateBest(runDir, prepared, out, split, 1, [
      '--run',
      runDir,
      '--plots',
      join(out, 'plots-copy.json'),
    ]);
    beams[split] = await evaluateBest(runDir, prepared, out, split, Math.max(beamWidth, 2));
  }
  const heldout = heldoutOf(evals);
  const heldoutBeam = heldoutOf(beams);
  // predict on the original image files of the test split (decoded from the source PNGs, not the prepared shards)
  let preds = [];
  let correct = 0;
  if (task.images) {
    const testIndex = readJson(join(prepared, 'test', 'index.json'));
    const files = testIndex.ids.map((id) => join(task.images, id));
    const predOut = await run(['predict', '--model', join(runDir, 'best'), '--json', ...files], { capture: true });
    preds = JSON.parse(predOut);
    const truth = new Map(testIndex.ids.map((id, i) => [join(task.images, id), testIndex.labels[i]]));
    correct = preds.filter((p) => p.text === truth.get(p.path)).length;
  }
  return {
    config: task.config,
    goal: task.goal,
    overrides: from ? [] : [`epochs=${epochs}`, ...sets],
    ...(from ? { trained_by: { run: from, git_commit: result.lineage.gitCommit } } : {}),
    backend: result.backend,
    epochs_run: result.epochs,
    stopped_early: result.stoppedEarly,
    stopped_at_time_budget: Boolean(timedOut),
    best: result.best,
    wall_time_seconds: Math.round(wall),
    train_wall_time_seconds: result.wallTimeSeconds,
    images_per_second_last_epoch: Math.round((result.final.metrics.images_per_second ?? 0) * 10) / 10,
    final_epoch_metrics: result.final.metrics,
    val: evals.val,
    test: evals.test,
    val_beam: beams.val,
    test_beam: beams.test,
    heldout_10pct: heldout,
    heldout_beam: heldoutBeam,
    predict_test_images: {
      files: preds.length,
      exact: correct,
      acc_by_field: correct / Math.max(preds.length, 1),
      examples: preds.slice(0, 5).map((p) => ({
        file: p.path.split('/').pop(),
        text: p.text,
        confidence: Math.round(p.confidence * 1e4) / 1e4,
      })),
    },
    // the load while training: absent when this call trained nothing (a reported or finished run)
    ...(trainedEpochs > 0 ? { machine: { cores: cpus().length, ...load(load0) } } : {}),
    date: new Date().toISOString(),
  };
}

const TABLE_HEAD = [
  '| task | backend | epochs (best) | held-out lines | field acc | acc_by_char | CER | WER | field acc (beam) | CER (beam) | test field acc (beam) | test CER (beam) | val acc_by_char | predict on PNGs | wall time |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];
const fmt = (v, digits) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');

/** One set's row of the results table (figures absent from older results print as '-'). */
function row(name, r) {
  const h = r.heldout_10pct;
  if (!h) return `| ${name} | not benched yet: node bench/train/run.mjs --set ${name} |`;
  const hb = r.heldout_beam ?? {};
  return (
    `| ${name} | ${r.backend} | ${r.epochs_run} (${r.best?.epoch ?? '-'}) | ${h.lines} | ` +
    `${fmt(h.acc_by_field, 3)} | ${fmt(h.acc_by_char, 3)} | ${fmt(h.cer_line_weighted, 4)} | ${fmt(h.wer_line_weighted, 4)} | ` +
    `${fmt(hb.acc_by_field, 3)} | ${fmt(hb.cer_line_weighted, 4)} | ` +
    `${fmt(r.test_beam?.test_acc_by_field, 3)} | ${fmt(r.test_beam?.test_cer, 4)} | ${fmt(r.val.val_acc_by_char, 3)} | ` +
    `${r.predict_test_images.files ? `${r.predict_test_images.exact}/${r.predict_test_images.files}` : '-'} | ` +
    // training time summed over resumed sessions (the run's own clock), not just this invocation
    `${Math.round((r.train_wall_time_seconds ?? r.wall_time_seconds) / 60)} min |`
  );
}

const PEER_HEAD = [
  '| task (test split, greedy) | field acc | acc_by_char | CER | WER | PyTorch peer: recipe | field acc | acc_by_char | CER | WER | epochs (best) | wall time |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|',
];

/** A set's test-split figures beside its PyTorch reference recipe's on the same split. */
function peerRow(name, r) {
  const t = r.test ?? {};
  const p = r.peer;
  return (
    `| ${name} | ${fmt(t.test_acc_by_field, 3)} | ${fmt(t.test_acc_by_char, 3)} | ${fmt(t.test_cer, 4)} | ${fmt(t.test_wer, 4)} | ` +
    (p
      ? `${p.recipe} | ${fmt(p.test.acc_by_field, 3)} | ${fmt(p.test.acc_by_char, 3)} | ${fmt(p.test.cer, 4)} | ` +
        `${fmt(p.test.wer, 4)} | ${p.epochs} (${p.best_epoch}) | ${Math.round(p.wall_time_seconds / 60)} min |`
      : `not run: node bench/train/run.mjs --peer --set ${name} | | | | | | |`)
  );
}

function markdown(results) {
  const lines = [
    '# bench/train results',
    '',
    'Produced by `node bench/train/run.mjs` on this 2-core machine (shared with other jobs: see the load averages).',
    '',
    ...TABLE_HEAD,
  ];
  for (const [name, r] of Object.entries(results)) lines.push(row(name, r));
  lines.push(
    '',
    'Held-out = the val and test splits (not trained on; val selects the best epoch, test is never seen). The first',
    "figures decode greedily; (beam) ones by prefix beam search of the config's decode.beam_width (else 10), with its",
    "character language model where decode.lm has one (the config's own decoding where decode.method is beam).",
    '',
    'Beside the reference recipes in PyTorch (bench/train/ocr_ref.py, `--peer`), on the same prepared split:',
    '',
    ...PEER_HEAD,
  );
  for (const [name, r] of Object.entries(results)) lines.push(peerRow(name, r));
  for (const [name, r] of Object.entries(results)) {
    lines.push('', `## ${name}`, '');
    if (r.heldout_10pct)
      lines.push(
        `Goal: ${r.goal}. Config ${r.config}` +
          (r.trained_by
            ? `, trained by \`ocrops trainer train\` at commit ${r.trained_by.git_commit.slice(0, 7)} (reported with --from).`
            : ` with ${r.overrides.join(', ')}.`),
        `Test split alone: acc_by_field ${r.test.test_acc_by_field.toFixed(3)}, CER ${r.test.test_cer.toFixed(4)} (${r.test.test_count} lines).`,
        ...(r.heldout_beam
          ? [
              `With beam search (width ${r.test_beam.test_beam_width}, the config's language model if any): held-out acc_by_field ` +
                `${r.heldout_beam.acc_by_field.toFixed(3)} (val ${r.val_beam.val_acc_by_field.toFixed(3)}, test ` +
                `${r.test_beam.test_acc_by_field.toFixed(3)}), acc_by_char ${r.heldout_beam.acc_by_char.toFixed(3)}, ` +
                `CER ${r.heldout_beam.cer_line_weighted.toFixed(4)}, WER ${r.heldout_beam.wer_line_weighted.toFixed(4)}.`,
            ]
          : []),
        // the load averages of its training, where this bench trained it (older reported rows hold an evaluation's)
        (r.trained_by || !r.machine
          ? ''
          : `Load average ${r.machine.loadavg_at_start} at start, ${r.machine.loadavg_at_end} at end; `) +
          `${r.images_per_second_last_epoch} training images/s in the last epoch.`,
      );
    if (r.peer)
      lines.push(
        `PyTorch peer (${r.peer.recipe}, seed ${r.peer.seed}, ${r.peer.threads} thread(s)): ${r.peer.epochs} epochs, ` +
          `${Math.round(r.peer.train_images_per_second * 10) / 10} training images/s; load average ` +
          `${r.peer.machine.loadavg_at_start} at start, ${r.peer.machine.loadavg_at_end} at end.`,
      );
  }
  return `${lines.join('\n')}\n`;
}

const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const jsonPath = join(resultsDir, 'train.json');
const stored = () => (existsSync(jsonPath) ? readJson(jsonPath) : {});
const all = stored();
/** Stores one set's entry, merged into the file as it is now (another bench run may have stored a set meanwhile). */
const save = (name, entry) => {
  Object.assign(all, stored(), { [name]: entry });
  writeFileSync(jsonPath, `${JSON.stringify(all, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'train.md'), markdown(all));
};
if (args.includes('--show')) {
  const names = only ? [only] : Object.keys(all);
  console.log(TABLE_HEAD.join('\n'));
  for (const n of names) console.log(row(n, all[n] ?? {}));
  console.log(['', ...PEER_HEAD].join('\n'));
  for (const n of names) console.log(peerRow(n, all[n] ?? {}));
  process.exit(0);
}
for (const [name, task] of Object.entries(TASKS)) {
  if (only && only !== name) continue;
  if (task.images && !existsSync(task.images)) {
    console.log(`${name}: skipped, ${task.images} is absent`);
    continue;
  }
  if (flag('peer')) {
    const peer = await benchPeer(name, task);
    if (!peer) continue;
    save(name, { ...stored()[name], peer });
    console.log([...PEER_HEAD, peerRow(name, all[name])].join('\n'));
    continue;
  }
  const r = await bench(name, task);
  if (!r) continue;
  // the stored peer row stays until `--peer` runs again; a finished run resumed keeps its training's load figures
  // when the stored row is that run's (a run trained elsewhere, or reported with --from, has none)
  const before = stored()[name];
  const sameRun = before?.train_wall_time_seconds === r.train_wall_time_seconds && before?.best?.step === r.best?.step;
  save(name, { ...r, machine: r.machine ?? (sameRun ? before.machine : undefined), peer: before?.peer });
  console.log(
    `\n${name}: held-out field accuracy ${r.heldout_10pct.acc_by_field.toFixed(3)}, CER ${r.heldout_10pct.cer_line_weighted.toFixed(4)} ` +
      `(beam search ${r.heldout_beam.acc_by_field.toFixed(3)}, CER ${r.heldout_beam.cer_line_weighted.toFixed(4)}), ` +
      `val acc_by_char ${r.val.val_acc_by_char.toFixed(3)}, ${r.epochs_run} epochs, ${Math.round(r.train_wall_time_seconds ?? r.wall_time_seconds)}s of training on ${r.backend}`,
  );
  console.log([...TABLE_HEAD, row(name, r)].join('\n'));
}
console.log(`\nwrote ${jsonPath} and bench/results/train.md`);
