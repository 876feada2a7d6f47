// Test fixture: a throwaway SeaweedFS (`weed mini`) with S3 on free loopback ports; authentication off (no identities).
// Resolves { skip } when the `weed` binary of the project's venv is absent.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree, venvBin } from '@ocrops/common';

/** A port p such that p and p + 10000 (SeaweedFS's gRPC port) are free. */
async function freePairPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(p)) continue;
    if ((await isPortFree(p)) && (await isPortFree(p + 10000))) {
      taken.add(p);
      return p;
    }
  }
}

export interface Seaweed {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

export async function startSeaweed(): Promise<Seaweed | { skip: string }> {
  const weed = venvBin('weed');
  if (!existsSync(weed)) return { skip: `SeaweedFS absent (${weed})` };
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-weed-'));
  const taken = new Set<number>();
  const [master, volume, filer, s3] = [await freePairPort(taken), await freePairPort(taken), await freePairPort(taken), await freePairPort(taken)];
  const bucket = 'ocrops-test';
  const child: ChildProcess = spawn(
    weed,
    [
      'mini', `-dir=${dir}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-master.port=${master}`, `-volume.port=${volume}`,
      `-filer.port=${filer}`, `-s3.port=${s3}`, `-bucket=${bucket}`, '-webdav=false', '-admin.ui=false',
      '-s3.port.iceberg=0', '-s3.port.lance=0', '-master.telemetry=false',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const endpoint = `http://127.0.0.1:${s3}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`${endpoint}/${bucket}`, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) return { endpoint, bucket, stop };
    } catch {
      /* not up yet */
    }
    await sleep(300);
  }
  await stop();
  return { skip: `SeaweedFS did not start: ${log.slice(-300)}` };
}
