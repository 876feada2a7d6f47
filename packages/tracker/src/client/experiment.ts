// The Comet-style `Experiment` client: batches metric points, retries with backoff, spools to disk when the server
// is unreachable (or always, offline), sends heartbeats, captures console output and marks crashes.
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { resolveClientConfig, type ClientConfig } from './config.js';
import { gitMetadata, systemDetails } from './details.js';
import { isTransient, sendWithRetry, type HttpOptions, type RequestSpec } from './http.js';
import { Spool, syncSpool } from './spool.js';

export interface ExperimentOptions {
  /** Server URL (`http://127.0.0.1:5959` or a REST base); default `COMET_URL_OVERRIDE` or the local server. */
  url?: string;
  /** Default `COMET_API_KEY`, then `.ocrops/tracker/default-key`. */
  apiKey?: string;
  workspace?: string;
  project?: string;
  /** Experiment name shown in the runs table. */
  name?: string;
  /** Write only to the spool (`ocrops tracker sync` delivers it later); default `OCROPS_TRACKER_OFFLINE=1`. */
  offline?: boolean;
  spoolDir?: string;
  /** Continue an existing experiment (or choose the key of a new one): 32 lowercase hex characters. */
  experimentKey?: string;
  /** Capture stdout/stderr lines as console output (default true). */
  captureConsole?: boolean;
  /** Log git metadata and system details at start (default true). */
  logEnvironment?: boolean;
  /** Send heartbeats (default true). */
  heartbeat?: boolean;
  /** Mark the run crashed (and spool what is pending) on an uncaught exception (default true). */
  crashHandler?: boolean;
  /** Background flush period (ms, default 1000). */
  flushIntervalMs?: number;
  /** Metric points per batch request (default 1000). */
  maxBatch?: number;
  /** Retries per request before spooling (default 3; delays 200, 400, 800 ms). */
  retries?: number;
  retryDelayMs?: number;
  /** After a failed delivery, spool directly for this long before trying the server again (ms, default 5000). */
  cooldownMs?: number;
  tags?: string[];
  /** At `end()`, deliver this run's own spool when the server is reachable again (default true). */
  syncOnEnd?: boolean;
  /**
   * 'ocrops' (default) uses the batch endpoints and client value ids of the ocrops server; 'comet' (default for
   * comet.com URLs) sends only documented Comet endpoints, one value per request, and takes the key from the server.
   */
  protocol?: 'ocrops' | 'comet';
}

interface MetricItem {
  id: string;
  metricName: string;
  metricValue: number | string;
  step?: number;
  epoch?: number;
  timestamp: number;
}

interface OutputItem {
  id: string;
  output: string;
  stderr: boolean;
  localTimestamp: number;
  offset: number;
}

const KEY_RE = /^[0-9a-f]{32}$/;

/** Counters of what happened to the logged values (for tests and `end()` summaries). */
export interface DeliveryStats {
  sent: number;
  spooled: number;
  rejected: number;
}

export class Experiment {
  private _key: string;
  readonly config: ClientConfig;
  readonly stats: DeliveryStats = { sent: 0, spooled: 0, rejected: 0 };
  private readonly http: HttpOptions;
  private readonly spool: Spool;
  private readonly session = randomBytes(6).toString('hex');
  private readonly comet: boolean;
  private seq = 0;
  private ops: RequestSpec[] = [];
  private metrics: MetricItem[] = [];
  private output: OutputItem[] = [];
  private outputOffset = 0;
  private created = false;
  private retryAt = 0;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer?: NodeJS.Timeout;
  private beatTimer?: NodeJS.Timeout;
  private beatMs = 10_000;
  private ended = false;
  private restoreConsole?: () => void;
  private crashListener?: (err: Error) => void;
  private exitListener?: () => void;
  private lastError?: Error;

  private constructor(
    private readonly opts: ExperimentOptions,
    key: string,
  ) {
    this.config = resolveClientConfig(opts);
    this._key = key;
    this.comet = (opts.protocol ?? (/comet\.(com|ml)/.test(this.config.url) ? 'comet' : 'ocrops')) === 'comet';
    this.http = { url: this.config.url, apiKey: this.config.apiKey };
    this.spool = new Spool(this.config.spoolDir);
  }

