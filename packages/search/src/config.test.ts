import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { loadOptimizerConfig, parseOptimizerConfig } from './config.js';
import { optimizerAlgorithm } from './optimizer.js';

const doc000 = {
  algorithm: 'bayes',
  spec: { maxCombo: 10, objective: 'minimize', metric: 'val_loss', seed: 42, retryLimit: 20, gridSize: 10 },
  parameters: {
    inner_dim: { type: 'discrete', values: [32, 64, 128, 256, 512] },
    lr: { type: 'float', scalingType: 'loguniform', min: 1e-5, max: 1e-2 },
    layers: { type: 'integer', min: 1, max: 4 },
    optimizer: { type: 'categorical', values: ['adam', 'rmsprop'] },
  },
  name: 'inner-dim search',
  trials: 1,
};

function rejects(cfg: unknown, pattern: RegExp) {
  assert.throws(
    () => parseOptimizerConfig(cfg, 'sweep.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof OcropsError, `expected OcropsError, got ${e}`);
      assert.match(e.message, pattern);
      assert.match(e.message, /sweep\.yaml/);
      return true;
    },
  );
}

const withParam = (p: unknown, spec: Record<string, unknown> = {}) => ({ algorithm: 'bayes', spec, parameters: { p } });

test('parses the Comet example of references.md with every type', () => {
  const c = parseOptimizerConfig(doc000, 'x');
  assert.equal(c.algorithm, 'bayes');
  assert.deepEqual(c.spec, {
    maxCombo: 10,
    objective: 'minimize',
    metric: 'val_loss',
    seed: 42,
    retryLimit: 20,
    retryAssignLimit: 0,
    gridSize: 10,
    randomize: false,
    minSampleSize: 0,
  });
  assert.equal(c.trials, 1);
  assert.equal(c.name, 'inner-dim search');
  assert.deepEqual(
    c.parameters.map((p) => p.type),
    ['discrete', 'float', 'integer', 'categorical'],
  );
  const lr = c.parameters[1];
  assert.ok(lr.type === 'float' && lr.scaling === 'loguniform' && lr.min === 1e-5);
});

test('reads YAML and JSON files alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-sweep-'));
  const yaml = join(dir, 's.yaml');
  writeFileSync(
    yaml,
    [
      'algorithm: random',
      'spec: {metric: val_acc, objective: maximize}',
      'parameters:',
      '  inner_dim: [32, 64]',
      '  optimizer: [adam, sgd]',
      '  epochs: 3',
      '  dropout: {type: double, min: 0, max: 0.5, scalingType: linear}',
      '  wd: {type: float, scalingType: normal, mu: 0.001, sigma: 0.0005, min: 0}',
      '  width: {type: integer, scalingType: lognormal, mu: 4, sigma: 0.5, min: 8, max: 512}',
      'trials: 2',
    ].join('\n'),
  );
  const y = loadOptimizerConfig(yaml);
  assert.deepEqual(
    y.parameters.map((p) => p.type),
    ['discrete', 'categorical', 'fixed', 'float', 'float', 'integer'],
  );
  assert.equal(y.spec.objective, 'maximize');
  assert.equal(y.trials, 2);
  const json = join(dir, 's.json');
  writeFileSync(json, JSON.stringify(doc000));
  assert.equal(loadOptimizerConfig(json).parameters.length, 4);
});

test('defaults: bayes, minimize, metric loss, seed 42, one trial', () => {
  const c = parseOptimizerConfig({ parameters: { x: { type: 'float', min: 0, max: 1 } } }, 'x');
  assert.equal(c.algorithm, 'bayes');
  assert.equal(c.spec.metric, 'loss');
  assert.equal(c.spec.objective, 'minimize');
  assert.equal(c.spec.seed, 42);
  assert.equal(c.trials, 1);
});

