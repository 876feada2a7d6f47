// Many machines on one: network namespaces as hosts. `svc` runs PostgreSQL, SeaweedFS and the tracker; `w1` and `w2`
// each run `ocrops sweep worker` from their own clone of the repository with their own HOME, sharing nothing but the
// tracker and S3. w1's worker is SIGKILLed mid-trial (with its trainer: the host died) and comes back; w2's link is cut
// for longer than a lease. The sweep still finishes all maxCombo trials, none lost or counted twice, and the best
// weights pulled from S3 are md5-identical to what the winning worker trained. Skips only where `ip netns` is not
// permitted (it needs root or CAP_NET_ADMIN and iproute2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ocropsCommand, repoRoot, venvBin } from '@ocrops/common';
import { hashDirectory } from '@ocrops/versioning';
import { LOCAL_S3_CREDENTIALS } from '@ocrops/services';
import { copyRepo } from '@ocrops/services/testkit';
import { NetnsLab, netnsUnavailable } from './fixtures/netns-lab.js';

const root = repoRoot();
const TSX = ['--conditions=@ocrops/source', '--import', 'tsx', '--no-warnings=ExperimentalWarning'];
const LEASE_SECONDS = 5;
const MAX_COMBO = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why this test cannot run here, or undefined. */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux-only';
  if (!existsSync('/usr/lib/postgresql/15/bin/initdb')) return 'PostgreSQL 15 binaries absent: run scripts/setup';
  if (!existsSync(venvBin('weed'))) return '.venv/bin/weed absent: run scripts/setup';
  return netnsUnavailable();
}

/** The tiny sweep: random search over lr and hidden size of the light default model on 100 synthetic lines, 2 epochs of 2 steps. */
function writeSweepFiles(clone: string): string {
  mkdirSync(join(clone, 'configs', 'netns'), { recursive: true });
  writeFileSync(
    join(clone, 'configs', 'netns', 'data.yaml'),
    [
      'name: netns-tiny',
      'source: { format: synthetic }',
      'charset: vietnamese',
      'image: { height: 32, channels: 1, max_width: 256 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { count: 100, seed: 3 }',
      'output: data/prepared/netns-tiny',
      '',
    ].join('\n'),
  );
  const file = join(clone, 'configs', 'netns', 'sweep.yaml');
  writeFileSync(
    file,
    [
      'algorithm: random',
      'name: netns',
      `spec: { maxCombo: ${MAX_COMBO}, objective: minimize, metric: val_loss, seed: 11, retryAssignLimit: 3 }`,
      'parameters:',
      '  lr: { type: float, scalingType: loguniform, min: 0.001, max: 0.01 }',
      '  hidden: [16, 24]',
      'ocrops:',
      '  train: configs/train/synthetic.yaml',
      '  workers: 1',
      '  set: { data: configs/netns/data.yaml, model.embed_dim: 16, train.epochs: 2, train.max_steps_per_epoch: 2,',
      '         train.batch_size: 8, train.max_val_samples: 8, train.log_every: 1, train.checkpoint_every: 0, train.augment: false }',
      '  pruner: { type: none }',
      '  out: runs/sweeps/netns',
      '',
    ].join('\n'),
  );
  return file;
}

