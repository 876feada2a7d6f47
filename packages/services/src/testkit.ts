// Test launchers (the `@ocrops/services/testkit` entry point) for this repository's package tests and the end-to-end
// tests in test/: a SeaweedFS on free ports in a temp folder, a throw-away PostgreSQL cluster, and a throw-away
// git + DVC repository whose default remote points at the SeaweedFS. Not part of the public API of @ocrops/services.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { freePorts, isPortFree, STABLE_PORT_RANGE } from '@ocrops/common';
export { startPostgres, type PgCluster } from './postgres.js';
import { dvc } from '@ocrops/versioning';
import { LOCAL_S3_CREDENTIALS, startSeaweed, type SeaweedHandle, type SeaweedPorts } from './seaweed.js';

/**
 * Starts a SeaweedFS on 10 free ports with data under `dataDir` (a new temp folder by default), listening on loopback
 * or on `bindIp` (inside a network namespace, every address of it: '0.0.0.0').
 */
export async function startTestSeaweed(
  dataDir = mkdtempSync(join(tmpdir(), 'ocrops-weed-')),
  opts: { bindIp?: string; timeoutMs?: number } = {},
): Promise<SeaweedHandle> {
  const p = await freePorts(10, { range: STABLE_PORT_RANGE });
  const ports: SeaweedPorts = {
    s3: p[0],
    s3Grpc: p[1],
    master: p[2],
    masterGrpc: p[3],
    volume: p[4],
    volumeGrpc: p[5],
    filer: p[6],
    filerGrpc: p[7],
    admin: p[8],
    adminGrpc: p[9],
  };
  return startSeaweed({ dataDir, ports, bindIp: opts.bindIp, timeoutMs: opts.timeoutMs ?? 90_000 });
}

/**
 * `git init` + `dvc init` in `dir` (a new temp folder by default), analytics off, the default remote `storage`
 * at `s3://<bucket>/<prefix>` on `endpoint` with the local credentials in .dvc/config.local.
 */
export async function initDvcRepo(opts: {
  endpoint: string;
  bucket: string;
  prefix?: string;
  dir?: string;
}): Promise<string> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ocrops-dvcrepo-'));
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q'], { cwd: dir });
  await dvc(['init', '-q'], { cwd: dir });
  await dvc(['config', 'core.analytics', 'false'], { cwd: dir });
  await dvc(['config', 'core.check_update', 'false'], { cwd: dir });
  await dvc(['remote', 'add', '-d', 'storage', `s3://${opts.bucket}/${opts.prefix ?? 'dvc'}`], { cwd: dir });
  await dvc(['remote', 'modify', 'storage', 'endpointurl', opts.endpoint], { cwd: dir });
  await dvc(['remote', 'modify', 'storage', 'region', 'us-east-1'], { cwd: dir });
  writeFileSync(
    join(dir, '.dvc', 'config.local'),
    `['remote "storage"']\n    access_key_id = ${LOCAL_S3_CREDENTIALS.accessKeyId}\n    secret_access_key = ${LOCAL_S3_CREDENTIALS.secretAccessKey}\n`,
  );
  return dir;
}

/**
 * A working copy of the repository in a temp folder, as a fresh clone would have it (tracked + untracked, not ignored
 * files), plus `git init`. node_modules is rebuilt from symlinks so that `@ocrops/*` resolve to the copy's packages
 * and everything else to the original install; `.venv` is a symlink.
 */
export function copyRepo(root: string, dest = mkdtempSync(join(tmpdir(), 'ocrops-clone-'))): string {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    maxBuffer: 64 << 20,
  })
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    const src = join(root, f);
    if (!existsSync(src) || !statSync(src).isFile()) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    copyFileSync(src, join(dest, f));
    chmodSync(join(dest, f), statSync(src).mode);
  }
  const nm = join(dest, 'node_modules');
  mkdirSync(join(nm, '@ocrops'), { recursive: true });
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === '@ocrops' || name === '.bin') continue;
    symlinkSync(join(root, 'node_modules', name), join(nm, name));
  }
  for (const pkg of readdirSync(join(root, 'node_modules', '@ocrops'))) {
    const target = realpathSync(join(root, 'node_modules', '@ocrops', pkg));
    symlinkSync(join(dest, relative(root, target)), join(nm, '@ocrops', pkg));
  }
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const inner = join(root, 'packages', pkg, 'node_modules');
    if (existsSync(inner) && existsSync(join(dest, 'packages', pkg)))
      symlinkSync(inner, join(dest, 'packages', pkg, 'node_modules'));
  }
  symlinkSync(join(root, '.venv'), join(dest, '.venv'));
  execFileSync('git', ['init', '-q'], { cwd: dest });
  return dest;
}

/** An S3 port p such that p..p+4 and p+10000..p+10004 (the ports derived from it) are all free. */
export async function freeS3Port(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = 20000 + Math.floor(Math.random() * 2760); // p + 10004 stays below the ephemeral range (32768)
    const all = [0, 1, 2, 3, 4].flatMap((i) => [p + i, p + 10000 + i]);
    if ((await Promise.all(all.map((port) => isPortFree(port)))).every(Boolean)) return p;
  }
  throw new Error('no free block of SeaweedFS ports found');
}
