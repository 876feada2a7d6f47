// Classifier views of a run page: the confusion-matrix asset as a heat-map table (rows = actual class, columns =
// predicted class, scrollable for many classes) and the `mistakes*.png` image assets.
import { useMemo, useState } from 'react';
import type { AssetInfo } from '@ocrops/tracker/api';
import {
  cellColor,
  cellTextColor,
  confusionAssets,
  confusionView,
  mistakeImages,
  parseConfusionMatrix,
  type ConfusionOrder,
} from '../../lib/confusion.js';
import { formatValue } from '../../lib/format.js';
import { api } from '../api.js';
import { useAsync } from '../hooks.js';

/** Label of an asset in a step picker. */
function stepLabel(a: AssetInfo): string {
  return a.step !== undefined && a.step !== null ? `step ${a.step}` : a.fileName;
}

function StepPicker({
  assets,
  value,
  onChange,
  testId,
}: {
  assets: AssetInfo[];
  value: string;
  onChange: (id: string) => void;
  testId: string;
}) {
  if (assets.length < 2) return null;
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
      {assets.map((a) => (
        <option key={a.assetId} value={a.assetId}>
          {stepLabel(a)}
        </option>
      ))}
    </select>
  );
}

function pct(x: number | undefined): string {
  return x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
}

/** One confusion-matrix asset as a heat-map table. */
function ConfusionTable({ experimentKey, asset }: { experimentKey: string; asset: AssetInfo }) {
  const [order, setOrder] = useState<ConfusionOrder>('label');
  const st = useAsync((s) => api.assetJson(experimentKey, asset.assetId, s), [experimentKey, asset.assetId]);
  const parsed = useMemo(() => (st.data === undefined ? undefined : parseConfusionMatrix(st.data)), [st.data]);
  const view = useMemo(
    () => (parsed && !('error' in parsed) ? confusionView(parsed, order) : undefined),
    [parsed, order],
  );
  if (st.error) return <div className="error">{st.error.message}</div>;
  if (!parsed) return <div className="muted">loading…</div>;
  if ('error' in parsed)
    return (
      <div className="error">
        {asset.fileName}: not a confusion matrix ({parsed.error})
      </div>
    );
  if (!view) return null;
  return (
    <div className="cm" data-testid="confusion-matrix">
      <div className="toolbar">
        <strong>{view.title}</strong>
        <span className="muted">
          {view.columns.length} classes, {formatValue(view.total)} samples, accuracy {pct(view.accuracy)}
        </span>
        <label>
          rows
          <select value={order} onChange={(e) => setOrder(e.target.value as ConfusionOrder)} data-testid="cm-order">
            <option value="label">as logged</option>
            <option value="recall">lowest recall first</option>
          </select>
        </label>
      </div>
      <div className="cm-scroll">
        <table className="cm-table">
          <thead>
            <tr>
              <th className="cm-corner" title={`${view.rowLabel} \\ ${view.columnLabel}`}>
                <span className="muted">
                  {view.rowLabel} ↓ / {view.columnLabel} →
                </span>
              </th>
              {view.columns.map((c) => (
                <th key={c} className="cm-col" title={c}>
                  <span>{c}</span>
                </th>
              ))}
              <th className="cm-col">
                <span>recall</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map((r) => (
              <tr key={r.index}>
                <th className="cm-row" title={r.label}>
                  {r.label}
                </th>
                {r.cells.map((c, j) => (
                  <td
                    key={j}
                    style={{ background: cellColor(c), color: cellTextColor(c) }}
                    title={`${r.label} → ${view.columns[j]}: ${c.count} (${pct(c.share)} of ${r.total})`}
                  >
                    {c.count || ''}
                  </td>
                ))}
                <td className="cm-recall">{pct(r.recall)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {view.topConfusions.length > 0 && (
        <details className="summary-box">
          <summary>Most frequent confusions</summary>
          <table className="grid-table">
            <thead>
              <tr>
                <th>actual</th>
                <th>predicted</th>
                <th>count</th>
              </tr>
            </thead>
            <tbody>
              {view.topConfusions.map((c) => (
                <tr key={`${c.actual}\u0000${c.predicted}`}>
                  <td>{c.actual}</td>
                  <td>{c.predicted}</td>
                  <td className="num">{c.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

/** The confusion matrices (latest step, others in a picker) and mistakes images of a run. */
export function ClassifierViews({ experimentKey, assets }: { experimentKey: string; assets: AssetInfo[] }) {
  const matrices = useMemo(() => confusionAssets(assets), [assets]);
  const mistakes = useMemo(() => mistakeImages(assets), [assets]);
  const [cmId, setCmId] = useState<string | undefined>();
  const [imgId, setImgId] = useState<string | undefined>();
  const cm = matrices.find((a) => a.assetId === cmId) ?? matrices[0];
  const img = mistakes.find((a) => a.assetId === imgId) ?? mistakes[0];
  if (!cm && !img) return <div className="empty">No confusion-matrix or mistakes*.png assets.</div>;
  return (
    <div className="classifier-views">
      {cm && (
        <section>
          <h3>
            Confusion matrix <StepPicker assets={matrices} value={cm.assetId} onChange={setCmId} testId="cm-step" />
          </h3>
          <ConfusionTable experimentKey={experimentKey} asset={cm} />
        </section>
      )}
      {img && (
        <section>
          <h3>
            Mistakes <span className="muted mono">{img.fileName}</span>{' '}
            <StepPicker assets={mistakes} value={img.assetId} onChange={setImgId} testId="mistakes-step" />
          </h3>
          <img
            className="mistakes"
            src={api.assetUrl(experimentKey, img.assetId)}
            alt={`misclassified examples (${img.fileName})`}
            data-testid="mistakes-image"
          />
        </section>
      )}
    </div>
  );
}

/** True when the run has something for {@link ClassifierViews} to show. */
export function hasClassifierAssets(assets: AssetInfo[] | undefined): boolean {
  return !!assets && (confusionAssets(assets).length > 0 || mistakeImages(assets).length > 0);
}
