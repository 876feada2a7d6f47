/**
 * A dependency-free progress bar for long work: `label [#####.....] 45/100 45% 12.3 it/s ETA 4s | extra`.
 * Draws in place on a TTY (throttled), and as occasional plain lines otherwise (CI logs stay short).
 */
export class ProgressBar {
  private current = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private lastLinePct = -1;
  private extra = '';
  private lastLine = '';
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private total: number,
    opts: { stream?: NodeJS.WriteStream; unit?: string; silent?: boolean } = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
    this.unit = opts.unit ?? 'it';
    this.silent = Boolean(opts.silent);
  }

  private readonly unit: string;
  private readonly silent: boolean;

  setTotal(total: number): void {
    this.total = total;
  }

  /** Advances by `n` and optionally sets the trailing text (loss, throughput...). */
  tick(n = 1, extra?: string): void {
    this.update(this.current + n, extra);
  }

  update(value: number, extra?: string): void {
    this.current = value;
    if (extra !== undefined) this.extra = extra;
    this.draw(false);
  }

  /** Elapsed seconds since the bar was created. */
  elapsed(): number {
    return (Date.now() - this.start) / 1000;
  }

  rate(): number {
    const s = this.elapsed();
    return s > 0 ? this.current / s : 0;
  }

  render(): string {
    const total = Math.max(this.total, 1);
    const frac = Math.min(1, this.current / total);
    const width = 24;
    const filled = Math.round(frac * width);
    const rate = this.rate();
    const eta = rate > 0 ? (this.total - this.current) / rate : NaN;
    const etaText = Number.isFinite(eta) ? formatDuration(eta) : '?';
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    return `${this.label} [${bar}] ${this.current}/${this.total} ${(frac * 100).toFixed(0)}% ${rate.toFixed(1)} ${this.unit}/s ETA ${etaText}${this.extra ? ` | ${this.extra}` : ''}`;
  }

  private draw(final: boolean): void {
    if (this.silent) return;
    const now = Date.now();
    if (this.tty) {
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r\x1b[2K${this.render()}${final ? '\n' : ''}`);
    } else {
      const pct = Math.floor((this.current / Math.max(this.total, 1)) * 10);
      if (!final && pct === this.lastLinePct && now - this.lastDraw < 30_000) return;
      // the final line repeats the last one when the bar already reached 100%: print it once
      const progressPart = `${this.current}/${this.total}|${this.extra}`;
      if (final && progressPart === this.lastLine) return;
      this.lastLine = progressPart;
      this.lastLinePct = pct;
      this.lastDraw = now;
      this.stream.write(`${this.render()}\n`);
    }
  }

  /** Draws the final state and ends the line. */
  done(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    this.draw(true);
  }
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
