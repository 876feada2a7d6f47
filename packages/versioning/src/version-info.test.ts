import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVersionInfo, versionOthers } from './version-info.js';

test('runVersionInfo gives the git commit, dirtiness and the dvc.lock hashes of data and weights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-vinfo-'));
  try {
    assert.deepEqual(runVersionInfo(dir), { dvc: {} }); // neither git nor dvc.lock: nothing, no error
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        cwd: dir,
        encoding: 'utf8',
      }).trim();
    git('init', '-q');
    writeFileSync(
      join(dir, 'dvc.lock'),
      `schema: '2.0'
stages:
  prepare:
    cmd: x
    outs:
    - path: data/prepared/synthetic
      hash: md5
      md5: 5fc28ea78987408341668eba6525ebd1.dir
      size: 3
      nfiles: 3
  sweep:
    cmd: y
    outs:
    - path: models/best
      hash: md5
      md5: 0123456789abcdef0123456789abcdef.dir
  evaluate:
    cmd: z
    outs:
    - path: reports/errors.json
      hash: md5
      md5: acbd18db4cc2f85cedef654fccc4a4d8
`,
    );
    git('add', 'dvc.lock');
    git('commit', '-q', '-m', 'lock');
    const head = git('rev-parse', 'HEAD');
    const info = runVersionInfo(dir);
    assert.equal(info.gitCommit, head);
    assert.equal(info.gitDirty, false);
    assert.deepEqual(info.dvc, {
      'data/prepared/synthetic': '5fc28ea78987408341668eba6525ebd1.dir',
      'models/best': '0123456789abcdef0123456789abcdef.dir',
    });
    assert.deepEqual(versionOthers(info), {
      git_commit: head,
      git_dirty: 'false',
      dvc_data_prepared_synthetic: '5fc28ea78987408341668eba6525ebd1.dir',
      dvc_models_best: '0123456789abcdef0123456789abcdef.dir',
    });
    writeFileSync(join(dir, 'dvc.lock'), 'schema: 9\n');
    const dirty = runVersionInfo(dir);
    assert.equal(dirty.gitDirty, true);
    assert.deepEqual(dirty.dvc, {}); // unreadable lock: no hashes, no throw
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
