// The end of a sweep run: the tracker's final counts, and the best trial's weights published to `best` (from this
// host's trial folder or from S3) with best.json, optionally registered as a model version.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OptimizerStatus, TrackerApi } from '@ocrops/tracker';
import { readResult, shownPath, trialDirName, type Log } from './trial-paths.js';
import { bestWeights, installBest } from './weights.js';

/** `best.json` beside the best model's weights. */
export interface BestRecord {
  sweepId: string;
  pid: string;
  trial: number;
  parameters: Record<string, unknown>;
  metric: string;
  objective: 'minimize' | 'maximize';
  value: number;
  experimentKey?: string;
  trialDir: string;
  modelDir: string;
  createdAt: string;
  /** The best trial's lineage (dataset/config/git hashes, modelMd5 = DVC md5 of the weights without best.json). */
  lineage?: Record<string, unknown>;
}

/**
 * Copies the best completed trial's weights to `bestDir` and writes `bestDir/best.json`: from this host's trial folder
 * when that trial's run is the recorded one, else from S3 where the host that trained it pushed them.
 */
export async function publishBest(
  api: TrackerApi,
  st: OptimizerStatus,
  out: string,
  bestDir: string,
  metric: string,
  maximize: boolean,
  log: Log,
): Promise<BestRecord | undefined> {
  const b = st.best!;
  const trialDir = join(out, 'trials', trialDirName(b.pid, b.trial));
  const result = readResult(trialDir);
  const modelDir = result?.bestModelDir ?? join(trialDir, 'best');
  const record: BestRecord = {
    sweepId: st.id,
    pid: b.pid,
    trial: b.trial,
    parameters: b.parameters,
    metric,
    objective: maximize ? 'maximize' : 'minimize',
    value: b.score!,
    experimentKey: b.experimentKey,
    trialDir: shownPath(trialDir),
    modelDir: shownPath(modelDir),
    createdAt: new Date().toISOString(),
    lineage: result?.lineage,
  };
  if (!existsSync(modelDir) || (b.experimentKey && result?.experimentKey && result.experimentKey !== b.experimentKey)) {
    const w = await bestWeights(api, st).catch(() => undefined);
    if (!w) {
      log(
        `best trial ${trialDirName(b.pid, b.trial)} ran elsewhere (no ${modelDir} here, no weights in S3): ${bestDir} not updated`,
      );
      return undefined;
    }
    record.modelDir = `s3://${w.remote.bucket}/${w.remote.prefix ? `${w.remote.prefix}/` : ''}files/md5/ (${w.md5})`;
    await installBest(w, bestDir, record as unknown as Record<string, unknown>);
    log(
      `best: trial ${trialDirName(b.pid, b.trial)} ${metric}=${b.score} -> ${shownPath(bestDir)}/ (from S3, ${w.md5})`,
    );
    return record;
  }
  // write beside, then swap, so a reader never sees a half-copied folder
  const tmp = `${bestDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(bestDir), { recursive: true });
  cpSync(modelDir, tmp, { recursive: true });
  writeFileSync(join(tmp, 'best.json'), `${JSON.stringify(record, null, 2)}\n`);
  rmSync(bestDir, { recursive: true, force: true });
  renameSync(tmp, bestDir);
  log(`best: trial ${trialDirName(b.pid, b.trial)} ${metric}=${b.score} -> ${shownPath(bestDir)}/ (best.json)`);
  return record;
}
