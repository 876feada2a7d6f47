// A worker's side of a trial lease: heartbeats that keep the trial assigned to this worker while it trains, and
// reports that outlast a short network cut (bounded in time) without ever being counted twice by the tracker.
import { TrackerHttpError, type TrackerApi } from '@ocrops/tracker';

export type LeaseGone = 'reassigned' | 'completed' | 'failed' | 'pruned';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Heartbeats every quarter of the lease while a trial trains; `onGone` when the tracker says it is no longer ours. */
export class TrialHeartbeat {
  private timer?: NodeJS.Timeout;
  private failing = false;
  private gone?: LeaseGone;
  private inFlight = false;

  constructor(
    private readonly api: TrackerApi,
    private readonly trial: { id: string; pid: string; trial: number; lease: string },
    private readonly leaseSeconds: number,
    private readonly log: (line: string) => void,
    private readonly onGone: (state: LeaseGone) => void,
  ) {}

  start(): this {
    const every = Math.max(250, (this.leaseSeconds * 1000) / 4);
    this.timer = setInterval(() => void this.beat(), every);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const r = await this.api.optimizerHeartbeat(this.trial);
      if (this.failing)
        this.log(`heartbeat of trial ${this.trial.pid.slice(0, 12)}-${this.trial.trial}: the tracker answers again`);
      this.failing = false;
      if (r.state !== 'leased' && r.state !== this.gone) {
        this.gone = r.state;
        this.onGone(r.state);
      }
    } catch (err) {
      if (!this.failing)
        this.log(
          `warning: heartbeat of trial ${this.trial.pid.slice(0, 12)}-${this.trial.trial} failed: ${(err as Error).message}`,
        );
      this.failing = true;
    } finally {
      this.inFlight = false;
    }
  }
}

/** Whether an error means the tracker could not be reached (or failed transiently), as opposed to a refusal. */
function unreachable(err: unknown): boolean {
  return !(err instanceof TrackerHttpError) || err.retryable;
}

/**
 * Runs `fn` until it succeeds, a refusal (4xx) comes back, or `limitMs` passes (then the last error is thrown):
 * a worker whose link is cut for a while still delivers its result when the link is back.
 */
export async function persist<T>(fn: () => Promise<T>, limitMs: number, onRetry?: (err: Error) => void): Promise<T> {
  const deadline = Date.now() + limitMs;
  let delay = 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!unreachable(err) || Date.now() + delay > deadline) throw err;
      onRetry?.(err as Error);
      await sleep(delay);
      delay = Math.min(5_000, delay * 2);
    }
  }
}

/** A 409 from the optimizer: the trial's result is recorded already, or the trial was assigned to another worker. */
export function isConflict(err: unknown): err is TrackerHttpError {
  return err instanceof TrackerHttpError && err.status === 409;
}
