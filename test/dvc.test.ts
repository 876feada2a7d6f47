// End-to-end DVC mechanics with real DVC and a real SeaweedFS on free loopback ports, in a throw-away git repository
// with a tiny self-contained 3-stage pipeline (repro, push/pull, interrupted push). The full ocrops pipeline is covered by
// test/dvc-pipeline.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { isOcropsError, venvBin } from '@ocrops/common';
import {
  dirManifestMd5,
  dvc,
  hashDirectory,
  pullWeights,
  readDvcFile,
  readDvcLock,
  runVersionInfo,
  s3Client,
  weightsCommands,
} from '@ocrops/versioning';
import { LOCAL_S3_CREDENTIALS, startSeaweed, stopSeaweed, type SeaweedHandle } from '@ocrops/services';
import { initDvcRepo, startTestSeaweed } from '@ocrops/services/testkit';

const missing = !existsSync(venvBin('dvc'))
  ? '.venv/bin/dvc'
  : !existsSync(venvBin('weed'))
    ? '.venv/bin/weed'
    : undefined;
const skip = missing ? `${missing} absent: run scripts/setup` : false;

// One script for the three stages; each appends its name to ran.log so the test sees which stages ran.
const STAGES_MJS = `import { appendFileSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
const p = JSON.parse(readFileSync('configs/p.json', 'utf8'));
const stage = process.argv[2];
appendFileSync('ran.log', stage + '\\n');
if (stage === 'prepare') {
  mkdirSync('data/prepared/nested', { recursive: true });
  for (let i = 0; i < p.prepare.n; i++) writeFileSync('data/prepared/line-' + i + '.txt', 'sample ' + i + ' seed ' + p.prepare.seed + '\\n');
  writeFileSync('data/prepared/nested/ảnh ví dụ.txt', 'Hà Nội\\n');
} else if (stage === 'train') {
  const n = readdirSync('data/prepared').length;
  mkdirSync('models/best', { recursive: true });
  const w = Buffer.alloc(4096);
  for (let i = 0; i < w.length; i++) w[i] = (i * 31 + Math.round(p.train.lr * 1e4) + n) % 251;
  writeFileSync('models/best/weights.bin', w);
  writeFileSync('models/best/model.json', JSON.stringify({ lr: p.train.lr, files: n }));
} else if (stage === 'evaluate') {
  const m = JSON.parse(readFileSync('models/best/model.json', 'utf8'));
  writeFileSync('metrics.json', JSON.stringify({ val_loss: Number((1 / (1 + m.files + m.lr)).toFixed(p.evaluate.digits)) }));
  mkdirSync('plots', { recursive: true });
  writeFileSync('plots/epochs.csv', 'epoch,val_loss\\n1,0.9\\n2,0.5\\n');
}
`;

const DVC_YAML = `stages:
  prepare:
    cmd: node stages.mjs prepare
    deps: [stages.mjs]
    params:
      - configs/p.json: [prepare.n, prepare.seed]
    outs: [data/prepared]
  train:
    cmd: node stages.mjs train
    deps: [stages.mjs, data/prepared]
    params:
      - configs/p.json: [train.lr]
    outs: [models/best]
  evaluate:
    cmd: node stages.mjs evaluate
    deps: [stages.mjs, models/best]
    params:
      - configs/p.json: [evaluate.digits]
    metrics:
      - metrics.json: { cache: false }
    plots:
      - plots/epochs.csv: { cache: false, x: epoch, y: val_loss }
`;

let sw: SeaweedHandle;
let repo: string;

function params(over: Record<string, Record<string, number>> = {}): void {
  const base = { prepare: { n: 3, seed: 1 }, train: { lr: 0.01 }, evaluate: { digits: 4 } };
  for (const [k, v] of Object.entries(over)) Object.assign((base as Record<string, Record<string, number>>)[k], v);
  writeFileSync(join(repo, 'configs', 'p.json'), `${JSON.stringify(base, null, 2)}\n`);
}

