import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { freePorts, isOcropsError, venvBin } from '@ocrops/common';
import { LOCAL_S3_CREDENTIALS, seaweedStatus, startSeaweed, stopSeaweed } from './seaweed.js';
import { s3Client } from '@ocrops/versioning';
import { startTestSeaweed } from './testkit.js';

const haveWeed = existsSync(venvBin('weed'));

test(
  'SeaweedFS starts on explicit free ports, serves S3 with the local identity, is reused, stops',
  { skip: !haveWeed && '.venv/bin/weed absent: run scripts/setup', timeout: 180_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ocrops-weed-'));
    try {
      const sw = await startTestSeaweed(dataDir);
      assert.equal(sw.reused, false);
      assert.match(sw.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      const st = seaweedStatus({ dataDir });
      assert.equal(st.running, true);
      assert.equal(st.pid, sw.pid);

      const good = s3Client({ endpoint: sw.endpoint, region: 'us-east-1', ...LOCAL_S3_CREDENTIALS });
      await good.send(new PutObjectCommand({ Bucket: sw.bucket, Key: 'a/b.txt', Body: 'hello' }));
      const got = await good.send(new GetObjectCommand({ Bucket: sw.bucket, Key: 'a/b.txt' }));
      assert.equal(await got.Body!.transformToString(), 'hello');
      good.destroy();

      // authentication is on: a wrong secret is refused
      const bad = s3Client({
        endpoint: sw.endpoint,
        region: 'us-east-1',
        accessKeyId: 'ocrops',
        secretAccessKey: 'wrong',
      });
      await assert.rejects(bad.send(new GetObjectCommand({ Bucket: sw.bucket, Key: 'a/b.txt' })));
      bad.destroy();

      const again = await startSeaweed({ dataDir });
      assert.equal(again.reused, true);
      assert.equal(again.pid, sw.pid);
      assert.equal(again.endpoint, sw.endpoint);

      const stopped = await stopSeaweed({ dataDir });
      assert.deepEqual(stopped, { stopped: true, pid: sw.pid });
      assert.equal(seaweedStatus({ dataDir }).running, false);
      assert.deepEqual(await stopSeaweed({ dataDir }), { stopped: false });
    } finally {
      await stopSeaweed({ dataDir, kill: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

test(
  'a busy port is reported before starting',
  { skip: !haveWeed && '.venv/bin/weed absent: run scripts/setup' },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ocrops-weed-'));
    const [busy] = await freePorts(1);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen({ port: busy, host: '127.0.0.1' }, r));
    try {
      const p = await freePorts(10);
      const ports = {
        s3: p[0],
        s3Grpc: p[1],
        master: p[2],
        masterGrpc: p[3],
        volume: p[4],
        volumeGrpc: p[5],
        filer: busy,
        filerGrpc: p[7],
        admin: p[8],
        adminGrpc: p[9],
      };
      await assert.rejects(
        startSeaweed({ dataDir, ports }),
        (err: unknown) =>
          isOcropsError(err) && err.code === 'OCROPS_SEAWEED_PORT' && err.message.includes(String(busy)),
      );
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
