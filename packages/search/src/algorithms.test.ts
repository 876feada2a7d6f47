import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optimizerAlgorithm } from './optimizer.js';
import { SearchSpace } from './space.js';
import { parseOptimizerConfig } from './config.js';
import type { TrialRecord } from './types.js';

type P = Record<string, unknown>;

/** Runs a sweep sequentially (batches of `batch`), scoring with f; returns every suggested parameter set. */
function drive(cfg: unknown, f: (p: P) => number, maxTrials: number, batch = 1): P[] {
  const trials: TrialRecord[] = [];
  const all: P[] = [];
  while (trials.length < maxTrials) {
    const next = optimizerAlgorithm.suggest(cfg, trials, batch);
    if (next.length === 0) break;
    for (const p of next) {
      all.push(p);
      trials.push({ pid: `p${trials.length}`, trial: 1, parameters: p, status: 'completed', score: f(p) });
    }
  }
  return all;
}

const key = (p: P) =>
  JSON.stringify(
    Object.keys(p)
      .sort()
      .map((k) => [k, p[k]]),
  );

for (const algorithm of ['bayes', 'random', 'grid'] as const) {
  test(`${algorithm}: no repeats in a discrete space until it is exhausted, then []`, () => {
    const cfg = {
      algorithm,
      spec: { metric: 'val_loss', seed: 7 },
      parameters: {
        inner_dim: { type: 'discrete', values: [32, 64, 128, 256, 512] },
        layers: { type: 'integer', min: 1, max: 3 },
        rnn: { type: 'categorical', values: ['gru', 'lstm'] },
        epochs: 2,
      },
    };
    const seen = drive(
      cfg,
      (p) => Math.abs(Math.log2(p.inner_dim as number) - 7) + (p.layers as number) * 0.1 + (p.rnn === 'gru' ? 0 : 0.05),
      100,
      2,
    );
    assert.equal(seen.length, 30);
    assert.equal(new Set(seen.map(key)).size, 30);
    assert.ok(seen.every((p) => p.epochs === 2));
    const trials = seen.map((p, i): TrialRecord => ({
      pid: String(i),
      trial: 1,
      parameters: p,
      status: 'completed',
      score: 1,
    }));
    assert.deepEqual(optimizerAlgorithm.suggest(cfg, trials, 3), []);
  });
}

test('inner_dim search of the reference CTCModel: 5 values, bayes stops after 5', () => {
  const cfg = {
    algorithm: 'bayes',
    spec: { maxCombo: 10, metric: 'val_loss' },
    parameters: { inner_dim: { type: 'discrete', values: [32, 64, 128, 256, 512] } },
    trials: 1,
  };
  const seen = drive(cfg, (p) => (p.inner_dim === 128 ? 0.4 : 0.6), 20);
  assert.deepEqual(
    seen.map((p) => p.inner_dim).sort((a, b) => (a as number) - (b as number)),
    [32, 64, 128, 256, 512],
  );
});

test('maxCombo caps distinct parameter sets; trials repeats each set', () => {
  const cfg = {
    algorithm: 'random',
    spec: { maxCombo: 3, seed: 1 },
    parameters: { x: { type: 'float', min: 0, max: 1 } },
    trials: 2,
  };
  const seen = drive(cfg, (p) => p.x as number, 100);
  assert.equal(seen.length, 6);
  assert.equal(new Set(seen.map(key)).size, 3);
});

test('bayes minimises a continuous function better than its initial design', () => {
  const cfg = {
    algorithm: 'bayes',
    spec: { seed: 5, metric: 'v' },
    parameters: { x: { type: 'float', min: -2, max: 2 }, y: { type: 'float', min: -2, max: 2 } },
  };
  const f = (p: P) => ((p.x as number) - 0.7) ** 2 + ((p.y as number) + 0.4) ** 2;
  const seen = drive(cfg, f, 18);
  const initBest = Math.min(...seen.slice(0, 4).map(f));
  const best = Math.min(...seen.map(f));
  assert.ok(best < 0.01, `best ${best}`);
  assert.ok(best < initBest / 10);
});

