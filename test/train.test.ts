// End-to-end tests of @ocrops/trainer: the real trainer CLI (child processes) on tiny synthetic data, a real tracker
// server on a free loopback port, SIGKILL + resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, spawnOcrops } from '@ocrops/common';
import { writeSyntheticFolder } from '@ocrops/data';
import { startServer } from '@ocrops/tracker';
import { OcropsError } from '@ocrops/common';
import { loadTrainConfig, parseEventLine, train, type TrainResult, type TrainState } from '@ocrops/trainer';
import { oneEpochSets, tinyDataConfig } from './utils.js';

const root = repoRoot();
const syntheticConfig = join(root, 'configs/train/synthetic.yaml');

/** `--set` overrides that shrink configs/train/synthetic.yaml (the default) to seconds of training. */
function tinySets(dataFile: string, out: string, extra: string[] = []): string[] {
  return [
    `data=${dataFile}`,
    `out=${out}`,
    'epochs=2',
    'batch_size=16',
    'hidden=24',
    'model.embed_dim=32',
    'train.log_every=2',
    'train.checkpoint_every=2',
    ...extra,
  ].flatMap((s) => ['--set', s]);
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `ocrops trainer <args>` as a child process (its pid is the trainer's own, for the signal tests). */
function spawnTrainer(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawnOcrops(['trainer', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readState(out: string): TrainState | undefined {
  try {
    return JSON.parse(readFileSync(join(out, 'checkpoints/last/state.json'), 'utf8')) as TrainState;
  } catch {
    return undefined;
  }
}

/** Metrics that must agree between runs (timings excluded). */
function comparable(m: Record<string, number>): Record<string, number> {
  const { images_per_second: _i, epoch_time: _e, ...rest } = m;
  return rest;
}

test('the synthetic default trains with a real tracker server; run, metrics, params and best model are readable over REST', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-train-e2e-'));
  const server = await startServer({ port: 0, dataDir: join(dir, 'tracker') });
  t.after(() => server.close());
  const out = join(dir, 'run');
  const data = tinyDataConfig(join(dir, 'data'));
  const project = 'ocr-e2e';
  const { done } = spawnTrainer(
    [
      'train',
      '--config',
      syntheticConfig,
      ...tinySets(data, out, [
        `tracker.url=${server.url}`,
        `tracker.api_key=${server.defaultKey}`,
        'tracker.workspace=default',
        `tracker.project=${project}`,
      ]),
      '--experiment-name',
      'e2e-tiny',
      '--tag',
      'e2e',
      '--log-other',
      'optimizer_id=abc123',
      '--quiet',
    ],
    { OCROPS_EVENTS: '1' },
  );
  const r = await done;
  assert.equal(r.code, 0, `trainer failed:\n${r.stderr.slice(-3000)}`);

  // stdout events: one per epoch, then the end
  const events = r.stdout
    .split('\n')
    .map(parseEventLine)
    .filter((e) => e !== undefined);
  const epochs = events.filter((e) => e.type === 'epoch');
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2],
  );
  const end = events.at(-1)!;
  assert.equal(end.type, 'end');
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as TrainResult;
  assert.equal(result.epochs, 2);
  assert.equal(result.monitor, 'val_loss');
  assert.ok(result.best && Number.isFinite(result.best.value));
  assert.equal(epochs[0].type === 'epoch' && epochs[0].experimentKey, result.experimentKey);
  for (const f of ['model.json', 'weights.bin', 'ocrops.json']) assert.ok(existsSync(join(out, 'best', f)), f);
  const plots = JSON.parse(readFileSync(join(out, 'plots.json'), 'utf8')) as Array<Record<string, number>>;
  assert.deepEqual(
    plots.map((p) => p.epoch),
    [1, 2],
  );

  const rest = `${server.url}/api/rest/v2`;
  const get = async (path: string) => {
    const res = await fetch(`${rest}${path}`, { headers: { Authorization: server.defaultKey } });
    assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
    return res;
  };
  const key = result.experimentKey;
  const exps = (await (await get(`/experiments?workspaceName=default&projectName=${project}`)).json()) as {
    experiments: Array<{ experimentKey: string; experimentName: string }>;
  };
  const exp = exps.experiments.find((e) => e.experimentKey === key);
  assert.ok(exp, `experiment ${key} listed`);
  assert.equal(exp.experimentName, 'e2e-tiny');

  const summary = (await (await get(`/experiment/metrics/summary?experimentKey=${key}`)).json()) as {
    values: Array<{ name: string; valueCurrent: number | string }>;
  };
  const names = new Set(summary.values.map((v) => v.name));
  for (const m of [
    'train_loss',
    'train_acc_by_char',
    'train_acc_by_field',
    'val_loss',
    'val_acc_by_char',
    'val_acc_by_field',
    'val_cer',
    'lr',
    'images_per_second',
    'epoch_time',
  ]) {
    assert.ok(names.has(m), `metric ${m} tracked (have ${[...names].join(', ')})`);
  }
  const valLoss = (await (
    await get(`/experiment/metrics/get-metric?experimentKey=${key}&metricName=val_loss`)
  ).json()) as {
    metrics: Array<{ metricValue: number | string; epoch?: number }>;
  };
  assert.equal(valLoss.metrics.length, 2);
  assert.ok(Math.abs(Number(valLoss.metrics[1].metricValue) - result.final.metrics.val_loss) < 1e-6);

  const params = (await (await get(`/experiment/parameters?experimentKey=${key}`)).json()) as {
    values: Array<{ name: string; valueCurrent: unknown }>;
  };
  const p = new Map(params.values.map((v) => [v.name, String(v.valueCurrent)]));
  // the logged parameters are the default config's values with the test's overrides applied
  const defaults = loadTrainConfig(syntheticConfig, []);
  assert.equal(p.get('optim.lr'), String(defaults.optim.lr));
  assert.equal(p.get('train.batch_size'), '16');
  assert.equal(p.get('batch_size'), '16');
  assert.equal(p.get('model.arch'), String(defaults.model.arch));

  const others = (await (await get(`/experiment/log-other?experimentKey=${key}`)).json()) as {
    values: Array<{ name: string; valueCurrent: unknown }>;
  };
  const o = new Map(others.values.map((v) => [v.name, String(v.valueCurrent)]));
  assert.equal(o.get('optimizer_id'), 'abc123');
  assert.ok(o.get('backend'), 'backend logged');

  const assets = (await (await get(`/experiment/asset/list?experimentKey=${key}&type=all`)).json()) as {
    assets: Array<{ assetId: string; fileName: string; type: string }>;
  };
  const weights = assets.assets.find((a) => a.type === 'model-element' && a.fileName.endsWith('weights.bin'));
  assert.ok(weights, `best model logged (assets: ${assets.assets.map((a) => `${a.fileName}:${a.type}`).join(', ')})`);
  const bytes = Buffer.from(
    await (await get(`/experiment/asset/get-asset?experimentKey=${key}&assetId=${weights.assetId}`)).arrayBuffer(),
  );
  assert.ok(
    bytes.equals(readFileSync(join(out, 'best', 'weights.bin'))),
    'downloaded weights equal <out>/best/weights.bin',
  );

  const runs = await fetch(`${server.url}/api/ocrops/runs?workspaceName=default&projectName=${project}`, {
    headers: { Authorization: server.defaultKey },
  });
  const row = (
    (await runs.json()) as { runs: Array<{ experimentKey: string; status: string; tags: string[] }> }
  ).runs.find((x) => x.experimentKey === key);
  assert.equal(row?.status, 'finished');
  assert.ok(row?.tags.includes('e2e'));

  // evaluate (metrics.json for dvc, error report) and predict with the trained model
  const ev = spawnTrainer([
    'evaluate',
    '--model',
    join(out, 'best'),
    '--prepared',
    join(dir, 'data', 'prepared'),
    '--run',
    out,
    '--metrics',
    join(dir, 'metrics.json'),
    '--errors',
    join(dir, 'reports', 'errors.json'),
    '--plots',
    join(dir, 'plots', 'run.json'),
    '--quiet',
  ]);
  const evr = await ev.done;
  assert.equal(evr.code, 0, evr.stderr.slice(-2000));
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Record<string, number>;
  assert.equal(metrics.test_count, 12);
  assert.ok(metrics.test_cer >= 0 && Number.isFinite(metrics.test_loss));
  const report = JSON.parse(readFileSync(join(dir, 'reports', 'errors.json'), 'utf8')) as {
    worst: Array<Record<string, unknown>>;
  };
  assert.ok(report.worst.length > 0 && 'truth' in report.worst[0] && 'confidence' in report.worst[0]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'plots', 'run.json'), 'utf8')), plots);

  // export a self-contained folder, then predict image files with it (one unreadable file is reported, not fatal)
  const exported = join(dir, 'exported');
  const ex = await spawnTrainer(['export', '--model', out, '--out', exported]).done;
  assert.equal(ex.code, 0, ex.stderr.slice(-2000));
  for (const f of ['model.onnx', 'ocrops-model.json', 'model.json', 'weights.bin', 'ocrops.json', 'README.md'])
    assert.ok(existsSync(join(exported, f)), f);
  const meta = JSON.parse(readFileSync(join(exported, 'ocrops.json'), 'utf8')) as {
    charset?: unknown;
    training?: { experimentKey: string };
  };
  assert.ok(meta.charset);
  assert.equal(meta.training?.experimentKey, key);
  const imgs = join(dir, 'images-to-read');
  await writeSyntheticFolder(imgs, { count: 3, height: 40, seed: 11 });
  writeFileSync(join(imgs, 'images', 'broken.png'), 'not a png');
  const pr = await spawnTrainer(['predict', '--model', exported, '--json', join(imgs, 'images')]).done;
  assert.equal(pr.code, 1, 'exit 1 when an image is unreadable');
  const preds = JSON.parse(pr.stdout) as Array<{ path: string; text: string; confidence: number; error?: string }>;
  assert.equal(preds.length, 4);
  assert.ok(preds.find((p) => p.path.endsWith('broken.png'))?.error);
  for (const p of preds.filter((x) => !x.error)) {
    assert.equal(typeof p.text, 'string');
    assert.ok(p.confidence >= 0 && p.confidence <= 1, `confidence ${p.confidence}`);
  }
});

