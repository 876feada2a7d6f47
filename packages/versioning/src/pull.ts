// `pullWeights`: resolve a DVC-tracked output to its S3 objects and download them with the AWS SDK (no Python, no DVC),
// verifying every file's md5 and reassembling `.dir` outputs from their manifest.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OcropsError } from '@ocrops/common';
import { dirManifestMd5, type DirEntry } from './hash.js';
import { resolveOutput, type ResolvedOutput } from './lock.js';
import { objectKey, readS3Remote, s3Client, type S3RemoteConfig } from './remote.js';

export interface PullWeightsOptions {
  /** dvc.lock that records the output (one of lockPath / dvcFile). */
  lockPath?: string;
  /** .dvc file that records the output (written by `dvc add`). */
  dvcFile?: string;
  /** The output's path as recorded (e.g. `models/best`); optional with a .dvc file tracking one path. */
  out?: string;
  /** Where to write the output: the file path, or the folder that receives a directory output's files. */
  dest: string;
  /** S3 remote; default: the default remote of the DVC repository that holds lockPath / dvcFile. */
  remote?: S3RemoteConfig;
  /** Parallel downloads (default 4). */
  concurrency?: number;
  /** Called after each downloaded file. */
  onFile?: (info: { relpath: string; bytes: number; done: number; total: number }) => void;
}

export interface PullReport {
  out: string;
  /** Content id (`.dir` for directories). */
  md5: string;
  files: number;
  bytes: number;
  dest: string;
  /** `s3://bucket/key` of the output's object (the manifest for a directory). */
  url: string;
}

/** The DVC repository root holding `path`: the nearest folder above it with a `.dvc/` folder. */
export function findDvcRoot(path: string): string {
  let dir = resolve(path);
  if (existsSync(dir) && !statSync(dir).isDirectory()) dir = dirname(dir);
  for (;;) {
    if (existsSync(join(dir, '.dvc'))) return dir;
    const up = dirname(dir);
    if (up === dir) {
      throw new OcropsError('OCROPS_DVC_REPO_MISSING', `no DVC repository (.dvc folder) above ${path}`, {
        hint: 'give a dvc.lock or .dvc file inside the ocrops repository',
      });
    }
    dir = up;
  }
}

function s3Error(err: unknown, remote: S3RemoteConfig, key: string): OcropsError {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const where = `s3://${remote.bucket}/${key}${remote.endpoint ? ` at ${remote.endpoint}` : ''}`;
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
    return new OcropsError('OCROPS_WEIGHTS_NOT_IN_REMOTE', `${where} does not exist`, {
      hint: 'the output was never pushed: run `dvc push` where it was produced (the quickstart does)',
    });
  }
  const msg = `${e.name ?? ''} ${e.code ?? ''} ${e.message ?? ''}`;
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|socket hang up/i.test(msg)) {
    return new OcropsError('OCROPS_S3_UNREACHABLE', `cannot reach the S3 remote for ${where}: ${e.message ?? msg}`, {
      hint: 'start the local SeaweedFS with `ocrops services start` (or check endpointurl in .dvc/config)',
    });
  }
  if (
    /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|Forbidden/i.test(msg) ||
    e.$metadata?.httpStatusCode === 403
  ) {
    return new OcropsError('OCROPS_S3_ACCESS_DENIED', `access denied to ${where}: ${e.message ?? msg}`, {
      hint: 'check access_key_id / secret_access_key in .dvc/config.local (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
    });
  }
  return new OcropsError('OCROPS_S3_FAILED', `downloading ${where} failed: ${e.message ?? msg}`, { cause: err });
}