/** Runs `dvc repro` and returns the stages that ran (from ran.log). */
async function repro(): Promise<string[]> {
  rmSync(join(repo, 'ran.log'), { force: true });
  await dvc(['repro'], { cwd: repo, timeoutMs: 120_000 });
  return existsSync(join(repo, 'ran.log')) ? readFileSync(join(repo, 'ran.log'), 'utf8').trim().split('\n') : [];
}

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await hashDirectory(dir)) out.set(e.relpath, readFileSync(join(dir, ...e.relpath.split('/'))));
  return out;
}

before(async () => {
  if (skip) return;
  sw = await startTestSeaweed();
  repo = await initDvcRepo({ endpoint: sw.endpoint, bucket: sw.bucket, prefix: 'dvc' });
  mkdirSync(join(repo, 'configs'));
  writeFileSync(join(repo, 'stages.mjs'), STAGES_MJS);
  writeFileSync(join(repo, 'dvc.yaml'), DVC_YAML);
  params();
});

after(async () => {
  if (skip || !sw) return;
  await stopSeaweed({ dataDir: sw.dataDir, kill: true });
  rmSync(sw.dataDir, { recursive: true, force: true });
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test(
  'repro runs every stage, then none, then only the stages a changed param reaches',
  { skip, timeout: 300_000 },
  async () => {
    assert.deepEqual(await repro(), ['prepare', 'train', 'evaluate']);
    assert.deepEqual(await repro(), []);
    assert.match((await dvc(['status'], { cwd: repo })).stdout, /up to date/);

    params({ evaluate: { digits: 3 } });
    assert.deepEqual(await repro(), ['evaluate']);
    params({ evaluate: { digits: 3 }, train: { lr: 0.02 } });
    assert.deepEqual(await repro(), ['train', 'evaluate']);
    assert.deepEqual(await repro(), []);

    const metrics = JSON.parse((await dvc(['metrics', 'show', '--json'], { cwd: repo })).stdout) as Record<
      string,
      unknown
    >;
    assert.match(JSON.stringify(metrics), /val_loss/);
    // our DVC 3 hashing agrees with DVC's own (nested folder, non-ASCII file name)
    const lock = readDvcLock(join(repo, 'dvc.lock'));
    const prepared = lock.stages.prepare.outs[0];
    assert.equal(dirManifestMd5(await hashDirectory(join(repo, 'data', 'prepared'))), prepared.md5);
    assert.equal(prepared.nfiles, 4);
    const info = runVersionInfo(repo);
    assert.equal(info.dvc['data/prepared'], prepared.md5);
    assert.equal(info.dvc['models/best'], lock.stages.train.outs[0].md5);
  },
);

test(
  'push, delete cache and outputs, dvc pull restores byte-identical weights; ocrops weights pull too',
  { skip, timeout: 300_000 },
  async () => {
    const best = join(repo, 'models', 'best');
    const before = await snapshot(best);
    assert.equal(before.size, 2);
    await dvc(['push'], { cwd: repo, timeoutMs: 120_000 });
    rmSync(join(repo, '.dvc', 'cache'), { recursive: true, force: true });
    rmSync(best, { recursive: true, force: true });
    rmSync(join(repo, 'data'), { recursive: true, force: true });
    await dvc(['pull'], { cwd: repo, timeoutMs: 120_000 });
    assert.deepEqual(await snapshot(best), before);

    // the CLI command, Node only (no DVC): into another folder
    const other = join(repo, 'elsewhere', 'weights');
    await weightsCommands.pull.run(['--lock', join(repo, 'dvc.lock'), '--out', 'models/best', '--dest', other]);
    assert.deepEqual(await snapshot(other), before);
    // a directory output with nested and non-ASCII paths
    const prep = join(repo, 'elsewhere', 'prepared');
    const rep = await pullWeights({ lockPath: join(repo, 'dvc.lock'), out: 'data/prepared', dest: prep });
    assert.equal(rep.files, 4);
    assert.deepEqual(await snapshot(prep), await snapshot(join(repo, 'data', 'prepared')));

    // an output never pushed is reported as such
    writeFileSync(
      join(repo, 'w.dvc'),
      'outs:\n- md5: ffffffffffffffffffffffffffffffff\n  size: 1\n  hash: md5\n  path: w.bin\n',
    );
    await assert.rejects(
      pullWeights({ dvcFile: join(repo, 'w.dvc'), dest: join(repo, 'elsewhere', 'w.bin') }),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_WEIGHTS_NOT_IN_REMOTE',
    );
    rmSync(join(repo, 'w.dvc'));
  },
);

test('DVC failures are OcropsErrors quoting DVC', { skip }, async () => {
  await assert.rejects(
    dvc(['repro', 'no-such-stage'], { cwd: repo }),
    (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_DVC_FAILED' && /no-such-stage/.test(e.message),
  );
});

test(
  'a push interrupted by stopping SeaweedFS completes when it is started again and retried',
  { skip, timeout: 600_000 },
  async () => {
    const big = join(repo, 'big');
    mkdirSync(big);
    for (let i = 0; i < 150; i++)
      writeFileSync(join(big, `shard-${String(i).padStart(3, '0')}.bin`), randomBytes(64 * 1024));
    await dvc(['add', 'big'], { cwd: repo, timeoutMs: 120_000 });
    const out = readDvcFile(join(repo, 'big.dvc'))[0];

    const client = s3Client({ endpoint: sw.endpoint, region: 'us-east-1', ...LOCAL_S3_CREDENTIALS });
    const count = async () => {
      let n = 0;
      let token: string | undefined;
      do {
        const r = await client.send(
          new ListObjectsV2Command({ Bucket: sw.bucket, Prefix: 'dvc/files/md5/', ContinuationToken: token }),
        );
        n += r.KeyCount ?? 0;
        token = r.NextContinuationToken;
      } while (token);
      return n;
    };
    const already = await count();
    // one upload at a time and no botocore retries, so that the push is surely under way and then fails fast
    const push = dvc(['push', '--jobs', '1', 'big.dvc'], {
      cwd: repo,
      timeoutMs: 300_000,
      env: { AWS_MAX_ATTEMPTS: '1' },
    });
    push.catch(() => undefined);
    const t0 = Date.now();
    while ((await count()) < already + 20 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
    const tStop = Date.now();
    await stopSeaweed({ dataDir: sw.dataDir });
    console.log(`# stopped SeaweedFS in ${Date.now() - tStop} ms`);
    await assert.rejects(push, (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_DVC_FAILED');

    console.log(`# interrupted push failed ${Date.now() - tStop} ms after the stop began`);
    const again = await startSeaweed({ dataDir: sw.dataDir, ports: sw.ports, timeoutMs: 90_000 });
    assert.equal(again.endpoint, sw.endpoint);
    sw = again;
    const partial = await count();
    assert.ok(
      partial < already + 151,
      `the interrupted push must not have uploaded everything (${partial - already} of 151 objects)`,
    );
    await dvc(['push', 'big.dvc'], { cwd: repo, timeoutMs: 300_000 });
    assert.equal(await count(), already + 151);
    client.destroy();

    // what the remote holds is complete and correct: pulled without DVC and with DVC from an empty cache
    const viaNode = join(repo, 'elsewhere', 'big');
    await pullWeights({ dvcFile: join(repo, 'big.dvc'), dest: viaNode });
    assert.equal(dirManifestMd5(await hashDirectory(viaNode)), out.md5);
    rmSync(join(repo, '.dvc', 'cache'), { recursive: true, force: true });
    rmSync(big, { recursive: true, force: true });
    await dvc(['pull', 'big.dvc'], { cwd: repo, timeoutMs: 300_000 });
    assert.equal(dirManifestMd5(await hashDirectory(big)), out.md5);
  },
);
