// The DVC S3 remote as configured in .dvc/config (+ .dvc/config.local), and an S3 client that works with SeaweedFS and AWS.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { OcropsError } from '@ocrops/common';

/** Where DVC keeps its objects: `s3://<bucket>/<prefix>/files/md5/<xx>/<rest>`. */
export interface S3RemoteConfig {
  /** Remote name in .dvc/config (e.g. `storage`). */
  name: string;
  /** `s3://bucket/prefix` */
  url: string;
  bucket: string;
  /** Key prefix without leading/trailing slashes (may be empty). */
  prefix: string;
  /** Endpoint of an S3-compatible server (SeaweedFS: `http://127.0.0.1:8333`); undefined = AWS. */
  endpoint?: string;
  region: string;
  /** Undefined = the AWS SDK's default credential chain (env, ~/.aws, ...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Parses DVC's INI config (configobj syntax) into `{ section: { key: value } }`; section `'remote "storage"'`. */
export function parseDvcConfig(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (sec) {
      const name = sec[1].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
      cur = out[name] ??= {};
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (kv && cur)
      cur[kv[1].trim()] = kv[2]
        .trim()
        .replace(/^'(.*)'$/, '$1')
        .replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/**
 * Reads the S3 remote `name` (default: `core.remote`) of the DVC repository at `root`, merging `.dvc/config.local`
 * over `.dvc/config`. Credentials from the config win; otherwise AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the SDK chain.
 */
export function readS3Remote(root: string, name?: string): S3RemoteConfig {
  const files = [join(root, '.dvc', 'config'), join(root, '.dvc', 'config.local')];
  if (!existsSync(files[0])) {
    throw new OcropsError('OCROPS_DVC_CONFIG_MISSING', `${files[0]} does not exist`, {
      hint: 'run inside the ocrops repository (or give --root); `dvc init` creates .dvc/config',
    });
  }
  const cfg: Record<string, Record<string, string>> = {};
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const [sec, kv] of Object.entries(parseDvcConfig(readFileSync(f, 'utf8')))) cfg[sec] = { ...cfg[sec], ...kv };
  }
  const remoteName = name ?? cfg.core?.remote;
  if (!remoteName) {
    throw new OcropsError('OCROPS_DVC_REMOTE_MISSING', `${files[0]}: no default remote (core.remote) is set`, {
      hint: 'dvc remote add -d storage s3://<bucket>/<prefix>',
    });
  }
  const r = cfg[`remote "${remoteName}"`];
  if (!r?.url) {
    throw new OcropsError('OCROPS_DVC_REMOTE_MISSING', `${files[0]}: remote '${remoteName}' has no url`, {
      hint: `dvc remote add ${remoteName} s3://<bucket>/<prefix>`,
    });
  }
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(r.url);
  if (!m) {
    throw new OcropsError(
      'OCROPS_DVC_REMOTE_UNSUPPORTED',
      `remote '${remoteName}' is ${r.url}; only s3:// remotes are supported`,
      {
        hint: 'use `dvc pull` for other remote types',
      },
    );
  }
  return {
    name: remoteName,
    url: r.url,
    bucket: m[1],
    prefix: m[2].replace(/\/+$/, ''),
    endpoint: r.endpointurl || undefined,
    region: r.region || process.env.AWS_REGION || 'us-east-1',
    accessKeyId: r.access_key_id || process.env.AWS_ACCESS_KEY_ID || undefined,
    secretAccessKey: r.secret_access_key || process.env.AWS_SECRET_ACCESS_KEY || undefined,
    sessionToken: r.session_token || process.env.AWS_SESSION_TOKEN || undefined,
  };
}

/** An S3 client with settings that work with SeaweedFS and AWS (path style, checksums only when required). */
export function s3Client(
  remote: Pick<S3RemoteConfig, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
): S3Client {
  // Node 20 is supported by ocrops; the SDK's "upgrade to Node 22" notice would only clutter every command's output
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: remote.region,
    endpoint: remote.endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
    credentials:
      remote.accessKeyId && remote.secretAccessKey
        ? {
            accessKeyId: remote.accessKeyId,
            secretAccessKey: remote.secretAccessKey,
            sessionToken: remote.sessionToken,
          }
        : undefined,
  });
}

/** The object key of a content id in a DVC 3 remote: `<prefix>/files/md5/<xx>/<rest>` (`.dir` kept on the rest). */
export function objectKey(prefix: string, md5: string, hashName: 'md5' | 'md5-dos2unix' = 'md5'): string {
  const tail = `${md5.slice(0, 2)}/${md5.slice(2)}`;
  const body = hashName === 'md5' ? `files/md5/${tail}` : tail;
  return prefix ? `${prefix}/${body}` : body;
}
