// The model registry from a client's side: register a run's model, list, alias, and — for serving — resolve
// `registry:<model>@<alias>` / `<model>:<version>` to a local folder whose bytes are md5-verified, and watch an alias.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { dirManifestMd5, hashDirectory, md5Hex } from '@ocrops/versioning';
import type { RegistryModel, RegistryVersion } from '../api/index.js';
import { TrackerApi, type TrackerApiOptions } from './api.js';

export type { RegistryVersion };

/** A registered model with its version count and aliases, as the tracker returns it. */
export type RegistryModelSummary = RegistryModel;

/** `model@alias` or `model:version`. */
export interface ModelRef {
  modelName: string;
  alias?: string;
  version?: string;
}

const REF =
  /^(?:registry:)?([A-Za-z0-9][A-Za-z0-9._-]{0,99})(?:@([A-Za-z][A-Za-z0-9_-]{0,63})|:([0-9A-Za-z][0-9A-Za-z.+_-]{0,63}))$/;

/** Parses `registry:<model>@<alias>`, `<model>@<alias>` or `<model>:<version>` (the `registry:` prefix is optional). */
export function parseModelRef(ref: string): ModelRef {
  const m = REF.exec(ref.trim());
  if (!m)
    throw new OcropsError('OCROPS_REGISTRY_REF', `"${ref}" is not a model reference`, {
      hint: 'write registry:<model>@<alias> (e.g. registry:vn-address@champion) or registry:<model>:<version> (e.g. vn-address:3)',
    });
  return m[2] ? { modelName: m[1], alias: m[2] } : { modelName: m[1], version: m[3] };
}

/** `model@alias` / `model:version` for messages. */
export function formatModelRef(ref: ModelRef): string {
  return ref.alias ? `${ref.modelName}@${ref.alias}` : `${ref.modelName}:${ref.version}`;
}

export interface RegisterOptions {
  modelName: string;
  experimentKey: string;
  experimentModelName?: string;
  version?: string;
  description?: string;
  comment?: string;
  tags?: Record<string, string>;
  aliases?: string[];
  /** md5 the caller computed of its local weights folder: the server answers 409 when it differs from the run's. */
  weightsMd5?: string;
  /** Where the same folder is a DVC output. */
  dvc?: { path?: string; md5: string; remote?: string };
  /** Metrics of an evaluation of these weights (name -> number), e.g. the pipeline's metrics.json. */
  evaluation?: Record<string, number>;
}

/** Registry calls on a tracker server (ocrops' /api/ocrops/registry endpoints). */
export class ModelRegistry {
  readonly api: TrackerApi;

  constructor(api: TrackerApi | TrackerApiOptions = {}) {
    this.api = api instanceof TrackerApi ? api : new TrackerApi(api);
  }

  register(o: RegisterOptions): Promise<RegistryVersion> {
    return this.api.post('/api/ocrops/registry/register', { workspaceName: this.api.workspace, ...o });
  }
  async models(): Promise<RegistryModelSummary[]> {
    return (await this.api.get('/api/ocrops/registry/models', { workspaceName: this.api.workspace })).models;
  }
  model(modelName: string): Promise<{
    model: RegistryModelSummary;
    versions: RegistryVersion[];
    aliasHistory: Array<{
      alias: string;
      version: string | null;
      previousVersion: string | null;
      at: number;
      by: string | null;
    }>;
  }> {
    return this.api.get('/api/ocrops/registry/model', { workspaceName: this.api.workspace, modelName });
  }
  /** The version a reference names now. */
  resolve(ref: ModelRef | string): Promise<RegistryVersion> {
    const r = typeof ref === 'string' ? parseModelRef(ref) : ref;
    return this.api.get('/api/ocrops/registry/version', {
      workspaceName: this.api.workspace,
      modelName: r.modelName,
      alias: r.alias,
      version: r.version,
    });
  }
  setAlias(modelName: string, version: string, alias: string): Promise<RegistryVersion> {
    return this.api.post('/api/ocrops/registry/alias', {
      workspaceName: this.api.workspace,
      modelName,
      version,
      alias,
    });
  }
  async deleteAlias(modelName: string, alias: string): Promise<void> {
    await this.api.post('/api/ocrops/registry/alias/delete', { workspaceName: this.api.workspace, modelName, alias });
  }
  updateVersion(
    modelName: string,
    version: string,
    patch: { description?: string; comment?: string; tags?: Record<string, string>; removeTags?: string[] },
  ): Promise<RegistryVersion> {
    return this.api.post('/api/ocrops/registry/version/update', {
      workspaceName: this.api.workspace,
      modelName,
      version,
      ...patch,
    });
  }
  async byRun(experimentKey: string): Promise<Array<{ modelName: string; version: string; aliases: string[] }>> {
    return (await this.api.get('/api/ocrops/registry/by-run', { experimentKey })).versions;
  }
}

