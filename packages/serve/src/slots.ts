/**
 * The model versions an inference server holds: the served one (`current`), answering requests that name no version,
 * and up to `cacheSize` pinned versions loaded on demand, least recently used released first. Each is a `ModelSlot`
 * with its own batcher; a slot that is swapped out or evicted is released only after the requests holding it finish.
 */
import { OcropsError } from '@ocrops/common';
import { Batcher, type BatchItem } from './batcher.js';
import { runClassifierBatch } from './classify.js';
import type { ServeMetrics } from './metrics.js';
import { InputError } from './preprocess.js';
import { runBatch, type InferenceRuntime } from './runtime.js';

/**
 * One loaded model version with its own batcher. Requests hold it from start to answer (`users`), so a model that is
 * swapped out or evicted is released only after the requests that started on it have finished.
 */
export interface ModelSlot {
  version: string;
  runtime: InferenceRuntime;
  batcher: Batcher;
  parameters: Record<string, string | number>;
  users: number;
  retired: boolean;
  released?: Promise<void>;
}

export interface SlotOptions {
  /** model name, for errors about unknown versions */
  name: string;
  maxBatch: number;
  maxDelayMs: number;
  widthRatio: number;
  metrics: ServeMetrics;
  log: (msg: string) => void;
  /** loads another version on demand; without it only the served version exists */
  loadVersion?: (version: string) => Promise<InferenceRuntime>;
  /** pinned versions kept loaded besides the served one */
  cacheSize: number;
}

/** A slot for `runtime`: a batcher running the task's batches, reporting batch sizes, times and queue depth. */
function newSlot(
  runtime: InferenceRuntime,
  version: string,
  parameters: Record<string, string | number>,
  opts: SlotOptions,
): ModelSlot {
  const { metrics } = opts;
  const run = runtime.contract.task === 'classify' ? runClassifierBatch : runBatch;
  const batcher = new Batcher((items) => run(runtime, items), {
    maxBatch: opts.maxBatch,
    parallel: runtime.parallel,
    maxDelayMs: opts.maxDelayMs,
    widthRatio: opts.widthRatio,
    onBatch: (size, ms) => {
      metrics.batchSize.observe(size);
      metrics.batchSeconds.observe(ms / 1000);
    },
    onQueue: (depth) => metrics.queueDepth.set(depth),
  });
  return { version, runtime, batcher, parameters, users: 0, retired: false };
}

/**
 * Runs one input through the whole path (alone, then a small batch per session), so the first request does not pay
 * for lazy initialisation.
 */
async function warmUp(runtime: InferenceRuntime, opts: SlotOptions): Promise<void> {
  const c = runtime.contract;
  const run = c.task === 'classify' ? runClassifierBatch : runBatch;
  const warmWidth =
    c.task === 'classify' ? c.input.width : (c.input.width.fixed ?? Math.max(c.input.width.min, c.input.height * 4));
  const fill = c.task === 'classify' ? 1 : c.input.padValue;
  const warm: BatchItem = {
    pixels: new Float32Array(c.input.height * warmWidth * c.input.channels).fill(fill),
    width: warmWidth,
  };
  const warmStart = Date.now();
  await run(runtime, [warm]);
  await Promise.all(
    Array.from({ length: runtime.parallel }, () =>
      run(
        runtime,
        Array.from({ length: Math.min(opts.maxBatch, 4) }, () => warm),
      ),
    ),
  );
  opts.log(`warm-up: ${Date.now() - warmStart} ms`);
}

export class ModelSlots {
  /** pinned versions loaded on demand, least recently used first */
  private readonly pinned = new Map<string, Promise<ModelSlot>>();
  private swapping: Promise<void> = Promise.resolve();
  private isClosing = false;

  private constructor(
    private current: ModelSlot,
    private readonly opts: SlotOptions,
  ) {}

  /** Warms `runtime` up and serves it as `version`. */
  static async open(
    runtime: InferenceRuntime,
    version: string,
    parameters: Record<string, string | number>,
    opts: SlotOptions,
  ): Promise<ModelSlots> {
    await warmUp(runtime, opts);
    return new ModelSlots(newSlot(runtime, version, parameters, opts), opts);
  }

  /** The version answering requests that name none. */
  get version(): string {
    return this.current.version;
  }

  /** True once `close` has begun. */
  get closing(): boolean {
    return this.isClosing;
  }

