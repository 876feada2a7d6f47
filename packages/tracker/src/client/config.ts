// Client configuration from options, then Comet-style environment variables, then local defaults.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';

export interface ClientConfig {
  /** Server URL (origin or REST base). */
  url: string;
  apiKey?: string;
  workspace: string;
  project: string;
  offline: boolean;
  spoolDir: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:5959';

/** `<repo>/.ocrops/tracker/default-key` when present (written by the local server on first start). */
export function localDefaultKey(dataDir = join(repoRoot(), '.ocrops', 'tracker')): string | undefined {
  const p = join(dataDir, 'default-key');
  return existsSync(p) ? readFileSync(p, 'utf8').trim() || undefined : undefined;
}

/** Default spool folder: `OCROPS_TRACKER_SPOOL` or `<repo>/.ocrops/spool`. */
export function defaultSpoolDir(): string {
  return process.env.OCROPS_TRACKER_SPOOL ?? join(repoRoot(), '.ocrops', 'spool');
}

/**
 * Resolves the client configuration: explicit options win, then `COMET_URL_OVERRIDE`, `COMET_API_KEY`,
 * `COMET_WORKSPACE`, `COMET_PROJECT_NAME`, `OCROPS_TRACKER_OFFLINE=1`, then the local server defaults.
 */
export function resolveClientConfig(o: Partial<ClientConfig> = {}): ClientConfig {
  const env = process.env;
  const url = o.url ?? env.COMET_URL_OVERRIDE ?? DEFAULT_URL;
  return {
    url,
    apiKey: o.apiKey ?? env.COMET_API_KEY ?? localDefaultKey(),
    workspace: o.workspace ?? env.COMET_WORKSPACE ?? 'default',
    project: o.project ?? env.COMET_PROJECT_NAME ?? 'general',
    offline: o.offline ?? (env.OCROPS_TRACKER_OFFLINE === '1' || env.COMET_OFFLINE === '1'),
    spoolDir: o.spoolDir ?? defaultSpoolDir(),
  };
}
