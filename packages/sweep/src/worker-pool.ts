// The worker pool of a sweep run: N workers each ask the optimizer for the next trial and run it, until the optimizer
// has nothing left, the trial budget is spent or the run is stopping.
import { join } from 'node:path';
import type { SweepContext, TrialRun, TrialSuggestion } from './sweep-context.js';
import { runTrialProcess } from './trial-process.js';
import { reportTrial } from './trial-report.js';
import { trialDirName } from './trial-paths.js';

/** Runs one trial to its end and reports it. */
async function runTrial(ctx: SweepContext, s: TrialSuggestion, w: number): Promise<void> {
  const tr: TrialRun = { pid: s.pid, trial: s.trial, history: [] };
  ctx.runs.set(`${s.pid}-${s.trial}`, tr);
  const dir = join(ctx.out, 'trials', trialDirName(s.pid, s.trial));
  const exit = await runTrialProcess(ctx, tr, s, w, dir);
  ctx.ran++;
  await reportTrial(ctx, tr, s, w, dir, exit);
}

/** The trial's number in the sweep: a re-issued trial keeps its place (order in the sweep, not hand-out count). */
async function trialNumber(ctx: SweepContext, s: { pid: string; trial: number; count: number }): Promise<number> {
  const order = await ctx.api
    .optimizerStatus(ctx.id)
    .then((st) => st.trials.findIndex((t) => t.pid === s.pid && t.trial === s.trial))
    .catch(() => -1);
  return order >= 0 ? order + 1 : s.count;
}

/** One worker: next suggestion, run it, repeat. */
async function worker(ctx: SweepContext, w: number): Promise<void> {
  while (!ctx.stopping && (ctx.maxTrials === undefined || ctx.started < ctx.maxTrials)) {
    ctx.started++;
    const s = await ctx.api.optimizerNext(ctx.id, { leaseSeconds: ctx.leaseSeconds, worker: ctx.workerName });
    if (!s) break;
    if (ctx.stopping) {
      await ctx.api.optimizerRelease(ctx.id, s.pid, s.trial);
      break;
    }
    await runTrial(ctx, { ...s, count: await trialNumber(ctx, s) }, w);
  }
}

/** Runs `ctx.workers` workers until all have stopped; `signal` stops them (running trials get SIGTERM). */
export async function runWorkers(ctx: SweepContext, signal?: AbortSignal): Promise<void> {
  const onAbort = () => {
    ctx.stopping = true;
    for (const r of ctx.runs.values()) r.child?.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort);
  try {
    await Promise.all(Array.from({ length: ctx.workers }, (_, i) => worker(ctx, i + 1)));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
