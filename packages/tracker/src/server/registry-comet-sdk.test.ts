// The registry's Comet REST v2 endpoints driven by the official comet_ml Python SDK (3.58.8): its own calls list a
// run's models, register a model and a new version, add a stage, update a comment, read details and count, and
// download + unzip a version. Skips when the project venv has no comet_ml.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '@ocrops/common';
import { Experiment, startServer, type TrackerServer } from '../index.js';
import { tempDir } from '../../test-fixtures/helpers.js';

const python = join(repoRoot(), '.venv', 'bin', 'python');
const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-fixtures', 'comet_registry.py');

function sdkAbsent(): string | false {
  if (!existsSync(python)) return `${python} absent (run scripts/setup)`;
  try {
    execFileSync(python, ['-c', 'import comet_ml'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'comet_ml is not installed in .venv (.venv/bin/pip install comet-ml==3.58.8)';
  }
}

const skip = sdkAbsent();
const tmp = tempDir('ocrops-registry-sdk-');
let server: TrackerServer;

before(async () => {
  if (!skip) server = await startServer({ port: 0, dataDir: join(tmp.dir, 'tracker') });
});
after(async () => {
  await server?.close();
  tmp.cleanup();
});

/** Runs the SDK script asynchronously (the server answers from this process). */
function runSdk(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, ...args], {
      env: { ...process.env, COMET_DISABLE_AUTO_LOGGING: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`comet_registry.py exited ${code}:\n${err}`)),
    );
  });
}

test('comet_ml SDK: register, new version, stages, details, count, download', { skip, timeout: 180_000 }, async () => {
  const model = join(tmp.dir, 'model');
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(join(model, 'model.json'), '{"format":"tfjs"}');
  writeFileSync(join(model, 'sub', 'weights.bin'), Buffer.alloc(2048, 9));
  const exp = await Experiment.create({
    url: server.url,
    apiKey: server.defaultKey,
    project: 'sdk',
    name: 'sdk-run',
    spoolDir: join(tmp.dir, 'spool'),
    captureConsole: false,
  });
  await exp.logModel('crnn', model);
  await exp.end();

  const dest = join(tmp.dir, 'download');
  const out = JSON.parse((await runSdk([server.url, server.defaultKey, exp.key, dest])).trim().split('\n').at(-1)!);
  assert.deepEqual(
    out.experimentModels.map((m: any) => [m.experimentKey, m.modelName]),
    [[exp.key, 'crnn']],
  );
  assert.deepEqual(out.names, ['sdk-model']);
  assert.equal(out.count, 1);
  assert.deepEqual(out.versions, ['1.0.0', '1.1.0']);
  assert.equal(out.details.description, 'made by the SDK');
  const [v100, v110] = out.details.versions;
  assert.deepEqual(v100.stages, ['staging']);
  assert.equal(v100.comment, 'updated');
  assert.deepEqual(v110.stages, ['production']);
  assert.equal(v110.experimentModel.experimentKey, exp.key);
  assert.deepEqual(out.downloaded, ['model.json', 'sub']);
  assert.ok(readFileSync(join(dest, 'sub', 'weights.bin')).equals(Buffer.alloc(2048, 9)));
});
