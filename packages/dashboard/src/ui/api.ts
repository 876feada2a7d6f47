// Talking to the tracker server from the browser: API key handling, JSON GETs and server-sent events.
// The key comes from `?apiKey=` in the page URL (then kept in localStorage) or from the key dialog; it is sent as the
// Comet `Authorization` header, and as an `apiKey` query parameter where headers cannot be set (EventSource, links).
import { ReplyHandoff } from '../lib/handoff.js';
import type {
  RegistryModel,
  RegistryModelDetail,
  RegistryVersion,
  MultiSeriesReply,
  RunRow,
  RunsReply,
  SeriesReply,
  SweepInfo,
  ProjectInfo,
  NamedValue,
  AssetInfo,
  XAxis,
} from '@ocrops/tracker/api';

const KEY_STORE = 'ocrops.apiKey';

/**
 * Runs-table rows seen last, by experiment key: a run page opened from the table knows its metric names before its
 * own summary request returns, so its charts start loading one round trip earlier.
 */
export const runRowCache = new Map<string, RunRow>();
const REST = '/api/rest/v2';
/** Names per multi-series request (the server accepts up to 100). */
export const SERIES_PER_REQUEST = 50;

/** Error of an API call, with the HTTP status (401 = the key is missing or wrong). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function initialKey(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('apiKey');
  if (fromUrl) {
    localStorage.setItem(KEY_STORE, fromUrl);
    return fromUrl;
  }
  return localStorage.getItem(KEY_STORE);
}

let apiKey: string | null = initialKey();
const authListeners = new Set<() => void>();

export function getApiKey(): string | null {
  return apiKey;
}

export function setApiKey(key: string | null): void {
  apiKey = key && key.trim() ? key.trim() : null;
  if (apiKey) localStorage.setItem(KEY_STORE, apiKey);
  else localStorage.removeItem(KEY_STORE);
  for (const l of authListeners) l();
}

/** Called whenever a request answers 401 (so the app can ask for a key). */
export function onAuthNeeded(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

/** Base URL of the server (the page's origin; the dashboard is served by the tracker at `/`). */
function base(): string {
  return (import.meta.env.VITE_TRACKER_URL as string | undefined) ?? '';
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** URL with the API key as a query parameter (for EventSource and download links). */
export function withKey(path: string): string {
  if (!apiKey) return base() + path;
  return `${base()}${path}${path.includes('?') ? '&' : '?'}apiKey=${encodeURIComponent(apiKey)}`;
}

/** Replies of requests started by {@link prefetch}, waiting (3 s at most) for the view's identical request. */
const early = new ReplyHandoff(3_000);
let prefetching = false;

/**
 * Starts now the GETs that `issue` sends synchronously (e.g. `() => api.metadata(key)`), before the view that needs
 * them has rendered: on navigation the requests go out at once instead of after the new view's first paint (when
 * React runs its effects). The view's identical GETs then take over the replies in flight.
 */
export function prefetch(issue: () => unknown): void {
  prefetching = true;
  try {
    const r = issue();
    if (r instanceof Promise) r.catch(() => undefined); // failures reach the view's own request
  } finally {
    prefetching = false;
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  if (prefetching) return early.start(path, () => fetchJson<T>(path));
  return early.take<T>(path) ?? fetchJson<T>(path, signal);
}

async function fetchJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey) headers.authorization = apiKey;
  const res = await fetch(base() + path, { headers, signal, credentials: 'same-origin' });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { msg?: string; message?: string };
      msg = body.msg ?? body.message ?? msg;
    } catch {
      /* not JSON */
    }
    if (res.status === 401) for (const l of authListeners) l();
    throw new ApiError(res.status, `${path.split('?')[0]}: ${msg}`);
  }
  return (await res.json()) as T;
}