  /** Runs `fn` holding the slot of `version`, so the slot is not released under it. */
  async withSlot<T>(version: string | undefined, fn: (slot: ModelSlot) => Promise<T>): Promise<T> {
    let slot = await this.slotFor(version);
    // a slot swapped out or evicted while this request waited for it may already be released: take the new one
    while (slot.released && !this.isClosing) slot = await this.slotFor(version);
    slot.users++;
    try {
      return await fn(slot);
    } finally {
      slot.users--;
      if (slot.retired && slot.users === 0) void this.releaseWhenIdle(slot);
    }
  }

  /**
   * Serves `runtime` as `version` from now on (after its warm-up); swaps run one after another. The previous slot and
   * a pinned slot of the same version are released once idle.
   */
  swap(runtime: InferenceRuntime, version: string, parameters?: Record<string, string | number>): Promise<void> {
    const next = this.swapping.then(() => this.switchTo(runtime, version, parameters));
    this.swapping = next.catch(() => {});
    return next;
  }

  /**
   * Marks the slots closing, waits for `drain` (the HTTP server's close: in-flight requests finish, new ones get 503)
   * and a running swap, then releases every slot.
   */
  async close(drain: () => Promise<void>): Promise<void> {
    this.isClosing = true;
    await drain();
    await this.swapping;
    const slots = [
      this.current,
      ...(await Promise.allSettled(this.pinned.values())).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    ];
    this.pinned.clear();
    await Promise.all(slots.map((slot) => this.releaseWhenIdle(slot)));
  }

  private async switchTo(
    runtime: InferenceRuntime,
    version: string,
    parameters: Record<string, string | number> | undefined,
  ): Promise<void> {
    if (this.isClosing) {
      await runtime.dispose();
      throw new OcropsError(
        'OCROPS_SERVE_CLOSING',
        `the server is shutting down; version ${version} was not switched to`,
      );
    }
    await warmUp(runtime, this.opts);
    const previous = this.current;
    this.current = newSlot(runtime, version, { ...previous.parameters, ...parameters }, this.opts);
    this.opts.log(`now serving version ${version} (was ${previous.version})`);
    const stale = this.pinned.get(version);
    if (stale) {
      this.pinned.delete(version);
      void stale.then(
        (slot) => this.releaseWhenIdle(slot),
        () => {},
      );
    }
    await this.releaseWhenIdle(previous);
  }

  /** The slot answering `version` (the served one when none is named), loading a pinned version when allowed. */
  private async slotFor(version: string | undefined): Promise<ModelSlot> {
    if (version === undefined || version === this.current.version) return this.current;
    const loader = this.opts.loadVersion;
    if (!loader)
      throw new InputError(
        404,
        `unknown version '${version}' of model '${this.opts.name}'; it has version ${this.current.version}`,
      );
    const slot = this.pinnedSlot(version, loader);
    this.evictPinned();
    return slot;
  }

  /** The pinned slot of `version`, loaded and warmed up unless it is, moved to the most recently used end. */
  private pinnedSlot(version: string, loader: (version: string) => Promise<InferenceRuntime>): Promise<ModelSlot> {
    let p = this.pinned.get(version);
    if (p) this.pinned.delete(version);
    else {
      p = this.loadPinned(version, loader);
      const loading = p;
      loading.catch(() => {
        if (this.pinned.get(version) === loading) this.pinned.delete(version);
      });
    }
    this.pinned.set(version, p);
    return p;
  }

  private async loadPinned(
    version: string,
    loader: (version: string) => Promise<InferenceRuntime>,
  ): Promise<ModelSlot> {
    const runtime = await loader(version).catch((err: unknown) => {
      if ((err as { status?: number }).status === 404)
        throw new InputError(404, `model '${this.opts.name}' has no version '${version}' in the registry`);
      throw err;
    });
    await warmUp(runtime, this.opts);
    return newSlot(runtime, version, {}, this.opts);
  }

  /** Drops the least recently used pinned versions beyond the cache size; each is released once idle. */
  private evictPinned(): void {
    while (this.pinned.size > this.opts.cacheSize) {
      const [oldest, old] = this.pinned.entries().next().value as [string, Promise<ModelSlot>];
      this.pinned.delete(oldest);
      void old.then(
        (slot) => this.releaseWhenIdle(slot),
        () => {},
      );
    }
  }

  /** Releases a retired slot once no request holds it: its queued batches run, then the model is disposed. */
  private releaseWhenIdle(slot: ModelSlot): Promise<void> {
    slot.retired = true;
    if (slot.users > 0) return Promise.resolve();
    slot.released ??= (async () => {
      await slot.batcher.drain();
      await slot.runtime.dispose();
      this.opts.log(`released version ${slot.version}`);
    })();
    return slot.released;
  }
}
