// Readers for dvc.lock and .dvc files: which content (md5, size, file count) each DVC-tracked path has.
import { existsSync } from 'node:fs';
import { dirname, join, normalize, posix, relative, resolve } from 'node:path';
import { ConfigReader, OcropsError, readYamlFile } from '@ocrops/common';

/** A dependency or output recorded by DVC. `md5` ends with `.dir` for directories. */
export interface DvcEntry {
  /** Path as written in the file (relative to the stage's working directory or the .dvc file's folder). */
  path: string;
  md5: string;
  /** Bytes (a directory: total of its files). */
  size?: number;
  /** Number of files of a directory output. */
  nfiles?: number;
  /** `md5` = DVC 3 (plain MD5); `md5-dos2unix` = an entry written by DVC 2 (no `hash:` field). */
  hashName: 'md5' | 'md5-dos2unix';
  isDir: boolean;
}

export interface DvcLockStage {
  cmd: string;
  deps: DvcEntry[];
  /** `{ params file: { dotted key: value } }` */
  params: Record<string, Record<string, unknown>>;
  outs: DvcEntry[];
}

export interface DvcLock {
  /** Absolute path of the dvc.lock file. */
  file: string;
  schema: string;
  stages: Record<string, DvcLockStage>;
}

/** A tracked output resolved to its content id, with the file it was found in. */
export interface ResolvedOutput extends DvcEntry {
  /** Absolute path of the output in the workspace. */
  absPath: string;
  /** The dvc.lock stage or .dvc file that records it. */
  source: string;
}

function entry(r: ConfigReader, what: string): DvcEntry {
  const path = r.string('path');
  const md5 = r.optionalString('md5');
  if (!md5) r.fail('md5', `is missing for ${what} '${path}' (not yet computed: run dvc commit / dvc repro)`);
  const hash = r.optionalString('hash');
  return {
    path,
    md5,
    size: r.has('size') ? r.number('size') : undefined,
    nfiles: r.has('nfiles') ? r.number('nfiles') : undefined,
    hashName: hash === undefined ? 'md5-dos2unix' : 'md5',
    isDir: md5.endsWith('.dir'),
  };
}

function entries(r: ConfigReader, key: string, what: string): DvcEntry[] {
  const v = r.raw(key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) r.fail(key, 'must be a list');
  return v.map((item, i) => {
    const where = `${r.prefix ? `${r.prefix}.` : ''}${key}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new OcropsError(
        'OCROPS_CONFIG_INVALID',
        `${r.source}: field '${where}' must be a mapping with path and md5`,
      );
    }
    return entry(new ConfigReader(item as Record<string, unknown>, r.source, where), what);
  });
}

/** Reads and validates a dvc.lock file (schema 2.0). */
export function readDvcLock(path: string): DvcLock {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new OcropsError('OCROPS_DVC_LOCK_MISSING', `${path} does not exist`, {
      hint: 'run `dvc repro` (or `dvc pull` after a git pull) so that dvc.lock records the pipeline outputs',
    });
  }
  const r = ConfigReader.from(readYamlFile(file), file);
  const schema = r.string('schema', '2.0');
  if (schema !== '2.0') r.fail('schema', `is '${schema}', only dvc.lock schema '2.0' (DVC 2.x/3.x) is supported`);
  const stages: Record<string, DvcLockStage> = {};
  const st = r.section('stages');
  for (const name of st.keys()) {
    const s = st.section(name);
    const cmdRaw = s.raw('cmd');
    const cmd = Array.isArray(cmdRaw) ? cmdRaw.map(String).join(' && ') : String(cmdRaw ?? '');
    const params: Record<string, Record<string, unknown>> = {};
    const p = s.section('params');
    for (const f of p.keys()) params[f] = (p.raw(f) ?? {}) as Record<string, unknown>;
    stages[name] = { cmd, deps: entries(s, 'deps', 'dependency'), params, outs: entries(s, 'outs', 'output') };
  }
  return { file, schema, stages };
}

/** Reads the outputs of a `.dvc` file (written by `dvc add`). */
export function readDvcFile(path: string): DvcEntry[] {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new OcropsError('OCROPS_DVC_FILE_MISSING', `${path} does not exist`, {
      hint: 'give the .dvc file written by `dvc add <path>` (committed to git beside the tracked path)',
    });
  }
  return entries(ConfigReader.from(readYamlFile(file), file), 'outs', 'output');
}

function clean(p: string): string {
  return posix.normalize(p.replaceAll('\\', '/')).replace(/\/+$/, '').replace(/^\.\//, '');
}

/**
 * Finds the output `out` (a path relative to the dvc.lock's / .dvc file's folder, e.g. `models/best`) and its md5.
 * Throws an OcropsError listing the tracked outputs when it is not there.
 */
export function resolveOutput(opts: { lockPath?: string; dvcFile?: string; out?: string }): ResolvedOutput {
  if (opts.dvcFile) {
    const file = resolve(opts.dvcFile);
    const outs = readDvcFile(file);
    const want = opts.out === undefined ? undefined : clean(opts.out);
    const hit = want === undefined ? outs[0] : outs.find((o) => clean(o.path) === want);
    if (!hit) {
      throw new OcropsError('OCROPS_DVC_OUTPUT_UNKNOWN', `${opts.dvcFile} does not track '${opts.out ?? ''}'`, {
        hint: `it tracks: ${outs.map((o) => o.path).join(', ') || '(nothing)'}`,
      });
    }
    return { ...hit, absPath: join(dirname(file), hit.path), source: relative(process.cwd(), file) || file };
  }
  if (!opts.lockPath) {
    throw new OcropsError('OCROPS_USAGE', 'give either a dvc.lock path or a .dvc file to resolve an output from');
  }
  if (opts.out === undefined)
    throw new OcropsError('OCROPS_USAGE', 'give the output path to resolve (e.g. models/best)');
  const lock = readDvcLock(opts.lockPath);
  const want = clean(opts.out);
  const all: string[] = [];
  for (const [name, stage] of Object.entries(lock.stages)) {
    for (const o of stage.outs) {
      all.push(o.path);
      if (clean(o.path) === want) {
        return { ...o, absPath: join(dirname(lock.file), normalize(o.path)), source: `${lock.file}:${name}` };
      }
    }
  }
  throw new OcropsError('OCROPS_DVC_OUTPUT_UNKNOWN', `${opts.lockPath} has no output '${opts.out}'`, {
    hint: `outputs recorded there: ${all.join(', ') || '(none)'}; run \`dvc repro\` if the stage never ran`,
  });
}
