// End-to-end test of @ocrops/sweep: a 4-trial bayes sweep of the synthetic default with 2 workers
// against a real tracker server (in-process, free loopback port, temp data dir), killed (SIGKILL) after 2 finished
// trials, resumed, ending with exactly 4 completed trials and best.json pointing at the best one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOcrops } from '@ocrops/common';
import { startServer, TrackerApi } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';
import { type BestRecord } from '@ocrops/sweep';

function writeSweep(dir: string): string {
  const data = join(dir, 'data.yaml');
  writeFileSync(
    data,
    [
      'name: tiny-sweep',
      'source: { format: synthetic }',
      'charset: vietnamese',
      'image: { height: 32, channels: 1, max_width: 256 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { count: 100, seed: 3 }',
      `output: ${join(dir, 'prepared')}`,
      '',
    ].join('\n'),
  );
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    [
      'algorithm: bayes',
      'name: e2e',
      'spec: { maxCombo: 4, objective: minimize, metric: val_loss, seed: 7 }',
      'parameters:',
      '  lr: { type: float, scalingType: loguniform, min: 0.001, max: 0.01 }',
      '  hidden: [16, 24]',
      'ocrops:',
      '  train: configs/train/synthetic.yaml',
      '  workers: 2',
      `  set: { data: ${JSON.stringify(data)}, train.epochs: 1, train.max_steps_per_epoch: 3, train.batch_size: 8,`,
      '         model.embed_dim: 16, train.log_every: 1, train.checkpoint_every: 0, train.augment: false }',
      '  pruner: { type: none }',
      `  out: ${JSON.stringify(join(dir, 'sweep'))}`,
      `  best: ${JSON.stringify(join(dir, 'models', 'best'))}`,
      '',
    ].join('\n'),
  );
  return file;
}

function runCli(args: string[], env: Record<string, string>, onLine?: (l: string, child: ChildProcess) => void) {
  const child = spawnOcrops(['sweep', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let buf = '';
  const feed = (d: Buffer) => {
    text += d;
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine?.(line, child);
    }
  };
  child.stdout!.on('data', feed);
  child.stderr!.on('data', feed);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; text: string }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, text })),
  );
  return { child, done };
}

test('sweep: 4 trials, 2 workers, SIGKILL after 2 finished, --resume, best.json', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-sweep-e2e-'));
  mkdirSync(join(dir, 'tracker'));
  const server = await startServer({ port: 0, dataDir: join(dir, 'tracker'), optimizer: optimizerAlgorithm });
  try {
    const file = writeSweep(dir);
    const env = {
      COMET_URL_OVERRIDE: server.url,
      COMET_API_KEY: server.defaultKey,
      OCROPS_TRACKER_SPOOL: join(dir, 'spool'),
    };

    // first run: killed hard once two trials have finished
    let finished = 0;
    const first = runCli(['run', '--config', file], env, (line, child) => {
      if (/ completed: val_loss=/.test(line) && ++finished === 2) child.kill('SIGKILL');
    });
    const r1 = await first.done;
    assert.equal(r1.signal, 'SIGKILL', `first run was expected to be killed:\n${r1.text}`);
    const state = JSON.parse(readFileSync(join(dir, 'sweep', 'sweep.json'), 'utf8')) as { sweepId: string };
    const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
    const mid = await api.optimizerStatus(state.sweepId);
    const midDone = mid.trials.filter((t) => t.status === 'completed');
    assert.ok(midDone.length >= 2, `completed before the kill: ${JSON.stringify(mid.trials)}`);
    assert.ok(midDone.length < 4, 'the kill came before the sweep ended');

    // resume: unfinished trials are released and run again, finished ones are not repeated
    const second = runCli(['run', '--config', file, '--resume'], env);
    const r2 = await second.done;
    if (process.env.OCROPS_TEST_VERBOSE) console.log(`--- first run\n${r1.text}\n--- resumed run\n${r2.text}`);
    assert.equal(r2.code, 0, r2.text);
    const end = await api.optimizerStatus(state.sweepId);
    const completed = end.trials.filter((t) => t.status === 'completed');
    assert.equal(completed.length, 4, JSON.stringify(end.trials, null, 1));
    assert.equal(end.trials.filter((t) => t.status === 'running').length, 0);
    assert.equal(new Set(completed.map((t) => JSON.stringify(t.parameters))).size, 4, 'no parameter set ran twice');
    for (const t of midDone) {
      assert.ok(
        completed.some((c) => c.pid === t.pid && c.score === t.score),
        `finished trial ${t.pid} was kept as it was`,
      );
    }
    assert.match(r2.text, new RegExp(`sweep ${state.sweepId} joined`));

    // the best trial's weights and best.json
    const bestDir = join(dir, 'models', 'best');
    const best = JSON.parse(readFileSync(join(bestDir, 'best.json'), 'utf8')) as BestRecord;
    const lowest = completed.reduce((a, b) => (b.score! < a.score! ? b : a));
    assert.equal(best.pid, lowest.pid);
    assert.equal(best.value, lowest.score);
    assert.equal(best.sweepId, state.sweepId);
    assert.equal(best.metric, 'val_loss');
    assert.deepEqual(best.parameters, lowest.parameters);
    assert.equal(best.experimentKey, lowest.experimentKey);
    assert.ok(
      readdirSync(bestDir).some((f) => f.endsWith('.json') && f !== 'best.json'),
      'model files copied',
    );
    assert.ok(existsSync(join(dir, 'sweep', 'trials', `${best.pid.slice(0, 12)}-1`, 'result.json')));

    // each trial is a tracked run linked to the sweep by Comet's optimizer_* others
    const others = await api.others(best.experimentKey!);
    const get = (k: string) =>
      (others as Array<{ name: string; valueCurrent: unknown }>).find((o) => o.name === k)?.valueCurrent;
    assert.equal(get('optimizer_id'), state.sweepId);
    assert.equal(get('optimizer_pid'), best.pid);
    assert.equal(get('optimizer_metric'), 'val_loss');
  } finally {
    await server.close();
  }
});
