// Replies started ahead of the view that needs them (a run page's requests, sent on the hash change before the page
// renders) and handed to the view's first identical request.

/** Requests started early, by path; each reply is handed over once, and dropped when nobody took it within `ttlMs`. */
export class ReplyHandoff {
  private readonly waiting = new Map<string, { reply: Promise<unknown>; at: number }>();

  constructor(
    /** How long a started reply waits for its taker (ms): a later request of the same path fetches fresh data. */
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts `fetch()` for `path` unless a reply for it is already waiting; resolves to that reply. */
  start<T>(path: string, fetch: () => Promise<T>): Promise<T> {
    const t = this.now();
    for (const [p, w] of this.waiting) if (t - w.at > this.ttlMs) this.waiting.delete(p);
    let w = this.waiting.get(path);
    if (!w) {
      w = { reply: fetch(), at: t };
      w.reply.catch(() => undefined); // a failure reaches the taker, not the console
      this.waiting.set(path, w);
    }
    return w.reply as Promise<T>;
  }

  /** The reply waiting for `path`, handed over once; undefined when none was started or it is older than the TTL. */
  take<T>(path: string): Promise<T> | undefined {
    const w = this.waiting.get(path);
    if (!w) return undefined;
    this.waiting.delete(path);
    return this.now() - w.at <= this.ttlMs ? (w.reply as Promise<T>) : undefined;
  }

  /** Number of replies waiting (for tests). */
  get size(): number {
    return this.waiting.size;
  }
}
