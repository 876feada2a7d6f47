// Run page: header (status, times, tags, sweep link), metric charts, parameters, others, versioned weights (DVC),
// system and git details, console output, assets and models. Live: re-fetches while the run is running.
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { NamedValue } from '@ocrops/tracker/api';
import { formatBytes, formatDuration, formatTime, formatValue } from '../../lib/format.js';
import { runVersioning } from '../../lib/versioning.js';
import { api, prefetch, runRowCache, subscribeEvents } from '../api.js';
import { useAsync, useThrottled } from '../hooks.js';
import { href } from '../router.js';
import { ChartsGrid, runSeries } from '../components/ChartsGrid.js';
import { PALETTE, StatusBadge } from '../components/StatusBadge.js';
import { ClassifierViews, hasClassifierAssets } from '../components/ClassifierViews.js';

type Tab = 'charts' | 'classifier' | 'params' | 'others' | 'versions' | 'system' | 'output' | 'html' | 'assets';

function valuesToMap(values: NamedValue[] | undefined): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const v of values ?? []) m[v.name] = v.valueCurrent;
  return m;
}

function KeyValueTable({ values, empty }: { values: Record<string, unknown>; empty: string }) {
  const [search, setSearch] = useState('');
  const entries = Object.entries(values)
    .filter(([k]) => k.toLowerCase().includes(search.toLowerCase()))
    .sort(([a], [b]) => a.localeCompare(b));
  if (Object.keys(values).length === 0) return <div className="empty">{empty}</div>;
  return (
    <div>
      <input className="search" placeholder="filter…" value={search} onChange={(e) => setSearch(e.target.value)} />
      <table className="kv">
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td className="mono">{typeof v === 'object' && v !== null ? JSON.stringify(v) : formatValue(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Copyable({ text }: { text: string }) {
  const [done, setDone] = useState(false);
  return (
    <span className="copyable">
      <code>{text}</code>
      <button
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => setDone(true));
          setTimeout(() => setDone(false), 1200);
        }}
      >
        {done ? 'copied' : 'copy'}
      </button>
    </span>
  );
}

function Lazy<T>({
  load,
  render,
  deps,
}: {
  load: (s: AbortSignal) => Promise<T>;
  render: (t: T) => ReactNode;
  deps: unknown[];
}) {
  const st = useAsync(load, deps);
  if (st.error) return <div className="error">{st.error.message}</div>;
  if (!st.data) return <div className="muted">loading…</div>;
  return <>{render(st.data)}</>;
}

interface OutLine {
  output: string;
  stderr?: boolean;
}

/** Console lines from Comet's `/experiment/output` reply (`{output, lines?}`; older shapes tolerated). */
function outputLines(reply: unknown): OutLine[] {
  const r = reply as { lines?: OutLine[]; outputLines?: OutLine[] };
  const lines = r && !Array.isArray(r) ? (r.lines ?? r.outputLines) : undefined;
  if (Array.isArray(lines)) return lines.map((l) => ({ output: String(l.output ?? ''), stderr: !!l.stderr }));
  const text = outputText(reply);
  return text ? [{ output: text }] : [];
}

function outputText(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Array.isArray(reply))
    return reply.map((l) => (typeof l === 'string' ? l : String((l as { output?: string }).output ?? ''))).join('');
  const r = reply as { output?: unknown; outputLines?: { output: string }[] };
  if (typeof r.output === 'string') return r.output;
  if (Array.isArray(r.output)) return outputText(r.output);
  if (r.outputLines) return r.outputLines.map((l) => l.output).join('');
  return '';
}

/** Metric names of a run known before its summary arrives (from the runs table), sorted as the charts show them. */
function cachedMetricNames(experimentKey: string): string[] {
  const cached = runRowCache.get(experimentKey);
  return cached ? Object.keys(cached.metrics).sort() : [];
}

/**
 * Starts the run page's first requests (header, summary, parameters, others, tags and, when the metric names are
 * known from the runs table, every chart's series) on navigation, before the page renders: see {@link prefetch}.
 */
export function prefetchRunPage(experimentKey: string): void {
  prefetch(() => {
    const names = cachedMetricNames(experimentKey);
    return Promise.all([
      names.length ? runSeries(experimentKey, names, 'step') : undefined,
      api.metadata(experimentKey),
      api.metricsSummary(experimentKey),
      api.parameters(experimentKey),
      api.others(experimentKey),
      api.tags(experimentKey),
    ]);
  });
}