  /** The experiment key (32 lowercase hex characters). */
  get key(): string {
    return this._key;
  }

  /** Creates (or continues) an experiment. Never fails because the server is down: the run then spools. */
  static async create(opts: ExperimentOptions = {}): Promise<Experiment> {
    if (opts.experimentKey !== undefined && !KEY_RE.test(opts.experimentKey))
      throw new OcropsError(
        'OCROPS_TRACKER_KEY',
        `experimentKey "${opts.experimentKey}" must be 32 lowercase hex characters`,
      );
    const exp = new Experiment(opts, opts.experimentKey ?? randomBytes(16).toString('hex'));
    if (!exp.config.offline && !exp.config.apiKey)
      throw new OcropsError('OCROPS_TRACKER_NO_KEY', 'no tracker API key', {
        hint: 'set COMET_API_KEY, start the local server once (`npx nx run tracker:serve`) to create .ocrops/tracker/default-key, or use offline mode (OCROPS_TRACKER_OFFLINE=1)',
      });
    await exp.start();
    return exp;
  }

  private createSpec(): RequestSpec {
    return {
      method: 'POST',
      path: '/write/experiment/create',
      body: {
        workspaceName: this.config.workspace,
        projectName: this.config.project,
        experimentName: this.opts.name ?? null,
        experimentKey: this.key,
      },
    };
  }

