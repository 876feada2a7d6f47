// Label Studio export whose images are s3:// URIs (as in the reference CTCModel recipe): the converter downloads them with @aws-sdk/client-s3
// from a real SeaweedFS on free loopback ports, and prepare reads such an export as a source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { venvBin } from '@ocrops/common';
import {
  convertLabelStudio,
  openPrepared,
  parseDataConfig,
  prepare,
  SyntheticLines,
  defaultSyntheticOptions,
} from '@ocrops/data';
import { LOCAL_S3_CREDENTIALS, type SeaweedHandle } from '@ocrops/services';
import { startTestSeaweed } from '@ocrops/services/testkit';

const skip = existsSync(venvBin('weed')) ? false : '.venv/bin/weed absent: run scripts/setup';
let weed: SeaweedHandle | undefined;
let dir = '';
const BUCKET = 'ocr-labels';
const texts: Record<string, string> = {};

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ocrops-ls-s3-'));
  weed = await startTestSeaweed(join(dir, 'weed'));
  const s3 = new S3Client({
    endpoint: weed.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined);
  const gen = new SyntheticLines({ ...defaultSyntheticOptions(), seed: 4 }, 32);
  for (let i = 0; i < 4; i++) {
    const line = gen.line(i);
    const name = `${String(i).padStart(4, '0')}_samples.png`;
    const png = await sharp(Buffer.from(line.data), { raw: { width: line.width, height: 32, channels: 1 } })
      .png()
      .toBuffer();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `data/train/images/${name}`, Body: png }));
    texts[name] = line.text;
  }
  s3.destroy();
});

after(async () => {
  await weed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function exportFile(): string {
  const tasks = Object.entries(texts).map(([name, text], i) => ({
    id: i + 1,
    data: { captioning: `s3://${BUCKET}/data/train/images/${name}` },
    annotations: [{ result: [{ from_name: 'caption', to_name: 'image', type: 'textarea', value: { text: [text] } }] }],
  }));
  tasks.push({
    id: 99,
    data: { captioning: `s3://${BUCKET}/data/train/images/missing.png` },
    annotations: [
      { result: [{ from_name: 'caption', to_name: 'image', type: 'textarea', value: { text: ['Hà Nội'] } }] },
    ],
  });
  const file = join(dir, 'label_studio_data.json');
  writeFileSync(file, JSON.stringify(tasks));
  return file;
}

test('convert-labelstudio downloads s3:// images; a missing object is skipped and named', { skip }, async () => {
  const exp = exportFile();
  const r = await convertLabelStudio(exp, {
    out: join(dir, 'train', 'labels.json'),
    imagesDir: join(dir, 'train', 'images'),
    s3: { endpoint: weed!.endpoint, ...LOCAL_S3_CREDENTIALS },
  });
  assert.equal(r.downloaded, 4);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'train', 'labels.json'), 'utf8')), texts);
  for (const name of Object.keys(texts)) {
    const meta = await sharp(join(dir, 'train', 'images', name)).metadata();
    assert.equal(meta.height, 32);
  }
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0].reason, /download of s3:\/\/ocr-labels\/data\/train\/images\/missing\.png failed/);
});

test(
  'prepare reads a label-studio source, downloading its images (endpoint and credentials from the environment)',
  { skip },
  async () => {
    const exp = exportFile();
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: weed!.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    });
    try {
      const cfg = parseDataConfig(
        {
          name: 'ls',
          source: { format: 'label-studio', path: exp, images: join(dir, 'ls-images') },
          image: { height: 32 },
          split: { train: 2, val: 1, test: 1, seed: 1 },
        },
        'ls.yaml',
        dir,
      );
      const rep = await prepare(cfg, { progress: false });
      assert.deepEqual(rep.counts, { train: 2, val: 1, test: 1 });
      assert.equal(rep.skipped.length, 1);
      const ds = await openPrepared(cfg.output);
      const labels = Object.fromEntries(
        ['train', 'val', 'test'].flatMap((s) =>
          ds.splits[s as 'train'].ids.map((id, i) => [id, ds.splits[s as 'train'].labels[i]]),
        ),
      );
      assert.deepEqual(labels, texts);
    } finally {
      process.env = saved;
    }
  },
);