export function RunView({ experimentKey }: { experimentKey: string }) {
  const [tab, setTab] = useState<Tab>('charts');
  const [refresh, setRefresh] = useState(0);
  const meta = useAsync((s) => api.metadata(experimentKey, s), [experimentKey, refresh]);
  const summary = useAsync((s) => api.metricsSummary(experimentKey, s), [experimentKey, refresh]);
  const params = useAsync((s) => api.parameters(experimentKey, s), [experimentKey]);
  const others = useAsync((s) => api.others(experimentKey, s), [experimentKey, refresh]);
  const tags = useAsync((s) => api.tags(experimentKey, s), [experimentKey]);
  const registered = useAsync(
    (s) => api.registeredAs(experimentKey, s).catch(() => ({ versions: [] })),
    [experimentKey],
  );
  // the asset list decides whether the classifier tab (confusion matrix, mistakes) is shown
  const assetList = useAsync(
    (s) => api.assets(experimentKey, s).catch(() => ({ assets: [] })),
    [experimentKey, refresh],
  );
  const classifier = hasClassifierAssets(assetList.data?.assets);

  const m = meta.data ?? {};
  const running = m.running === true;
  const ws = String(m.workspaceName ?? '');
  const project = String(m.projectName ?? '');
  const bump = useThrottled(() => setRefresh((r) => r + 1), 1500);
  useEffect(() => {
    if (!running || !ws) return;
    return subscribeEvents({ workspaceName: ws, projectName: project }, (e) => {
      if (!e.experimentKey || e.experimentKey === experimentKey) bump();
    });
  }, [running, ws, project, experimentKey, bump]);

  const metricNames = useMemo(() => {
    if (summary.data) return summary.data.values.map((v) => v.name).sort();
    return cachedMetricNames(experimentKey);
  }, [summary.data, experimentKey]);
  const paramMap = useMemo(() => valuesToMap(params.data?.values), [params.data]);
  const otherMap = useMemo(() => valuesToMap(others.data?.values), [others.data]);
  const versioning = useMemo(() => runVersioning(otherMap), [otherMap]);
  // the runs table's name until the metadata arrives: the charts' label does not change under them
  const name =
    String(m.experimentName ?? runRowCache.get(experimentKey)?.experimentName ?? '') || experimentKey.slice(0, 9);
  const status = running ? 'running' : m.hasCrashed ? 'crashed' : 'finished';
  const start = m.startTimeMillis as number | undefined;
  const end = m.endTimeMillis as number | undefined;
  const duration = (m.durationMillis as number | undefined) ?? (start ? (end ?? Date.now()) - start : undefined);
  const sweepId = (m.optimizationId as string | undefined) ?? (otherMap.optimizer_id as string | undefined);
  const chartRuns = useMemo(() => [{ experimentKey, label: name, color: PALETTE[0] }], [experimentKey, name]);

  const tabs: [Tab, string][] = [
    ['charts', `Charts (${metricNames.length})`],
    ...(classifier ? [['classifier', 'Confusion & mistakes'] as [Tab, string]] : []),
    ['params', `Parameters (${Object.keys(paramMap).length})`],
    ['others', `Others (${Object.keys(otherMap).length})`],
    ['versions', `Versions${versioning.outputs.length ? ` (${versioning.outputs.length})` : ''}`],
    ['system', 'System & git'],
    ['output', 'Output'],
    ['html', 'HTML'],
    ['assets', 'Assets & models'],
  ];

  return (
    <div className="page run-page" data-testid="run-page">
      <div className="run-head">
        <h1>
          {name} <StatusBadge status={status} />
        </h1>
        <div className="run-meta">
          {ws && (
            <a href={href.runs(ws, project)}>
              {ws}/{project}
            </a>
          )}
          <span className="mono" title="experiment key">
            {experimentKey}
          </span>
          <span>started {formatTime(start)}</span>
          <span>duration {formatDuration(duration)}</span>
          {sweepId && <a href={href.sweep(sweepId, ws, project)}>sweep {sweepId.slice(0, 8)}</a>}
          {(tags.data?.tags ?? []).map((t) => (
            <span className="tag" key={t}>
              {t}
            </span>
          ))}
          {(registered.data?.versions ?? []).map((v) => (
            <a
              className="badge registered"
              key={`${v.modelName}:${v.version}`}
              href={href.model(ws || 'default', v.modelName)}
              data-testid="registered-as"
            >
              registered as {v.modelName}:{v.version}
              {v.aliases.map((a) => ` @${a}`).join('')}
            </a>
          ))}
        </div>
        {meta.error && <div className="error">{meta.error.message}</div>}
      </div>
      <div className="tabs">
        {tabs.map(([id, label]) => (
          <a key={id} className={tab === id ? 'active' : ''} onClick={() => setTab(id)} data-tab={id}>
            {label}
          </a>
        ))}
      </div>
      {tab === 'charts' && (
        <div className="run-body">
          <ChartsGrid runs={chartRuns} metrics={metricNames} refresh={refresh} />
          {metricNames.length > 0 && (
            <details className="summary-box" open>
              <summary>Metric summary</summary>
              <table className="grid-table">
                <thead>
                  <tr>
                    <th>metric</th>
                    <th>last</th>
                    <th>min</th>
                    <th>max</th>
                    <th>step</th>
                  </tr>
                </thead>
                <tbody>
                  {(summary.data?.values ?? []).map((v) => (
                    <tr key={v.name}>
                      <th>{v.name}</th>
                      <td className="num">{formatValue(Number(v.valueCurrent))}</td>
                      <td className="num">{formatValue(Number(v.valueMin))}</td>
                      <td className="num">{formatValue(Number(v.valueMax))}</td>
                      <td className="num">{formatValue(v.stepCurrent)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </div>
      )}
      {tab === 'classifier' && <ClassifierViews experimentKey={experimentKey} assets={assetList.data?.assets ?? []} />}
      {tab === 'params' && <KeyValueTable values={paramMap} empty="No parameters logged." />}
      {tab === 'others' && <KeyValueTable values={otherMap} empty="No other values logged." />}
      {tab === 'versions' && (
        <div className="versions" data-testid="versions">
          <table className="kv">
            <tbody>
              <tr>
                <th>git commit</th>
                <td className="mono">
                  {versioning.gitCommit ?? '—'}
                  {versioning.gitDirty ? ' (dirty working tree)' : ''}
                </td>
              </tr>
            </tbody>
          </table>
          {versioning.outputs.length === 0 && (
            <div className="empty">No DVC outputs recorded (log-other values dvc_*).</div>
          )}
          {versioning.outputs.map((o) => (
            <div className="card" key={o.key}>
              <div className="card-title">{o.out}</div>
              <table className="kv">
                <tbody>
                  <tr>
                    <th>DVC output</th>
                    <td className="mono">{o.out}</td>
                  </tr>
                  <tr>
                    <th>md5</th>
                    <td className="mono">{o.md5}</td>
                  </tr>
                  <tr>
                    <th>fetch</th>
                    <td>
                      {o.commands.map((c) => (
                        <div key={c}>
                          <Copyable text={c} />
                        </div>
                      ))}
                    </td>
                  </tr>
                </tbody>
              </table>
            </div>
          ))}
        </div>
      )}
      {tab === 'system' && (
        <div className="two-col">
          <div>
            <h3>Git</h3>
            <Lazy
              load={(s) => api.git(experimentKey, s)}
              deps={[experimentKey]}
              render={(g) => <KeyValueTable values={g ?? {}} empty="No git metadata." />}
            />
          </div>
          <div>
            <h3>System</h3>
            <Lazy
              load={(s) => api.system(experimentKey, s)}
              deps={[experimentKey]}
              render={(g) => <KeyValueTable values={g ?? {}} empty="No system details." />}
            />
          </div>
        </div>
      )}
      {tab === 'output' && (
        <Lazy
          load={(s) => api.output(experimentKey, s)}
          deps={[experimentKey, refresh]}
          render={(o) => {
            const lines = outputLines(o);
            if (lines.length === 0) return <div className="empty">No console output.</div>;
            return (
              <pre className="console" data-testid="console">
                {lines.map((l, i) => (
                  <span key={i} className={l.stderr ? 'stderr' : undefined}>
                    {l.output}
                  </span>
                ))}
              </pre>
            );
          }}
        />
      )}
      {tab === 'html' && (
        <Lazy
          load={(s) => api.html(experimentKey, s)}
          deps={[experimentKey, refresh]}
          render={(h) =>
            h.html ? (
              <iframe className="html-frame" sandbox="" srcDoc={h.html} title="logged HTML" />
            ) : (
              <div className="empty">No HTML logged.</div>
            )
          }
        />
      )}
      {tab === 'assets' && (
        <Lazy
          load={(s) => api.assets(experimentKey, s)}
          deps={[experimentKey]}
          render={(a) =>
            (a.assets ?? []).length === 0 ? (
              <div className="empty">No assets.</div>
            ) : (
              <table className="grid-table">
                <thead>
                  <tr>
                    <th>file</th>
                    <th>type</th>
                    <th>model</th>
                    <th>size</th>
                    <th>step</th>
                    <th>logged</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {[...a.assets]
                    .sort(
                      (x, y) => String(x.type).localeCompare(String(y.type)) || x.fileName.localeCompare(y.fileName),
                    )
                    .map((f) => (
                      <tr key={f.assetId}>
                        <td className="mono">{f.fileName}</td>
                        <td>{f.type}</td>
                        <td>{f.type === 'model-element' ? (f.groupingName ?? '') : ''}</td>
                        <td className="num">{formatBytes(f.fileSize)}</td>
                        <td className="num">{formatValue(f.step)}</td>
                        <td>{formatTime(f.createdAt)}</td>
                        <td>
                          <a href={api.assetUrl(experimentKey, f.assetId)} download={f.fileName.split('/').pop()}>
                            download
                          </a>
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )
          }
        />
      )}
    </div>
  );
}
