import type { RunStatus } from '@ocrops/tracker/api';

export function StatusBadge({ status }: { status: RunStatus | string }) {
  return (
    <span className={`status status-${status}`} title={status}>
      <span className="dot" />
      {status}
    </span>
  );
}

/** Colour palette for runs in overlays (Tableau 10). */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
