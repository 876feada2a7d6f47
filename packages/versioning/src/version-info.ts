// What a tracked run records about its inputs: the git commit and the dvc.lock hashes of its data and weights.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDvcLock } from './lock.js';

/** Outputs whose dvc.lock hashes identify a run's inputs and result. */
export const VERSIONED_OUTPUTS = ['data/prepared', 'models/best'] as const;

export interface RunVersionInfo {
  /** HEAD commit (40 hex), undefined outside git. */
  gitCommit?: string;
  /** True when tracked files differ from HEAD. */
  gitDirty?: boolean;
  /** Output path -> DVC md5 (`.dir` for folders), from dvc.lock; outputs not in dvc.lock are absent. */
  dvc: Record<string, string>;
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The git commit of `root` and the dvc.lock md5s of `data/prepared` (and its sub-outputs such as
 * `data/prepared/synthetic`) and `models/best`. Never throws: missing git or dvc.lock just leave fields out.
 */
export function runVersionInfo(root: string): RunVersionInfo {
  const info: RunVersionInfo = { dvc: {} };
  const commit = git(root, ['rev-parse', 'HEAD']);
  if (commit && /^[0-9a-f]{40}$/.test(commit)) {
    info.gitCommit = commit;
    info.gitDirty = (git(root, ['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  }
  const lockPath = join(root, 'dvc.lock');
  if (existsSync(lockPath)) {
    try {
      const lock = readDvcLock(lockPath);
      for (const stage of Object.values(lock.stages)) {
        for (const o of stage.outs) {
          const p = o.path.replace(/^\.\//, '').replace(/\/+$/, '');
          if (VERSIONED_OUTPUTS.some((v) => p === v || p.startsWith(`${v}/`))) info.dvc[p] = o.md5;
        }
      }
    } catch {
      /* an unreadable dvc.lock is reported by `dvc status`, not by every training run */
    }
  }
  return info;
}

/**
 * The version info as tracker "other" values: `git_commit`, `git_dirty` and `dvc_<path with _>` (e.g.
 * `dvc_data_prepared`, `dvc_models_best`), as logged by the trainer and shown by the dashboard.
 */
export function versionOthers(info: RunVersionInfo): Record<string, string> {
  const out: Record<string, string> = {};
  if (info.gitCommit) out.git_commit = info.gitCommit;
  if (info.gitDirty !== undefined) out.git_dirty = String(info.gitDirty);
  for (const [path, md5] of Object.entries(info.dvc)) out[`dvc_${path.replace(/[^A-Za-z0-9]+/g, '_')}`] = md5;
  return out;
}