test('a run killed with SIGKILL mid-epoch and resumed ends with the same metrics as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-train-resume-'));
  const data = tinyDataConfig(join(dir, 'data'));
  const sets = (out: string) => tinySets(data, out, ['tracker.enabled=false']);
  // 96 train lines / batch 16 = 6 steps per epoch, 2 epochs, checkpoint every 2 steps; augmentation and dropout on.
  const full = join(dir, 'full');
  const u = await spawnTrainer(['train', '--config', syntheticConfig, ...sets(full), '--quiet']).done;
  assert.equal(u.code, 0, u.stderr.slice(-3000));
  const expected = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8')) as TrainResult;
  assert.equal(expected.steps, 12);

  // Kill a second run in the middle of epoch 2 (after its step-8 checkpoint, before the end).
  const killed = join(dir, 'killed');
  const k = spawnTrainer(['train', '--config', syntheticConfig, ...sets(killed), '--quiet']);
  let state: TrainState | undefined;
  for (let i = 0; i < 1200; i++) {
    state = readState(killed);
    if (state && state.step >= 8) break;
    await sleep(50);
  }
  k.child.kill('SIGKILL');
  const kr = await k.done;
  assert.equal(kr.signal, 'SIGKILL', `the run ended before it could be killed:\n${kr.stderr.slice(-2000)}`);
  state = readState(killed)!;
  assert.ok(
    state.epoch === 1 && state.batchInEpoch > 0 && state.batchInEpoch < 6,
    `killed mid-epoch 2 (state: epoch ${state.epoch}, batch ${state.batchInEpoch})`,
  );
  assert.ok(!existsSync(join(killed, 'result.json')));

  // Resume; interrupt the resumed run once with SIGTERM (checkpoint + exit 143), then resume again to the end.
  const r1 = spawnTrainer(['train', '--config', syntheticConfig, ...sets(killed), '--resume', '--quiet']);
  const before = state.step;
  for (let i = 0; i < 1200; i++) {
    const s = readState(killed);
    if (s && s.step > before) break;
    await sleep(50);
  }
  r1.child.kill('SIGTERM');
  const r1r = await r1.done;
  assert.equal(r1r.code, 143, r1r.stderr.slice(-2000));
  assert.match(r1r.stderr, /interrupted by SIGTERM; checkpoint written/);
  const r2 = await spawnTrainer(['train', '--config', syntheticConfig, ...sets(killed), '--resume', '--quiet']).done;
  assert.equal(r2.code, 0, r2.stderr.slice(-3000));
  const got = JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8')) as TrainResult;
  assert.equal(got.steps, expected.steps);
  assert.deepEqual(got.best, expected.best);
  assert.deepEqual(comparable(got.final.metrics), comparable(expected.final.metrics));
  const hist = (p: string) =>
    (JSON.parse(readFileSync(join(p, 'plots.json'), 'utf8')) as Array<Record<string, number>>).map(comparable);
  assert.deepEqual(hist(killed), hist(full));
  assert.ok(
    readFileSync(join(full, 'best', 'weights.bin')).equals(readFileSync(join(killed, 'best', 'weights.bin'))),
    'same best weights',
  );

  // A config change that breaks the checkpoint is refused on --resume.
  const bad = await spawnTrainer([
    'train',
    '--config',
    syntheticConfig,
    ...sets(killed),
    '--set',
    'lr=0.01',
    '--resume',
  ]).done;
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /OCROPS_TRAIN_RESUME_MISMATCH/);
});

