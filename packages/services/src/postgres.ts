// Test launcher: a throwaway PostgreSQL 15 cluster in a temp folder on a free loopback port (initdb + pg_ctl).
// As root, the binaries run as the `postgres` user (initdb refuses root). Resolves undefined when unavailable.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePorts } from '@ocrops/common';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  url: string;
  stop(): void;
}

export async function startPostgres(): Promise<PgCluster | { skip: string }> {
  if (!existsSync(join(BIN, 'initdb'))) return { skip: `PostgreSQL binaries absent (${BIN})` };
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  let gid = 0;
  if (asRoot) {
    try {
      uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    } catch {
      return { skip: 'running as root and there is no postgres user to run initdb' };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-pg-'));
  if (asRoot) chownSync(dir, uid, gid);
  const run = (cmd: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : join(BIN, cmd),
      asRoot ? ['-u', 'postgres', '--', join(BIN, cmd), ...args] : args,
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      },
    );
  const data = join(dir, 'data');
  try {
    run('initdb', ['-D', data, '-U', 'ocrops', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const [port] = await freePorts(1);
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    return {
      url: `postgres://ocrops@127.0.0.1:${port}/postgres`,
      stop() {
        try {
          run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `could not start PostgreSQL: ${(err as Error).message.split('\n')[0]}` };
  }
}
