// Small helpers shared by the sweep runner's steps: trial folder names, shown paths, the progress log type.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { repoRoot } from '@ocrops/common';

/** Progress lines of a sweep run. */
export type Log = (line: string) => void;

/** Folder of a trial inside the sweep folder. */
export function trialDirName(pid: string, trial: number): string {
  return `${pid.slice(0, 12)}-${trial}`;
}

/** A path for records and messages: relative to the repository when inside it, else absolute. */
export function shownPath(p: string): string {
  const r = relative(repoRoot(), p);
  return r.startsWith('..') || isAbsolute(r) ? p : r;
}

/** `result.json` a trial's training writes into its folder. */
export interface ResultJson {
  experimentKey?: string;
  monitor?: string;
  best?: { value: number; epoch: number } | null;
  bestModelDir?: string;
  lineage?: Record<string, unknown>;
}

export function readResult(dir: string): ResultJson | undefined {
  const p = join(dir, 'result.json');
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ResultJson;
  } catch {
    return undefined;
  }
}
