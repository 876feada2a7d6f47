import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';
import { loadSweepFile, parseSweepFile } from './sweep-config.js';

const root = repoRoot();

test('the shipped sweep files parse', () => {
  const syn = loadSweepFile(join(root, 'configs/sweep/synthetic.yaml'));
  assert.equal(syn.optimizer.algorithm, 'bayes');
  assert.equal(syn.optimizer.spec.maxCombo, 4);
  assert.equal(syn.run.workers, 2);
  assert.equal(syn.run.train, join(root, 'configs/train/synthetic.yaml'));
  assert.deepEqual(syn.run.pruner, { type: 'median', minEpochs: 8, minTrials: 2 });
  assert.equal(syn.run.best, join(root, 'models/best'));
  const doc = loadSweepFile(join(root, 'configs/sweep/inner-dim.yaml'));
  const inner = doc.optimizer.parameters.find((p) => p.name === 'inner_dim');
  assert.ok(inner && inner.type === 'discrete');
  assert.deepEqual(inner.values, [32, 64, 128, 256, 512]);
  assert.deepEqual(doc.run.pruner, { type: 'asha', minEpochs: 2, reductionFactor: 3 });
});

test('ocrops section errors name the field', () => {
  const base = { parameters: { lr: { type: 'float', min: 0.001, max: 0.01 } } };
  assert.throws(() => parseSweepFile({ ...base, ocrops: {} }, 's.yaml'), /s\.yaml: field 'ocrops\.train' is required/);
  assert.throws(() => parseSweepFile({ ...base }, 's.yaml'), /field 'ocrops' is required/);
  assert.throws(() => parseSweepFile({ ...base, ocrops: { train: 't.yaml', workers: 0 } }, 's.yaml'), /ocrops\.workers' must be >= 1/);
  assert.throws(() => parseSweepFile({ ...base, ocrops: { train: 't.yaml', set: [1] } }, 's.yaml'), /ocrops\.set' must be a mapping/);
  assert.throws(() => parseSweepFile({ ...base, ocrops: { train: 't.yaml', pruner: { type: 'hyperband' } } }, 's.yaml'),
    /ocrops\.pruner\.type' must be one of none, median, asha/);
  assert.throws(() => parseSweepFile({ ...base, ocrops: { train: 't.yaml', pruner: { type: 'asha', reductionFactor: 1 } } }, 's.yaml'),
    /reductionFactor' must be >= 2/);
  assert.throws(() => parseSweepFile({ ...base, ocrops: { train: 't.yaml', worker: 2 } }, 's.yaml'), /ocrops\.worker' is not a known field/);
  const ok = parseSweepFile({ ...base, name: 'lr search', ocrops: { train: 't.yaml' } }, 's.yaml');
  assert.equal(ok.run.out, join(root, 'runs/sweeps/lr-search'));
  assert.deepEqual(ok.run.pruner, { type: 'none' });
});