test('bayes maximises when objective is maximize, with loguniform and integer parameters rounded', () => {
  const cfg = {
    algorithm: 'bayes',
    spec: { seed: 2, objective: 'maximize', metric: 'acc' },
    parameters: {
      lr: { type: 'float', scalingType: 'loguniform', min: 1e-5, max: 1e-1 },
      units: { type: 'integer', min: 8, max: 64 },
    },
  };
  const f = (p: P) => -((Math.log10(p.lr as number) + 3) ** 2) - (((p.units as number) - 40) / 20) ** 2;
  const seen = drive(cfg, f, 20);
  for (const p of seen) {
    assert.ok(Number.isInteger(p.units) && (p.units as number) >= 8 && (p.units as number) <= 64);
    assert.ok((p.lr as number) >= 1e-5 && (p.lr as number) <= 1e-1);
  }
  const best = seen.reduce((a, b) => (f(a) > f(b) ? a : b));
  assert.ok(Math.abs(Math.log10(best.lr as number) + 3) < 0.5, JSON.stringify(best));
});

test('batch suggestions (constant liar) are distinct and avoid running trials', () => {
  const cfg = {
    algorithm: 'bayes',
    spec: { seed: 9, metric: 'v' },
    parameters: { x: { type: 'integer', min: 0, max: 40 } },
  };
  const trials: TrialRecord[] = [0, 10, 20, 30, 40].map((x, i) => ({
    pid: String(i),
    trial: 1,
    parameters: { x },
    status: 'completed',
    score: (x - 17) ** 2,
  }));
  trials.push({ pid: 'r', trial: 1, parameters: { x: 16 }, status: 'running' });
  const batch = optimizerAlgorithm.suggest(cfg, trials, 4);
  assert.equal(batch.length, 4);
  const xs = batch.map((p) => p.x as number);
  assert.equal(new Set(xs).size, 4);
  for (const x of xs) assert.ok(![0, 10, 20, 30, 40, 16].includes(x), `repeated ${x}`);
  // same input, same answer (stateless and seeded)
  assert.deepEqual(optimizerAlgorithm.suggest(cfg, trials, 4), batch);
});

test('failed trials keep their slot; pruned ones inform the model', () => {
  const cfg = { algorithm: 'bayes', spec: { seed: 1 }, parameters: { d: { type: 'discrete', values: [1, 2, 3] } } };
  const trials: TrialRecord[] = [
    { pid: 'a', trial: 1, parameters: { d: 1 }, status: 'failed' },
    { pid: 'b', trial: 1, parameters: { d: 2 }, status: 'pruned', score: 5 },
  ];
  assert.deepEqual(optimizerAlgorithm.suggest(cfg, trials, 5), [{ d: 3 }]);
});

test('grid enumerates gridSize points per continuous parameter, log-spaced for loguniform', () => {
  const cfg = {
    algorithm: 'grid',
    spec: { gridSize: 3 },
    parameters: { lr: { type: 'float', scalingType: 'loguniform', min: 1e-4, max: 1e-2 }, opt: ['adam', 'sgd'] },
  };
  const seen = drive(cfg, () => 0, 100);
  assert.equal(seen.length, 6);
  const lrs = [...new Set(seen.map((p) => p.lr as number))];
  assert.deepEqual(
    lrs.map((v) => Number(v.toPrecision(6))),
    [1e-4, 1e-3, 1e-2],
  );
});

test('search space features: log scaling, one-hot categoricals, integers snapped', () => {
  const cfg = parseOptimizerConfig(
    {
      parameters: {
        lr: { type: 'float', scalingType: 'loguniform', min: 1e-4, max: 1e-2 },
        n: { type: 'integer', min: 1, max: 4 },
        opt: ['adam', 'sgd', 'rmsprop'],
        fixed: 'x',
      },
    },
    'x',
  );
  const s = new SearchSpace(cfg.parameters);
  assert.equal(s.width, 5);
  assert.equal(s.size, Infinity);
  const f = s.encode({ lr: 1e-3, n: 1, opt: 'sgd', fixed: 'x' });
  assert.ok(Math.abs(f[0] - 0.5) < 1e-12);
  assert.ok(Math.abs(f[1] - 0.125) < 1e-12);
  assert.deepEqual([...f.subarray(2)], [0, 1, 0]);
  const back = s.decode(Float64Array.from([0.5, 0.3, 0.1, 0.2, 0.9]));
  assert.deepEqual(
    { ...back, lr: Number((back.lr as number).toPrecision(8)) },
    { lr: 1e-3, n: 2, opt: 'rmsprop', fixed: 'x' },
  );
});
