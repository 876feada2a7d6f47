import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcropsError } from '@ocrops/common';
import { readDvcFile, readDvcLock, resolveOutput } from './lock.js';

const LOCK = `schema: '2.0'
stages:
  train:
    cmd: node train.mjs
    deps:
    - path: data/prepared
      hash: md5
      md5: 5fc28ea78987408341668eba6525ebd1.dir
      size: 10
      nfiles: 3
    params:
      configs/p.yaml:
        train.lr: 0.01
    outs:
    - path: models/best
      hash: md5
      md5: 0123456789abcdef0123456789abcdef.dir
      size: 1234
      nfiles: 2
    - path: old.bin
      md5: fedcba9876543210fedcba9876543210
      size: 5
`;

test('readDvcLock reads stages, params and outputs; resolveOutput finds an output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-lock-'));
  try {
    writeFileSync(join(dir, 'dvc.lock'), LOCK);
    const lock = readDvcLock(join(dir, 'dvc.lock'));
    const s = lock.stages.train;
    assert.equal(s.cmd, 'node train.mjs');
    assert.deepEqual(s.params, { 'configs/p.yaml': { 'train.lr': 0.01 } });
    assert.equal(s.deps[0].nfiles, 3);
    assert.equal(s.outs[1].hashName, 'md5-dos2unix');
    const r = resolveOutput({ lockPath: join(dir, 'dvc.lock'), out: './models/best/' });
    assert.equal(r.md5, '0123456789abcdef0123456789abcdef.dir');
    assert.equal(r.isDir, true);
    assert.equal(r.absPath, join(dir, 'models', 'best'));
    assert.throws(
      () => resolveOutput({ lockPath: join(dir, 'dvc.lock'), out: 'models/other' }),
      (e: unknown) =>
        isOcropsError(e) && e.code === 'OCROPS_DVC_OUTPUT_UNKNOWN' && (e.hint ?? '').includes('models/best'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad dvc.lock / .dvc files give errors naming the file and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-lock-'));
  try {
    assert.throws(
      () => readDvcLock(join(dir, 'dvc.lock')),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_DVC_LOCK_MISSING',
    );
    writeFileSync(join(dir, 'dvc.lock'), "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: m\n");
    assert.throws(
      () => readDvcLock(join(dir, 'dvc.lock')),
      (e: unknown) => isOcropsError(e) && e.message.includes('dvc.lock') && e.message.includes('stages.a.outs[0].md5'),
    );
    writeFileSync(
      join(dir, 'w.dvc'),
      'outs:\n- md5: acbd18db4cc2f85cedef654fccc4a4d8\n  size: 3\n  hash: md5\n  path: w.bin\n',
    );
    assert.equal(readDvcFile(join(dir, 'w.dvc'))[0].path, 'w.bin');
    const r = resolveOutput({ dvcFile: join(dir, 'w.dvc') });
    assert.equal(r.absPath, join(dir, 'w.bin'));
    assert.equal(r.hashName, 'md5');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
