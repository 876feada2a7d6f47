// `TrackerApi`: the read side of the Comet REST API, the dashboard endpoints and the optimizer resource.
import { resolveClientConfig } from './config.js';
import { send, sendWithRetry, type HttpOptions } from './http.js';
import type {
  MultiSeriesReply,
  NamedValue,
  OptimizerHeartbeatBody,
  OptimizerStatus,
  OptimizerSuggestion,
  OptimizerUpdateBody,
  ProjectInfo,
  RunsQuery,
  RunsReply,
  SeriesQuery,
  SeriesReply,
  TrialRecord,
} from '../api/index.js';

export interface TrackerApiOptions {
  url?: string;
  apiKey?: string;
  workspace?: string;
  /** Retries of transient failures per call (default 3). */
  retries?: number;
}

type Q = Record<string, string | number | boolean | undefined>;

export class TrackerApi {
  readonly http: HttpOptions;
  readonly workspace: string;
  private readonly retries: number;

  constructor(opts: TrackerApiOptions = {}) {
    const c = resolveClientConfig({ url: opts.url, apiKey: opts.apiKey, workspace: opts.workspace });
    this.http = { url: c.url, apiKey: c.apiKey };
    this.workspace = c.workspace;
    this.retries = opts.retries ?? 3;
  }

  get<T = any>(path: string, query: Q = {}): Promise<T> {
    return sendWithRetry(this.http, { method: 'GET', path, query }, this.retries);
  }
  post<T = any>(path: string, body: unknown): Promise<T> {
    return sendWithRetry(this.http, { method: 'POST', path, body }, this.retries);
  }

  // ---- Comet read endpoints ---------------------------------------------------------------------------------
  async workspaces(): Promise<string[]> {
    return (await this.get('/workspaces')).workspaceNames;
  }
  async projects(workspaceName = this.workspace) {
    return (await this.get<{ projects: ProjectInfo[] }>('/projects', { workspaceName })).projects;
  }
  async experiments(projectName: string, workspaceName = this.workspace) {
    return (await this.get('/experiments', { workspaceName, projectName })).experiments as Array<Record<string, any>>;
  }
  metadata(experimentKey: string) {
    return this.get<Record<string, any>>('/experiment/metadata', { experimentKey });
  }
  async metricsSummary(experimentKey: string) {
    return (await this.get('/experiment/metrics/summary', { experimentKey })).values as Array<Record<string, any>>;
  }
  async getMetric(experimentKey: string, metricName: string) {
    return (await this.get('/experiment/metrics/get-metric', { experimentKey, metricName })).metrics as Array<{
      metricName: string;
      metricValue: number | string;
      step: number | null;
      epoch: number | null;
      timestamp: number;
      runContext: string | null;
    }>;
  }
  async parameters(experimentKey: string) {
    return (await this.get<{ values: NamedValue[] }>('/experiment/parameters', { experimentKey })).values;
  }
  async others(experimentKey: string) {
    return (await this.get<{ values: NamedValue[] }>('/experiment/log-other', { experimentKey })).values;
  }
  async tags(experimentKey: string): Promise<string[]> {
    return (await this.get('/experiment/tags', { experimentKey })).tags;
  }
  async html(experimentKey: string): Promise<string> {
    return (await this.get('/experiment/html', { experimentKey })).html;
  }
  output(experimentKey: string) {
    return this.get<{ output: string; lines: Array<{ output: string; stderr: boolean; localTimestamp: number }> }>(
      '/experiment/output',
      { experimentKey },
    );
  }
  gitMetadata(experimentKey: string) {
    return this.get<Record<string, any>>('/experiment/git/metadata', { experimentKey });
  }
  systemDetails(experimentKey: string) {
    return this.get<Record<string, any>>('/experiment/system-details', { experimentKey });
  }
  async assets(experimentKey: string, type = 'all') {
    return (await this.get('/experiment/asset/list', { experimentKey, type })).assets as Array<{
      assetId: string;
      fileName: string;
      fileSize: number;
      step: number | null;
      type: string;
      groupingName: string | null;
      metadata: Record<string, unknown> | null;
      createdAt: number;
    }>;
  }
  getAsset(experimentKey: string, assetId: string): Promise<Buffer> {
    return send(
      this.http,
      { method: 'GET', path: '/experiment/asset/get-asset', query: { experimentKey, assetId } },
      true,
    );
  }

  // ---- dashboard endpoints ----------------------------------------------------------------------------------
  runs(q: RunsQuery = {}) {
    return this.get<RunsReply>('/api/ocrops/runs', { workspaceName: this.workspace, ...q });
  }
  series(q: Omit<SeriesQuery, 'metricNames'> & { metricName: string }) {
    return this.get<SeriesReply>('/api/ocrops/series', q);
  }
  /** Several series of one run in one request (at most 100 names), each downsampled to `points`. */
  async seriesMany(q: Omit<SeriesQuery, 'metricName' | 'metricNames'> & { metricNames: string[] }) {
    const { metricNames, ...rest } = q;
    return (await this.get<MultiSeriesReply>('/api/ocrops/series', { ...rest, metricNames: metricNames.join(',') }))
      .series;
  }
  async sweeps(projectName?: string, workspaceName = this.workspace): Promise<OptimizerStatus[]> {
    return (await this.get('/api/ocrops/sweeps', { workspaceName, projectName })).sweeps;
  }

  // ---- optimizer resource -----------------------------------------------------------------------------------
  /** Creates a sweep from a Comet optimizer config; resolves to its id. */
  async optimizerCreate(
    config: Record<string, unknown>,
    opts: { projectName?: string; workspaceName?: string } = {},
  ): Promise<string> {
    const r = await this.post<{ id: string }>('/optimizer/create', {
      config,
      workspaceName: opts.workspaceName ?? this.workspace,
      projectName: opts.projectName,
    });
    return r.id;
  }
  /** The next suggestion, or undefined when the sweep is done (maxCombo reached or search exhausted). */
  async optimizerNext(
    id: string,
    opts: { leaseSeconds?: number; worker?: string } = {},
  ): Promise<OptimizerSuggestion | undefined> {
    // not retried blindly: a lost reply would leave a trial marked running (it is re-issued after the lease / release)
    const r = await send(this.http, { method: 'GET', path: '/optimizer/next', query: { id, ...opts } });
    return r && !r.done ? (r as OptimizerSuggestion) : undefined;
  }
  optimizerUpdate(u: OptimizerUpdateBody): Promise<TrialRecord> {
    return this.post('/optimizer/update', u);
  }
  /** Renews a trial's lease: `leased`, or what became of the trial (`reassigned`, `completed`, `failed`, `pruned`). */
  optimizerHeartbeat(
    b: OptimizerHeartbeatBody,
  ): Promise<{ state: 'leased' | 'reassigned' | 'completed' | 'failed' | 'pruned'; leaseExpiresAt?: number }> {
    return this.post('/optimizer/heartbeat', b);
  }
  optimizerRelease(id: string, pid: string, trial?: number): Promise<{ released: number }> {
    return this.post('/optimizer/release', { id, pid, trial });
  }
  optimizerStatus(id: string): Promise<OptimizerStatus> {
    return this.get('/optimizer/status', { id });
  }
  async optimizerList(projectName?: string, workspaceName = this.workspace): Promise<OptimizerStatus[]> {
    return (await this.get('/optimizer/list', { workspaceName, projectName })).optimizers;
  }
}
