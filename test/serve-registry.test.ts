// Serving by name: a real tracker on loopback holds two registered versions of the tiny CRNN (different random
// weights, so their outputs differ), and the real `ocrops serve --model registry:m@champion` command serves the
// alias. Requests run in a loop while the alias moves from version 1 to 2 and back: none fails, answers switch to the
// version the alias names (the version in the response, and the output of that version's own weights), pinned
// versions are served under /v2/models/{name}/versions/{v}, and the replaced model is released.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOcrops } from '@ocrops/common';
import { Experiment, ModelRegistry, TrackerApi, startServer, type TrackerServer } from '@ocrops/tracker';
import { dirManifestMd5, hashDirectory } from '@ocrops/versioning';
import { saveRandomModel, tinyConfig } from './serve-fixtures.js';

let dir: string;
let tracker: TrackerServer;
let registry: ModelRegistry;
let child: ChildProcess | undefined;
let output = '';

/** A finished run that logged the tiny model (random weights from `seed`) as the trainer logs its model folder. */
async function runWithModel(seed: number): Promise<string> {
  const modelDir = join(dir, `model-${seed}`);
  await saveRandomModel(modelDir, seed);
  const exp = await Experiment.create({
    url: tracker.url,
    apiKey: tracker.defaultKey,
    project: 'serve-registry',
    name: `tiny-${seed}`,
    spoolDir: join(dir, 'spool'),
    captureConsole: false,
    crashHandler: false,
  });
  await exp.logModel('crnn', modelDir);
  exp.logOther('model_md5', dirManifestMd5(await hashDirectory(modelDir)));
  await exp.end();
  return exp.key;
}

