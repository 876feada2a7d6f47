// Shared setup of the registry end-to-end tests: a local SeaweedFS, a throw-away git + DVC repository whose remote is
// that SeaweedFS, a tracker server on a free port, and the ocrops CLI run as a child process against them.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '@ocrops/common';
import { startServer, type TrackerServer } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';
import { dvc, dvcBin, hashDirectory } from '@ocrops/versioning';
import { stopSeaweed, type SeaweedHandle } from '@ocrops/services';
import { initDvcRepo, startTestSeaweed } from '@ocrops/services/testkit';
import { runOcrops } from './utils.js';

export const root = repoRoot();
export const skip = dvcBin() ? false : 'dvc is not installed (run scripts/setup)';

export interface RegistryEnv {
  sw: SeaweedHandle;
  repo: string;
  server: TrackerServer;
  env: Record<string, string>;
}

export async function setUp(): Promise<RegistryEnv> {
  const sw = await startTestSeaweed();
  const repo = await initDvcRepo({ endpoint: sw.endpoint, bucket: sw.bucket, prefix: 'dvc' });
  const server = await startServer({ port: 0, dataDir: join(repo, '.tracker'), optimizer: optimizerAlgorithm });
  const env = {
    COMET_URL_OVERRIDE: server.url,
    COMET_API_KEY: server.defaultKey,
    OCROPS_TRACKER_SPOOL: join(repo, '.spool'),
  };
  return { sw, repo, server, env };
}

export async function tearDown(e: RegistryEnv | undefined): Promise<void> {
  if (!e) return;
  await e.server.close();
  await stopSeaweed({ dataDir: e.sw.dataDir, kill: true });
  rmSync(e.sw.dataDir, { recursive: true, force: true });
  rmSync(e.repo, { recursive: true, force: true });
}

/** Runs the ocrops CLI as a child process (asynchronously: the tracker server answers from this process). */
export async function ocrops(e: RegistryEnv, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runOcrops(args, { extraEnv: e.env });
  assert.equal(r.code, 0, `ocrops ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The md5 `dvc add` records for `path` (DVC's own hash of the folder). */
export async function dvcAddMd5(e: RegistryEnv, path: string): Promise<string> {
  await dvc(['add', path], { cwd: e.repo, timeoutMs: 120_000 });
  return (parseYaml(readFileSync(join(e.repo, `${path}.dvc`), 'utf8')) as { outs: Array<{ md5: string }> }).outs[0].md5;
}

export async function snapshot(dir: string): Promise<Map<string, string>> {
  return new Map((await hashDirectory(dir)).map((x) => [x.relpath, x.md5]));
}

/** A data config of 100 synthetic lines prepared into `<repo>/data/prepared/tiny`. */
export function dataConfig(e: RegistryEnv): string {
  const file = join(e.repo, 'data.yaml');
  writeFileSync(
    file,
    [
      'name: tiny-registry',
      'source: { format: synthetic }',
      'charset: vietnamese',
      'image: { height: 32, channels: 1, max_width: 256 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { count: 100, seed: 3 }',
      `output: ${join(e.repo, 'data', 'prepared', 'tiny')}`,
      '',
    ].join('\n'),
  );
  return file;
}

export const TINY = [
  'train.epochs=1',
  'train.max_steps_per_epoch=3',
  'train.batch_size=8',
  'model.embed_dim=16',
  'hidden=16',
  'train.checkpoint_every=0',
  'train.augment=false',
];