export const api = {
  workspaces: (s?: AbortSignal) => getJson<{ workspaceNames: string[] }>(`${REST}/workspaces`, s),
  projects: (workspaceName: string, s?: AbortSignal) =>
    getJson<{ projects: ProjectInfo[] }>(`${REST}/projects${query({ workspaceName })}`, s),
  runs: (
    p: {
      workspaceName: string;
      projectName: string;
      sort?: string;
      order?: 'asc' | 'desc';
      filter?: string;
      limit?: number;
      offset?: number;
    },
    s?: AbortSignal,
  ) => getJson<RunsReply>(`/api/ocrops/runs${query(p)}`, s),
  series: (
    p: { experimentKey: string; metricName: string; points?: number; x?: XAxis; from?: number; to?: number },
    s?: AbortSignal,
  ) => getJson<SeriesReply>(`/api/ocrops/series${query(p)}`, s),
  /** Several series of one run, one request per {@link SERIES_PER_REQUEST} names; replies in the order of `metricNames`. */
  seriesMany: async (
    p: { experimentKey: string; metricNames: string[]; points?: number; x?: XAxis },
    s?: AbortSignal,
  ): Promise<SeriesReply[]> => {
    const { metricNames, ...rest } = p;
    // a name with a comma cannot travel in the comma-separated list: ask for it alone
    const listable = metricNames.filter((n) => !n.includes(','));
    const parts: Promise<SeriesReply[]>[] = [];
    for (let i = 0; i < listable.length; i += SERIES_PER_REQUEST) {
      const names = listable.slice(i, i + SERIES_PER_REQUEST).join(',');
      parts.push(
        getJson<MultiSeriesReply>(`/api/ocrops/series${query({ ...rest, metricNames: names })}`, s).then(
          (r) => r.series,
        ),
      );
    }
    for (const n of metricNames.filter((m) => m.includes(',')))
      parts.push(getJson<SeriesReply>(`/api/ocrops/series${query({ ...rest, metricName: n })}`, s).then((r) => [r]));
    const byName = new Map((await Promise.all(parts)).flat().map((r) => [r.metricName, r]));
    return metricNames.map((n) => byName.get(n) ?? { metricName: n, total: 0, downsampled: false, points: [] });
  },
  sweeps: (p: { workspaceName: string; projectName: string }, s?: AbortSignal) =>
    getJson<{ sweeps: SweepInfo[] } | SweepInfo[]>(`/api/ocrops/sweeps${query(p)}`, s).then((r) =>
      Array.isArray(r) ? r : (r.sweeps ?? []),
    ),
  sweep: (id: string, s?: AbortSignal) => getJson<SweepInfo>(`/api/ocrops/sweep${query({ id })}`, s),
  metadata: (experimentKey: string, s?: AbortSignal) =>
    getJson<Record<string, unknown>>(`${REST}/experiment/metadata${query({ experimentKey })}`, s),
  metricsSummary: (experimentKey: string, s?: AbortSignal) =>
    getJson<{
      values: { name: string; valueMin?: unknown; valueMax?: unknown; valueCurrent?: unknown; stepCurrent?: number }[];
    }>(`${REST}/experiment/metrics/summary${query({ experimentKey })}`, s),
  parameters: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ values: NamedValue[] }>(`${REST}/experiment/parameters${query({ experimentKey })}`, s),
  others: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ values: NamedValue[] }>(`${REST}/experiment/log-other${query({ experimentKey })}`, s),
  tags: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ tags: string[] }>(`${REST}/experiment/tags${query({ experimentKey })}`, s),
  output: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ output?: string; outputLines?: { output: string; stderr?: boolean }[] } | { output: string }[]>(
      `${REST}/experiment/output${query({ experimentKey })}`,
      s,
    ),
  html: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ html?: string }>(`${REST}/experiment/html${query({ experimentKey })}`, s),
  git: (experimentKey: string, s?: AbortSignal) =>
    getJson<Record<string, unknown>>(`${REST}/experiment/git/metadata${query({ experimentKey })}`, s),
  system: (experimentKey: string, s?: AbortSignal) =>
    getJson<Record<string, unknown>>(`${REST}/experiment/system-details${query({ experimentKey })}`, s),
  assets: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ assets: AssetInfo[] }>(`${REST}/experiment/asset/list${query({ experimentKey, type: 'all' })}`, s),
  /** An asset's content parsed as JSON (e.g. a `confusion-matrix` asset). */
  assetJson: (experimentKey: string, assetId: string, s?: AbortSignal) =>
    getJson<unknown>(`${REST}/experiment/asset/get-asset${query({ experimentKey, assetId })}`, s),
  assetUrl: (experimentKey: string, assetId: string) =>
    withKey(`${REST}/experiment/asset/get-asset${query({ experimentKey, assetId })}`),
  registryModels: (workspaceName: string, s?: AbortSignal) =>
    getJson<{ models: RegistryModel[] }>(`/api/ocrops/registry/models${query({ workspaceName })}`, s),
  registryModel: (workspaceName: string, modelName: string, s?: AbortSignal) =>
    getJson<RegistryModelDetail>(`/api/ocrops/registry/model${query({ workspaceName, modelName })}`, s),
  registeredAs: (experimentKey: string, s?: AbortSignal) =>
    getJson<{ versions: Array<{ modelName: string; version: string; aliases: string[] }> }>(
      `/api/ocrops/registry/by-run${query({ experimentKey })}`,
      s,
    ),
  setAlias: (p: { workspaceName: string; modelName: string; version: string; alias: string }) =>
    postJson<RegistryVersion>('/api/ocrops/registry/alias', p),
};

/** POSTs a JSON body; errors as in getJson (the server's `msg`, 401 asks for a key). */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (apiKey) headers.authorization = apiKey;
  const res = await fetch(base() + path, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const reply = (await res.json().catch(() => ({}))) as T & { msg?: string };
  if (!res.ok) {
    if (res.status === 401) for (const l of authListeners) l();
    throw new ApiError(res.status, `${path}: ${reply.msg ?? `${res.status} ${res.statusText}`}`);
  }
  return reply;
}

/**
 * Subscribes to the server's events for a project (`GET /api/ocrops/events`); calls `onEvent` with each parsed event.
 * Returns an unsubscribe function. Reconnects are left to EventSource.
 */
export function subscribeEvents(
  p: { workspaceName?: string; projectName?: string },
  onEvent: (e: { type: string; experimentKey?: string; metricName?: string }) => void,
): () => void {
  if (typeof EventSource === 'undefined') return () => {};
  const es = new EventSource(withKey(`/api/ocrops/events${query(p)}`));
  const handler = (ev: MessageEvent) => {
    try {
      const data = JSON.parse(ev.data as string) as { type?: string; experimentKey?: string };
      onEvent({ type: data.type ?? ev.type, ...data });
    } catch {
      /* ignore keep-alives */
    }
  };
  es.onmessage = handler;
  es.addEventListener('metric', handler as EventListener);
  es.addEventListener('experiment', handler as EventListener);
  return () => es.close();
}
