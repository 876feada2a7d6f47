// The quickstart (and the full-pipeline forms of the repro and push/pull checks of test/dvc.test.ts): scripts/quickstart run twice on a fresh copy of the
// repository with a tiny configuration, on free ports, then a param change, dvc pull and `ocrops weights pull`.
// The copy gets tiny versions of configs/data|train|sweep/synthetic.yaml (a few dozen lines, 1 epoch) so that the whole
// test takes a few minutes on 2 cores; the quickstart itself is unchanged (--skip-setup: this machine is set up). It runs
// the quickstart's default, a plain `dvc repro` (prepare -> sweep -> evaluate -> register).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import sharp from 'sharp';
import { parseDocument } from 'yaml';
import { freePorts, repoRoot, venvBin } from '@ocrops/common';
import { dvc, hashDirectory, weightsCommands } from '@ocrops/versioning';
import { seaweedStatus, stopSeaweed, stopTracker, trackerStatus } from '@ocrops/services';
import { copyRepo, freeS3Port } from '@ocrops/services/testkit';

const root = repoRoot();

const skip =
  !existsSync(venvBin('dvc')) || !existsSync(venvBin('weed'))
    ? '.venv/bin/dvc or weed absent: run scripts/setup'
    : false;
/** where the sweep's best weights land (configs/sweep/synthetic.yaml) */
const weights = 'models/best';

let copy: string | undefined;

/** Edits a YAML file in place, keeping comments. */
function editYaml(path: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, doc.toString());
}

function tinyConfigs(dir: string): void {
  editYaml(join(dir, 'configs/data/synthetic.yaml'), (d) => {
    d.setIn(['synthetic', 'count'], 80);
    d.setIn(['split', 'train'], 60);
    d.setIn(['split', 'val'], 10);
    d.setIn(['split', 'test'], 10);
  });
  editYaml(join(dir, 'configs/train/synthetic.yaml'), (d) => {
    d.setIn(['train', 'epochs'], 1);
    d.setIn(['train', 'batch_size'], 16);
    if (d.hasIn(['model', 'embed_dim'])) d.setIn(['model', 'embed_dim'], 16);
    d.setIn(['model', 'rnn', 'hidden'], 16);
  });
  editYaml(join(dir, 'configs/sweep/synthetic.yaml'), (d) => {
    d.setIn(['spec', 'maxCombo'], 2);
    d.setIn(['ocrops', 'workers'], 1);
    d.setIn(['ocrops', 'set'], { 'train.epochs': 1, 'train.max_steps_per_epoch': 3 });
  });
}

after(async () => {
  if (!copy) return;
  await stopTracker({ root: copy });
  await stopSeaweed({ dataDir: join(copy, '.ocrops', 'seaweedfs'), kill: true });
  rmSync(copy, { recursive: true, force: true });
});

