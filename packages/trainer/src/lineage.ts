// What a run records about its exact inputs and output, so a registered version can be traced and re-fetched: the
// DVC 3 md5 of the prepared dataset folder it actually read, the md5 of the config file, git commit and dirty flag,
// and at the end the DVC 3 md5 of its own best-model folder (what `dvc add`/`dvc commit` of that folder would record).
import { relative, isAbsolute } from 'node:path';
import { existsSync } from 'node:fs';
import { repoRoot } from '@ocrops/common';
import { dirManifestMd5, hashDirectory, md5File, runVersionInfo } from '@ocrops/versioning';

export interface RunLineage {
  /** DVC 3 md5 (`<hex>.dir`) of the prepared dataset folder the run read. */
  datasetMd5: string;
  /** That folder, relative to the repository root when inside it. */
  datasetPath: string;
  /** md5 of the train config file's bytes (absent for an in-memory config). */
  configMd5?: string;
  configPath?: string;
  gitCommit?: string;
  gitDirty?: boolean;
  /** DVC 3 md5 of the best-model folder at the end of the run. */
  modelMd5?: string;
}

/** A path relative to the repository root when inside it, else absolute. */
export function repoPath(path: string): string {
  const rel = relative(repoRoot(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : path;
}

/** The DVC 3 md5 of a folder (`<md5 of its manifest>.dir`). */
export async function folderMd5(dir: string): Promise<string> {
  return dirManifestMd5(await hashDirectory(dir));
}

/** The lineage known when a run starts: dataset folder hash, config file hash, git state. */
export async function startLineage(datasetDir: string, configSource: string): Promise<RunLineage> {
  const git = runVersionInfo(repoRoot());
  const lineage: RunLineage = { datasetMd5: await folderMd5(datasetDir), datasetPath: repoPath(datasetDir) };
  if (existsSync(configSource)) {
    lineage.configMd5 = await md5File(configSource);
    lineage.configPath = repoPath(configSource);
  }
  if (git.gitCommit) {
    lineage.gitCommit = git.gitCommit;
    lineage.gitDirty = git.gitDirty;
  }
  return lineage;
}

/**
 * The lineage as tracker "other" values: `dataset_md5`, `dataset_path`, `config_md5`, `config_path`, `git_commit`,
 * `git_dirty`, `model_md5`, plus `dvc_<dataset path with _>` (the dashboard's DVC outputs) for a dataset in the repo.
 */
export function lineageOthers(l: RunLineage): Record<string, string> {
  const out: Record<string, string> = { dataset_md5: l.datasetMd5, dataset_path: l.datasetPath };
  if (!isAbsolute(l.datasetPath)) out[`dvc_${l.datasetPath.replace(/[^A-Za-z0-9]+/g, '_')}`] = l.datasetMd5;
  if (l.configMd5) out.config_md5 = l.configMd5;
  if (l.configPath) out.config_path = l.configPath;
  if (l.gitCommit) out.git_commit = l.gitCommit;
  if (l.gitDirty !== undefined) out.git_dirty = String(l.gitDirty);
  if (l.modelMd5) out.model_md5 = l.modelMd5;
  return out;
}
