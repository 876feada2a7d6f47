/**
 * What `--model` names, resolved to a runtime: a `.onnx` file (its `ocrops-model.json` beside it), an export folder
 * (`ocrops-model.json` + `model.onnx` and/or ocrops weights), a model folder written by training (`ocrops.json` +
 * weights), a training run folder (its `best/`), or a DVC output that is not on disk yet (pulled from S3 first).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { OcropsError, repoRoot } from '@ocrops/common';
import {
  CONTRACT_FILE,
  ONNX_FILE,
  buildClassifierContract,
  buildContract,
  decodingOfMeta,
  readDecodingLm,
  readTaskContract,
  type ClassifierContract,
  type ModelContract,
  type TaskContract,
} from '@ocrops/model/contract';
import type { InferenceRuntime, RuntimeName } from './runtime.js';

/** The files found for `--model`. */
export interface ModelFiles {
  /** folder holding the model */
  dir: string;
  /** `.onnx` graph, when there is one */
  onnx?: string;
  /** contract read from `ocrops-model.json`, when there is one (an OCR model's or an image classifier's) */
  contract?: TaskContract;
  /** true when the folder holds ocrops's own weights (`ocrops.json`), loadable by the tfjs runtime */
  ocropsWeights: boolean;
}

const OCROPS_META = 'ocrops.json';

/** Finds the model files of `model` (no download; undefined when nothing is there). */
export function findModelFiles(model: string): ModelFiles | undefined {
  const path = resolve(model);
  if (!existsSync(path)) return undefined;
  if (statSync(path).isFile()) {
    if (!path.endsWith('.onnx')) {
      throw new OcropsError('OCROPS_SERVE_MODEL', `${model} is a file but not an .onnx graph`, {
        hint: 'pass a .onnx file, an export/model folder, a training run folder or models/best',
      });
    }
    const dir = dirname(path);
    const contractPath = join(dir, CONTRACT_FILE);
    if (!existsSync(contractPath)) {
      throw new OcropsError('OCROPS_SERVE_MODEL', `${model} has no ${CONTRACT_FILE} beside it`, {
        hint: "export the model with 'ocrops trainer export' (it writes the graph and its contract together)",
      });
    }
    return {
      dir,
      onnx: path,
      contract: readTaskContract(contractPath),
      ocropsWeights: existsSync(join(dir, OCROPS_META)),
    };
  }
  const hasContract = existsSync(join(path, CONTRACT_FILE));
  const hasWeights = existsSync(join(path, OCROPS_META));
  if (!hasContract && !hasWeights && existsSync(join(path, 'best'))) return findModelFiles(join(path, 'best'));
  if (!hasContract && !hasWeights) {
    throw new OcropsError('OCROPS_SERVE_MODEL', `${model} holds neither ${CONTRACT_FILE} nor ${OCROPS_META}`, {
      hint: 'pass a folder written by ocrops trainer train/export, a run folder (runs/<name>) or a .onnx file',
    });
  }
  const contract = hasContract ? readTaskContract(join(path, CONTRACT_FILE)) : undefined;
  const onnxName = contract?.files.onnx ?? ONNX_FILE;
  const onnx = existsSync(join(path, onnxName)) ? join(path, onnxName) : undefined;
  return { dir: path, onnx, contract, ocropsWeights: hasWeights };
}

/**
 * Downloads a DVC-tracked model folder that is not on disk: from `<model>.dvc`, or from the dvc.lock output of the
 * same path. Returns false when no DVC record names it.
 */
export async function pullModel(model: string, log: (m: string) => void): Promise<boolean> {
  const dest = resolve(model);
  const root = repoRoot();
  const rel = isAbsolute(model) ? relative(root, dest) : relative(root, dest);
  const { pullWeights } = await import('@ocrops/versioning');
  if (existsSync(`${dest}.dvc`)) {
    log(`pulling ${model} from DVC storage (${basename(dest)}.dvc) ...`);
    await pullWeights({ dvcFile: `${dest}.dvc`, dest });
    return true;
  }
  const lock = join(root, 'dvc.lock');
  if (existsSync(lock) && readFileSync(lock, 'utf8').includes(`path: ${rel}`)) {
    log(`pulling ${rel} from DVC storage (dvc.lock) ...`);
    await pullWeights({ lockPath: lock, out: rel, dest });
    return true;
  }
  return false;
}

/** Hash of a model folder's weights, naming its ONNX copy in the cache. */
function weightsHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of [OCROPS_META, 'model.json', 'weights.bin'])
    if (existsSync(join(dir, f))) h.update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