  private async start(): Promise<void> {
    if (this.comet) {
      if (this.config.offline)
        throw new OcropsError(
          'OCROPS_TRACKER_OFFLINE',
          'offline mode needs the ocrops server protocol (protocol: "ocrops")',
        );
      const { experimentKey: _mine, ...body } = this.createSpec().body as Record<string, unknown>;
      try {
        const r = await sendWithRetry(
          this.http,
          { method: 'POST', path: '/write/experiment/create', body },
          this.opts.retries ?? 3,
          this.opts.retryDelayMs ?? 200,
        );
        this._key = r.experimentKey;
        this.created = true;
      } catch (err) {
        throw new OcropsError(
          'OCROPS_TRACKER_UNREACHABLE',
          `cannot create an experiment at ${this.config.url}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    } else await this.deliver(this.createSpec());
    if (this.opts.experimentKey)
      // continuing a run: keep its start time, mark it alive (clears end time / crash)
      this.ops.push({
        method: 'POST',
        path: '/write/experiment/update-status',
        body: { experimentKey: this.key, isAlive: true, hasCrashed: false },
      });
    else
      this.ops.push({
        method: 'POST',
        path: '/write/experiment/set-start-end-time',
        body: { experimentKey: this.key, startTimeMillis: Date.now() },
      });
    if (this.opts.logEnvironment !== false) {
      const git = gitMetadata();
      if (git)
        this.ops.push({
          method: 'POST',
          path: '/write/experiment/git/metadata',
          body: { experimentKey: this.key, ...git },
        });
      this.ops.push({
        method: 'POST',
        path: '/write/experiment/system-details',
        body: { experimentKey: this.key, ...systemDetails() },
      });
    }
    if (this.opts.tags?.length) this.addTags(this.opts.tags);
    this.flushTimer = setInterval(() => void this.flush().catch(() => undefined), this.opts.flushIntervalMs ?? 1000);
    this.flushTimer.unref();
    if (this.opts.heartbeat !== false && !this.config.offline) this.scheduleBeat(0);
    if (this.opts.captureConsole !== false) this.captureConsole();
    if (this.opts.crashHandler !== false) {
      this.crashListener = (err: Error) => this.crashSync(err);
      process.on('uncaughtExceptionMonitor', this.crashListener);
    }
    // like Comet's SDK at exit: a run the program forgot to end is ended (and flushed) when the event loop drains
    this.exitListener = () => void this.end().catch(() => undefined);
    process.once('beforeExit', this.exitListener);
  }

  private nextId(): string {
    return `${this.session}.${(this.seq++).toString(36)}`;
  }

  // ---- logging API (synchronous: values are queued and flushed in the background) ---------------------------

  /** Logs one metric value (`step`/`epoch` integers). Non-finite values are kept as text ("NaN"). */
  logMetric(name: string, value: number, opts: { step?: number; epoch?: number } = {}): void {
    if (typeof name !== 'string' || !name)
      throw new OcropsError('OCROPS_TRACKER_METRIC', 'logMetric: name must be a non-empty string');
    if (typeof value !== 'number')
      throw new OcropsError('OCROPS_TRACKER_METRIC', `logMetric(${name}): value must be a number, got ${typeof value}`);
    this.checkOpen();
    const item: MetricItem = {
      id: this.nextId(),
      metricName: name,
      metricValue: Number.isFinite(value) ? value : String(value),
      timestamp: Date.now(),
    };
    if (opts.step !== undefined) item.step = Math.round(opts.step);
    if (opts.epoch !== undefined) item.epoch = Math.round(opts.epoch);
    this.metrics.push(item);
    if (this.metrics.length >= (this.opts.maxBatch ?? 1000)) void this.flush().catch(() => undefined);
  }

  logMetrics(values: Record<string, number>, opts: { step?: number; epoch?: number; prefix?: string } = {}): void {
    for (const [k, v] of Object.entries(values)) this.logMetric(opts.prefix ? `${opts.prefix}${k}` : k, v, opts);
  }

  logParameter(name: string, value: unknown): void {
    this.logParameters({ [name]: value });
  }

  logParameters(params: Record<string, unknown>): void {
    this.checkOpen();
    const timestamp = Date.now();
    const values = Object.entries(params).map(([parameterName, parameterValue]) => ({
      parameterName,
      parameterValue: parameterValue ?? null,
      timestamp,
    }));
    if (this.comet)
      for (const v of values)
        this.ops.push({ method: 'POST', path: '/write/experiment/parameter', body: { experimentKey: this.key, ...v } });
    else if (values.length)
      this.ops.push({
        method: 'POST',
        path: '/clientlib/batch/logger/experiment/parameter',
        body: { experimentKey: this.key, values },
      });
  }

  logOther(key: string, value: unknown): void {
    this.checkOpen();
    this.ops.push({
      method: 'POST',
      path: '/write/experiment/log-other',
      body: { experimentKey: this.key, key, value: value ?? null, timestamp: Date.now() },
    });
  }

  addTag(tag: string): void {
    this.addTags([tag]);
  }

  addTags(tags: string[]): void {
    this.checkOpen();
    if (tags.length)
      this.ops.push({
        method: 'POST',
        path: '/write/experiment/tags',
        body: { experimentKey: this.key, addedTags: tags },
      });
  }

  logHtml(html: string, override = false): void {
    this.checkOpen();
    this.ops.push({
      method: 'POST',
      path: '/write/experiment/html',
      body: {
        experimentKey: this.key,
        html,
        override,
        timestamp: Date.now(),
        id: this.comet ? undefined : this.nextId(),
      },
    });
  }

  /** Uploads a file as an asset (after everything logged before it). */
  async logAsset(
    path: string,
    opts: {
      name?: string;
      type?: string;
      step?: number;
      epoch?: number;
      groupingName?: string;
      metadata?: Record<string, unknown>;
    } = {},
  ): Promise<void> {
    this.checkOpen();
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new OcropsError('OCROPS_TRACKER_ASSET', `logAsset: cannot read ${path}`, { hint: 'check the path' });
    }
    if (!st.isFile())
      throw new OcropsError('OCROPS_TRACKER_ASSET', `logAsset: ${path} is not a file (use logModel for a folder)`);
    const fileName = opts.name ?? basename(path);
    this.ops.push({
      method: 'POST',
      path: '/write/experiment/upload-asset',
      query: {
        experimentKey: this.key,
        fileName,
        type: opts.type ?? 'asset',
        step: opts.step,
        epoch: opts.epoch,
        groupingName: opts.groupingName,
        id: this.comet ? undefined : this.nextId(),
      },
      upload: { file: path, fileName, metadata: opts.metadata },
    });
    await this.flush();
  }

  /** Logs a model file or every file of a model folder as `model-element` assets grouped under `name`. */
  async logModel(name: string, path: string): Promise<void> {
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new OcropsError('OCROPS_TRACKER_ASSET', `logModel(${name}): cannot read ${path}`);
    }
    const files = st.isDirectory()
      ? walk(path).map((f) => ({ file: f, name: relative(path, f).split(sep).join('/') }))
      : [{ file: path, name: basename(path) }];
    for (const f of files) await this.logAsset(f.file, { name: f.name, type: 'model-element', groupingName: name });
  }

  // ---- delivery ---------------------------------------------------------------------------------------------

  /** Sends everything queued; resolves when delivered or spooled. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private takeOps(): RequestSpec[] {
    const out = this.ops;
    this.ops = [];
    if (this.output.length) {
      const outputLines = this.comet ? this.output.map(({ id: _id, ...l }) => l) : this.output;
      out.push({ method: 'POST', path: '/write/experiment/output', body: { experimentKey: this.key, outputLines } });
      this.output = [];
    }
    if (this.comet) {
      for (const { id: _id, ...m } of this.metrics)
        out.push({ method: 'POST', path: '/write/experiment/metric', body: { experimentKey: this.key, ...m } });
      this.metrics = [];
    }
    const max = this.opts.maxBatch ?? 1000;
    while (this.metrics.length) {
      const values = this.metrics.splice(0, max);
      out.push({
        method: 'POST',
        path: '/clientlib/batch/logger/experiment/metric',
        body: { experimentKey: this.key, values },
      });
    }
    return out;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.takeOps();
      if (!batch.length) return;
      for (const spec of batch) await this.deliver(spec);
    }
  }

  /** Delivers one request: live with retries, else to the spool. Rejected requests (4xx) are dropped with a warning. */
  private async deliver(spec: RequestSpec): Promise<void> {
    const count = spec.path.endsWith('/metric') ? ((spec.body as { values?: unknown[] }).values?.length ?? 1) : 1;
    if (this.config.offline || Date.now() < this.retryAt) {
      this.toSpool(spec, count);
      return;
    }
    try {
      if (!this.created && spec.path !== '/write/experiment/create')
        await sendWithRetry(this.http, this.createSpec(), this.opts.retries ?? 3, this.opts.retryDelayMs ?? 200);
      this.created = true;
      await sendWithRetry(this.http, spec, this.opts.retries ?? 3, this.opts.retryDelayMs ?? 200);
      this.stats.sent += count;
    } catch (err) {
      if (isTransient(err)) {
        this.retryAt = Date.now() + (this.opts.cooldownMs ?? 5000);
        this.toSpool(spec, count);
        return;
      }
      this.lastError = err as Error;
      this.stats.rejected += count;
      this.warn(`tracker rejected ${spec.path}: ${(err as Error).message}`);
    }
  }

  private toSpool(spec: RequestSpec, count: number): void {
    this.spool.append(this.key, { url: this.config.url, workspace: this.config.workspace, request: spec });
    this.stats.spooled += count;
  }

  private warn(msg: string): void {
    const write = this.rawStderr ?? process.stderr.write.bind(process.stderr);
    write(`[ocrops tracker] ${msg}\n`);
  }
  private rawStderr?: (s: string) => boolean;

  private scheduleBeat(delay: number): void {
    this.beatTimer = setTimeout(async () => {
      if (this.ended) return;
      try {
        const r = await sendWithRetry(
          this.http,
          { method: 'GET', path: '/write/experiment/set-status', query: { experimentKey: this.key } },
          0,
        );
        if (r?.isAliveBeatDurationMillis > 0) this.beatMs = Math.max(200, Number(r.isAliveBeatDurationMillis));
      } catch {
        /* a missed beat is harmless */
      }
      if (!this.ended) this.scheduleBeat(this.beatMs);
    }, delay);
    this.beatTimer.unref();
  }

  private captureConsole(): void {
    const partial: Record<'out' | 'err', string> = { out: '', err: '' };
    const hook = (stream: NodeJS.WriteStream, which: 'out' | 'err') => {
      const orig = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        try {
          const text =
            partial[which] + (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
          const lines = text.split('\n');
          partial[which] = visible(lines.pop() ?? '').slice(-65536);
          const ts = Date.now();
          for (const l of lines)
            this.output.push({
              id: this.nextId(),
              output: `${visible(l)}\n`,
              stderr: which === 'err',
              localTimestamp: ts,
              offset: this.outputOffset++,
            });
        } catch {
          /* never break the program's output */
        }
        return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write;
      return orig;
    };
    const out = hook(process.stdout, 'out');
    const err = hook(process.stderr, 'err');
    this.rawStderr = err as (s: string) => boolean;
    this.restoreConsole = () => {
      process.stdout.write = out;
      process.stderr.write = err;
      for (const which of ['out', 'err'] as const)
        if (partial[which])
          this.output.push({
            id: this.nextId(),
            output: partial[which],
            stderr: which === 'err',
            localTimestamp: Date.now(),
            offset: this.outputOffset++,
          });
      this.rawStderr = undefined;
    };
  }

  /** On an uncaught exception: spool everything pending plus the crashed status synchronously (the process is dying). */
  private crashSync(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.restoreConsole?.();
    this.stopTimers();
    const now = Date.now();
    this.ops.push(
      {
        method: 'POST',
        path: '/write/experiment/update-status',
        body: { experimentKey: this.key, isAlive: false, hasCrashed: true, error: String(err?.stack ?? err) },
      },
      {
        method: 'POST',
        path: '/write/experiment/set-start-end-time',
        body: { experimentKey: this.key, endTimeMillis: now },
      },
    );
    if (!this.created) this.ops.unshift(this.createSpec());
    for (const spec of this.takeOps()) this.toSpool(spec, 1);
    this.warn(
      `run crashed; pending values spooled to ${this.spool.fileOf(this.key)} — deliver them with \`ocrops tracker sync\``,
    );
  }

  private stopTimers(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.beatTimer) clearTimeout(this.beatTimer);
    if (this.crashListener) process.off('uncaughtExceptionMonitor', this.crashListener);
    if (this.exitListener) process.off('beforeExit', this.exitListener);
  }

  private checkOpen(): void {
    if (this.ended)
      throw new OcropsError('OCROPS_TRACKER_ENDED', `experiment ${this.key} has ended; create a new one to log more`);
  }

  /**
   * Ends the run: flushes, sets the end time and status (crashed with an error message when asked), stops heartbeats and
   * console capture, then delivers this run's own spool if the server is reachable again.
   */
  async end(opts: { crashed?: boolean; error?: string } = {}): Promise<void> {
    if (this.ended) return;
    this.restoreConsole?.();
    this.ops.push({
      method: 'POST',
      path: '/write/experiment/set-start-end-time',
      body: { experimentKey: this.key, endTimeMillis: Date.now() },
    });
    this.ops.push({
      method: 'POST',
      path: '/write/experiment/update-status',
      body: { experimentKey: this.key, isAlive: false, hasCrashed: !!opts.crashed, error: opts.error ?? null },
    });
    this.ended = true;
    this.stopTimers();
    await this.flush();
    if (!this.config.offline && this.opts.syncOnEnd !== false && this.spool.has(this.key)) {
      this.retryAt = 0;
      await syncSpool({
        spoolDir: this.config.spoolDir,
        apiKey: this.config.apiKey,
        experimentKeys: [this.key],
        retries: 1,
      }).catch(() => undefined);
    }
  }

  /** Whether this run has values waiting in the spool. */
  hasSpooled(): boolean {
    return this.spool.has(this.key);
  }

  /** The last rejection (4xx) seen, if any. */
  get lastRejection(): Error | undefined {
    return this.lastError;
  }
}

/** What a terminal shows of a line with carriage returns (progress bars): the text after the last `\r`. */
function visible(line: string): string {
  const l = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cr = l.lastIndexOf('\r');
  return cr >= 0 ? l.slice(cr + 1) : l;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