/** Lines of a child's stdout+stderr, kept for the failure message, with a callback per line. */
function collect(child: ChildProcess, tag: string, lines: string[], onLine?: (l: string) => void): void {
  for (const s of [child.stdout, child.stderr]) {
    if (!s) continue;
    createInterface({ input: s }).on('line', (l) => {
      lines.push(`${tag}: ${l}`);
      onLine?.(l);
    });
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`${what}: no result after ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command in a namespace to its end (bounded), resolving to its output. */
async function runIn(
  lab: NetnsLab,
  host: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
  ms = 180_000,
): Promise<string> {
  const child = lab.spawn(host, process.execPath, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  collect(child, host, lines);
  const r = await within(exited(child), ms, `${args.slice(-6).join(' ')} in ${host}`);
  assert.equal(r.code, 0, `${args.join(' ')} in ${host} failed:\n${lines.join('\n')}`);
  return lines.map((l) => l.slice(host.length + 2)).join('\n');
}

/** The trial folders of a clone's sweep with the run key each one recorded. */
function trialRuns(clone: string): Array<{ dir: string; experimentKey?: string; bestModelDir?: string }> {
  const base = join(clone, 'runs', 'sweeps', 'netns', 'trials');
  if (!existsSync(base)) return [];
  return readdirSync(base).map((d) => {
    const p = join(base, d, 'result.json');
    const r = existsSync(p)
      ? (JSON.parse(readFileSync(p, 'utf8')) as { experimentKey?: string; bestModelDir?: string })
      : {};
    return { dir: join(base, d), experimentKey: r.experimentKey, bestModelDir: r.bestModelDir };
  });
}

test(
  'many machines: namespaces svc + w1 + w2, SIGKILL and a cut link, all trials once, best weights from S3',
  { timeout: 900_000 },
  async (t) => {
    const why = skipReason();
    if (why) return t.skip(why);
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-netns-'));
    const lab = NetnsLab.create(['svc', 'w1', 'w2']);
    const lines: string[] = [];
    const children: ChildProcess[] = [];
    try {
      // svc: PostgreSQL + SeaweedFS + tracker
      const svcAddr = lab.host('svc').address;
      const svc = lab.spawn(
        'svc',
        process.execPath,
        [...TSX, join(root, 'test/fixtures/netns-svc.ts'), svcAddr, join(dir, 'svc')],
        {
          cwd: root,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
        },
      );
      children.push(svc);
      const info = await within(
        new Promise<{ tracker: string; s3: string; apiKey: string; bucket: string; error?: string }>((res) => {
          collect(svc, 'svc', lines, (l) => {
            if (l.startsWith('{')) res(JSON.parse(l));
          });
        }),
        240_000,
        'svc start',
      );
      assert.equal(info.error, undefined, info.error);
      const trackerPort = Number(new URL(info.tracker).port);

      // w1, w2: their own clone and HOME, nothing shared but the tracker URL, an API key and S3 settings
      const hosts = ['w1', 'w2'] as const;
      const clones: Record<string, string> = {};
      const envs: Record<string, NodeJS.ProcessEnv> = {};
      const sweepFiles: Record<string, string> = {};
      for (const h of hosts) {
        clones[h] = copyRepo(root, join(dir, h, 'repo'));
        mkdirSync(join(dir, h, 'home'), { recursive: true });
        sweepFiles[h] = writeSweepFiles(clones[h]);
        envs[h] = {
          PATH: process.env.PATH,
          HOME: join(dir, h, 'home'),
          COMET_API_KEY: info.apiKey,
          TF_CPP_MIN_LOG_LEVEL: '2',
          TF_NUM_INTRAOP_THREADS: '1',
          TF_NUM_INTEROP_THREADS: '1',
          OCROPS_BACKEND: process.env.OCROPS_BACKEND,
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
        };
        assert.ok(lab.connects(h, svcAddr, trackerPort), `${h} reaches the tracker at ${info.tracker}`);
      }
      /** `ocrops <args>` of host h's own clone, as node arguments. */
      const cli = (h: string, args: string[]) => ocropsCommand(args, { root: clones[h] })[1];
      const id = (
        await runIn(lab, 'w1', cli('w1', ['sweep', 'create', '--config', sweepFiles.w1, '--url', info.tracker]), {
          cwd: clones.w1,
          env: envs.w1,
        })
      )
        .trim()
        .split('\n')
        .pop()!;
      assert.match(id, /^[0-9a-f]{32}$/);

      const workerArgs = (h: string, extra: string[] = []) =>
        cli(h, [
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
          '--lease-seconds',
          String(LEASE_SECONDS),
          '--name',
          h,
          ...extra,
        ]);
      const early = (c: ChildProcess, h: string) =>
        exited(c).then((r) => {
          throw new Error(`${h}'s worker ended too early (${JSON.stringify(r)}):\n${lines.join('\n')}`);
        });
      const startWorker = (h: string, tag: string, onLine?: (l: string) => void, extra: string[] = []) => {
        // its own process group: SIGKILL of the group takes the worker and its trainer, as a dying host would
        const c = lab.spawn(h, process.execPath, workerArgs(h, extra), {
          cwd: clones[h],
          env: envs[h],
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(c);
        collect(c, tag, lines, onLine);
        return c;
      };

      // w1 is killed (SIGKILL, whole process group) after the first epoch of its first trial
      let killedTrial = '';
      let w1Killed: () => void = () => {};
      const w1Gone = new Promise<void>((res) => {
        w1Killed = res;
      });
      const w1 = startWorker('w1', 'w1', (l) => {
        const m = /\[worker 1\] trial \d+ \(([0-9a-f]{12}-\d+)\)/.exec(l);
        if (m && !killedTrial) killedTrial = m[1];
        if (killedTrial && / epoch 1: /.test(l) && w1.exitCode === null && w1.signalCode === null) {
          process.kill(-w1.pid!, 'SIGKILL');
          w1Killed();
        }
      });
      const w2 = startWorker('w2', 'w2');
      await within(Promise.race([w1Gone, early(w1, 'w1'), early(w2, 'w2')]), 480_000, 'w1 reaching epoch 1');
      assert.equal((await within(exited(w1), 30_000, 'w1 exit')).signal, 'SIGKILL');

      // the w1 host comes back with a new worker while w2's link is cut: the cut lasts until the new worker has asked
      // for a trial (so it may be handed w2's trial, whose lease ran out) and at least a lease and a bit (bounded)
      lab.cut('w2');
      const cutAt = Date.now();
      assert.equal(lab.connects('w2', svcAddr, trackerPort), false, 'the cut link carries nothing');
      // 2 parallel trials: it takes w1's expired trial and, once its lease ran out too, w2's
      let w1bAsked: () => void = () => {};
      const w1bTrial = new Promise<void>((res) => {
        w1bAsked = res;
      });
      let w1bTrials = 0;
      const w1b = startWorker(
        'w1',
        'w1b',
        (l) => {
          if (/\[worker \d\] trial \d+ \(/.test(l)) w1bTrials++;
          if (w1bTrials >= 2 || /sweep [0-9a-f]+: \d+ completed/.test(l)) w1bAsked();
        },
        ['--workers', '2'],
      );
      await within(Promise.race([w1bTrial, early(w1b, 'w1b')]), 240_000, "w1's new worker asking for trials");
      await sleep(Math.max(0, (LEASE_SECONDS + 2) * 1000 - (Date.now() - cutAt)));
      lab.restore('w2');
      const cutSeconds = (Date.now() - cutAt) / 1000;

      // both workers end on their own once the sweep has nothing left (bounded)
      const [e1, e2] = await within(Promise.all([exited(w1b), exited(w2)]), 600_000, 'workers finishing the sweep');
      assert.equal(e1.code, 0, `w1's second worker:\n${lines.join('\n')}`);
      assert.equal(e2.code, 0, `w2's worker:\n${lines.join('\n')}`);

      // the sweep, read in svc: every trial completed exactly once, no extra trial
      const statusJson = await runIn(
        lab,
        'svc',
        ocropsCommand([
          'sweep',
          'status',
          '--sweep-id',
          id,
          '--json',
          '--url',
          info.tracker,
          `--api-key=${info.apiKey}`,
        ])[1],
        { cwd: root, env: { ...process.env } },
      );
      const st = JSON.parse(statusJson) as {
        trials: Array<{ pid: string; trial: number; status: string; score?: number; experimentKey?: string }>;
        best?: { pid: string; experimentKey?: string };
      };
      const report = lines
        .filter((l) => /assigned|not recorded|heartbeat|trial \d+ \(|completed|failed/.test(l))
        .join('\n');
      assert.equal(
        st.trials.length,
        MAX_COMBO,
        `exactly maxCombo trials:\n${JSON.stringify(st.trials, null, 1)}\n${report}`,
      );
      assert.deepEqual(
        st.trials.map((x) => x.status),
        Array(MAX_COMBO).fill('completed'),
        report,
      );
      assert.equal(new Set(st.trials.map((x) => x.pid)).size, MAX_COMBO, 'no parameter set twice');
      assert.ok(
        st.trials.some((x) => x.pid.startsWith(killedTrial.split('-')[0])),
        `the killed trial ${killedTrial} is in the sweep`,
      );
      // the killed trial was started again after the kill (by w1's new worker or by w2)
      const restarts = lines.filter(
        (l) => /^(w1b|w2): /.test(l) && l.includes(`(${killedTrial})`) && / trial \d+ \(/.test(l),
      );
      assert.ok(restarts.length >= 1, `trial ${killedTrial} ran again after the kill:\n${report}`);
      // every completed trial's run names its weights in S3, each recorded result came from one run
      const keys = st.trials.map((x) => x.experimentKey);
      assert.equal(new Set(keys).size, MAX_COMBO, 'one run per trial result');

      // the best weights, pulled from S3 in svc (no clone there), are md5-identical to what the winning worker trained
      const dest = join(dir, 'best');
      await runIn(
        lab,
        'svc',
        ocropsCommand(['sweep', 'best', id, '--dest', dest, '--url', info.tracker, `--api-key=${info.apiKey}`])[1],
        {
          cwd: root,
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
          },
        },
      );
      const winner = hosts
        .flatMap((h) => trialRuns(clones[h]).map((r) => ({ ...r, host: h })))
        .find((r) => r.experimentKey === st.best!.experimentKey);
      assert.ok(winner, `the best run ${st.best!.experimentKey} was trained in w1 or w2`);
      const trained = await hashDirectory(winner.bestModelDir ?? join(winner.dir, 'best'));
      const pulled = (await hashDirectory(dest)).filter((e) => e.relpath !== 'best.json');
      assert.ok(trained.length >= 2, 'model files');
      assert.deepEqual(
        pulled.sort((a, b) => a.relpath.localeCompare(b.relpath)),
        trained.sort((a, b) => a.relpath.localeCompare(b.relpath)),
      );
      const best = JSON.parse(readFileSync(join(dest, 'best.json'), 'utf8')) as { pid: string; sweepId: string };
      assert.deepEqual([best.pid, best.sweepId], [st.best!.pid, id]);
      t.diagnostic(
        `w2's link was cut for ${cutSeconds.toFixed(1)} s; winner trained in ${winner.host}; lease events:\n${lines.filter((l) => /assigned to another|not recorded|from another worker|answers again|heartbeat/.test(l)).join('\n') || '(none)'}`,
      );
      if (process.env.OCROPS_TEST_VERBOSE) console.log(lines.join('\n'));
    } catch (err) {
      if (process.env.OCROPS_TEST_VERBOSE) console.log(lines.join('\n'));
      throw err;
    } finally {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null && c.pid) {
          try {
            process.kill(c === children[0] ? c.pid : -c.pid, 'SIGTERM');
          } catch {
            /* gone */
          }
        }
      }
      if (children[0]) await within(exited(children[0]), 60_000, 'svc stop').catch(() => undefined);
      lab.destroySync();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
