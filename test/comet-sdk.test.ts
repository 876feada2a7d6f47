// End-to-end: the official comet_ml Python SDK (pinned by scripts/setup into .venv) runs unmodified scripts from
// test/comet-sdk/ against a real tracker on loopback (SQLite, and PostgreSQL when its binaries are installed), with
// only COMET_API_KEY and COMET_URL_OVERRIDE set. Every logged value, asset byte and optimizer suggestion is checked
// through the tracker's own REST API (and the read API through the SDK itself).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { venvBin } from '@ocrops/common';
import { startServer, type TrackerServer } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';
import { startPostgres, type PgCluster } from '@ocrops/services/testkit';
import { runOcrops } from './utils.js';

const run = promisify(execFile);
const scripts = join(import.meta.dirname, 'comet-sdk');
const python = venvBin('python');
const SDK_VERSION = '3.58.8';

function sdkMissing(): string | false {
  if (!existsSync(python)) return '.venv/bin/python absent: run scripts/setup';
  const r = spawnSync(python, ['-c', 'import comet_ml; print(comet_ml.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0)
    return `comet_ml is not installed in .venv: run scripts/setup (${r.stderr.trim().split('\n').pop()})`;
  if (r.stdout.trim() !== SDK_VERSION)
    return `.venv has comet_ml ${r.stdout.trim()}, the tests pin ${SDK_VERSION}: run scripts/setup`;
  return false;
}
const skip = sdkMissing();

type Json = Record<string, any>;

/** A throwaway git repository with an uncommitted change as the scripts' working directory (git metadata and patch). */
function gitWorkdir(): { dir: string; head: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-comet-sdk-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=sdk@test', '-c', 'user.name=sdk', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  writeFileSync(join(dir, 'tracked.txt'), 'base\n');
  git('add', 'tracked.txt');
  git('commit', '-q', '-m', 'init');
  // an uncommitted change: the SDK uploads it as the run's git patch
  writeFileSync(join(dir, 'tracked.txt'), 'base\nuncommitted change\n');
  return { dir, head: git('rev-parse', 'HEAD').trim() };
}

/** Environment of a Python script: no COMET_* setting of the developer's leaks in. */
function sdkEnv(server: TrackerServer, urlOverride: string, workdir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COMET_')) env[k] = v;
  return {
    ...env,
    COMET_API_KEY: server.defaultKey,
    COMET_URL_OVERRIDE: urlOverride,
    COMET_OFFLINE_DIRECTORY: join(workdir, 'comet-offline-fallback'),
    // the SDK's own crash reports go to Comet's Sentry, not to the tracker
    COMET_ERROR_TRACKING_ENABLE: 'false',
    HOME: workdir,
  };
}

/** Runs one of test/comet-sdk/*.py and parses the JSON on its last stdout line. */
async function py(env: NodeJS.ProcessEnv, cwd: string, script: string, ...args: string[]): Promise<Json> {
  const { stdout } = await run(python, [join(scripts, script), ...args], {
    env,
    cwd,
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(`${script} printed no JSON result:\n${stdout}`);
  }
}

/** GET on the tracker's REST API with the default key: status, exact content type, body. */
async function rest(server: TrackerServer, path: string, query: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}?${new URLSearchParams(query)}`, {
    headers: { authorization: server.defaultKey },
  });
  const type = res.headers.get('content-type') ?? '';
  const buf = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    type,
    buf,
    json: type.startsWith('application/json') ? (JSON.parse(buf.toString('utf8')) as Json) : undefined,
  };
}

async function restJson(server: TrackerServer, path: string, query: Record<string, string> = {}): Promise<Json> {
  const r = await rest(server, path, query);
  assert.equal(r.status, 200, `${path}: ${r.buf.toString('utf8').slice(0, 300)}`);
  assert.equal(r.type, 'application/json', `${path} answers exactly application/json (the SDK rejects anything else)`);
  return r.json!;
}

const V2 = '/api/rest/v2';
/** The model graph log_experiment.py sets. */
const GRAPH = 'CRNN(\n  (cnn): VGG()\n  (rnn): BiGRU(128)\n)';
const byName = (values: Json[]) => Object.fromEntries(values.map((v) => [v.name, v]));

/** Every value, detail and asset byte log_experiment.py logged, read back through REST. */
async function checkLoggedExperiment(server: TrackerServer, key: string, head: string): Promise<void> {
  const q = { experimentKey: key };
  const meta = await restJson(server, `${V2}/experiment/metadata`, q);
  assert.equal(meta.experimentName, 'sdk-run-1');
  assert.equal(meta.projectName, 'sdk-e2e');
  assert.equal(meta.workspaceName, 'default');
  assert.equal(meta.running, false, 'end() finished the run');
  assert.equal(meta.hasCrashed, false);
  assert.equal(typeof meta.endTimeMillis, 'number');

  const points = async (metricName: string) =>
    (await restJson(server, `${V2}/experiment/metrics/get-metric`, { ...q, metricName })).metrics.map((p: Json) => [
      p.step,
      p.epoch,
      p.metricValue,
    ]);
  assert.deepEqual(
    await points('loss'),
    [0, 1, 2, 3, 4].map((i) => [i, Math.floor(i / 2), 1 / (i + 1)]),
  );
  assert.deepEqual(await points('acc'), [[4, 2, 0.5]]);
  assert.deepEqual(await points('cer'), [[4, 2, 0.25]]);

  const params = byName((await restJson(server, `${V2}/experiment/parameters`, q)).values);
  assert.deepEqual(Object.fromEntries(['lr', 'inner_dim', 'optim', 'batch'].map((n) => [n, params[n]?.value])), {
    lr: 0.001,
    inner_dim: 128,
    optim: 'adam',
    batch: 32,
  });
  const others = byName((await restJson(server, `${V2}/experiment/log-other`, q)).values);
  assert.equal(others.dataset.value, 'vn-handwriting');
  assert.equal(others.Name.value, 'sdk-run-1');
  assert.deepEqual((await restJson(server, `${V2}/experiment/tags`, q)).tags, ['baseline', 'e2e', 'sdk']);
  assert.equal((await restJson(server, `${V2}/experiment/html`, q)).html, '<b>hi</b>');
  assert.equal((await restJson(server, `${V2}/experiment/graph`, q)).graph, GRAPH);
  assert.match((await restJson(server, `${V2}/experiment/output`, q)).output, /stdout line from the training script\n/);

  const system = await restJson(server, `${V2}/experiment/system-details`, q);
  assert.match(system.filePath, /log_experiment\.py$/);
  assert.ok(system.installedPackages.includes(`comet_ml==${SDK_VERSION}`), 'installed packages are logged');
  assert.equal(typeof system.pythonVersion, 'string');
  const git = await restJson(server, `${V2}/experiment/git/metadata`, q);
  assert.equal(git.parent, head, 'git metadata names the working copy HEAD');

  const assets = (await restJson(server, `${V2}/experiment/asset/list`, q)).assets as Json[];
  const asset = async (fileName: string, type: string) => {
    const a = assets.find((x) => x.fileName === fileName);
    assert.ok(a, `asset ${fileName} listed (got ${assets.map((x) => x.fileName).join(', ')})`);
    assert.equal(a.type, type, `${fileName} type`);
    const r = await rest(server, `${V2}/experiment/asset/get-asset`, { ...q, assetId: a.assetId });
    assert.equal(r.status, 200);
    assert.equal(r.buf.length, a.fileSize);
    return { a, buf: r.buf };
  };
  assert.deepEqual(
    (await asset('data/asset.bin', 'asset')).buf,
    Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)),
  );
  const model = await asset('model/weights.bin', 'model-element');
  assert.deepEqual(model.buf, Buffer.from('\x00\x01weights\xff', 'latin1'));
  assert.equal(model.a.groupingName, 'crnn');
  assert.deepEqual((await asset('pixel.png', 'image')).buf, readFileSync(join(scripts, 'pixel.png')));
  const cm = JSON.parse((await asset('confusion-matrix.json', 'confusion-matrix')).buf.toString('utf8'));
  assert.deepEqual(
    [cm.matrix, cm.labels],
    [
      [
        [1, 2],
        [3, 4],
      ],
      ['a', 'b'],
    ],
  );
  assert.deepEqual(JSON.parse((await asset('pr', 'curve')).buf.toString('utf8')), {
    x: [0, 0.5, 1],
    y: [1, 0.5, 0],
    name: 'pr',
  });
  assert.equal((await asset('auto-generated-in-the-backend', 'text-sample')).buf.toString('utf8'), 'hello text');
  const patch = await asset('git-patch.zip', 'git-patch');
  assert.equal(patch.buf.subarray(0, 2).toString('latin1'), 'PK', 'the git patch is the zip the SDK uploads');
  const source = assets.find((x) => x.type === 'source_code');
  assert.ok(source && /log_experiment\.py$/.test(source.fileName), 'the script itself is logged as source code');
  assert.deepEqual(
    (await rest(server, `${V2}/experiment/asset/get-asset`, { ...q, assetId: source.assetId })).buf,
    readFileSync(join(scripts, 'log_experiment.py')),
  );

  // the dashboard's runs table shows it like any run
  const runs = (await restJson(server, '/api/ocrops/runs', { projectName: 'sdk-e2e' })).runs as Json[];
  const row = runs.find((r) => r.experimentKey === key);
  assert.ok(row);
  assert.equal(row.status, 'finished');
  assert.equal(row.params.inner_dim, 128);
  assert.equal(row.metrics.loss.last, 0.2);
  assert.equal(row.metrics.loss.min, 0.2);
}

/** What read_experiment.py got through comet_ml.API equals what REST serves. */
async function checkReadApi(server: TrackerServer, key: string, got: Json): Promise<void> {
  assert.deepEqual(got.workspaces, ['default']);
  assert.equal(got.default_workspace, 'default');
  assert.ok(got.projects.includes('sdk-e2e'));
  assert.ok(got.experiments.includes(key));
  assert.equal(got.name, 'sdk-run-1');
  assert.deepEqual(
    got.loss.map((p: Json) => [p.step, p.epoch, Number(p.metricValue)]),
    [0, 1, 2, 3, 4].map((i) => [i, Math.floor(i / 2), 1 / (i + 1)]),
  );
  const rest = (await restJson(server, `${V2}/experiment/metrics/summary`, { experimentKey: key })).values
    .map((s: Json) => s.name)
    .sort();
  assert.deepEqual(got.all_metric_names, rest, 'get_metrics() returns every logged series');
  assert.deepEqual(
    [got.params.lr, got.params.inner_dim, got.params.optim, got.params.batch],
    ['0.001', '128', 'adam', '32'],
  );
  assert.equal(got.others.dataset, 'vn-handwriting');
  assert.deepEqual(got.tags, ['baseline', 'e2e', 'sdk']);
  assert.equal(got.graph, GRAPH);
  assert.match(got.git_patch, /^\+uncommitted change$/m, 'get_git_patch() returns the uncommitted change');
  assert.ok(got.assets.some(([n, t]: string[]) => n === 'model/weights.bin' && t === 'model-element'));
  assert.equal(got.asset_hex, Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)).toString('hex'));
  assert.deepEqual(got.query_hit, [key], 'query: last loss 0.2 < 0.5 and optim == adam');
  assert.deepEqual(got.query_miss, [], 'query: last loss is not > 0.5');
}

/** Two processes on one optimizer id: distinct parameter sets, and every suggestion and score lands in the sweep. */
async function checkOptimizer(server: TrackerServer, env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const { id } = await py(env, cwd, 'optimize.py', 'new', '4');
  assert.match(id, /^[0-9a-f]{32}$/);
  const [a, b] = await Promise.all([py(env, cwd, 'optimize.py', id), py(env, cwd, 'optimize.py', id)]);
  const trials = [...a.trials, ...b.trials] as Json[];
  assert.equal(trials.length, 4, 'maxCombo 4 parameter sets in all');
  assert.ok(
    a.trials.length > 0 && b.trials.length > 0,
    `both processes ran trials (${a.trials.length} + ${b.trials.length})`,
  );
  assert.deepEqual(
    trials.map((t) => t.inner_dim).sort((x, y) => x - y),
    [32, 64, 128, 256],
    'distinct parameter sets',
  );
  assert.equal(new Set(trials.map((t) => t.pid)).size, 4);

  const status = await restJson(server, `${V2}/optimizer/status`, { id });
  assert.equal(status.state, 'completed');
  assert.equal(status.config.algorithm, 'bayes');
  assert.equal(status.trials.length, 4);
  for (const t of trials) {
    const s = status.trials.find((x: Json) => x.pid === t.pid);
    assert.ok(s, `trial ${t.pid} is in the sweep`);
    assert.deepEqual(s.parameters, { inner_dim: t.inner_dim });
    assert.equal(s.status, 'completed');
    assert.equal(s.score, t.score, 'the score is the minimum of the logged objective');
    assert.equal(s.experimentKey, t.key, 'the trial links its experiment');
    const meta = await restJson(server, `${V2}/experiment/metadata`, { experimentKey: t.key });
    assert.equal(meta.optimizationId, id);
    const values = (
      await restJson(server, `${V2}/experiment/metrics/get-metric`, { experimentKey: t.key, metricName: 'val_loss' })
    ).metrics;
    assert.equal(Math.min(...values.map((v: Json) => v.metricValue)), s.score);
    const params = byName((await restJson(server, `${V2}/experiment/parameters`, { experimentKey: t.key })).values);
    assert.equal(params.inner_dim.value, t.inner_dim);
  }
  assert.deepEqual(status.best.parameters, { inner_dim: 128 });
  const sweeps = (await restJson(server, '/api/ocrops/sweeps', { projectName: 'sdk-opt' })).sweeps as Json[];
  assert.ok(
    sweeps.some((s) => s.id === id),
    "the dashboard lists the sweep under the experiments' project",
  );
  return id;
}

/** An OfflineExperiment archive uploaded with the SDK's own `comet upload`. */
async function checkOffline(server: TrackerServer, env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const folder = join(cwd, 'offline');
  mkdirSync(folder, { recursive: true });
  const { key } = await py(env, cwd, 'offline.py', folder);
  const archives = readdirSync(folder).filter((f) => f.endsWith('.zip'));
  assert.deepEqual(archives, [`${key}.zip`]);
  await run(venvBin('comet'), ['upload', join(folder, archives[0])], { env, cwd, timeout: 240_000 });
  const q = { experimentKey: key };
  const meta = await restJson(server, `${V2}/experiment/metadata`, q);
  assert.deepEqual([meta.experimentName, meta.projectName, meta.running], ['offline-run', 'sdk-offline', false]);
  assert.ok(meta.startTimeMillis < meta.endTimeMillis, 'start and end time come from the archive');
  const loss = (await restJson(server, `${V2}/experiment/metrics/get-metric`, { ...q, metricName: 'loss' })).metrics;
  assert.deepEqual(
    loss.map((p: Json) => [p.step, p.epoch, p.metricValue]),
    [
      [0, 0, 2],
      [1, 0, 1.5],
      [2, 0, 1],
    ],
  );
  const params = byName((await restJson(server, `${V2}/experiment/parameters`, q)).values);
  assert.deepEqual([params.lr.value, params.layers.value], [0.01, 3]);
  assert.equal(byName((await restJson(server, `${V2}/experiment/log-other`, q)).values).where.value, 'airplane');
  assert.deepEqual((await restJson(server, `${V2}/experiment/tags`, q)).tags, ['offline']);
  const a = ((await restJson(server, `${V2}/experiment/asset/list`, q)).assets as Json[]).find(
    (x) => x.fileName === 'offline.bin',
  );
  assert.ok(a);
  assert.deepEqual(
    (await rest(server, `${V2}/experiment/asset/get-asset`, { ...q, assetId: a.assetId })).buf,
    Buffer.from('offline-bytes-\x00\xff', 'latin1'),
  );
}

interface Backend {
  name: string;
  start(dir: string): Promise<TrackerServer | string>;
  stop?(): void;
}

let pg: PgCluster | undefined;
const backends: Backend[] = [
  { name: 'SQLite', start: (dir) => startServer({ port: 0, dataDir: dir, optimizer: optimizerAlgorithm }) },
  {
    name: 'PostgreSQL',
    async start(dir) {
      const r = await startPostgres();
      if ('skip' in r) return r.skip;
      pg = r;
      return startServer({ port: 0, dataDir: dir, databaseUrl: r.url, optimizer: optimizerAlgorithm });
    },
    stop: () => pg?.stop(),
  },
];

for (const backend of backends) {
  describe(`comet_ml ${SDK_VERSION} SDK against the tracker (${backend.name})`, { skip }, () => {
    let server: TrackerServer | undefined;
    let unavailable: string | undefined;
    let work: { dir: string; head: string };
    const warnings: string[] = [];
    const warn = console.warn;

    before(async () => {
      work = gitWorkdir();
      const s = await backend.start(join(work.dir, 'tracker'));
      if (typeof s === 'string') unavailable = s;
      else server = s;
      console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
    });
    after(async () => {
      console.warn = warn;
      await server?.close();
      backend.stop?.();
      rmSync(work.dir, { recursive: true, force: true });
    });

    test('Experiment logging lands exactly, comet_ml.API reads it back, ExistingExperiment and APIExperiment add to it', async (t) => {
      if (!server) return t.skip(unavailable);
      const { key } = await py(
        sdkEnv(server, `${server.url}/clientlib/`, work.dir),
        work.dir,
        'log_experiment.py',
        work.dir,
      );
      await checkLoggedExperiment(server, key, work.head);
      const got = await py(sdkEnv(server, `${server.url}${V2}/`, work.dir), work.dir, 'read_experiment.py', key);
      await checkReadApi(server, key, got);

      // ExistingExperiment continues the run; APIExperiment writes to it
      await py(sdkEnv(server, `${server.url}/clientlib/`, work.dir), work.dir, 'resume.py', key);
      const q = { experimentKey: key };
      const loss = (await restJson(server, `${V2}/experiment/metrics/get-metric`, { ...q, metricName: 'loss' }))
        .metrics as Json[];
      assert.deepEqual(loss.map((p) => [p.step, p.epoch, p.metricValue]).at(-1), [5, 3, 0.125]);
      assert.equal(loss.length, 6);
      const api = (await restJson(server, `${V2}/experiment/metrics/get-metric`, { ...q, metricName: 'api_metric' }))
        .metrics as Json[];
      assert.deepEqual(
        api.map((p) => [p.step, p.metricValue]),
        [[9, 7.5]],
      );
      const params = byName((await restJson(server, `${V2}/experiment/parameters`, q)).values);
      assert.deepEqual([params.resumed.value, params.api_param.value], [true, 'from-api']);
      assert.equal(byName((await restJson(server, `${V2}/experiment/log-other`, q)).values).api_other.value, 'x');
      assert.deepEqual((await restJson(server, `${V2}/experiment/tags`, q)).tags, [
        'api-tag',
        'baseline',
        'e2e',
        'sdk',
      ]);
      const meta = await restJson(server, `${V2}/experiment/metadata`, q);
      assert.equal(meta.running, false, 'the resumed run ended again');
    });

    test('Optimizer: two processes share one sweep run by ocrops bayes', async (t) => {
      if (!server) return t.skip(unavailable);
      const id = await checkOptimizer(server, sdkEnv(server, `${server.url}/`, work.dir), work.dir);
      if (backend.name !== 'SQLite') return;
      const { code, stdout, stderr } = await runOcrops(
        ['sweep', 'status', '--sweep-id', id, '--url', server.url, `--api-key=${server.defaultKey}`],
        {
          timeoutMs: 120_000,
        },
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`sweep ${id}: completed, bayes, val_loss minimize`));
      assert.match(stdout, /best: \S+ val_loss=0\.1 \{"inner_dim":128\}/);
    });

    test('`comet optimize -j 2` runs a grid sweep over two processes', async (t) => {
      if (!server) return t.skip(unavailable);
      if (backend.name !== 'SQLite') return t.skip('the same protocol as the Optimizer test; run on SQLite only');
      const config = join(work.dir, 'grid.config');
      writeFileSync(
        config,
        JSON.stringify({
          algorithm: 'grid',
          spec: { maxCombo: 4, metric: 'val_loss', objective: 'minimize' },
          parameters: { inner_dim: [32, 64, 128, 256] },
          trials: 1,
        }),
      );
      const env = sdkEnv(server, `${server.url}/clientlib/`, work.dir);
      const { stdout } = await run(
        venvBin('comet'),
        ['optimize', '-j', '2', join(scripts, 'optimize_cli.py'), config],
        { env, cwd: work.dir, timeout: 240_000 },
      );
      assert.match(stdout, /status: completed/);
      const sweeps = (await restJson(server, '/api/ocrops/sweeps', { projectName: 'sdk-optimize-cli' }))
        .sweeps as Json[];
      assert.equal(sweeps.length, 1);
      const trials = sweeps[0].trials as Json[];
      assert.deepEqual(
        trials.map((x) => x.parameters.inner_dim).sort((a, b) => a - b),
        [32, 64, 128, 256],
      );
      assert.ok(
        trials.every((x) => x.status === 'completed' && x.score === Math.abs(x.parameters.inner_dim - 128) / 128),
      );
      const pids = new Set<number>();
      for (const x of trials) {
        const others = byName(
          (await restJson(server, `${V2}/experiment/log-other`, { experimentKey: x.experimentKey })).values,
        );
        pids.add(others.optimizer_process.value);
      }
      assert.equal(pids.size, 2, 'two processes shared the sweep');
    });

    test('OfflineExperiment archives upload with `comet upload`', async (t) => {
      if (!server) return t.skip(unavailable);
      await checkOffline(server, sdkEnv(server, `${server.url}/clientlib/`, work.dir), work.dir);
    });

    test('an unsupported SDK call gets a JSON 404 the SDK reports, logged once by the server', async (t) => {
      if (!server) return t.skip(unavailable);
      const key = (await restJson(server, `${V2}/experiments`, { projectName: 'sdk-offline' })).experiments[0]
        .experimentKey;
      const { errors } = await py(
        sdkEnv(server, `${server.url}/clientlib/`, work.dir),
        work.dir,
        'unsupported.py',
        key,
      );
      assert.equal(errors.length, 2);
      for (const e of errors)
        assert.match(e, /the ocrops tracker does not implement GET \/api\/rest\/v2\/experiment\/code/);
      assert.equal(
        warnings.filter((w) => w.includes('GET /api/rest/v2/experiment/code')).length,
        1,
        warnings.join('\n'),
      );
      const r = await rest(server, `${V2}/experiment/code`, { experimentKey: key });
      assert.deepEqual([r.status, r.type, r.json?.sdk_error_code], [404, 'application/json', 40400]);
    });
  });
}
