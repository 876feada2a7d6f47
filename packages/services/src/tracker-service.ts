// The local tracker server as a background service: `ocrops tracker serve` started detached, logs in .ocrops/logs.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OcropsError, repoRoot, spawnOcrops } from '@ocrops/common';

export const DEFAULT_TRACKER_PORT = 5959;

export interface TrackerServiceOptions {
  /** Repository root (holds packages/cli and .ocrops/); default: this checkout. */
  root?: string;
  port?: number;
  /** Tracker data folder (default `<root>/.ocrops/tracker`). */
  dataDir?: string;
  /** How long to wait for the server to answer (default 90 s: the first start compiles TypeScript). */
  timeoutMs?: number;
}

export interface TrackerService {
  url: string;
  pid?: number;
  port: number;
  logFile: string;
  reused: boolean;
}

interface TrackerState {
  pid: number;
  port: number;
  dataDir: string;
  startedAt: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stateFile(root: string): string {
  return join(root, '.ocrops', 'run', 'tracker.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // kill(0) passed, no /proc: alive
  }
}

/** True when an HTTP server answers on 127.0.0.1:port (any status). */
export async function httpAnswers(port: number, path = '/'): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function readState(root: string): TrackerState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(root), 'utf8')) as TrackerState;
  } catch {
    return undefined;
  }
}

/** Starts `ocrops tracker serve` detached (or reuses a server already answering on the port). */
export async function startTracker(opts: TrackerServiceOptions = {}): Promise<TrackerService> {
  const root = resolve(opts.root ?? repoRoot());
  const port = opts.port ?? DEFAULT_TRACKER_PORT;
  const dataDir = resolve(opts.dataDir ?? join(root, '.ocrops', 'tracker'));
  const logDir = join(root, '.ocrops', 'logs');
  const logFile = join(logDir, 'tracker.log');
  const url = `http://127.0.0.1:${port}`;
  const prev = readState(root);
  if (await httpAnswers(port)) {
    return {
      url,
      port,
      logFile,
      reused: true,
      pid: prev && prev.port === port && alive(prev.pid) ? prev.pid : undefined,
    };
  }
  mkdirSync(logDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(join(root, '.ocrops', 'run'), { recursive: true });
  const fd = openSync(logFile, 'a');
  // `ocrops tracker serve` through the CLI, which wires @ocrops/search's optimizer algorithm into the server
  const child = spawnOcrops(
    ['tracker', 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir],
    {
      root,
      detached: true,
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', () => {
    exited = true;
  });
  child.unref();
  if (child.pid === undefined) throw new OcropsError('OCROPS_TRACKER_START', 'could not start `ocrops tracker serve`');
  writeFileSync(
    stateFile(root),
    `${JSON.stringify({ pid: child.pid, port, dataDir, startedAt: new Date().toISOString() }, null, 2)}\n`,
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (await httpAnswers(port)) return { url, port, logFile, reused: false, pid: child.pid };
    if (exited || !alive(child.pid)) break;
    await sleep(300);
  }
  const tail = (() => {
    try {
      return readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .slice(-15)
        .join('\n');
    } catch {
      return '';
    }
  })();
  await stopTracker({ root });
  throw new OcropsError(
    'OCROPS_TRACKER_START',
    `the tracker server did not come up on ${url}. ${logFile} ends with:\n${tail}`,
    {
      hint: 'run `ocrops tracker serve --port <port>` in the foreground to see why',
    },
  );
}

/** Whether the tracker started by `startTracker` runs, and where. */
export async function trackerStatus(
  opts: { root?: string; port?: number } = {},
): Promise<{ running: boolean; url?: string; pid?: number }> {
  const root = resolve(opts.root ?? repoRoot());
  const st = readState(root);
  const port = opts.port ?? st?.port ?? DEFAULT_TRACKER_PORT;
  const up = await httpAnswers(port);
  return {
    running: up,
    url: up ? `http://127.0.0.1:${port}` : undefined,
    pid: st && st.port === port && alive(st.pid) ? st.pid : undefined,
  };
}

/** Stops the tracker started by `startTracker` (its process group: the launcher and the server). */
export async function stopTracker(
  opts: { root?: string; timeoutMs?: number } = {},
): Promise<{ stopped: boolean; pid?: number }> {
  const root = resolve(opts.root ?? repoRoot());
  const st = readState(root);
  rmSync(stateFile(root), { force: true });
  if (!st || !alive(st.pid)) return { stopped: false };
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-st.pid, sig); // detached: the launcher leads its own process group
    } catch {
      try {
        process.kill(st.pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (alive(st.pid) && Date.now() < deadline) await sleep(100);
  if (alive(st.pid)) signal('SIGKILL');
  return { stopped: true, pid: st.pid };
}
