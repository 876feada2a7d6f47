import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';
import { loadSweepFile, parseSweepFile } from './sweep-config.js';

const root = repoRoot();

test('the shipped sweep files parse', () => {
  const syn = loadSweepFile(join(root, 'configs/sweep/synthetic.yaml'));
  assert.equal(syn.optimizer.algorithm, 'bayes');
  assert.equal(syn.optimizer.spec.maxCombo, 2);
  assert.equal(syn.run.workers, 2);
  assert.equal(syn.run.train, join(root, 'configs/train/synthetic.yaml'));
  assert.deepEqual(syn.run.pruner, { type: 'median', minEpochs: 4, minTrials: 2 });
  assert.equal(syn.run.best, join(root, 'models/best'));
  const doc = loadSweepFile(join(root, 'configs/sweep/inner-dim.yaml'));
  const inner = doc.optimizer.parameters.find((p) => p.name === 'inner_dim');
  assert.ok(inner && inner.type === 'discrete');
  assert.deepEqual(inner.values, [32, 64, 128, 256, 512]);
  assert.deepEqual(doc.run.pruner, { type: 'asha', minEpochs: 2, reductionFactor: 3 });
});

test('ocrops section errors name the field', () => {
  const base = { parameters: { lr: { type: 'float', min: 0.001, max: 0.01 } } };
  assert.throws(() => parseSweepFile({ ...base, ocrops: {} }, 's.yaml'), /^s\.yaml: ocrops\.train: is required/m);
  assert.throws(() => parseSweepFile({ ...base }, 's.yaml'), /field 'ocrops' is required/);
  assert.throws(
    () => parseSweepFile({ ...base, ocrops: { train: 't.yaml', workers: 0 } }, 's.yaml'),
    /ocrops\.workers: .*got 0; allowed: an integer in 1\.\.64/,
  );
  assert.throws(
    () => parseSweepFile({ ...base, ocrops: { train: 't.yaml', set: [1] } }, 's.yaml'),
    /ocrops\.set: .*allowed: a mapping of config key to value/,
  );
  assert.throws(
    () => parseSweepFile({ ...base, ocrops: { train: 't.yaml', pruner: { type: 'hyperband' } } }, 's.yaml'),
    /ocrops\.pruner\.type: is not one of the allowed values, got "hyperband"; allowed: none, median, asha/,
  );
  assert.throws(
    () =>
      parseSweepFile({ ...base, ocrops: { train: 't.yaml', pruner: { type: 'asha', reduction_factor: 1 } } }, 's.yaml'),
    /ocrops\.pruner\.reduction_factor: .*got 1; allowed: an integer >= 2/,
  );
  assert.throws(
    () => parseSweepFile({ ...base, ocrops: { train: 't.yaml', worker: 2 } }, 's.yaml'),
    /ocrops\.worker: is not a known field \(did you mean workers\?\)/,
  );
  const ok = parseSweepFile({ ...base, name: 'lr search', ocrops: { train: 't.yaml' } }, 's.yaml');
  assert.equal(ok.run.out, join(root, 'runs/sweeps/lr-search'));
  assert.deepEqual(ok.run.pruner, { type: 'none' });
  assert.throws(
    () =>
      parseSweepFile(
        { ...base, ocrops: { train: 't.yaml', pruner: { type: 'median', reduction_factor: 3 } } },
        's.yaml',
      ),
    /ocrops\.pruner\.reduction_factor: is not used by pruner type 'median'; allowed: min_epochs, min_trials/,
  );
  const old = parseSweepFile(
    { ...base, ocrops: { train: 't.yaml', pruner: { type: 'asha', minEpochs: 2, reductionFactor: 4 } } },
    's.yaml',
  );
  assert.deepEqual(
    old.run.pruner,
    { type: 'asha', minEpochs: 2, reductionFactor: 4 },
    'the old camelCase keys still load',
  );
});
