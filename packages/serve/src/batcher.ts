/**
 * Dynamic batching: lines submitted by concurrent requests wait up to `maxDelayMs` to be run together, at most
 * `maxBatch` per run. A batch is built around the oldest waiting line from the lines closest to it in width (within
 * `widthRatio`), so the padding to the widest line of a batch stays small; the others wait for a batch of their width.
 * Up to `parallel` batches run at the same time (one per runtime session).
 */
import { OcropsError } from '@ocrops/common';

/** One preprocessed line: pixels [height, width, channels] normalised as the model's contract asks. */
export interface BatchItem {
  pixels: Float32Array;
  width: number;
}

/** The model's output for one line: its frames within the batch's output. */
export interface ItemOutput {
  data: Float32Array;
  offset: number;
  frames: number;
  classes: number;
  /** lines in the batch this line ran in */
  batchSize: number;
}

/** Runs a batch of lines and returns, per line, its output frames. */
export type BatchRunner = (items: BatchItem[]) => Promise<ItemOutput[]>;

export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Lines join a batch when their width is within [w / ratio, w * ratio] of the oldest line's width w. */
  widthRatio: number;
  /** batches run at the same time (default 1) */
  parallel?: number;
  /** Called with the size of each batch run (metrics). */
  onBatch?: (size: number, ms: number) => void;
  /** Called when the number of waiting lines changes (metrics). */
  onQueue?: (depth: number) => void;
}

interface Pending {
  item: BatchItem;
  since: number;
  resolve: (out: ItemOutput) => void;
  reject: (err: unknown) => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: BatchRunner,
    private readonly opts: BatcherOptions,
  ) {
    if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) {
      throw new OcropsError('OCROPS_SERVE_OPTIONS', `--max-batch must be an integer >= 1, got ${opts.maxBatch}`);
    }
    if (!(opts.maxDelayMs >= 0))
      throw new OcropsError('OCROPS_SERVE_OPTIONS', `--max-delay-ms must be >= 0, got ${opts.maxDelayMs}`);
  }

  /** Lines waiting to run. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues one line; resolves with its output once its batch has run. */
  submit(item: BatchItem): Promise<ItemOutput> {
    if (this.closed) return Promise.reject(new OcropsError('OCROPS_SERVE_CLOSING', 'the server is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, since: Date.now(), resolve, reject });
      this.opts.onQueue?.(this.queue.length);
      this.schedule();
    });
  }

  /** Stops accepting lines; resolves when every queued line has run. */
  drain(): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    while (this.running < (this.opts.parallel ?? 1) && this.queue.length > 0) {
      const wait =
        this.queue.length >= this.opts.maxBatch || this.closed
          ? 0
          : this.queue[0].since + this.opts.maxDelayMs - Date.now();
      if (wait > 0) break;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.runNext();
    }
    if (this.running >= (this.opts.parallel ?? 1) || this.queue.length === 0) return;
    const wait = this.queue[0].since + this.opts.maxDelayMs - Date.now();
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  /** The oldest line plus up to maxBatch - 1 others of the closest widths within the ratio, removed from the queue. */
  private takeBatch(): Pending[] {
    const first = this.queue[0];
    const w = first.item.width;
    const r = this.opts.widthRatio;
    const others = this.queue
      .slice(1)
      .map((p, i) => ({ p, i: i + 1, d: Math.abs(Math.log(p.item.width / w)) }))
      .filter((c) => c.d <= Math.log(r) + 1e-9)
      .sort((a, b) => a.d - b.d || a.i - b.i)
      .slice(0, this.opts.maxBatch - 1);
    const taken = new Set([0, ...others.map((o) => o.i)]);
    const batch = [first, ...others.map((o) => o.p)];
    this.queue = this.queue.filter((_, i) => !taken.has(i));
    return batch;
  }

  private async runNext(): Promise<void> {
    this.running++;
    const batch = this.takeBatch();
    this.opts.onQueue?.(this.queue.length);
    const started = Date.now();
    try {
      const outs = await this.run(batch.map((p) => p.item));
      this.opts.onBatch?.(batch.length, Date.now() - started);
      batch.forEach((p, i) => p.resolve(outs[i]));
    } catch (err) {
      batch.forEach((p) => p.reject(err));
    } finally {
      this.running--;
      if (this.queue.length > 0) this.schedule();
      else if (this.closed && this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
