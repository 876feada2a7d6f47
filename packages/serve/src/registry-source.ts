/**
 * A model named in the tracker's registry (`registry:<model>@<alias>` or `registry:<model>:<version>`): resolved
 * through the tracker, its weights downloaded and md5-verified into a local cache, then loaded as a model folder is.
 * While serving an alias, the alias is watched and the server switches to each version it moves to.
 */
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';
import {
  ModelRegistry,
  formatModelRef,
  parseModelRef,
  resolveRegistryModel,
  watchAlias,
  type ModelRef,
  type RegistryVersion,
} from '@ocrops/tracker';
import { openModel } from './model-source.js';
import type { InferenceRuntime, RuntimeName } from './runtime.js';
import type { RunningServer } from './server.js';

/** True when `--model` names a registry model rather than a path. */
export function isRegistryRef(model: string): boolean {
  return model.startsWith('registry:');
}

export interface RegistryModelOptions {
  runtime: RuntimeName;
  threads?: number;
  sessions?: number;
  registry: ModelRegistry;
  /** where verified weights are kept, one folder per weights md5 (default `<repo>/.ocrops/registry-cache`) */
  cacheDir?: string;
  log?: (m: string) => void;
}

/** A loaded registry version. */
export interface RegistryModel {
  runtime: InferenceRuntime;
  version: RegistryVersion;
  dir: string;
}

export function defaultRegistryCacheDir(): string {
  return join(repoRoot(), '.ocrops', 'registry-cache');
}

/** Resolves a reference through the tracker, downloads and verifies the weights, and loads them on the runtime. */
export async function openRegistryModel(ref: string | ModelRef, opts: RegistryModelOptions): Promise<RegistryModel> {
  const log = opts.log ?? (() => {});
  const r = typeof ref === 'string' ? parseModelRef(ref) : ref;
  const resolved = await resolveRegistryModel(r, {
    registry: opts.registry,
    cacheDir: opts.cacheDir ?? defaultRegistryCacheDir(),
  });
  const v = resolved.version;
  log(
    `${formatModelRef(r)} is ${v.modelName}:${v.version} (weights ${v.weights.md5}, ${resolved.cached ? 'cached, re-verified' : 'downloaded, verified'})`,
  );
  const { runtime } = await openModel(resolved.dir, {
    runtime: opts.runtime,
    threads: opts.threads,
    sessions: opts.sessions,
    log,
  });
  return { runtime, version: v, dir: resolved.dir };
}

/** Metadata parameters naming where a served version came from. */
export function registryParameters(ref: ModelRef, v: RegistryVersion): Record<string, string> {
  return {
    registry_model: v.modelName,
    registry_version: v.version,
    ...(ref.alias ? { registry_alias: ref.alias } : {}),
    weights_md5: v.weights.md5,
  };
}

/**
 * Watches the alias a server serves; on each move loads the version it now names (by number, so a further move
 * during the download cannot mix versions) and swaps it in. Failures are logged and the old version stays served.
 */
export function followAlias(
  server: RunningServer,
  ref: ModelRef,
  opts: RegistryModelOptions & { intervalMs?: number },
): { stop(): void } {
  const log = opts.log ?? (() => {});
  let chain = Promise.resolve();
  const watch = watchAlias(ref, {
    registry: opts.registry,
    intervalMs: opts.intervalMs,
    onChange: (next, previous) => {
      chain = chain.then(async () => {
        if (server.version === next.version) return;
        log(`${formatModelRef(ref)} moved from ${previous?.version ?? '?'} to ${next.version}: loading it ...`);
        try {
          const pinned: ModelRef = { modelName: ref.modelName, version: next.version };
          const loaded = await openRegistryModel(pinned, opts);
          await server.swap(loaded.runtime, loaded.version.version, registryParameters(ref, loaded.version));
        } catch (err) {
          log(
            `could not switch to ${ref.modelName}:${next.version}: ${(err as Error).message}; still serving ${server.version}`,
          );
        }
      });
      return chain;
    },
    onError: (err) => log(`watching ${formatModelRef(ref)}: ${(err as Error).message}`),
  });
  return { stop: () => watch.stop() };
}