/** Downloads a version's files from the tracker into `dest` (replaced atomically), checking every md5 and the folder's. */
export async function downloadVersion(registry: ModelRegistry, v: RegistryVersion, dest: string): Promise<void> {
  const target = resolve(dest);
  const staging = `${target}.pull-${process.pid}-${Date.now()}`;
  await rm(staging, { recursive: true, force: true });
  try {
    for (const f of v.weights.files) {
      const bytes = await registry.api.getAsset(v.experimentKey, f.assetId);
      const got = md5Hex(bytes);
      if (got !== f.md5)
        throw new OcropsError(
          'OCROPS_REGISTRY_CORRUPT',
          `${v.modelName}:${v.version} file ${f.relpath} has md5 ${got}, the registry recorded ${f.md5}`,
          {
            hint: "the run's stored asset changed after registration; register the model again",
          },
        );
      const path = join(staging, ...f.relpath.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    }
    await verifyFolder(staging, v);
    await rm(target, { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true });
    await rename(staging, target);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Throws unless the folder's DVC md5 is the version's weights md5. */
export async function verifyFolder(dir: string, v: RegistryVersion): Promise<void> {
  const got = dirManifestMd5(await hashDirectory(dir));
  if (got !== v.weights.md5)
    throw new OcropsError(
      'OCROPS_REGISTRY_CORRUPT',
      `${dir} hashes to ${got}, but ${v.modelName}:${v.version} records ${v.weights.md5}`,
      {
        hint: 'delete the folder and pull again',
      },
    );
}

export interface ResolvedModel {
  version: RegistryVersion;
  /** Local folder with the verified weights (a loadModel() folder). */
  dir: string;
  /** True when the folder was already in the cache (re-verified, not downloaded). */
  cached: boolean;
}

/**
 * Resolves `registry:<model>@<alias>` / `:<version>` through the tracker to a local, md5-verified folder under
 * `cacheDir/<model>/<weights md5>` (content-addressed: a moved alias gets a new folder, an old one stays intact
 * while it is still being served).
 */
export async function resolveRegistryModel(
  ref: string | ModelRef,
  opts: { registry?: ModelRegistry; cacheDir: string },
): Promise<ResolvedModel> {
  const registry = opts.registry ?? new ModelRegistry();
  const version = await registry.resolve(ref);
  const dir = join(resolve(opts.cacheDir), version.modelName, version.weights.md5.replace(/\.dir$/, ''));
  if (existsSync(dir)) {
    try {
      await verifyFolder(dir, version);
      return { version, dir, cached: true };
    } catch {
      /* damaged cache entry: download again */
    }
  }
  await downloadVersion(registry, version, dir);
  return { version, dir, cached: false };
}

export interface AliasWatch {
  /** Stops polling. */
  stop(): void;
  /** The version last seen. */
  readonly current: RegistryVersion | undefined;
}

/**
 * Polls the version a reference names every `intervalMs` (default 2 s) and calls `onChange` when it moves to another
 * version (not on the first read). Errors (tracker unreachable, alias deleted) go to `onError` and polling goes on.
 */
export function watchAlias(
  ref: string | ModelRef,
  opts: {
    registry?: ModelRegistry;
    intervalMs?: number;
    onChange: (next: RegistryVersion, previous: RegistryVersion | undefined) => void | Promise<void>;
    onError?: (err: unknown) => void;
  },
): AliasWatch {
  const registry = opts.registry ?? new ModelRegistry();
  let current: RegistryVersion | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      const v = await registry.resolve(ref);
      if (current && v.registryModelItemId !== current.registryModelItemId) {
        const prev = current;
        current = v;
        await opts.onChange(v, prev);
      } else current = v;
    } catch (err) {
      opts.onError?.(err);
    }
    if (!stopped) timer = setTimeout(tick, opts.intervalMs ?? 2000);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    get current() {
      return current;
    },
  };
}
