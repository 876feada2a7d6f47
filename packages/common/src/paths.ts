import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this package that holds `nx.json`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** `../shared/datasets` beside the repository (override with OCROPS_DATASETS). */
export function sharedDatasetsDir(): string {
  return process.env.OCROPS_DATASETS ?? resolve(repoRoot(), '..', 'shared', 'datasets');
}

/**
 * Path of a shared dataset (a folder with labels.json, or an ImageFolder set with train/), or undefined when it is
 * absent (tests and benchmarks then skip with a message).
 */
export function sharedDataset(name: string): string | undefined {
  const p = join(sharedDatasetsDir(), name);
  return existsSync(join(p, 'labels.json')) || existsSync(join(p, 'train')) ? p : undefined;
}

/** The project's Python virtualenv binary (dvc, weed), e.g. `venvBin('dvc')`. */
export function venvBin(name: string): string {
  return join(repoRoot(), '.venv', 'bin', name);
}
