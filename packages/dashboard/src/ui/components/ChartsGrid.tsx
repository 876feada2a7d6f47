// Grid of metric charts for one run (run page) or several runs overlaid (compare view), with the x-axis choice,
// EMA smoothing and a metric-name filter. The grid fetches every chart's server-side downsampled series (min/max
// buckets) in one request per run; a zoomed chart re-fetches its x range at full resolution on its own.
import { useMemo, useState } from 'react';
import type { SeriesReply, XAxis } from '@ocrops/tracker/api';
import { formatValue } from '../../lib/format.js';
import { api } from '../api.js';
import { useAsync } from '../hooks.js';
import { MetricChart, type ChartSeries } from './MetricChart.js';

export interface ChartRun {
  experimentKey: string;
  label: string;
  color: string;
}

/** Points asked per series (Comet samples ~500, MLflow ~320). */
export const CHART_POINTS = 500;

/**
 * The unzoomed series of every chart of one run (one multi-series request); the run page's prefetch sends exactly
 * this request, so the grid takes over its reply.
 */
export function runSeries(
  experimentKey: string,
  metrics: string[],
  x: XAxis,
  signal?: AbortSignal,
): Promise<SeriesReply[]> {
  return api.seriesMany({ experimentKey, metricNames: metrics, points: CHART_POINTS, x }, signal);
}

/** An empty reply for a series that could not be read (the chart shows "0 pts" instead of failing the grid). */
const emptyReply = (metricName: string): SeriesReply => ({ metricName, total: 0, downsampled: false, points: [] });

function MetricPanel(props: {
  runs: ChartRun[];
  metric: string;
  xAxis: XAxis;
  smoothing: number;
  refresh: number;
  /** The unzoomed series of each run (index = run), fetched by the grid; undefined while loading. */
  base: SeriesReply[] | undefined;
}) {
  const { runs, metric, xAxis, smoothing, refresh, base } = props;
  const [range, setRange] = useState<[number, number] | null>(null);
  const zoomed = useAsync(
    (signal) =>
      range
        ? Promise.all(
            runs.map((r) =>
              api
                .series(
                  {
                    experimentKey: r.experimentKey,
                    metricName: metric,
                    points: CHART_POINTS,
                    x: xAxis,
                    from: range[0],
                    to: range[1],
                  },
                  signal,
                )
                .catch((err: Error): SeriesReply => {
                  if (signal.aborted) throw err;
                  return emptyReply(metric);
                }),
            ),
          )
        : Promise.resolve(undefined),
    [runs.map((r) => r.experimentKey).join(','), metric, xAxis, range?.[0], range?.[1], refresh],
  );
  const state = range ? zoomed : { data: base, loading: base === undefined, error: undefined };
  const replies = state.data;
  const series: ChartSeries[] = useMemo(
    () =>
      (replies ?? []).map((rep, i) => ({
        label: runs[i]?.label ?? '',
        color: runs[i]?.color ?? '#333',
        points: rep.points,
      })),
    [replies, runs],
  );
  const total = (replies ?? []).reduce((a, r) => a + r.total, 0);
  const shown = (replies ?? []).reduce((a, r) => a + r.points.length, 0);
  const down = (replies ?? []).some((r) => r.downsampled);
  const note = [
    down ? `${formatValue(shown)} of ${formatValue(total)} pts (min/max buckets)` : `${formatValue(total)} pts`,
    range ? `zoom ${formatValue(range[0])}–${formatValue(range[1])}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <div className="chart-cell">
      {range && (
        <button className="chart-reset" onClick={() => setRange(null)} title="Show the whole range">
          reset zoom
        </button>
      )}
      <MetricChart
        title={metric}
        series={series}
        xAxis={xAxis}
        smoothing={smoothing}
        onZoom={(r) => setRange(r)}
        note={replies ? note : undefined}
        loading={state.loading && !replies}
      />
      {state.error && <div className="error">{state.error.message}</div>}
    </div>
  );
}

export function ChartsGrid(props: {
  runs: ChartRun[];
  metrics: string[];
  refresh?: number;
  initialSmoothing?: number;
}) {
  const { runs, metrics, refresh = 0 } = props;
  const [xAxis, setXAxis] = useState<XAxis>('step');
  const [smoothing, setSmoothing] = useState(props.initialSmoothing ?? 0);
  const [search, setSearch] = useState('');
  const shown = metrics.filter((m) => m.toLowerCase().includes(search.toLowerCase()));
  // every metric of a run in one request (not one per chart); filtering the charts does not refetch
  const all = useAsync(
    (signal) =>
      Promise.all(
        runs.map((r) =>
          runSeries(r.experimentKey, metrics, xAxis, signal).catch((err: Error) => {
            if (signal.aborted) throw err;
            return metrics.map(emptyReply);
          }),
        ),
      ),
    [runs.map((r) => r.experimentKey).join(','), metrics.join('\n'), xAxis, refresh],
  );
  /** metric -> one reply per run; built only from replies of the current runs/metrics (stale data keeps showing while reloading). */
  const byMetric = useMemo(() => {
    if (!all.data) return undefined;
    const m = new Map<string, SeriesReply[]>();
    all.data.forEach((perRun, i) =>
      perRun.forEach((rep) => {
        let list = m.get(rep.metricName);
        if (!list) m.set(rep.metricName, (list = []));
        list[i] = rep;
      }),
    );
    return m;
  }, [all.data]);
  return (
    <div>
      <div className="toolbar">
        <label>
          x&nbsp;
          <select value={xAxis} onChange={(e) => setXAxis(e.target.value as XAxis)} data-testid="x-axis">
            <option value="step">step</option>
            <option value="epoch">epoch</option>
            <option value="timestamp">wall time</option>
          </select>
        </label>
        <label title="Exponential moving average (TensorBoard-style, debiased)">
          smoothing&nbsp;
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            onChange={(e) => setSmoothing(Number(e.target.value))}
          />
          <span className="mono">{smoothing.toFixed(2)}</span>
        </label>
        <input
          className="search"
          placeholder="filter metrics…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <span className="muted">{shown.length} charts · drag to zoom, double-click to reset</span>
      </div>
      {shown.length === 0 && <div className="empty">No metrics logged.</div>}
      <div className="charts">
        {shown.map((m) => (
          <MetricPanel
            key={m}
            runs={runs}
            metric={m}
            xAxis={xAxis}
            smoothing={smoothing}
            refresh={refresh}
            base={byMetric?.get(m)}
          />
        ))}
      </div>
    </div>
  );
}
