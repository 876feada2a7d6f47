// One metric chart (uPlot): one or more runs' series on a shared x axis, optional EMA smoothing (raw series shown
// faintly behind), min/max band of downsampled buckets, drag-to-zoom reported to the parent (which re-fetches
// that x range at full resolution) and double-click to reset.
import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeriesPoint, XAxis } from '@ocrops/tracker/api';
import { emaSmooth } from '../../lib/smoothing.js';
import { chartShape, collapseSameX } from '../../lib/series.js';
import { formatValue } from '../../lib/format.js';
import { yRange } from '../../lib/scale.js';
import { useWidth } from '../hooks.js';

export interface ChartSeries {
  label: string;
  color: string;
  points: SeriesPoint[];
}

export interface MetricChartProps {
  title: string;
  series: ChartSeries[];
  xAxis: XAxis;
  /** EMA weight in [0, 1). */
  smoothing: number;
  height?: number;
  /** Called with the selected x range after a drag, or null on double-click (reset). */
  onZoom?: (range: [number, number] | null) => void;
  /** Text under the title, e.g. "500 of 5,000 points". */
  note?: string;
  loading?: boolean;
}

function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export function MetricChart(props: MetricChartProps) {
  const { title, series, xAxis, smoothing, height = 220, onZoom, note, loading } = props;
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const plotRef = useRef<HTMLDivElement>(null);
  const uRef = useRef<uPlot | null>(null);
  const zoomRef = useRef(onZoom);
  zoomRef.current = onZoom;

  const cleaned = useMemo(() => series.map((s) => ({ ...s, points: collapseSameX(s.points) })), [series]);
  const pointCount = cleaned.reduce((a, s) => a + s.points.length, 0);
  const single = cleaned.length === 1;
  const toX = (x: number) => (xAxis === 'timestamp' ? x / 1000 : x);

  // The chart's shape (series, labels, colours, band, smoothing on/off, axes): a new shape builds a new uPlot; new
  // values of the same shape only replace the data (live refreshes, a late run label do not rebuild the canvas).
  const { series: shape, key: shapeKey } = chartShape(cleaned, { smoothed: smoothing > 0, xAxis, height });

  const { opts, bandSeries } = useMemo(() => {
    const useries: uPlot.Series[] = [{ label: xAxis }];
    const bands: uPlot.Band[] = [];
    const bandSeries: number[] = [];
    for (const s of shape) {
      if (smoothing > 0) {
        useries.push({
          label: `${s.label} (raw)`,
          stroke: withAlpha(s.color, 0.28),
          width: 1,
          points: { show: false },
        });
        useries.push({
          label: s.label,
          stroke: s.color,
          width: 1.6,
          points: { show: false },
          value: (_u, v) => formatValue(v),
        });
      } else {
        useries.push({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          points: { show: s.dots, size: 4 },
          value: (_u, v) => formatValue(v),
        });
      }
      if (s.band) {
        const base = useries.length;
        useries.push({ label: 'max', stroke: 'transparent', points: { show: false } });
        useries.push({ label: 'min', stroke: 'transparent', points: { show: false } });
        bands.push({ series: [base, base + 1], fill: withAlpha(s.color, 0.15) });
        bandSeries.push(base, base + 1);
      }
    }
    const o: uPlot.Options = {
      width: 400,
      height,
      series: useries,
      bands,
      legend: { show: !single || smoothing > 0 ? true : false, live: true },
      scales: { x: { time: xAxis === 'timestamp' }, y: { range: (_u, min, max) => yRange(min, max) } },
      axes: [
        {
          stroke: '#667',
          grid: { stroke: '#eef0f3', width: 1 },
          ticks: { stroke: '#dde', width: 1 },
          size: 32,
          font: '11px system-ui',
        },
        {
          stroke: '#667',
          grid: { stroke: '#eef0f3', width: 1 },
          ticks: { stroke: '#dde', width: 1 },
          size: 52,
          font: '11px system-ui',
          values: (_u, vals) => vals.map((v) => formatValue(v)),
        },
      ],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      hooks: {
        // the drawn y range, for tests and for reading the chart without the canvas
        setScale: [
          (u, key) => {
            if (key !== 'y') return;
            const box = u.root.parentElement?.parentElement;
            box?.setAttribute('data-y-min', String(u.scales.y.min));
            box?.setAttribute('data-y-max', String(u.scales.y.max));
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, 'x');
            const to = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const k = xAxis === 'timestamp' ? 1000 : 1;
            zoomRef.current?.([from * k, to * k]);
          },
        ],
      },
    };
    return { opts: o, bandSeries };
    // everything the options read is in shapeKey
  }, [shapeKey]);

  const data = useMemo(() => {
    const tables: uPlot.AlignedData[] = [];
    cleaned.forEach((s, i) => {
      const xs = s.points.map((p) => toX(p.x));
      const raw = s.points.map((p) => p.value);
      const cols: (number | null)[][] = smoothing > 0 ? [raw, emaSmooth(raw, smoothing)] : [raw];
      if (shape[i].band)
        cols.push(
          s.points.map((p) => p.max ?? p.value),
          s.points.map((p) => p.min ?? p.value),
        );
      tables.push([xs, ...cols] as uPlot.AlignedData);
    });
    return tables.length === 0
      ? ([[]] as unknown as uPlot.AlignedData)
      : tables.length === 1
        ? tables[0]
        : uPlot.join(tables);
    // toX depends only on xAxis; shape follows cleaned
  }, [cleaned, smoothing, xAxis]);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    // nothing to draw until the series arrive (avoids building every chart twice)
    if (!plotRef.current || cleaned.length === 0) return;
    const u = new uPlot({ ...opts, width: Math.max(200, width || 400) }, dataRef.current, plotRef.current);
    uRef.current = u;
    // the min/max band's edge series are not worth a legend entry
    const rows = u.root.querySelectorAll<HTMLElement>('.u-legend .u-series');
    for (const i of bandSeries) if (rows[i]) rows[i].style.display = 'none';
    const over = u.over;
    const dbl = () => zoomRef.current?.(null);
    over.addEventListener('dblclick', dbl);
    return () => {
      over.removeEventListener('dblclick', dbl);
      u.destroy();
      uRef.current = null;
    };
    // width changes are handled by setSize, data changes of the same shape by setData below
  }, [opts, bandSeries, cleaned.length > 0]);

  useEffect(() => {
    const u = uRef.current;
    if (u && u.data !== data) u.setData(data);
  }, [data]);

  useEffect(() => {
    if (uRef.current && width > 0) uRef.current.setSize({ width: Math.max(200, width), height });
  }, [width, height]);

  return (
    <div className="chart" data-metric={title} data-points={pointCount} ref={boxRef}>
      <div className="chart-head">
        <span className="chart-title">{title}</span>
        {note && <span className="chart-note">{note}</span>}
        {loading && <span className="chart-note">loading…</span>}
      </div>
      <div ref={plotRef} style={{ minHeight: height }} />
    </div>
  );
}
