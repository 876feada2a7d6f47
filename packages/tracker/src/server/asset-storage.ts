// Where asset bytes live: a local folder (default `<dataDir>/assets`) or an S3 bucket (the local SeaweedFS).
// Objects are addressed by server-generated keys (`<experimentKey>/<assetId>`), never by the client's file name.
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  CreateBucketCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import { OcropsError } from '@ocrops/common';

export interface AssetStorage {
  readonly kind: 'local' | 's3';
  /** Stores a finished temporary file under `key` (moves or uploads it) and removes the temporary file. */
  putFile(key: string, tmpPath: string, size: number): Promise<void>;
  get(key: string): Promise<Readable>;
  /** Folder for temporary upload files. */
  readonly tmpDir: string;
}

const SAFE_KEY = /^[0-9a-f]{32}\/[0-9a-f]{32}$/;

function checkKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new Error(`invalid storage key ${key}`);
}

/** Assets in a local folder. */
export class LocalAssetStorage implements AssetStorage {
  readonly kind = 'local' as const;
  readonly tmpDir: string;
  constructor(readonly root: string) {
    this.tmpDir = join(root, '.tmp');
  }
  async putFile(key: string, tmpPath: string): Promise<void> {
    checkKey(key);
    const dest = join(this.root, key);
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await rename(tmpPath, dest);
  }
  async get(key: string): Promise<Readable> {
    checkKey(key);
    const path = join(this.root, key);
    await stat(path);
    return createReadStream(path);
  }
}

export interface S3AssetConfig {
  /** `s3://bucket/prefix` */
  url: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Assets in S3 (SeaweedFS/MinIO/AWS): path-style addressing, checksums only when required. */
export class S3AssetStorage implements AssetStorage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  constructor(
    cfg: S3AssetConfig,
    readonly tmpDir: string,
  ) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(cfg.url);
    if (!m) throw new OcropsError('OCROPS_TRACKER_S3', `bad asset URL ${cfg.url}`, { hint: 'use s3://bucket/prefix' });
    this.bucket = m[1];
    this.prefix = m[2].replace(/\/+$/, '');
    this.client = new S3Client({
      endpoint: cfg.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:8333',
      region: cfg.region ?? process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: {
        accessKeyId: cfg.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID ?? 'ocrops',
        secretAccessKey: cfg.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'ocrops',
      },
    });
  }
  private objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/assets/${key}` : `assets/${key}`;
  }
  /** Creates the bucket when missing. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      try {
        await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
      } catch (err) {
        throw new OcropsError(
          'OCROPS_TRACKER_S3',
          `cannot reach or create S3 bucket ${this.bucket}: ${(err as Error).message}`,
          {
            hint: 'start SeaweedFS (ocrops versioning seaweed start) or check --s3-endpoint and credentials',
            cause: err,
          },
        );
      }
    }
  }
  async putFile(key: string, tmpPath: string, size: number): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Body: createReadStream(tmpPath),
          ContentLength: size,
        }),
      );
    } finally {
      await rm(tmpPath, { force: true });
    }
  }
  async get(key: string): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    return r.Body as Readable;
  }
}
