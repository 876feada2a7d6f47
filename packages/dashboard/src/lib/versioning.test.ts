import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outPathFromKey, runVersioning } from './versioning.js';

test('outPathFromKey maps the logged keys back to output paths', () => {
  assert.equal(outPathFromKey('models_best'), 'models/best');
  assert.equal(outPathFromKey('data_prepared'), 'data/prepared');
  assert.equal(outPathFromKey('data_prepared_synthetic'), 'data/prepared/synthetic');
});

test('runVersioning: git commit, dvc outputs with md5 and pull commands', () => {
  const v = runVersioning({
    git_commit: '82c254e0b1d3f0c9a8e7d6c5b4a39281706f5e4d',
    git_dirty: 'false',
    dvc_models_best: 'd41d8cd98f00b204e9800998ecf8427e.dir',
    dvc_data_prepared: '0cc175b9c0f1b6a831c399e269772661.dir',
    dvc_note: 'not an md5',
    hostname: 'box',
  });
  assert.equal(v.gitCommit, '82c254e0b1d3f0c9a8e7d6c5b4a39281706f5e4d');
  assert.equal(v.gitDirty, false);
  assert.deepEqual(
    v.outputs.map((o) => [o.out, o.md5]),
    [
      ['data/prepared', '0cc175b9c0f1b6a831c399e269772661.dir'],
      ['models/best', 'd41d8cd98f00b204e9800998ecf8427e.dir'],
    ],
  );
  assert.deepEqual(v.outputs[1].commands, ['git checkout 82c254e0b1d3 -- dvc.lock', 'dvc pull models/best']);
  assert.deepEqual(runVersioning({}).outputs, []);
});