/**
 * An ONNX copy of a folder that holds only ocrops weights, written once by ocrops's exporter into
 * `.ocrops/serve-cache/<hash of the weights>/` (the model folder itself, often a DVC output, is left as it is).
 */
async function onnxCopy(files: ModelFiles, log: (m: string) => void): Promise<ModelFiles> {
  const out = join(repoRoot(), '.ocrops', 'serve-cache', weightsHash(files.dir));
  if (!existsSync(join(out, CONTRACT_FILE)) || !existsSync(join(out, ONNX_FILE))) {
    log(`exporting ${relative(process.cwd(), files.dir) || '.'} to ONNX (${relative(process.cwd(), out)}) ...`);
    const { exportModel } = await import('@ocrops/trainer');
    await exportModel({ model: files.dir, out, format: 'onnx' });
  }
  const copy = findModelFiles(out);
  if (!copy?.onnx)
    throw new OcropsError('OCROPS_SERVE_MODEL', `the ONNX export of ${files.dir} wrote no ${ONNX_FILE} in ${out}`);
  return copy;
}

/** Contract of a folder with ocrops weights but no ocrops-model.json (read from its ocrops.json). */
function contractOfWeights(dir: string): TaskContract {
  const meta = JSON.parse(readFileSync(join(dir, OCROPS_META), 'utf8')) as {
    task?: unknown;
    classes?: unknown;
    config?: unknown;
    charset?: { chars?: unknown };
  };
  if (meta.task === 'classify') {
    if (!meta.config || !Array.isArray(meta.classes)) {
      throw new OcropsError('OCROPS_SERVE_MODEL', `${join(dir, OCROPS_META)} has no classifier config or classes`, {
        hint: 'use a classifier folder written by model.save(dir, { classes }) or ocrops trainer export',
      });
    }
    return buildClassifierContract({
      config: meta.config as ClassifierContract['source']['config'],
      classes: meta.classes as string[],
      files: { tfjs: 'model.json' },
    });
  }
  const chars = meta.charset?.chars;
  if (!meta.config || !Array.isArray(chars)) {
    throw new OcropsError('OCROPS_SERVE_MODEL', `${join(dir, OCROPS_META)} has no model config or charset`, {
      hint: 'use a model folder written by ocrops trainer train / export',
    });
  }
  return buildContract({
    config: meta.config as ModelContract['source']['config'],
    charset: chars as string[],
    decoding: decodingOfMeta(meta),
    files: { tfjs: 'model.json' },
  });
}

/** Resolves `--model` (pulling it from DVC storage if needed) and loads it on the chosen runtime, with its decoder's
 * language model when the contract's decoding names one. */
export async function openModel(
  model: string,
  opts: { runtime: RuntimeName; threads?: number; sessions?: number; log?: (m: string) => void },
): Promise<{ runtime: InferenceRuntime; files: ModelFiles }> {
  const opened = await openRuntime(model, opts);
  const c = opened.runtime.contract;
  if (c.task !== 'classify') opened.runtime.lm = readDecodingLm(opened.files.dir, c.decoding, c.numClasses);
  return opened;
}

async function openRuntime(
  model: string,
  opts: { runtime: RuntimeName; threads?: number; sessions?: number; log?: (m: string) => void },
): Promise<{ runtime: InferenceRuntime; files: ModelFiles }> {
  const log = opts.log ?? (() => {});
  let files = findModelFiles(model);
  if (!files && (await pullModel(model, log))) files = findModelFiles(model);
  if (!files) {
    throw new OcropsError(
      'OCROPS_SERVE_MODEL',
      `${model} does not exist and no DVC record (${model}.dvc or dvc.lock) names it`,
      {
        hint: 'pass a run folder, models/best (after `dvc pull models/best`), an export folder or a .onnx file',
      },
    );
  }
  if (opts.runtime === 'onnx') {
    if (!files.onnx) files = await onnxCopy(files, log);
    const { onnxRuntime } = await import('./runtime-onnx.js');
    return {
      runtime: await onnxRuntime(files.onnx!, files.contract!, { threads: opts.threads, sessions: opts.sessions }),
      files,
    };
  }
  if (!files.ocropsWeights) {
    throw new OcropsError(
      'OCROPS_SERVE_MODEL',
      `${files.dir} holds no ocrops weights (${OCROPS_META}) for --runtime tfjs`,
      {
        hint: 'serve it with --runtime onnx, or pass the model folder it was exported from',
      },
    );
  }
  const contract = files.contract ?? contractOfWeights(files.dir);
  const { tfjsRuntime } = await import('./runtime-tfjs.js');
  return { runtime: await tfjsRuntime(files.dir, contract, { threads: opts.threads }), files };
}
