import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { camelizeConfig, didYouMean, loadConfig, snakeizeConfig, validateConfig } from './config-schema.js';
import { OcropsError } from './errors.js';

const Schema = Type.Object({
  name: Type.String(),
  train: Type.Object(
    {
      batch_size: Type.Integer({ minimum: 1, default: 32 }),
      mode: Type.Union([Type.Literal('min'), Type.Literal('max')], { default: 'min' }),
      range: Type.Tuple([Type.Number(), Type.Number()], { default: [1, 2] }),
    },
    { default: {} },
  ),
  optim: Type.Object(
    { lr: Type.Number({ exclusiveMinimum: 0, default: 0.001 }) },
    { default: {}, aliases: { learningRate: 'lr' } },
  ),
  set: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
});

function errorOf(fn: () => unknown): OcropsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof OcropsError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

test('defaults fill absent sections and fields', () => {
  const v = loadConfig(Schema, 'name: x\n', { text: true, source: 'a.yaml' });
  assert.deepEqual(v, {
    name: 'x',
    train: { batch_size: 32, mode: 'min', range: [1, 2] },
    optim: { lr: 0.001 },
    set: {},
  });
});

test('every problem is listed with file:line:col, field path and what is allowed', () => {
  const text = 'name: x\ntrain:\n  batch_size: 0\n  mode: mid\noptim: { lr: -1 }\n';
  const e = errorOf(() => loadConfig(Schema, text, { text: true, source: 'configs/b.yaml' }));
  assert.equal(e.code, 'OCROPS_CONFIG_INVALID');
  assert.match(e.message, /3 problems/);
  assert.match(e.message, /^configs\/b\.yaml:3:3: train\.batch_size: .*got 0; allowed: an integer >= 1$/m);
  assert.match(
    e.message,
    /^configs\/b\.yaml:4:3: train\.mode: is not one of the allowed values, got "mid"; allowed: min, max$/m,
  );
  assert.match(e.message, /^configs\/b\.yaml:5:10: optim\.lr: .*got -1; allowed: a number > 0$/m);
});

test('a missing required field points at its mapping', () => {
  const e = errorOf(() => loadConfig(Schema, 'train: {}\n', { text: true, source: 'c.yaml' }));
  assert.match(e.message, /^c\.yaml:1:1: name: is required; allowed: a string$/m);
});

test('unknown keys are errors with a "did you mean" hint', () => {
  const e = errorOf(() =>
    loadConfig(Schema, 'name: x\ntrain:\n  mdoe: max\nfoo: 1\n', { text: true, source: 'd.yaml' }),
  );
  assert.match(
    e.message,
    /^d\.yaml:3:3: train\.mdoe: is not a known field \(did you mean mode\?\); allowed: batch_size, mode, range$/m,
  );
  assert.match(e.message, /^d\.yaml:4:1: foo: is not a known field; allowed: name, train, optim, set$/m);
  assert.equal(didYouMean('batchsize', ['batch_size', 'epochs']), 'batch_size');
  assert.equal(didYouMean('zzz', ['batch_size', 'epochs']), undefined);
});

test('camelCase spellings and schema aliases load, with one deprecation warning per key', () => {
  const warnings: string[] = [];
  const text = 'name: x\ntrain:\n  batchSize: 4\noptim:\n  learningRate: 0.01\nset: { train.batchSize: 3 }\n';
  const v = loadConfig(Schema, text, { text: true, source: 'configs/train/x.yaml', warn: (m) => warnings.push(m) });
  assert.equal(v.train.batch_size, 4);
  assert.equal(v.optim.lr, 0.01);
  assert.deepEqual(v.set, { 'train.batchSize': 3 }, 'record keys are data, not fields');
  assert.deepEqual(warnings, [
    'configs/train/x.yaml:3: batchSize is deprecated, use batch_size',
    'configs/train/x.yaml:5: learningRate is deprecated, use lr',
  ]);
  const both = errorOf(() =>
    loadConfig(Schema, 'name: x\ntrain: { batchSize: 4, batch_size: 4 }\n', {
      text: true,
      source: 'e.yaml',
      warn: () => {},
    }),
  );
  assert.match(both.message, /train\.batchSize: is the deprecated name of batch_size, which is also given/);
});

test('a file path is read from disk; syntax errors name line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-schema-'));
  const file = join(dir, 'f.yaml');
  writeFileSync(file, 'name: y\ntrain: { batch_size: 2 }\n');
  assert.equal(loadConfig(Schema, file).train.batch_size, 2);
  writeFileSync(file, 'name: [y\n');
  assert.equal(errorOf(() => loadConfig(Schema, file)).code, 'OCROPS_CONFIG_SYNTAX');
});

test('check hooks add positioned problems after the type checks', () => {
  const e = errorOf(() =>
    validateConfig(
      Schema,
      { name: 'x', train: { mode: 'max' } },
      {
        source: 'g.yaml',
        check: (v, report) => {
          if (v.train.mode === 'max') report(['train', 'mode'], 'must be min for this metric', 'min');
        },
      },
    ),
  );
  assert.match(e.message, /^g\.yaml: train\.mode: must be min for this metric; allowed: min$/m);
});

test('camelize and snakeize map the keys of fields, not of records', () => {
  const v = loadConfig(Schema, 'name: x\nset: { some_key: 1 }\n', { text: true, source: 'h.yaml' });
  const c = camelizeConfig(Schema, v);
  assert.equal(c.train.batchSize, 32);
  assert.deepEqual(c.set, { some_key: 1 });
  assert.deepEqual(snakeizeConfig(Schema, c), v);
});