/** Downloads one object to `file` (via a temporary file), returning its md5 and size. */
async function download(
  client: S3Client,
  remote: S3RemoteConfig,
  key: string,
  file: string,
): Promise<{ md5: string; bytes: number }> {
  let body: Readable;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: remote.bucket, Key: key }));
    body = res.Body as Readable;
  } catch (err) {
    throw s3Error(err, remote, key);
  }
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.part-${process.pid}`;
  const hash = createHash('md5');
  let bytes = 0;
  try {
    await pipeline(
      body,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(tmp),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw s3Error(err, remote, key);
  }
  await rename(tmp, file);
  return { md5: hash.digest('hex'), bytes };
}

async function fetchBuffer(client: S3Client, remote: S3RemoteConfig, key: string): Promise<Buffer> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: remote.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  } catch (err) {
    throw s3Error(err, remote, key);
  }
}

/** Parses a `.dir` manifest object and checks that it hashes to `id` (manifests stored with meta are accepted). */
export function parseManifest(bytes: Buffer, id: string, where: string): DirEntry[] {
  let list: unknown;
  try {
    list = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${where}: the directory manifest is not JSON`);
  }
  if (!Array.isArray(list))
    throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${where}: the directory manifest is not a list`);
  const entries: DirEntry[] = list.map((e: unknown, i: number) => {
    const o = e as { md5?: unknown; relpath?: unknown };
    if (typeof o?.md5 !== 'string' || typeof o.relpath !== 'string') {
      throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${where}: manifest entry ${i} lacks md5/relpath`);
    }
    const rel = o.relpath;
    if (isAbsolute(rel) || rel.split('/').includes('..')) {
      throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${where}: manifest entry '${rel}' points outside the output`);
    }
    return { md5: o.md5, relpath: rel };
  });
  const got = dirManifestMd5(entries);
  if (got !== id) {
    throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${where}: the manifest hashes to ${got}, expected ${id}`, {
      hint: 'the remote object is damaged or was written by another tool; push again with `dvc push`',
    });
  }
  return entries;
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

function mismatch(what: string, url: string, got: string, want: string): OcropsError {
  return new OcropsError('OCROPS_WEIGHTS_CORRUPT', `${what} from ${url} has md5 ${got}, expected ${want}`, {
    hint: 'the remote object is damaged: run `dvc push` again from a workspace that has the right data',
  });
}

/**
 * Downloads the DVC-tracked output `out` (found in `lockPath` or `dvcFile`) from its S3 remote into `dest`.
 * A directory output's files land under `dest/` (replacing what was there); every file's md5 is verified.
 */
export async function pullWeights(opts: PullWeightsOptions): Promise<PullReport> {
  const resolved: ResolvedOutput = resolveOutput(opts);
  if (resolved.hashName !== 'md5') {
    throw new OcropsError(
      'OCROPS_DVC_HASH_UNSUPPORTED',
      `${resolved.source}: '${resolved.path}' has a DVC 2 hash (no \`hash: md5\`)`,
      {
        hint: 'update it with `dvc commit` (DVC 3), push, and retry; or use `dvc pull`',
      },
    );
  }
  const remote = opts.remote ?? readS3Remote(findDvcRoot(opts.lockPath ?? opts.dvcFile!));
  return downloadOutput(resolved, remote, opts.dest, opts);
}

/**
 * Downloads the output with content id `out.md5` (a file, or a `.dir` folder) from `remote` into `dest`, verifying
 * every md5; a folder lands complete or not at all.
 */
export async function downloadOutput(
  resolved: Pick<ResolvedOutput, 'path' | 'md5' | 'isDir'>,
  remote: S3RemoteConfig,
  destPath: string,
  opts: Pick<PullWeightsOptions, 'concurrency' | 'onFile'> = {},
): Promise<PullReport> {
  const client = s3Client(remote);
  const dest = resolve(destPath);
  const rootKey = objectKey(remote.prefix, resolved.md5);
  const url = `s3://${remote.bucket}/${rootKey}`;
  try {
    if (!resolved.isDir) {
      const got = await download(client, remote, rootKey, dest);
      if (got.md5 !== resolved.md5) {
        await rm(dest, { force: true });
        throw mismatch(resolved.path, url, got.md5, resolved.md5);
      }
      opts.onFile?.({ relpath: resolved.path, bytes: got.bytes, done: 1, total: 1 });
      return { out: resolved.path, md5: resolved.md5, files: 1, bytes: got.bytes, dest, url };
    }
    const entries = parseManifest(await fetchBuffer(client, remote, rootKey), resolved.md5, url);
    const staging = `${dest}.pull-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    let bytes = 0;
    let done = 0;
    try {
      await pool(entries, opts.concurrency ?? 4, async (e) => {
        const key = objectKey(remote.prefix, e.md5);
        const got = await download(client, remote, key, join(staging, ...e.relpath.split('/')));
        if (got.md5 !== e.md5)
          throw mismatch(`${resolved.path}/${e.relpath}`, `s3://${remote.bucket}/${key}`, got.md5, e.md5);
        bytes += got.bytes;
        opts.onFile?.({ relpath: e.relpath, bytes: got.bytes, done: ++done, total: entries.length });
      });
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
    await rm(dest, { recursive: true, force: true });
    await mkdir(dirname(dest), { recursive: true });
    await rename(staging, dest);
    return { out: resolved.path, md5: resolved.md5, files: entries.length, bytes, dest, url };
  } finally {
    client.destroy();
  }
}
