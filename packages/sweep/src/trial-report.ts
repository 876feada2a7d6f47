// The end of a trial: its score, its weights pushed to S3 (when configured), its result recorded in the tracker
// (retried while the tracker is unreachable), tags on its run, and the runner's count of failures in a row.
import { join } from 'node:path';
import { bestUpTo } from '@ocrops/search';
import { isConflict, persist } from './lease.js';
import type { SweepContext, TrialRun, TrialSuggestion } from './sweep-context.js';
import type { TrialExit } from './trial-process.js';
import { readResult, shownPath, type ResultJson } from './trial-paths.js';
import { pushTrialWeights, weightsOthers } from './weights.js';

/** The runner gives up after this many trials in a row failed for good (a broken config would fail every trial). */
const MAX_FAILURES_IN_A_ROW = 3;

type TrialStatus = 'completed' | 'pruned' | 'failed';

/** The trial's score: the trainer's best value of the sweep metric, else the best epoch value seen. */
function trialScore(ctx: SweepContext, tr: TrialRun, result: ResultJson | undefined): number {
  if (result?.best && result.monitor === ctx.metric && Number.isFinite(result.best.value)) return result.best.value;
  return bestUpTo(tr.history, tr.history.length, ctx.maximize);
}

/** Pushes a completed trial's best weights (before its result is reported: a reported best trial has its weights there). */
async function pushWeights(
  ctx: SweepContext,
  tr: TrialRun,
  s: TrialSuggestion,
  w: number,
  modelDir: string,
): Promise<string | undefined> {
  try {
    const pushed = await pushTrialWeights(modelDir, ctx.weights!);
    for (const [key, value] of Object.entries(weightsOthers(pushed, ctx.weights!))) {
      await persist(
        () => ctx.api.post('/write/experiment/log-other', { experimentKey: tr.experimentKey, key, value }),
        ctx.deliverMillis,
      );
    }
    ctx.log(
      `[worker ${w}] trial ${s.count} weights -> ${pushed.url} (${pushed.files} files, ${pushed.skipped} already there)`,
    );
    return undefined;
  } catch (err) {
    return ` (weights not pushed: ${(err as Error).message})`;
  }
}

/** Records the result; undefined when another worker's result of this trial was recorded first. */
async function recordResult(
  ctx: SweepContext,
  tr: TrialRun,
  s: TrialSuggestion,
  w: number,
  status: TrialStatus,
  score: number,
) {
  try {
    return await persist(
      () =>
        ctx.api.optimizerUpdate({
          id: ctx.id,
          pid: s.pid,
          trial: s.trial,
          status,
          experimentKey: tr.experimentKey,
          ...(s.lease ? { lease: s.lease } : {}),
          ...(Number.isFinite(score) ? { score } : {}),
          ...(tr.history.length ? { epoch: tr.history.length } : {}),
        }),
      ctx.deliverMillis,
      (err) => ctx.log(`warning: reporting trial ${s.count} failed (${err.message}); retrying`),
    );
  } catch (err) {
    if (!isConflict(err)) throw err;
    ctx.log(
      `[worker ${w}] trial ${s.count} ${status} here, but not recorded: ${err.message.replace(/^.*-> 409: /, '')}`,
    );
    return undefined;
  }
}

/** Marks the trial's run: the metric's value, and a `pruned` tag saying why a cleanly ended run is short. */
async function tagRun(ctx: SweepContext, tr: TrialRun, status: TrialStatus, score: number): Promise<void> {
  if (tr.experimentKey && Number.isFinite(score)) {
    await ctx.api
      .post('/write/experiment/log-other', {
        experimentKey: tr.experimentKey,
        key: 'optimizer_metric_value',
        value: score,
      })
      .catch(() => undefined);
  }
  if (tr.experimentKey && status === 'pruned') {
    await ctx.api
      .post('/write/experiment/tags', { experimentKey: tr.experimentKey, addedTags: ['pruned'] })
      .catch(() => undefined);
  }
}

/** Counts failures for good in a row (a failed trial the tracker assigns again does not count) and gives up at the limit. */
function countFailure(ctx: SweepContext, status: TrialStatus, recordedStatus: string, dir: string): void {
  ctx.failuresInARow =
    status === 'failed' && recordedStatus === 'failed'
      ? ctx.failuresInARow + 1
      : status === 'failed'
        ? ctx.failuresInARow
        : 0;
  if (ctx.failuresInARow >= MAX_FAILURES_IN_A_ROW && !ctx.stopping) {
    ctx.stopping = true;
    ctx.gaveUp = `${ctx.failuresInARow} trials in a row failed (last: ${shownPath(join(dir, 'train.log'))})`;
  }
}

/** Reports a trial whose process has ended (or releases it when the run is stopping). */
export async function reportTrial(
  ctx: SweepContext,
  tr: TrialRun,
  s: TrialSuggestion,
  w: number,
  dir: string,
  exit: TrialExit,
): Promise<void> {
  const result = readResult(dir);
  tr.experimentKey ??= result?.experimentKey;
  const score = trialScore(ctx, tr, result);
  if (exit.gone && exit.gone !== 'reassigned') return;
  if (ctx.stopping && !exit.pruned && exit.code !== 0) {
    await ctx.api.optimizerRelease(ctx.id, s.pid, s.trial).catch(() => undefined);
    ctx.log(`[worker ${w}] trial ${s.count} stopped and released (it runs again on --resume)`);
    return;
  }
  let status: TrialStatus = exit.pruned ? 'pruned' : exit.code === 0 && Number.isFinite(score) ? 'completed' : 'failed';
  let why = '';
  if (status === 'completed' && ctx.weights) {
    const failed = await pushWeights(ctx, tr, s, w, result?.bestModelDir ?? join(dir, 'best'));
    if (failed) {
      status = 'failed';
      why = failed;
    }
  }
  const recorded = await recordResult(ctx, tr, s, w, status, score);
  if (!recorded) return;
  tr.status = status;
  await tagRun(ctx, tr, status, score);
  countFailure(ctx, status, recorded.status, dir);
  const logPath = shownPath(join(dir, 'train.log'));
  ctx.log(
    `[worker ${w}] trial ${s.count} ${status}${Number.isFinite(score) ? `: ${ctx.metric}=${score.toFixed(4)}` : ''}` +
      (status === 'failed' ? ` (exit ${exit.code}; see ${logPath})${why}` : '') +
      (status === 'failed' && recorded.status !== 'failed' ? '; it will be assigned again (retryAssignLimit)' : ''),
  );
}