test('a diverging run stops with an error naming the step and batch; labels too long for T are counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-train-nan-'));
  const data = tinyDataConfig(join(dir, 'data'), 60);
  const sets = (out: string, extra: string[]) => [...oneEpochSets(data, out), 'train.max_val_samples=8', ...extra];
  // An infinite weight decay makes the gradient NaN at the first step.
  await assert.rejects(
    train(loadTrainConfig(syntheticConfig, sets(join(dir, 'nan'), ['weight_decay=1e39'])), { quiet: true }),
    (e: unknown) => {
      assert.ok(e instanceof OcropsError);
      assert.equal(e.code, 'OCROPS_TRAIN_NAN');
      assert.match(e.message, /at step 0 \(epoch 1, batch 0: synth_\d+\.png/);
      return true;
    },
  );
  // Lines squeezed to 48 px give T = 12 frames: most address lines cannot fit; they are counted, not dropped.
  const narrow = tinyDataConfig(join(dir, 'narrow'), 60, 48);
  const r = await train(loadTrainConfig(syntheticConfig, [...sets(join(dir, 'short'), []), `data=${narrow}`]), {
    quiet: true,
  });
  assert.ok(r.labelsTooLong > 0 && r.labelsTooLong <= 16, `labels too long counted: ${r.labelsTooLong}`);
  assert.equal(r.final.metrics.labels_too_long, r.labelsTooLong);
});
