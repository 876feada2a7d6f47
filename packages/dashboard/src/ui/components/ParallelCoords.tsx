// Parallel coordinates (SVG): one vertical axis per parameter plus the objective on the right; one polyline per
// trial, coloured from best (dark blue) to worst (light). Numeric axes are linear, or logarithmic when the values
// are positive and span more than two decades; other values are spread evenly in sorted order.
import { useMemo, useState } from 'react';
import { formatValue } from '../../lib/format.js';
import { useWidth } from '../hooks.js';

export interface PCTrial {
  id: string;
  parameters: Record<string, unknown>;
  score: number;
}

interface Axis {
  name: string;
  pos: (v: unknown) => number | null; // 0 (bottom) .. 1 (top)
  ticks: { at: number; label: string }[];
}

function makeAxis(name: string, values: unknown[], logScale?: boolean): Axis {
  const present = values.filter((v) => v !== undefined && v !== null);
  const nums = present.map((v) =>
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN,
  );
  const numeric = present.length > 0 && nums.every((n) => Number.isFinite(n));
  if (numeric) {
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && (logScale ?? hi / lo > 100);
    const f = (x: number) => (log ? Math.log10(x) : x);
    const span = f(hi) - f(lo);
    const pos = (v: unknown) => {
      const n = Number(v);
      if (v === undefined || v === null || !Number.isFinite(n)) return null;
      return span === 0 ? 0.5 : (f(n) - f(lo)) / span;
    };
    const distinct = [...new Set(nums)].sort((a, b) => a - b);
    const even = [0, 0.25, 0.5, 0.75, 1].map((t) => (log ? 10 ** (f(lo) + t * span) : lo + t * span));
    const tickVals =
      distinct.length <= 4 || (distinct.length <= 8 && distinct.every(Number.isInteger))
        ? distinct
        : span === 0
          ? [lo]
          : even;
    return {
      name: log ? `${name} (log)` : name,
      pos,
      ticks: declutter(tickVals.map((t) => ({ at: pos(t) ?? 0.5, label: formatValue(t) }))),
    };
  }
  const cats = [...new Set(present.map((v) => String(v)))].sort();
  const pos = (v: unknown) => {
    if (v === undefined || v === null) return null;
    const i = cats.indexOf(String(v));
    return cats.length === 1 ? 0.5 : i / (cats.length - 1);
  };
  return { name, pos, ticks: cats.map((c) => ({ at: pos(c) ?? 0.5, label: c })) };
}

/** Drops ticks closer than 6% of the axis height to the previous kept one (keeps the ends readable). */
function declutter(ticks: { at: number; label: string }[]): { at: number; label: string }[] {
  const out: { at: number; label: string }[] = [];
  for (const t of [...ticks].sort((a, b) => a.at - b.at)) {
    if (out.length === 0 || t.at - out[out.length - 1].at >= 0.06) out.push(t);
  }
  return out;
}

/** Colour from best (t = 0) to worst (t = 1). */
function ramp(t: number): string {
  const a = [33, 102, 172];
  const b = [244, 165, 130];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function ParallelCoords(props: {
  trials: PCTrial[];
  paramNames: string[];
  objective: string;
  direction: 'minimize' | 'maximize';
  /** Parameters searched on a log scale (Comet `scalingType: loguniform|lognormal`). */
  logParams?: Set<string>;
}) {
  const { trials, paramNames, objective, direction, logParams } = props;
  const [ref, width] = useWidth<HTMLDivElement>();
  const [hover, setHover] = useState<string | null>(null);
  const height = 260;
  const pad = { l: 40, r: 70, t: 28, b: 16 };
  const axes = useMemo(
    () => [
      ...paramNames.map((n) =>
        makeAxis(
          n,
          trials.map((t) => t.parameters[n]),
          logParams?.has(n) ? true : undefined,
        ),
      ),
      makeAxis(
        objective,
        trials.map((t) => t.score),
      ),
    ],
    [trials, paramNames, objective, logParams],
  );
  const w = Math.max(300, width);
  const innerW = w - pad.l - pad.r;
  const innerH = height - pad.t - pad.b;
  const ax = (i: number) => pad.l + (axes.length === 1 ? innerW / 2 : (i * innerW) / (axes.length - 1));
  const ay = (p: number) => pad.t + (1 - p) * innerH;
  const scores = trials.map((t) => t.score);
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  const rank = (s: number) => (hi === lo ? 0 : direction === 'minimize' ? (s - lo) / (hi - lo) : (hi - s) / (hi - lo));
  const ordered = [...trials].sort((a, b) => rank(b.score) - rank(a.score)); // best drawn last (on top)

  return (
    <div ref={ref} className="pc" data-testid="parallel-coords">
      <svg width={w} height={height}>
        {ordered.map((t) => {
          const pts = axes
            .map((a, i) => {
              const p = i === axes.length - 1 ? a.pos(t.score) : a.pos(t.parameters[paramNames[i]]);
              return p === null ? null : `${ax(i).toFixed(1)},${ay(p).toFixed(1)}`;
            })
            .filter(Boolean)
            .join(' ');
          const on = hover === t.id;
          return (
            <polyline
              key={t.id}
              points={pts}
              fill="none"
              stroke={on ? '#d62728' : ramp(rank(t.score))}
              strokeWidth={on ? 3 : 1.6}
              strokeOpacity={hover && !on ? 0.25 : 0.85}
              onMouseEnter={() => setHover(t.id)}
              onMouseLeave={() => setHover(null)}
            >
              <title>{`trial ${t.id}: ${objective}=${formatValue(t.score)}\n${paramNames.map((n) => `${n}=${formatValue(t.parameters[n])}`).join('\n')}`}</title>
            </polyline>
          );
        })}
        {axes.map((a, i) => (
          <g key={a.name} transform={`translate(${ax(i)},0)`}>
            <line y1={pad.t} y2={pad.t + innerH} stroke="#555" />
            <text y={pad.t - 12} textAnchor="middle" className={i === axes.length - 1 ? 'pc-label obj' : 'pc-label'}>
              {a.name}
            </text>
            {a.ticks.map((tk) => (
              <g key={tk.label} transform={`translate(0,${ay(tk.at)})`}>
                <line x2={-4} stroke="#555" />
                <text x={-6} dy="0.32em" textAnchor="end" className="pc-tick">
                  {tk.label}
                </text>
              </g>
            ))}
          </g>
        ))}
      </svg>
    </div>
  );
}
