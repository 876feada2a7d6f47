// Optimization history of a sweep: each finished trial's objective (dots) and the best so far (stepped line).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { bestSoFar } from '../../lib/smoothing.js';
import { formatValue } from '../../lib/format.js';
import { yRange } from '../../lib/scale.js';
import { useWidth } from '../hooks.js';

export function HistoryChart(props: {
  scores: (number | null)[];
  objective: string;
  direction: 'minimize' | 'maximize';
}) {
  const { scores, objective, direction } = props;
  const [boxRef, width] = useWidth<HTMLDivElement>();
  const plotRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!plotRef.current) return;
    const xs = scores.map((_, i) => i + 1);
    const best = bestSoFar(scores, direction);
    const u = new uPlot(
      {
        width: Math.max(300, width || 500),
        height: 240,
        scales: { x: { time: false }, y: { range: (_u, min, max) => yRange(min, max) } },
        series: [
          { label: 'trial' },
          {
            label: objective,
            stroke: '#4e79a7',
            paths: () => null,
            points: { show: true, size: 7, fill: '#4e79a7' },
            value: (_u, v) => formatValue(v),
          },
          {
            label: 'best so far',
            stroke: '#e15759',
            width: 2,
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: false },
            value: (_u, v) => formatValue(v),
          },
        ],
        axes: [
          {
            stroke: '#667',
            grid: { stroke: '#eef0f3' },
            font: '11px system-ui',
            label: 'trial',
            size: 40,
            labelSize: 14,
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
          },
          {
            stroke: '#667',
            grid: { stroke: '#eef0f3' },
            font: '11px system-ui',
            size: 56,
            values: (_u, vals) => vals.map((v) => formatValue(v)),
          },
        ],
      },
      [xs, scores, best] as uPlot.AlignedData,
      plotRef.current,
    );
    return () => u.destroy();
  }, [scores, objective, direction, width]);
  return (
    <div
      ref={boxRef}
      className="chart"
      data-testid="history-chart"
      data-points={scores.filter((s) => s !== null).length}
    >
      <div ref={plotRef} />
    </div>
  );
}
