// Compare view: the selected runs' metrics overlaid chart by chart, and a parameter diff table.
import { useMemo, useState } from 'react';
import type { RunRow } from '@ocrops/tracker/api';
import { differingNames } from '@ocrops/tracker/api/runs-query';
import { formatValue } from '../../lib/format.js';
import { api } from '../api.js';
import { useAsync } from '../hooks.js';
import { href } from '../router.js';
import { ChartsGrid, type ChartRun } from '../components/ChartsGrid.js';
import { PALETTE, StatusBadge } from '../components/StatusBadge.js';
import { RUNS_LIMIT } from './RunsView.js';

export function CompareView({ ws, project, keys }: { ws: string; project: string; keys: string[] }) {
  const [onlyDiff, setOnlyDiff] = useState(true);
  const state = useAsync(
    (s) => api.runs({ workspaceName: ws, projectName: project, limit: RUNS_LIMIT }, s),
    [ws, project],
  );
  const runs: RunRow[] = useMemo(() => {
    const byKey = new Map((state.data?.runs ?? []).map((r) => [r.experimentKey, r]));
    return keys.map((k) => byKey.get(k)).filter((r): r is RunRow => r !== undefined);
  }, [state.data, keys]);
  const chartRuns = useMemo(
    () =>
      runs.map((r, i) => ({
        experimentKey: r.experimentKey,
        label: r.experimentName || r.experimentKey.slice(0, 9),
        color: PALETTE[i % PALETTE.length],
      })),
    [runs],
  );
  const metricNames = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const paramNames = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(), [runs]);
  const diffParams = useMemo(
    () => new Set(differingNames(runs, paramNames, (r, n) => r.params[n])),
    [runs, paramNames],
  );
  const shownParams = onlyDiff ? paramNames.filter((n) => diffParams.has(n)) : paramNames;

  return (
    <div className="page compare-page" data-testid="compare-page">
      <div className="run-head">
        <h1>Compare {runs.length} runs</h1>
        <div className="run-meta">
          <a href={href.runs(ws, project)}>
            {ws}/{project}
          </a>
          {chartRuns.map((r) => (
            <a key={r.experimentKey} href={href.run(r.experimentKey)} className="legend-item">
              <span className="swatch" style={{ background: r.color }} />
              {r.label}
            </a>
          ))}
        </div>
      </div>
      {state.error && <div className="error">{state.error.message}</div>}
      {state.data && runs.length < keys.length && (
        <div className="error">
          {keys.length - runs.length} of the selected runs were not found in {ws}/{project}.
        </div>
      )}
      <div className="compare-grid">
        <div className="compare-charts">
          <ChartsGrid runs={chartRuns} metrics={metricNames} />
        </div>
        <div className="compare-side">
          <div className="toolbar">
            <h3>Parameters</h3>
            <label className="check">
              <input type="checkbox" checked={onlyDiff} onChange={() => setOnlyDiff((v) => !v)} />
              only differing
            </label>
          </div>
          <table className="grid-table diff" data-testid="param-diff">
            <RunsHeader first="parameter" runs={chartRuns} />
            <tbody>
              {shownParams.map((n) => (
                <tr key={n} className={diffParams.has(n) ? 'differs' : ''}>
                  <th>{n}</th>
                  {runs.map((r) => (
                    <td key={r.experimentKey} className="num">
                      {formatValue(r.params[n])}
                    </td>
                  ))}
                </tr>
              ))}
              {shownParams.length === 0 && (
                <tr>
                  <td colSpan={runs.length + 1} className="muted">
                    All parameters are equal.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <h3>Metrics (last / min)</h3>
          <table className="grid-table">
            <RunsHeader first="metric" runs={chartRuns} />
            <tbody>
              {metricNames.map((m) => (
                <tr key={m}>
                  <th>{m}</th>
                  {runs.map((r) => (
                    <td key={r.experimentKey} className="num">
                      {formatValue(r.metrics[m]?.last)}{' '}
                      <span className="muted">/ {formatValue(r.metrics[m]?.min)}</span>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Status</h3>
          <table className="grid-table">
            <tbody>
              <tr>
                <th>status</th>
                {runs.map((r) => (
                  <td key={r.experimentKey}>
                    <StatusBadge status={r.status} />
                  </td>
                ))}
              </tr>
              <tr>
                <th>tags</th>
                {runs.map((r) => (
                  <td key={r.experimentKey}>{r.tags.join(', ')}</td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

/** A table's header row: the first column's name, then each run's colour swatch and label. */
function RunsHeader({ first, runs }: { first: string; runs: ChartRun[] }) {
  return (
    <thead>
      <tr>
        <th>{first}</th>
        {runs.map((r) => (
          <th key={r.experimentKey}>
            <span className="swatch" style={{ background: r.color }} />
            {r.label}
          </th>
        ))}
      </tr>
    </thead>
  );
}
