// `pushDirectory` / `pullDirectory`: a folder to and from an S3 remote in DVC's cache layout (no Python, no DVC), so a
// sweep worker on another host can publish a trial's weights and anyone can fetch them by their `.dir` id. Every file
// is stored under its md5 (`<prefix>/files/md5/<xx>/<rest>`), the folder as DVC's JSON manifest under `<md5>.dir`:
// `dvc pull` of an output with that id finds the same objects.
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { OcropsError } from '@ocrops/common';
import { dirManifest, dirManifestMd5, hashDirectory, md5Hex } from './hash.js';
import { downloadOutput } from './pull.js';
import { objectKey, s3Client, type S3RemoteConfig } from './remote.js';

export interface PushReport {
  /** The folder's DVC id: `md5(manifest) + ".dir"`. */
  md5: string;
  files: number;
  bytes: number;
  /** Objects that were already in the remote (same content) and not sent again. */
  skipped: number;
  /** `s3://bucket/key` of the manifest. */
  url: string;
}

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

function pushError(err: unknown, remote: S3RemoteConfig, key: string): OcropsError {
  const where = `s3://${remote.bucket}/${key}${remote.endpoint ? ` at ${remote.endpoint}` : ''}`;
  return new OcropsError('OCROPS_S3_FAILED', `uploading ${where} failed: ${(err as Error).message}`, {
    hint: 'check the S3 endpoint and credentials (--s3-url / --s3-endpoint, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
    cause: err,
  });
}

/** Uploads every file of `dir` and its manifest to `remote` in DVC's layout; objects already there are skipped. */
export async function pushDirectory(dir: string, remote: S3RemoteConfig): Promise<PushReport> {
  const entries = await hashDirectory(dir);
  if (!entries.length) throw new OcropsError('OCROPS_WEIGHTS_EMPTY', `${dir} has no files to push`);
  const client = s3Client(remote);
  let bytes = 0;
  let skipped = 0;
  try {
    const put = async (key: string, body: Buffer | (() => NodeJS.ReadableStream), size: number) => {
      try {
        if (await exists(client, remote.bucket, key)) {
          skipped++;
          return;
        }
        await client.send(
          new PutObjectCommand({
            Bucket: remote.bucket,
            Key: key,
            Body: Buffer.isBuffer(body) ? body : (body() as never),
            ContentLength: size,
          }),
        );
        bytes += size;
      } catch (err) {
        throw pushError(err, remote, key);
      }
    };
    for (const e of entries) {
      const file = join(dir, ...e.relpath.split('/'));
      await put(objectKey(remote.prefix, e.md5), () => createReadStream(file), statSync(file).size);
    }
    // the manifest last: once it exists, every file it names is in the remote
    const manifest = Buffer.from(dirManifest(entries), 'utf8');
    const md5 = dirManifestMd5(entries);
    if (`${md5Hex(manifest)}.dir` !== md5)
      throw new OcropsError('OCROPS_WEIGHTS_CORRUPT', `manifest of ${dir} does not hash to ${md5}`);
    const key = objectKey(remote.prefix, md5);
    await put(key, manifest, manifest.length);
    return { md5, files: entries.length, bytes, skipped, url: `s3://${remote.bucket}/${key}` };
  } finally {
    client.destroy();
  }
}

/** Downloads the folder with DVC id `md5` (`<hex>.dir`) from `remote` into `dest`, verifying every file's md5. */
export async function pullDirectory(opts: { md5: string; remote: S3RemoteConfig; dest: string; concurrency?: number }) {
  if (!/^[0-9a-f]{32}\.dir$/.test(opts.md5)) {
    throw new OcropsError('OCROPS_USAGE', `'${opts.md5}' is not a DVC directory id (32 hex digits + ".dir")`);
  }
  return downloadOutput({ path: opts.md5, md5: opts.md5, isDir: true }, opts.remote, opts.dest, {
    concurrency: opts.concurrency,
  });
}

/** An S3 remote from a URL `s3://bucket/prefix` and an optional endpoint; credentials from the environment. */
export function s3RemoteFromUrl(url: string, endpoint?: string): S3RemoteConfig {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) {
    throw new OcropsError('OCROPS_USAGE', `'${url}' is not an S3 URL`, { hint: 'give s3://<bucket>/<prefix>' });
  }
  return {
    name: 'url',
    url,
    bucket: m[1],
    prefix: m[2].replace(/\/+$/, ''),
    endpoint: endpoint || undefined,
    region: process.env.AWS_REGION || 'us-east-1',
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || undefined,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || undefined,
    sessionToken: process.env.AWS_SESSION_TOKEN || undefined,
  };
}