/** Starts `ocrops serve` on a free port and resolves with its URL once it listens. */
function startServeCommand(args: string[]): Promise<string> {
  const env = { ...process.env, COMET_URL_OVERRIDE: tracker.url, COMET_API_KEY: tracker.defaultKey };
  child = spawnOcrops(['serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ocrops serve did not start within 180 s:\n${output}`)), 180_000);
    const onData = (d: Buffer) => {
      output += d;
      const m = /web page\s+(http:\/\/\S+?)\/\s/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', (d) => (output += d));
    child!.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ocrops serve exited with ${code}:\n${output}`));
    });
  });
}

/** One line of pixels [1, H, 96, 1] (UINT8), the same for every request. */
function inferBody(): string {
  const { height } = tinyConfig();
  const w = 96;
  const data = Array.from({ length: height * w }, (_, i) =>
    ((i % w) * 7 + Math.floor(i / w) * 3) % 17 < 8 ? 30 : 250,
  );
  return JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'UINT8', shape: [1, height, w, 1], data }] });
}

interface Answer {
  status: number;
  version?: string;
  confidence?: number;
  error?: string;
  sentAt: number;
  doneAt: number;
}

async function infer(url: string, path = '/v2/models/ocr/infer'): Promise<Answer> {
  const sentAt = performance.now();
  try {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      body: inferBody(),
      headers: { 'content-type': 'application/json' },
    });
    const json = (await res.json()) as {
      model_version?: string;
      outputs?: Array<{ name: string; data: number[] }>;
      error?: string;
    };
    const confidence = json.outputs?.find((o) => o.name === 'confidence')?.data[0];
    return {
      status: res.status,
      version: json.model_version,
      confidence,
      error: json.error,
      sentAt,
      doneAt: performance.now(),
    };
  } catch (err) {
    return { status: 0, error: (err as Error).message, sentAt, doneAt: performance.now() };
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocrops-serve-registry-'));
  tracker = await startServer({ port: 0, dataDir: join(dir, 'tracker') });
  registry = new ModelRegistry(new TrackerApi({ url: tracker.url, apiKey: tracker.defaultKey }));
  const k1 = await runWithModel(1);
  const k2 = await runWithModel(2);
  await registry.register({ modelName: 'm', experimentKey: k1, aliases: ['champion'] });
  await registry.register({ modelName: 'm', experimentKey: k2 });
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    // SIGTERM first: the CLI wrapper forwards it to the node process that serves (SIGKILL would orphan that one)
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
  await Promise.race([tracker?.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'serve registry:m@champion: the alias moves 1 -> 2 -> 1 under load, no request fails, answers follow it',
  { timeout: 600_000 },
  async () => {
    const url = await startServeCommand([
      '--model',
      'registry:m@champion',
      '--port',
      '0',
      '--poll-ms',
      '200',
      '--registry-cache',
      join(dir, 'cache'),
      '--max-delay-ms',
      '2',
    ]);
    assert.match(output, /m@champion is m:1 \(weights [0-9a-f]{32}\.dir, downloaded, verified\)/);

    // metadata reports the served version and where it came from
    const meta = (await (await fetch(`${url}/v2/models/ocr`)).json()) as {
      versions: string[];
      parameters: Record<string, unknown>;
    };
    assert.deepEqual(meta.versions, ['1']);
    assert.equal(meta.parameters.registry_version, '1');
    assert.equal(meta.parameters.registry_alias, 'champion');

    // pinned versions, loaded on demand: each answers with its own weights, and the two differ
    const pinned1 = await infer(url, '/v2/models/ocr/versions/1/infer');
    const pinned2 = await infer(url, '/v2/models/ocr/versions/2/infer');
    assert.equal(pinned1.status, 200, pinned1.error);
    assert.equal(pinned2.status, 200, pinned2.error);
    assert.equal(pinned1.version, '1');
    assert.equal(pinned2.version, '2');
    assert.ok(
      Math.abs(pinned1.confidence! - pinned2.confidence!) > 1e-4,
      `versions 1 and 2 answer alike (${pinned1.confidence} vs ${pinned2.confidence})`,
    );
    const meta2 = (await (await fetch(`${url}/v2/models/ocr/versions/2`)).json()) as {
      versions: string[];
      parameters: Record<string, unknown>;
    };
    assert.deepEqual(meta2.versions, ['2']);
    assert.equal(meta2.parameters.served_version, '1');
    assert.equal(
      (await fetch(`${url}/v2/models/ocr/versions/9/infer`, { method: 'POST', body: inferBody() })).status,
      404,
    );
    const confidenceOf = { '1': pinned1.confidence!, '2': pinned2.confidence! } as Record<string, number>;

    // requests in a loop (4 clients) while the alias moves to 2, then back to 1
    const answers: Answer[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) answers.push(await infer(url));
    });
    async function until(version: string, what: string): Promise<number> {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const hit = answers.find((a) => a.version === version && a.sentAt > movedAt);
        if (hit) return hit.doneAt;
        assert.ok(Date.now() < deadline, `${what}: no answer from version ${version} within 120 s\n${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    let movedAt = performance.now();
    await registry.setAlias('m', '2', 'champion');
    const switchedTo2 = await until('2', 'alias moved to 2');
    await new Promise((r) => setTimeout(r, 800));
    movedAt = performance.now();
    await registry.setAlias('m', '1', 'champion'); // roll back
    const switchedTo1 = await until('1', 'alias rolled back to 1');
    await new Promise((r) => setTimeout(r, 800));
    running = false;
    await Promise.all(clients);

    const failed = answers.filter((a) => a.status !== 200);
    assert.equal(failed.length, 0, `failed requests: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.ok(answers.length > 20, `only ${answers.length} requests ran`);
    // every answer carries its version's own output
    for (const a of answers)
      assert.ok(
        Math.abs(a.confidence! - confidenceOf[a.version!]) < 1e-4,
        `version ${a.version} answered ${a.confidence}, its weights give ${confidenceOf[a.version!]}`,
      );
    // once a version answered, requests sent afterwards are answered by it (until the next move)
    const during2 = answers.filter((a) => a.sentAt > switchedTo2 && a.sentAt < movedAt);
    const after1 = answers.filter((a) => a.sentAt > switchedTo1);
    assert.ok(during2.length > 0 && after1.length > 0, 'no requests after a switch');
    assert.ok(
      during2.every((a) => a.version === '2'),
      'a request sent after the switch to 2 was answered by another version',
    );
    assert.ok(
      after1.every((a) => a.version === '1'),
      'a request sent after the roll-back was answered by another version',
    );
    const versions = answers.map((a) => a.version).join('');
    assert.match(versions, /^1+[12]*2+[12]*1+$/, 'answers do not go 1 -> 2 -> 1');
    const served = (await (await fetch(`${url}/v2/models/ocr`)).json()) as {
      versions: string[];
      parameters: Record<string, unknown>;
    };
    assert.deepEqual(served.versions, ['1']);
    assert.equal(served.parameters.registry_version, '1');
    assert.match(output, /now serving version 2 \(was 1\)/);
    assert.match(output, /now serving version 1 \(was 2\)/);
    assert.match(output, /released version 1/);

    // graceful stop
    const exited = new Promise<number | null>((r) => child!.once('exit', r));
    child!.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    console.log(`serve-registry: ${answers.length} requests, 0 failed; switched to 2 and back to 1`);
  },
);
