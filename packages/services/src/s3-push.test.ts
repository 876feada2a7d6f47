// pushDirectory / pullDirectory against a real SeaweedFS: the objects land in DVC's cache layout (real `dvc pull` of a
// .dvc file naming the pushed id restores the folder), a second push sends nothing, a pull verifies every md5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';
import { dvc, hashDirectory, pullDirectory, pushDirectory, s3RemoteFromUrl } from '@ocrops/versioning';
import { LOCAL_S3_CREDENTIALS } from './seaweed.js';
import { initDvcRepo, startTestSeaweed } from './testkit.js';

const haveWeed = existsSync(join(repoRoot(), '.venv', 'bin', 'weed'));
const haveDvc = existsSync(join(repoRoot(), '.venv', 'bin', 'dvc'));

test(
  'a folder pushed in DVC layout is pulled by its .dir id, by ocrops and by dvc',
  {
    skip: !(haveWeed && haveDvc) && '.venv/bin/weed or dvc absent: run scripts/setup',
    timeout: 240_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-push-'));
    const weed = await startTestSeaweed(join(dir, 'weed'));
    try {
      const src = join(dir, 'model');
      mkdirSync(join(src, 'sub'), { recursive: true });
      writeFileSync(join(src, 'model.json'), '{"w": [1, 2, 3]}');
      writeFileSync(join(src, 'weights.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)));
      writeFileSync(join(src, 'sub', 'ocrops.json'), '{"charset": "abc"}');
      process.env.AWS_ACCESS_KEY_ID = LOCAL_S3_CREDENTIALS.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = LOCAL_S3_CREDENTIALS.secretAccessKey;
      const remote = s3RemoteFromUrl(`s3://${weed.bucket}/dvc`, weed.endpoint);
      const first = await pushDirectory(src, remote);
      assert.match(first.md5, /^[0-9a-f]{32}\.dir$/);
      assert.equal(first.files, 3);
      assert.equal(first.skipped, 0);
      const again = await pushDirectory(src, remote);
      assert.deepEqual([again.md5, again.bytes, again.skipped], [first.md5, 0, 4]);

      const dest = join(dir, 'pulled');
      const got = await pullDirectory({ md5: first.md5, remote, dest });
      assert.equal(got.files, 3);
      assert.deepEqual(await hashDirectory(dest), await hashDirectory(src));

      // DVC itself finds the objects: a .dvc file naming the id, `dvc pull` from the same remote
      const repo = await initDvcRepo({
        endpoint: weed.endpoint,
        bucket: weed.bucket,
        prefix: 'dvc',
        dir: join(dir, 'repo'),
      });
      writeFileSync(join(repo, 'model.dvc'), `outs:\n- md5: ${first.md5}\n  path: model\n  hash: md5\n`);
      await dvc(['pull', 'model.dvc'], { cwd: repo });
      assert.equal(readFileSync(join(repo, 'model', 'weights.bin')).length, 4096);
      assert.deepEqual(await hashDirectory(join(repo, 'model')), await hashDirectory(src));

      await assert.rejects(pullDirectory({ md5: 'nope', remote, dest }), /not a DVC directory id/);
    } finally {
      await weed.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
