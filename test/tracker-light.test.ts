// The tracker server and the CLI launcher load no ML stack: a running `ocrops tracker serve` (which serves the
// dashboard and runs the sweep optimizer) has neither TensorFlow, sharp/libvips nor skia canvas mapped into memory,
// and resolved none of their modules. Guards the package layers (@ocrops/search holds the optimizer maths, so the
// tracker needs neither @ocrops/sweep nor the trainer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TrackerApi } from '@ocrops/tracker';
import { runOcrops, startOcropsTracker } from './utils.js';

/** Native libraries and packages of the ML stack, as they appear in /proc/<pid>/maps and module URLs. */
const HEAVY = [/@tensorflow\//, /libtensorflow/, /\/sharp\//, /@img\/sharp/, /libvips/, /@napi-rs\/canvas/, /skia/];

function heavyIn(lines: string[]): string[] {
  return [...new Set(lines.filter((l) => HEAVY.some((re) => re.test(l))))];
}

/** Runs with the loader hook that lists every module the process resolves into `log`. */
function moduleLogEnv(log: string): Record<string, string> {
  const hook = pathToFileURL(join(import.meta.dirname, 'fixtures', 'module-log.mjs')).href;
  return { OCROPS_MODULE_LOG: log, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim() };
}

test(
  'a running `ocrops tracker serve` has loaded no TensorFlow, sharp or canvas',
  { skip: process.platform !== 'linux' && 'needs /proc' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocrops-tracker-light-'));
    const log = join(dir, 'modules.txt');
    const server = await startOcropsTracker(join(dir, 'data'), { extraEnv: moduleLogEnv(log) });
    try {
      // the dashboard and an optimizer request go through the same process: load them before looking
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      const key = readFileSync(join(dir, 'data', 'default-key'), 'utf8').trim();
      const api = new TrackerApi({ url: server.url, apiKey: key });
      const id = await api.optimizerCreate(
        {
          algorithm: 'bayes',
          spec: { metric: 'val_loss' },
          parameters: { lr: { type: 'float', min: 0.001, max: 0.1 } },
        },
        { projectName: 'light' },
      );
      const next = await api.optimizerNext(id);
      assert.equal(typeof next?.parameters.lr, 'number', 'the optimizer suggested a learning rate');
      const maps = readFileSync(`/proc/${server.pid}/maps`, 'utf8')
        .split('\n')
        .map((l) => l.split(/\s+/).slice(5).join(' '))
        .filter(Boolean);
      assert.ok(
        maps.some((l) => l.includes('node')),
        'the maps of the server process are readable',
      );
      assert.deepEqual(heavyIn(maps), [], 'native libraries of the ML stack mapped into the tracker');
      const modules = readFileSync(log, 'utf8').split('\n');
      assert.ok(
        modules.some((m) => m.includes('/packages/tracker/src/')),
        'the module log lists the tracker sources',
      );
      assert.ok(
        modules.some((m) => m.includes('/packages/search/src/')),
        'the optimizer maths is loaded',
      );
      assert.deepEqual(heavyIn(modules), [], 'ML-stack modules resolved by the tracker');
      assert.ok(
        !modules.some((m) => /\/packages\/(trainer|sweep|data|model)\/src\//.test(m)),
        'trainer, sweep, data or model sources loaded',
      );
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the CLI launcher and its help load no ML stack', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-cli-light-'));
  try {
    for (const args of [['--help'], ['tracker', '--help'], ['services', '--help']]) {
      const log = join(dir, `${args.join('-')}.txt`);
      const r = await runOcrops(args, { extraEnv: moduleLogEnv(log) });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(log), 'the module log was written');
      assert.deepEqual(
        heavyIn(readFileSync(log, 'utf8').split('\n')),
        [],
        `ocrops ${args.join(' ')} loaded the ML stack`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a positive control: `ocrops trainer --help` does load TensorFlow (the check can see it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-cli-heavy-'));
  try {
    const log = join(dir, 'trainer.txt');
    const r = await runOcrops(['trainer', '--help'], { extraEnv: moduleLogEnv(log) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(heavyIn(readFileSync(log, 'utf8').split('\n')).length > 0, 'trainer modules include the ML stack');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
