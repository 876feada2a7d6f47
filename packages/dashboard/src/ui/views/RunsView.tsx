// Runs table of a project: virtualised rows (only the visible rows are in the DOM), server-side sort and filter on
// any metric summary or parameter, last/min/max metric columns, "only differing columns", selection for compare.
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { RunRow } from '@ocrops/tracker/api';
import { differingNames } from '@ocrops/tracker/api/runs-query';
import { formatDuration, formatTime, formatValue } from '../../lib/format.js';
import { api, runRowCache, subscribeEvents } from '../api.js';
import { useAsync, useThrottled } from '../hooks.js';
import { href } from '../router.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { ProjectTabs } from './ProjectTabs.js';
import { orderMetricNames } from '../../lib/confusion.js';

const ROW_H = 28;
const OVERSCAN = 8;
/** Most runs fetched in one request (the table is virtualised; the server does sort and filter). */
export const RUNS_LIMIT = 10000;

type Agg = 'last' | 'min' | 'max';

interface Column {
  id: string;
  label: string;
  sub?: string;
  width: number;
  sortPath?: string;
  className?: string;
  /** Left offset when the column stays visible while scrolling sideways. */
  sticky?: number;
  render: (run: RunRow) => ReactNode;
}

function useHeight<E extends HTMLElement>(): [React.RefObject<E | null>, number] {
  const ref = useRef<E | null>(null);
  const [h, setH] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setH(el.clientHeight);
    const ro = new ResizeObserver(() => setH(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, h];
}

export function RunsView({ ws, project }: { ws: string; project: string }) {
  const [sort, setSort] = useState<{ path: string; order: 'asc' | 'desc' }>({ path: 'startTimeMillis', order: 'desc' });
  const [filterText, setFilterText] = useState('');
  const [filter, setFilter] = useState('');
  const [aggs, setAggs] = useState<Record<Agg, boolean>>({ last: true, min: true, max: false });
  const [onlyDiff, setOnlyDiff] = useState(false);
  const [colSearch, setColSearch] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [scrollTop, setScrollTop] = useState(0);
  const [scrollRef, viewH] = useHeight<HTMLDivElement>();

  const state = useAsync(
    (signal) =>
      api.runs(
        { workspaceName: ws, projectName: project, sort: sort.path, order: sort.order, filter, limit: RUNS_LIMIT },
        signal,
      ),
    [ws, project, sort.path, sort.order, filter],
  );
  const reload = useThrottled(state.reload, 2000);
  useEffect(() => subscribeEvents({ workspaceName: ws, projectName: project }, () => reload()), [ws, project, reload]);

  const runs = useMemo(() => state.data?.runs ?? [], [state.data]);
  useEffect(() => {
    runRowCache.clear();
    for (const r of runs) runRowCache.set(r.experimentKey, r);
  }, [runs]);
  const { paramNames, metricNames } = useMemo(() => {
    const p = new Set<string>();
    const m = new Set<string>();
    for (const r of runs) {
      for (const k of Object.keys(r.params ?? {})) p.add(k);
      for (const k of Object.keys(r.metrics ?? {})) m.add(k);
    }
    return { paramNames: [...p].sort(), metricNames: orderMetricNames(m) };
  }, [runs]);

  const columns = useMemo(() => {
    const wanted = (n: string) => n.toLowerCase().includes(colSearch.trim().toLowerCase());
    const shownParams = (onlyDiff ? differingNames(runs, paramNames, (r, n) => r.params[n]) : paramNames).filter(
      wanted,
    );
    const aggList = (['last', 'min', 'max'] as Agg[]).filter((a) => aggs[a]);
    const metricCols = metricNames.filter(wanted).flatMap((m) => aggList.map((a) => ({ m, a })));
    const shownMetricCols = onlyDiff
      ? metricCols.filter(({ m, a }) => differingNames(runs, [m], (r) => r.metrics[m]?.[a]).length > 0)
      : metricCols;
    const longestTags = runs.reduce((a, r) => Math.max(a, r.tags.join('').length * 6.5 + r.tags.length * 16), 0);
    const tagsWidth = Math.round(Math.min(240, Math.max(70, longestTags + 12)));
    const cols: Column[] = [
      {
        id: 'status',
        label: 'status',
        width: 92,
        sortPath: 'status',
        sticky: 32,
        render: (r) => <StatusBadge status={r.status} />,
      },
      {
        id: 'name',
        label: 'name',
        width: 170,
        sortPath: 'experimentName',
        sticky: 124,
        render: (r) => (
          <a href={href.run(r.experimentKey)} title={r.experimentKey}>
            {r.experimentName || r.experimentKey.slice(0, 9)}
          </a>
        ),
      },
      {
        id: 'start',
        label: 'started',
        width: 100,
        sortPath: 'startTimeMillis',
        className: 'mono',
        render: (r) => <span title={formatTime(r.startTimeMillis)}>{formatTime(r.startTimeMillis).slice(5)}</span>,
      },
      {
        id: 'duration',
        label: 'duration',
        width: 80,
        sortPath: 'durationMillis',
        className: 'num',
        render: (r) => formatDuration(r.durationMillis),
      },
      {
        id: 'tags',
        label: 'tags',
        width: tagsWidth,
        render: (r) =>
          r.tags.map((t) => (
            <span className="tag" key={t}>
              {t}
            </span>
          )),
      },
      ...shownParams.map((n): Column => ({
        id: `params.${n}`,
        label: n,
        sub: 'param',
        width: Math.min(140, Math.max(70, n.length * 7 + 20)),
        sortPath: `params.${n}`,
        className: 'num param',
        render: (r) => formatValue(r.params[n]),
      })),
      ...shownMetricCols.map(({ m, a }): Column => ({
        id: `metrics.${m}.${a}`,
        label: m,
        sub: a,
        width: Math.min(150, Math.max(78, m.length * 7 + 16)),
        sortPath: `metrics.${m}.${a}`,
        className: 'num metric',
        render: (r) => formatValue(r.metrics[m]?.[a]),
      })),
    ];
    return cols;
  }, [runs, paramNames, metricNames, aggs, onlyDiff, colSearch]);

  const totalWidth = 32 + columns.reduce((a, c) => a + c.width, 0);
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(runs.length, Math.ceil((scrollTop + viewH) / ROW_H) + OVERSCAN);
  const visible = runs.slice(first, last);

  const clickHeader = (c: Column) => {
    if (!c.sortPath) return;
    setSort((s) => ({ path: c.sortPath!, order: s.path === c.sortPath && s.order === 'asc' ? 'desc' : 'asc' }));
  };
  const toggle = (key: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(key)) n.delete(key);
      else n.add(key);
      return n;
    });
  const allSelected = runs.length > 0 && runs.every((r) => selected.has(r.experimentKey));

  return (
    <div className="page runs-page">
      <ProjectTabs ws={ws} project={project} active="runs" />
      <div className="toolbar">
        <form
          className="filter"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter(filterText.trim());
          }}
        >
          <input
            className="search wide"
            data-testid="runs-filter"
            placeholder="filter, e.g. metrics.val_loss.min<0.5 and params.inner_dim=128 (Enter)"
            value={filterText}
            onChange={(e) => setFilterText(e.target.value)}
          />
        </form>
        <input
          className="search"
          placeholder="columns…"
          title="Show only the parameter and metric columns whose name contains this"
          value={colSearch}
          onChange={(e) => setColSearch(e.target.value)}
        />
        <span className="seg" title="Metric summary columns">
          {(['last', 'min', 'max'] as Agg[]).map((a) => (
            <label key={a} className={aggs[a] ? 'on' : ''}>
              <input type="checkbox" checked={aggs[a]} onChange={() => setAggs((s) => ({ ...s, [a]: !s[a] }))} />
              {a}
            </label>
          ))}
        </span>
        <label className="check">
          <input
            type="checkbox"
            checked={onlyDiff}
            onChange={() => setOnlyDiff((v) => !v)}
            data-testid="only-differing"
          />
          only differing columns
        </label>
        <span className="spacer" />
        <span className="muted" data-testid="runs-count">
          {state.data
            ? `${formatValue(runs.length)}${state.data.total > runs.length ? ` of ${formatValue(state.data.total)}` : ''} runs`
            : ''}
        </span>
        <a
          className={`button${selected.size >= 1 ? '' : ' disabled'}`}
          data-testid="compare-button"
          href={selected.size >= 1 ? href.compare(ws, project, [...selected]) : undefined}
        >
          Compare {selected.size > 0 ? `(${selected.size})` : ''}
        </a>
      </div>
      {state.error && <div className="error">{state.error.message}</div>}
      <div
        className="table-scroll"
        ref={scrollRef}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
        data-testid="runs-table"
      >
        <div className="table" style={{ width: totalWidth }}>
          <div className="thead" role="row">
            <div className="cell check sticky" style={{ width: 32, left: 0 }}>
              <input
                type="checkbox"
                checked={allSelected}
                onChange={() => setSelected(allSelected ? new Set() : new Set(runs.map((r) => r.experimentKey)))}
                title="Select all"
              />
            </div>
            {columns.map((c) => (
              <div
                key={c.id}
                className={`cell th ${c.className ?? ''} ${c.sortPath ? 'sortable' : ''} ${sort.path === c.sortPath ? 'sorted' : ''}${c.sticky !== undefined ? ' sticky' : ''}`}
                style={{ width: c.width, left: c.sticky }}
                data-col={c.id}
                onClick={() => clickHeader(c)}
                title={c.sortPath ? `sort by ${c.sortPath}` : undefined}
              >
                <span className="th-label">
                  {sort.path === c.sortPath && <span className="th-arrow">{sort.order === 'asc' ? '▲' : '▼'}</span>}
                  {c.label}
                </span>
                {c.sub && <span className="th-sub">{c.sub}</span>}
              </div>
            ))}
          </div>
          <div className="tbody" style={{ height: runs.length * ROW_H }}>
            {visible.map((r, i) => (
              <div
                key={r.experimentKey}
                className={`tr${selected.has(r.experimentKey) ? ' selected' : ''}`}
                style={{ top: (first + i) * ROW_H, height: ROW_H }}
                data-key={r.experimentKey}
                data-row={first + i}
              >
                <div className="cell check sticky" style={{ width: 32, left: 0 }}>
                  <input
                    type="checkbox"
                    checked={selected.has(r.experimentKey)}
                    onChange={() => toggle(r.experimentKey)}
                  />
                </div>
                {columns.map((c) => (
                  <div
                    key={c.id}
                    className={`cell ${c.className ?? ''}${c.sticky !== undefined ? ' sticky' : ''}`}
                    style={{ width: c.width, left: c.sticky }}
                    data-col={c.id}
                  >
                    {c.render(r)}
                  </div>
                ))}
              </div>
            ))}
          </div>
          {state.data && runs.length === 0 && <div className="empty">No runs{filter ? ' match the filter' : ''}.</div>}
        </div>
      </div>
    </div>
  );
}