test('every invalid spec is rejected with a message naming the field', () => {
  rejects(
    withParam({ type: 'float', scalingType: 'loguniform', min: 0, max: 1 }),
    /parameters\.p\.min' must be > 0 for loguniform/,
  );
  rejects(withParam({ type: 'float', scalingType: 'loguniform', min: -1, max: 1 }), /must be > 0 for loguniform/);
  rejects(withParam({ type: 'discrete', values: [] }), /parameters\.p\.values' must not be empty/);
  rejects(withParam([]), /parameters\.p\.values' must not be empty/);
  rejects(withParam({ type: 'categorical', values: [] }), /must not be empty/);
  rejects(withParam({ type: 'discrete', values: [1, 'a'] }), /must all be numbers/);
  rejects(withParam({ type: 'discrete', values: [1, 2, 1] }), /lists 1 twice/);
  rejects(withParam({ type: 'discrete', values: [0, 1], scalingType: 'loguniform' }), /must all be > 0/);
  rejects(withParam({ type: 'choice', values: [1] }), /unknown type 'choice'/);
  rejects(withParam({ min: 1, max: 2 }), /parameters\.p\.type' is required/);
  rejects(withParam({ type: 'float', min: 2, max: 1 }), /parameters\.p\.min' \(2\) must not exceed max \(1\)/);
  rejects(withParam({ type: 'integer', min: 1.5, max: 3 }), /parameters\.p\.min' must be an integer/);
  rejects(withParam({ type: 'float', max: 3 }), /parameters\.p\.min' is required/);
  rejects(withParam({ type: 'float', min: 0, max: 'big' }), /parameters\.p\.max' must be a number/);
  rejects(withParam({ type: 'float', min: 0, max: 1, scalingType: 'exp' }), /unknown scaling 'exp'/);
  rejects(withParam({ type: 'float', scalingType: 'normal', sigma: 1 }), /parameters\.p\.mu' is required/);
  rejects(withParam({ type: 'float', scalingType: 'normal', mu: 0, sigma: 0 }), /parameters\.p\.sigma' must be > 0/);
  rejects(
    withParam({ type: 'float', scalingType: 'lognormal', mu: 0, sigma: 1, min: -1 }),
    /must be >= 0 for lognormal/,
  );
  rejects(withParam({ type: 'integer', scalingType: 'normal', mu: 0, sigma: 1 }), /is required for an integer/);
  rejects(
    withParam({ type: 'float', min: 0, max: 1, step: 0.1 }),
    /parameters\.p\.step' is not a known parameter field/,
  );
  rejects(withParam({ type: 'categorical', values: [{ a: 1 }] }), /must be strings, numbers or booleans/);
  rejects(withParam(1, { objective: 'lowest' }), /spec\.objective' must be one of minimize, maximize/);
  rejects(withParam(1, { maxCombo: -1 }), /spec\.maxCombo' must be >= 0/);
  rejects(withParam(1, { seed: 'abc' }), /spec\.seed' must be a number/);
  rejects(withParam(1, { metric: '' }), /spec\.metric' must not be empty/);
  rejects(withParam(1, { maxcombo: 3 }), /spec\.maxcombo' is not a known field/);
  rejects({ algorithm: 'hyperband', parameters: { p: 1 } }, /field 'algorithm' must be one of grid, random, bayes/);
  rejects({ algorithm: 'bayes' }, /field 'parameters' is required/);
  rejects({ algorithm: 'bayes', parameters: {} }, /must define at least one parameter/);
  rejects({ algorithm: 'bayes', parameters: [1, 2] }, /must be a mapping/);
  rejects({ parameters: { p: 1 }, trials: 0 }, /field 'trials' must be >= 1/);
  rejects({ parameters: { p: 1 }, ocrops: {} }, /field 'ocrops' is not a known field/);
  rejects([1, 2], /expected a mapping/);
});

test('optimizerAlgorithm.validate accepts sweep files (ocrops section) and rejects bad ones', () => {
  optimizerAlgorithm.validate({ ...doc000, ocrops: { workers: 2 } });
  assert.throws(
    () => optimizerAlgorithm.validate(withParam({ type: 'float', scalingType: 'loguniform', min: 0, max: 1 })),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_SWEEP_CONFIG',
  );
});
