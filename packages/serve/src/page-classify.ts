/**
 * The web page at `/` when the served model is an image classifier: drop or pick images, each is sent to
 * `POST /predict?top_k=5` (the same API as any client) and shown beside its five most probable classes as bars.
 */
import { escapeHtml, servedPageHtml } from './page-shell.js';

/** The classifier page's HTML for a model called `modelName` with `numClasses` classes; `needsKey` shows an API key field. */
export function classifierPageHtml(opts: {
  modelName: string;
  runtime: string;
  numClasses: number;
  needsKey: boolean;
}): string {
  return servedPageHtml({
    modelName: opts.modelName,
    runtime: opts.runtime,
    needsKey: opts.needsKey,
    served: `image classifier <b id="model">${escapeHtml(opts.modelName)}</b> (${opts.numClasses} classes)`,
    dropText: 'Drop images here, or click to pick them',
    styles: `  .result { display: grid; grid-template-columns: 12rem 1fr; gap: 1rem; align-items: center; padding: .8rem 0; border-bottom: 1px solid #e3e7ee; }
  .result img { width: 12rem; height: 12rem; object-fit: contain; border: 1px solid #d5dbe5; background: #fff; }
  .bar { display: grid; grid-template-columns: 14rem 1fr 4rem; gap: .5rem; align-items: center; margin: .25rem 0; }
  .bar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar .track { background: #eef1f6; border-radius: 3px; height: 1rem; }
  .bar .fill { background: #3b6fd8; border-radius: 3px; height: 100%; }
  .bar:first-child .label { font-weight: 600; }
  .bar .p { text-align: right; font-variant-numeric: tabular-nums; color: #5b6575; }`,
    controls: '',
    script: `
function bar(c) {
  const row = document.createElement('div');
  row.className = 'bar';
  row.dataset.label = c.label;
  row.dataset.p = String(c.p);
  const label = document.createElement('span');
  label.className = 'label';
  label.textContent = c.label;
  label.title = c.label;
  const track = document.createElement('div');
  track.className = 'track';
  const fill = document.createElement('div');
  fill.className = 'fill';
  fill.style.width = (100 * Math.max(0, Math.min(1, c.p))).toFixed(1) + '%';
  track.append(fill);
  const p = document.createElement('span');
  p.className = 'p';
  p.textContent = (100 * c.p).toFixed(1) + ' %';
  row.append(label, track, p);
  return row;
}

const sending = 'classifying';

function url() {
  return '/predict?top_k=5';
}

function render(body, file) {
  const bars = document.createElement('div');
  bars.className = 'bars';
  for (const c of body.top) bars.append(bar(c));
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = file.name + ' · ' + body.ms.toFixed(1) + ' ms';
  return [bars, meta];
}
`,
  });
}
