// Assets in S3 (a throwaway SeaweedFS): uploads stream through the server into the bucket and read back byte-exact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { venvBin } from '@ocrops/common';
import { LOCAL_S3_CREDENTIALS, type SeaweedHandle } from '@ocrops/services';
import { startTestSeaweed } from '@ocrops/services/testkit';
import { Experiment, TrackerApi, startServer, type TrackerServer } from '../index.js';
import { tempDir } from '../../test-fixtures/helpers.js';

describe('assets in S3 (SeaweedFS)', () => {
  const tmp = tempDir();
  let weed: SeaweedHandle | undefined;
  let skip: string | undefined;
  let server: TrackerServer | undefined;

  before(async () => {
    if (!existsSync(venvBin('weed'))) {
      skip = `SeaweedFS absent (${venvBin('weed')}): run scripts/setup`;
      return;
    }
    weed = await startTestSeaweed(join(tmp.dir, 'weed'));
    server = await startServer({
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      s3: { url: `s3://${weed.bucket}/tracker`, endpoint: weed.endpoint, ...LOCAL_S3_CREDENTIALS },
    });
  });
  after(async () => {
    await server?.close();
    await weed?.stop();
    tmp.cleanup();
  });

  test('logAsset and logModel store bytes in the bucket, get-asset returns them', async (t) => {
    if (skip || !server) return t.skip(skip);
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const model = join(tmp.dir, 'model');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'model.json'), '{}');
    writeFileSync(join(model, 'weights.bin'), big);
    const e = await Experiment.create({
      url: server.url,
      apiKey: server.defaultKey,
      project: 's3',
      spoolDir: join(tmp.dir, 'spool'),
      captureConsole: false,
    });
    await e.logModel('best', model);
    await e.end();
    const api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
    const assets = await api.assets(e.key);
    assert.equal(assets.length, 2);
    const w = assets.find((a) => a.fileName === 'weights.bin')!;
    assert.equal(w.fileSize, big.length);
    assert.ok((await api.getAsset(e.key, w.assetId)).equals(big));
    // nothing kept on local disk but the database
    assert.ok(!existsSync(join(tmp.dir, 'data', 'assets')));
    const tmpUploads = join(tmp.dir, 'data', 'upload-tmp');
    assert.deepEqual(existsSync(tmpUploads) ? readdirSync(tmpUploads) : [], []);
  });
});
