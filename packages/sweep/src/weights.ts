// Trial weights in S3: the host that trained a trial pushes its best model in DVC's cache layout and logs the folder's
// id on the trial's run (`sweep_weights`, `sweep_weights_remote`, `sweep_weights_endpoint`); whoever reads the sweep
// resolves its best trial to those objects, so no filesystem is shared between hosts.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OcropsError, repoRoot } from '@ocrops/common';
import type { OptimizerStatus, TrackerApi } from '@ocrops/tracker';
import {
  pullDirectory,
  pushDirectory,
  readS3Remote,
  s3RemoteFromUrl,
  type PushReport,
  type S3RemoteConfig,
} from '@ocrops/versioning';

/** Where a worker's weights go: `--s3-url` (+ `--s3-endpoint`), else the DVC default remote of the checkout. */
export function weightsRemote(opts: { url?: string; endpoint?: string; root?: string }): S3RemoteConfig {
  if (opts.url) return s3RemoteFromUrl(opts.url, opts.endpoint);
  const r = readS3Remote(opts.root ?? repoRoot());
  return opts.endpoint ? { ...r, endpoint: opts.endpoint } : r;
}

/** The others a trial's run carries once its weights are in S3. */
export function weightsOthers(report: PushReport, remote: S3RemoteConfig): Record<string, string> {
  return {
    sweep_weights: report.md5,
    sweep_weights_remote: `s3://${remote.bucket}${remote.prefix ? `/${remote.prefix}` : ''}`,
    ...(remote.endpoint ? { sweep_weights_endpoint: remote.endpoint } : {}),
  };
}

/** Pushes a trial's best model folder, retrying a few times (bounded) when S3 is briefly unreachable. */
export async function pushTrialWeights(dir: string, remote: S3RemoteConfig, attempts = 4): Promise<PushReport> {
  for (let i = 1; ; i++) {
    try {
      return await pushDirectory(dir, remote);
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** i));
    }
  }
}

export interface BestWeights {
  md5: string;
  remote: S3RemoteConfig;
}

/** The S3 location of the best trial's weights, from the others of its run; undefined when none were pushed. */
export async function bestWeights(
  api: TrackerApi,
  st: OptimizerStatus,
  override: { url?: string; endpoint?: string } = {},
): Promise<BestWeights | undefined> {
  const key = st.best?.experimentKey;
  if (!key) return undefined;
  const others = await api.others(key);
  const get = (n: string) => others.find((o) => o.name === n)?.valueCurrent as string | undefined;
  const md5 = get('sweep_weights');
  if (!md5) return undefined;
  const url = override.url ?? get('sweep_weights_remote');
  if (!url) return undefined;
  return { md5, remote: s3RemoteFromUrl(url, override.endpoint ?? get('sweep_weights_endpoint')) };
}

/** Downloads `w` (md5-verified) and swaps it into `dest` with `best.json` beside the weights. */
export async function installBest(w: BestWeights, dest: string, record: Record<string, unknown>): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  await pullDirectory({ md5: w.md5, remote: w.remote, dest: tmp });
  writeFileSync(`${tmp}/best.json`, `${JSON.stringify(record, null, 2)}\n`);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
}

export function noWeightsError(st: OptimizerStatus): OcropsError {
  const b = st.best;
  return new OcropsError(
    'OCROPS_SWEEP_NO_WEIGHTS',
    b
      ? `the best trial ${b.pid.slice(0, 12)}-${b.trial} of sweep ${st.id} has no weights in S3 (no sweep_weights on its run)`
      : `sweep ${st.id} has no completed trial yet`,
    {
      hint: b
        ? 'run the sweep with `ocrops sweep worker` (or `sweep run --push-weights`) so each trial pushes its weights'
        : undefined,
    },
  );
}
