// Git and system details an experiment logs at start (Comet's git/metadata and system-details payloads).
import { execFileSync } from 'node:child_process';
import { cpus, hostname, platform, release, totalmem, type, userInfo, arch } from 'node:os';

function git(args: string[], cwd: string): string | null {
  try {
    return (
      execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 3000 })
        .toString()
        .trim() || null
    );
  } catch {
    return null;
  }
}

/** `{user, root, branch, parent, origin}` of the git repository at `cwd`, or undefined outside one. */
export function gitMetadata(cwd = process.cwd()): Record<string, string | null> | undefined {
  const root = git(['rev-parse', '--show-toplevel'], cwd);
  if (!root) return undefined;
  return {
    user: git(['config', 'user.name'], cwd),
    root,
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd),
    parent: git(['rev-parse', 'HEAD'], cwd),
    origin: git(['remote', 'get-url', 'origin'], cwd),
  };
}

/** Host, OS, process and runtime details (no environment variables: they may hold secrets). */
export function systemDetails(): Record<string, unknown> {
  let user: string | null = null;
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  const cpuList = cpus();
  return {
    hostname: hostname(),
    os: `${platform()}-${release()}`,
    osType: type(),
    osRelease: release(),
    machine: arch(),
    pid: process.pid,
    user,
    command: process.argv,
    executable: process.execPath,
    nodeVersion: process.version,
    processor: cpuList[0]?.model ?? null,
    cpuCount: cpuList.length,
    totalRam: totalmem(),
  };
}
