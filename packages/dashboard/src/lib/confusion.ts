// Classifier views of a run: the Comet `confusion-matrix` asset (the JSON Comet's SDK `log_confusion_matrix` writes:
// rows = actual class, columns = predicted class) turned into a heat-map table, the picking of confusion-matrix and
// "mistakes" image assets, and the headline metric columns of the runs table for both tasks.
import type { AssetInfo } from '@ocrops/tracker/api';

/** A Comet confusion-matrix asset, validated. */
export interface ConfusionMatrixAsset {
  version: number;
  title: string;
  labels: string[];
  /** matrix[actual][predicted] = count */
  matrix: number[][];
  rowLabel: string;
  columnLabel: string;
}

/** One cell of the heat map. */
export interface ConfusionCell {
  count: number;
  /** count / the row's total (0 for an empty row) */
  share: number;
  /** 0..1 colour strength: the share of the row, on a square-root scale so that small confusions stay visible */
  intensity: number;
  diagonal: boolean;
}

/** One row (an actual class) of the heat map. */
export interface ConfusionRow {
  label: string;
  /** Index of the class in the asset's labels. */
  index: number;
  total: number;
  correct: number;
  /** correct / total (recall of the class), undefined for an empty row */
  recall: number | undefined;
  cells: ConfusionCell[];
}

/** The heat-map table of a confusion matrix. */
export interface ConfusionView {
  title: string;
  rowLabel: string;
  columnLabel: string;
  /** Column labels (predicted classes), in the order of the rows' cells. */
  columns: string[];
  rows: ConfusionRow[];
  total: number;
  /** Trace / total (top-1 accuracy of the samples counted), undefined when empty. */
  accuracy: number | undefined;
  /** The largest off-diagonal counts, largest first. */
  topConfusions: { actual: string; predicted: string; count: number }[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Validates a parsed confusion-matrix JSON. Returns the asset, or an error string saying what is wrong (the view
 * shows it instead of crashing on a malformed file).
 */
export function parseConfusionMatrix(json: unknown): ConfusionMatrixAsset | { error: string } {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { error: 'not a JSON object' };
  const o = json as Record<string, unknown>;
  const labels = o.labels;
  const matrix = o.matrix;
  if (!Array.isArray(matrix)) return { error: "no 'matrix' (a list of rows)" };
  const n = matrix.length;
  const names = Array.isArray(labels) ? labels.map((l) => String(l)) : Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) return { error: `${names.length} labels for a matrix of ${n} rows` };
  for (let i = 0; i < n; i++) {
    const row = matrix[i];
    if (!Array.isArray(row) || row.length !== n) return { error: `row ${i} (${names[i]}) does not have ${n} cells` };
    if (!row.every(isCount)) return { error: `row ${i} (${names[i]}) holds a value that is not a count` };
  }
  return {
    version: typeof o.version === 'number' ? o.version : 1,
    title: typeof o.title === 'string' ? o.title : 'Confusion Matrix',
    labels: names,
    matrix: matrix as number[][],
    rowLabel: typeof o.rowLabel === 'string' ? o.rowLabel : 'Actual Category',
    columnLabel: typeof o.columnLabel === 'string' ? o.columnLabel : 'Predicted Category',
  };
}

/** Row order of the heat map: as logged, or the classes with the lowest recall first. */
export type ConfusionOrder = 'label' | 'recall';

/** Builds the heat-map table of a confusion matrix (rows reordered by `order`; columns keep the asset's order). */
export function confusionView(cm: ConfusionMatrixAsset, order: ConfusionOrder = 'label', topN = 10): ConfusionView {
  let total = 0;
  let trace = 0;
  const off: { actual: string; predicted: string; count: number }[] = [];
  const rows: ConfusionRow[] = cm.matrix.map((r, i) => {
    const rowTotal = r.reduce((a, b) => a + b, 0);
    total += rowTotal;
    trace += r[i];
    r.forEach((count, j) => {
      if (j !== i && count > 0) off.push({ actual: cm.labels[i], predicted: cm.labels[j], count });
    });
    return {
      label: cm.labels[i],
      index: i,
      total: rowTotal,
      correct: r[i],
      recall: rowTotal > 0 ? r[i] / rowTotal : undefined,
      cells: r.map((count, j) => {
        const share = rowTotal > 0 ? count / rowTotal : 0;
        return { count, share, intensity: Math.sqrt(share), diagonal: i === j };
      }),
    };
  });
  if (order === 'recall') rows.sort((a, b) => (a.recall ?? 2) - (b.recall ?? 2) || a.index - b.index);
  off.sort((a, b) => b.count - a.count || a.actual.localeCompare(b.actual) || a.predicted.localeCompare(b.predicted));
  return {
    title: cm.title,
    rowLabel: cm.rowLabel,
    columnLabel: cm.columnLabel,
    columns: cm.labels,
    rows,
    total,
    accuracy: total > 0 ? trace / total : undefined,
    topConfusions: off.slice(0, topN),
  };
}

/**
 * Background colour of a cell: the diagonal (correct) in green, confusions in red, stronger with `intensity`;
 * white for zero.
 */
export function cellColor(cell: Pick<ConfusionCell, 'intensity' | 'diagonal' | 'count'>): string {
  if (cell.count === 0) return 'transparent';
  const t = Math.min(1, Math.max(0, cell.intensity));
  const [r, g, b] = cell.diagonal ? [46, 160, 67] : [215, 58, 73];
  const mix = (c: number) => Math.round(255 + (c - 255) * (0.15 + 0.85 * t));
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

/** Text colour readable on {@link cellColor}. */
export function cellTextColor(cell: Pick<ConfusionCell, 'intensity' | 'count'>): string {
  return cell.count > 0 && cell.intensity > 0.6 ? '#fff' : 'inherit';
}

/** The run's confusion-matrix assets (type `confusion-matrix`), latest step first. */
export function confusionAssets(assets: AssetInfo[]): AssetInfo[] {
  return assets
    .filter((a) => a.type === 'confusion-matrix')
    .sort((a, b) => Number(b.step ?? -1) - Number(a.step ?? -1) || Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0));
}

/** Image assets named like `mistakes*.png` (a grid of misclassified examples), latest step first. */
export function mistakeImages(assets: AssetInfo[]): AssetInfo[] {
  return assets
    .filter((a) => /^mistakes[^/]*\.(png|jpe?g|webp)$/i.test(a.fileName.split('/').pop() ?? ''))
    .sort((a, b) => Number(b.step ?? -1) - Number(a.step ?? -1) || Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0));
}

/**
 * The headline metrics of either task, in the order the runs table shows them first: classification (top-1/top-5
 * accuracy) and text-line OCR (accuracy by character/field, CER), then the validation loss.
 */
export const HEADLINE_METRICS = [
  'val_top1',
  'val_top5',
  'val_acc_by_char',
  'val_acc_by_field',
  'val_cer',
  'val_loss',
] as const;

/** Metric names with the headline metrics that are present first (in HEADLINE_METRICS order), the rest sorted. */
export function orderMetricNames(names: Iterable<string>): string[] {
  const all = new Set(names);
  const head = HEADLINE_METRICS.filter((m) => all.has(m));
  const rest = [...all].filter((m) => !(HEADLINE_METRICS as readonly string[]).includes(m)).sort();
  return [...head, ...rest];
}
