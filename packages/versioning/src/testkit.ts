// Helpers for this package's tests and the end-to-end tests in test/: a SeaweedFS on free ports in a temp folder,
// and a throw-away git + DVC repository whose default remote points at it. Not part of the public API.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dvc } from './dvc.js';
import { freePorts, LOCAL_S3_CREDENTIALS, startSeaweed, type SeaweedHandle, type SeaweedPorts } from './seaweed.js';

/** Starts a SeaweedFS on 10 free loopback ports with data under a new temp folder. */
export async function startTestSeaweed(dataDir = mkdtempSync(join(tmpdir(), 'ocrops-weed-'))): Promise<SeaweedHandle> {
  const p = await freePorts(10);
  const ports: SeaweedPorts = {
    s3: p[0], s3Grpc: p[1], master: p[2], masterGrpc: p[3], volume: p[4], volumeGrpc: p[5],
    filer: p[6], filerGrpc: p[7], admin: p[8], adminGrpc: p[9],
  };
  return startSeaweed({ dataDir, ports, timeoutMs: 90_000 });
}

/**
 * `git init` + `dvc init` in `dir` (a new temp folder by default), analytics off, the default remote `storage`
 * at `s3://<bucket>/<prefix>` on `endpoint` with the local credentials in .dvc/config.local.
 */
export async function initDvcRepo(opts: { endpoint: string; bucket: string; prefix?: string; dir?: string }): Promise<string> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ocrops-dvcrepo-'));
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: dir });
  await dvc(['init', '-q'], { cwd: dir });
  await dvc(['config', 'core.analytics', 'false'], { cwd: dir });
  await dvc(['config', 'core.check_update', 'false'], { cwd: dir });
  await dvc(['remote', 'add', '-d', 'storage', `s3://${opts.bucket}/${opts.prefix ?? 'dvc'}`], { cwd: dir });
  await dvc(['remote', 'modify', 'storage', 'endpointurl', opts.endpoint], { cwd: dir });
  await dvc(['remote', 'modify', 'storage', 'region', 'us-east-1'], { cwd: dir });
  writeFileSync(join(dir, '.dvc', 'config.local'),
    `['remote "storage"']\n    access_key_id = ${LOCAL_S3_CREDENTIALS.accessKeyId}\n    secret_access_key = ${LOCAL_S3_CREDENTIALS.secretAccessKey}\n`);
  return dir;
}