test(
  'quickstart twice on a fresh copy (tiny config, dvc repro of every stage), dashboard reachable, then repro/pull checks',
  { skip, timeout: 1_500_000 },
  async () => {
    copy = copyRepo(root);
    tinyConfigs(copy);
    const s3Port = await freeS3Port();
    const [trackerPort] = await freePorts(1);
    const env = {
      OCROPS_S3_PORT: String(s3Port),
      OCROPS_TRACKER_PORT: String(trackerPort),
      OCROPS_QUICKSTART_TARGET: '',
    };
    const quickstart = () =>
      execa(join(copy!, 'scripts/quickstart'), ['--skip-setup'], { cwd: copy, env, all: true, reject: false });

    const first = await quickstart();
    assert.equal(first.exitCode, 0, `first quickstart failed:\n${first.all}`);
    assert.match(first.all, /SeaweedFS started/);
    assert.match(first.all, /tracker started/);
    assert.match(first.all, /Running stage 'sweep'/);
    assert.match(first.all, /files? pushed/);
    assert.match(first.all, new RegExp(`Dashboard: +http://127\\.0\\.0\\.1:${trackerPort}/`));
    assert.match(first.all, /tracked run\(s\) in project ocr/);
    assert.match(
      first.all,
      new RegExp(`ocrops\\.mjs serve --model ${weights}`),
      'the quickstart prints the command that serves its model',
    );

    const second = await quickstart();
    assert.equal(second.exitCode, 0, `second quickstart failed:\n${second.all}`);
    assert.match(second.all, /SeaweedFS already running/);
    assert.match(second.all, /tracker already running/);
    assert.doesNotMatch(second.all, /Running stage/);
    assert.match(second.all, /Everything is up to date/);
    // the README's plain `dvc repro` reproduces the same one pipeline: after the quickstart nothing is left to run
    // (no second, unused training run)
    const plain = await execa(venvBin('dvc'), ['repro'], { cwd: copy, all: true, env: { DVC_NO_ANALYTICS: '1' } });
    assert.doesNotMatch(plain.all, /Running stage/, plain.all);

    const page = await fetch(`http://127.0.0.1:${trackerPort}/`);
    assert.equal(page.status, 200);
    await page.arrayBuffer();
    assert.equal(seaweedStatus({ dataDir: join(copy, '.ocrops', 'seaweedfs') }).running, true);

    // repro on the real stages: one declared param re-runs only the stages that read it
    const ran = async () => {
      const out = (
        await execa(venvBin('dvc'), ['repro'], {
          cwd: copy,
          all: true,
          env: { DVC_NO_ANALYTICS: '1' },
        })
      ).all;
      return [...out.matchAll(/Running stage '([^']+)'/g)].map((m) => m[1]);
    };
    editYaml(join(copy, 'configs/pipeline.yaml'), (d) => d.setIn(['evaluate', 'worst'], 7));
    // evaluate re-runs; register only if the metrics it reads changed (they do not here, but DVC decides)
    const again = await ran();
    assert.equal(again[0], 'evaluate', again.join(', '));
    assert.ok(
      again.every((s) => s === 'evaluate' || s === 'register'),
      again.join(', '),
    );
    assert.deepEqual(await ran(), []);
    await dvc(['push'], { cwd: copy });

    // push/pull on the real weights: delete cache and outputs, dvc pull gives the same bytes, so does weights pull
    const before = await hashDirectory(join(copy, weights));
    assert.ok(before.length > 0);
    rmSync(join(copy, '.dvc', 'cache'), { recursive: true, force: true });
    rmSync(join(copy, weights), { recursive: true, force: true });
    await dvc(['pull', weights], { cwd: copy });
    assert.deepEqual(await hashDirectory(join(copy, weights)), before);
    const other = join(copy, 'elsewhere');
    await weightsCommands.pull.run(['--lock', join(copy, 'dvc.lock'), '--out', weights, '--dest', other]);
    assert.deepEqual(
      (await hashDirectory(other)).sort((a, b) => a.relpath.localeCompare(b.relpath)),
      [...before].sort((a, b) => a.relpath.localeCompare(b.relpath)),
    );

    // the printed serve command answers an upload with the text (the model is lazily exported to ONNX first)
    const [servePort] = await freePorts(1);
    const server = execa(
      process.execPath,
      [join(copy, 'packages/cli/bin/ocrops.mjs'), 'serve', '--model', weights, '--port', String(servePort)],
      { cwd: copy, all: true, reject: false },
    );
    try {
      let served = '';
      server.all?.on('data', (c: Buffer) => (served += c));
      const deadline = Date.now() + 300_000;
      while (!/serving /.test(served)) {
        assert.ok(Date.now() < deadline && server.exitCode === null, `ocrops serve did not start:\n${served}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const png = await sharp({ create: { width: 240, height: 40, channels: 3, background: '#ffffff' } })
        .composite([
          {
            input: Buffer.from('<svg width="240" height="40"><text x="4" y="28" font-size="24">12 Lê Lợi</text></svg>'),
          },
        ])
        .png()
        .toBuffer();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'line.png');
      const res = await fetch(`http://127.0.0.1:${servePort}/predict`, { method: 'POST', body: form });
      const body = (await res.json()) as { text?: unknown; confidence?: unknown };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(typeof body.text, 'string');
      assert.equal(typeof body.confidence, 'number');
    } finally {
      server.kill('SIGTERM');
      await server;
    }

    const stop = await execa(join(copy, 'scripts/stop'), [], { cwd: copy, all: true, reject: false });
    assert.equal(stop.exitCode, 0, stop.all);
    assert.equal(seaweedStatus({ dataDir: join(copy, '.ocrops', 'seaweedfs') }).running, false);
    assert.equal((await trackerStatus({ root: copy, port: trackerPort })).running, false);
  },
);
