import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcropsError, repoRoot } from '@ocrops/common';
import { objectKey, parseDvcConfig, readS3Remote } from './remote.js';

test('the repository .dvc/config points the default remote at the local SeaweedFS', () => {
  const r = readS3Remote(repoRoot());
  assert.equal(r.name, 'storage');
  assert.equal(r.bucket, 'ocrops');
  assert.equal(r.prefix, 'dvc');
  assert.equal(r.endpoint, 'http://127.0.0.1:8333');
  assert.equal(r.region, 'us-east-1');
});

test('config.local overrides config; keys map to DVC 3 object paths', () => {
  const root = mkdtempSync(join(tmpdir(), 'ocrops-remote-'));
  try {
    mkdirSync(join(root, '.dvc'));
    writeFileSync(
      join(root, '.dvc', 'config'),
      '[core]\n    remote = s\n[\'remote "s"\']\n    url = s3://bkt/some/prefix/\n    endpointurl = http://127.0.0.1:9\n',
    );
    writeFileSync(
      join(root, '.dvc', 'config.local'),
      '[\'remote "s"\']\n    access_key_id = AK\n    secret_access_key = SK\n    endpointurl = http://127.0.0.1:10\n',
    );
    const r = readS3Remote(root);
    assert.deepEqual(
      [r.bucket, r.prefix, r.endpoint, r.accessKeyId, r.secretAccessKey],
      ['bkt', 'some/prefix', 'http://127.0.0.1:10', 'AK', 'SK'],
    );
    assert.equal(
      objectKey(r.prefix, '5fc28ea78987408341668eba6525ebd1.dir'),
      'some/prefix/files/md5/5f/c28ea78987408341668eba6525ebd1.dir',
    );
    assert.equal(objectKey('', 'acbd18db4cc2f85cedef654fccc4a4d8'), 'files/md5/ac/bd18db4cc2f85cedef654fccc4a4d8');
    assert.equal(
      objectKey('p', 'acbd18db4cc2f85cedef654fccc4a4d8', 'md5-dos2unix'),
      'p/ac/bd18db4cc2f85cedef654fccc4a4d8',
    );

    writeFileSync(join(root, '.dvc', 'config'), '[\'remote "g"\']\n    url = gs://bucket/x\n');
    assert.throws(
      () => readS3Remote(root),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_DVC_REMOTE_MISSING',
    );
    assert.throws(
      () => readS3Remote(root, 'g'),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_DVC_REMOTE_UNSUPPORTED',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('parseDvcConfig reads quoted section names and values', () => {
  assert.deepEqual(parseDvcConfig("[core]\n  remote = a\n# c\n['remote \"a\"']\n  url = 's3://x/y'\n"), {
    core: { remote: 'a' },
    'remote "a"': { url: 's3://x/y' },
  });
});
