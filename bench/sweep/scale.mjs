// Sweep wall-clock, 1 worker vs 2 workers on 2 hosts: the same 8-trial random sweep (the light default model on
// synthetic lines, 1 TensorFlow thread per trial) run by `ocrops sweep worker` in 1 network namespace, then in 2, each
// against a tracker on PostgreSQL + SeaweedFS in a `svc` namespace (test/fixtures/netns-*.ts). Needs root for `ip netns`.
// Writes bench/results/sweep-scale.{json,md}.
//   nice node bench/sweep/scale.mjs [--trials 8] [--steps 12]
import { reexecUnderTsx } from '../tsx.mjs';

reexecUnderTsx(import.meta.url);

const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
const { loadavg, tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { createInterface } = await import('node:readline');
const { parseArgs } = await import('node:util');
const { repoRoot } = await import('@ocrops/common');
const { LOCAL_S3_CREDENTIALS } = await import('@ocrops/versioning');
const { NetnsLab, netnsUnavailable } = await import('../../test/fixtures/netns-lab.ts');
const { copyRepo } = await import('@ocrops/services/testkit');

const { values: opt } = parseArgs({
  options: {
    trials: { type: 'string', default: '8' },
    steps: { type: 'string', default: '12' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  console.log('Usage: nice node bench/sweep/scale.mjs [--trials 8] [--steps 12]   (needs root: ip netns)');
  process.exit(0);
}
const TRIALS = Number(opt.trials);
const STEPS = Number(opt.steps);
const root = repoRoot();
const TSX = ['--conditions=@ocrops/source', '--import', 'tsx', '--no-warnings=ExperimentalWarning'];

const why = netnsUnavailable();
if (why) {
  console.error(`bench/sweep/scale: ${why}`);
  process.exit(2);
}

function files(clone) {
  mkdirSync(join(clone, 'configs', 'bench-scale'), { recursive: true });
  writeFileSync(
    join(clone, 'configs', 'bench-scale', 'data.yaml'),
    [
      'name: bench-scale',
      'source: { format: synthetic }',
      'charset: vietnamese',
      'image: { height: 32, channels: 1, max_width: 256 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { count: 400, seed: 5 }',
      'output: data/prepared/bench-scale',
      '',
    ].join('\n'),
  );
  const file = join(clone, 'configs', 'bench-scale', 'sweep.yaml');
  writeFileSync(
    file,
    [
      'algorithm: random',
      'name: bench-scale',
      `spec: { maxCombo: ${TRIALS}, objective: minimize, metric: val_loss, seed: 3, retryAssignLimit: 2 }`,
      'parameters:',
      '  lr: { type: float, scalingType: loguniform, min: 0.001, max: 0.01 }',
      '  hidden: [32, 48, 64]',
      'ocrops:',
      '  train: configs/train/synthetic.yaml',
      '  workers: 1',
      `  set: { data: configs/bench-scale/data.yaml, train.epochs: 1, train.max_steps_per_epoch: ${STEPS}, train.max_val_samples: 32,`,
      '         train.checkpoint_every: 0, train.augment: false }',
      '  pruner: { type: none }',
      '  out: runs/sweeps/bench-scale',
      '',
    ].join('\n'),
  );
  return file;
}

function run(lab, host, args, opts) {
  return new Promise((res, rej) => {
    const c = lab.spawn(host, process.execPath, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) =>
      code === 0 ? res(out) : rej(new Error(`${args.join(' ')} in ${host} exited ${code}:\n${out}`)),
    );
  });
}

const dir = mkdtempSync(join(tmpdir(), 'ocrops-bench-scale-'));
const clones = {};
const results = [];
try {
  for (const h of ['w1', 'w2']) {
    clones[h] = copyRepo(root, join(dir, h, 'repo'));
    mkdirSync(join(dir, h, 'home'), { recursive: true });
    files(clones[h]);
  }
  for (const n of [1, 2]) {
    const hosts = Array.from({ length: n }, (_, i) => `w${i + 1}`);
    const lab = NetnsLab.create(['svc', ...hosts]);
    const svcAddr = lab.host('svc').address;
    const svc = lab.spawn(
      'svc',
      process.execPath,
      [...TSX, join(root, 'test/fixtures/netns-svc.ts'), svcAddr, join(dir, `svc-${n}`)],
      {
        cwd: root,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      const info = await new Promise((res) =>
        createInterface({ input: svc.stdout }).on('line', (l) => l.startsWith('{') && res(JSON.parse(l))),
      );
      const env = (h) => ({
        PATH: process.env.PATH,
        HOME: join(dir, h, 'home'),
        COMET_API_KEY: info.api_key,
        TF_CPP_MIN_LOG_LEVEL: '2',
        TF_NUM_INTRAOP_THREADS: '1',
        TF_NUM_INTEROP_THREADS: '1',
        AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      });
      const cli = (h) => join(clones[h], 'packages/cli/bin/ocrops.mjs');
      // the data is prepared on each host before the clock starts
      for (const h of hosts)
        await run(lab, h, [cli(h), 'data', 'prepare', '--config', 'configs/bench-scale/data.yaml'], {
          cwd: clones[h],
          env: env(h),
        });
      const id = (
        await run(
          lab,
          'w1',
          [cli('w1'), 'sweep', 'create', '--config', 'configs/bench-scale/sweep.yaml', '--url', info.tracker],
          { cwd: clones.w1, env: env('w1') },
        )
      )
        .trim()
        .split('\n')
        .pop();
      const started = Date.now();
      const load0 = loadavg()[0];
      await Promise.all(
        hosts.map((h) =>
          run(
            lab,
            h,
            [
              cli(h),
              'sweep',
              'worker',
              '--tracker',
              info.tracker,
              '--sweep',
              id,
              '--s3-url',
              `s3://${info.bucket}/dvc`,
              '--s3-endpoint',
              info.s3,
              '--name',
              h,
            ],
            { cwd: clones[h], env: env(h) },
          ),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const status = JSON.parse(
        await run(
          lab,
          'svc',
          [
            join(root, 'packages/cli/bin/ocrops.mjs'),
            'sweep',
            'status',
            '--sweep-id',
            id,
            '--json',
            '--url',
            info.tracker,
            '--api-key',
            info.api_key,
          ],
          { cwd: root, env: process.env },
        ),
      );
      const completed = status.trials.filter((t) => t.status === 'completed').length;
      results.push({
        workers: n,
        hosts: n,
        seconds,
        completed,
        trials: status.trials.length,
        loadStart: load0,
        loadEnd: loadavg()[0],
      });
      console.log(
        `${n} worker(s) in ${n} namespace(s): ${seconds.toFixed(1)} s for ${completed}/${TRIALS} trials (load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)})`,
      );
    } finally {
      svc.kill('SIGTERM');
      await new Promise((r) => (svc.exitCode !== null ? r() : svc.on('exit', r)));
      lab.destroySync();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const ratio = results[0].seconds / results[1].seconds;
const out = {
  date: new Date().toISOString(),
  trials: TRIALS,
  stepsPerTrial: STEPS,
  cores: (await import('node:os')).availableParallelism(),
  results,
  ratio,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/sweep-scale.json'), `${JSON.stringify(out, null, 2)}\n`);
writeFileSync(
  join(root, 'bench/results/sweep-scale.md'),
  [
    `Sweep wall clock (${out.date}): the same ${TRIALS}-trial random sweep (light default model, 1 epoch of ${STEPS} steps,`,
    `1 TensorFlow thread per trial), tracker on PostgreSQL + SeaweedFS in a namespace, workers in their own namespaces.`,
    '',
    '| workers (hosts) | wall clock | trials completed | load average start -> end |',
    '|---|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.workers} (${r.hosts}) | ${r.seconds.toFixed(1)} s | ${r.completed}/${r.trials} | ${r.loadStart.toFixed(1)} -> ${r.loadEnd.toFixed(1)} |`,
    ),
    '',
    `Speed-up with 2 workers: **${ratio.toFixed(2)}x** (ideal on ${out.cores} idle cores: ~2x).`,
    '',
  ].join('\n'),
);
console.log(`ratio 1 worker / 2 workers: ${ratio.toFixed(2)}x`);
