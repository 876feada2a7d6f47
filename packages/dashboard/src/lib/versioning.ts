// Versioned weights and data of a run, read from its log-other values: `git_commit`, `git_dirty` and
// `dvc_<output path with _>` = DVC md5 (what @ocrops/versioning's versionOthers logs, e.g. `dvc_models_best`).

/** One DVC-tracked output of a run. */
export interface DvcOutput {
  /** The log-other key it came from. */
  key: string;
  /** Output path in the repository, e.g. `models/best` (reconstructed from the key). */
  out: string;
  /** DVC md5 (`<32 hex>.dir` for folders). */
  md5: string;
  /** Shell commands that fetch exactly this version. */
  commands: string[];
}

export interface RunVersioning {
  gitCommit?: string;
  gitDirty?: boolean;
  outputs: DvcOutput[];
}

/** Output folders whose `/` became `_` in the key; longest first. */
const KNOWN_PREFIXES: [string, string][] = [
  ['data_prepared', 'data/prepared'],
  ['models_best', 'models/best'],
  ['models', 'models'],
  ['data', 'data'],
];

/** `models_best` -> `models/best`, `data_prepared_synthetic` -> `data/prepared/synthetic`. */
export function outPathFromKey(keyPart: string): string {
  for (const [k, path] of KNOWN_PREFIXES) {
    if (keyPart === k) return path;
    if (keyPart.startsWith(`${k}_`)) return `${path}/${keyPart.slice(k.length + 1)}`;
  }
  return keyPart;
}

const MD5 = /^[0-9a-f]{32}(\.dir)?$/;

/** Extracts git and DVC information from a run's log-other values (name -> value). */
export function runVersioning(others: Record<string, unknown>): RunVersioning {
  const gitCommit = typeof others.git_commit === 'string' ? others.git_commit : undefined;
  const dirty = others.git_dirty;
  const outputs: DvcOutput[] = [];
  for (const [key, value] of Object.entries(others)) {
    if (!key.startsWith('dvc_')) continue;
    const md5 = String(value ?? '');
    if (!MD5.test(md5)) continue;
    const out = outPathFromKey(key.slice(4));
    const commands = [...(gitCommit ? [`git checkout ${gitCommit.slice(0, 12)} -- dvc.lock`] : []), `dvc pull ${out}`];
    outputs.push({ key, out, md5, commands });
  }
  outputs.sort((a, b) => a.out.localeCompare(b.out));
  return {
    gitCommit,
    gitDirty: dirty === undefined ? undefined : dirty === true || dirty === 'true',
    outputs,
  };
}
