/**
 * The web page at `/` when the served model is an image classifier: drop or pick images, each is sent to
 * `POST /predict?top_k=5` (the same API as any client) and shown beside its five most probable classes as bars.
 */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The classifier page's HTML for a model called `modelName` with `numClasses` classes; `needsKey` shows an API key field. */
export function classifierPageHtml(opts: {
  modelName: string;
  runtime: string;
  numClasses: number;
  needsKey: boolean;
}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ocrops serve · ${escapeHtml(opts.modelName)}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  .sub { color: #5b6575; margin-bottom: 1rem; }
  #drop { display: block; border: 2px dashed #9aa5b5; border-radius: 8px; padding: 2rem; text-align: center; cursor: pointer; background: #f7f9fc; }
  #drop.over { background: #e6efff; border-color: #3b6fd8; }
  .controls { margin: .8rem 0; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
  .result { display: grid; grid-template-columns: 12rem 1fr; gap: 1rem; align-items: center; padding: .8rem 0; border-bottom: 1px solid #e3e7ee; }
  .result img { width: 12rem; height: 12rem; object-fit: contain; border: 1px solid #d5dbe5; background: #fff; }
  .bar { display: grid; grid-template-columns: 14rem 1fr 4rem; gap: .5rem; align-items: center; margin: .25rem 0; }
  .bar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar .track { background: #eef1f6; border-radius: 3px; height: 1rem; }
  .bar .fill { background: #3b6fd8; border-radius: 3px; height: 100%; }
  .bar:first-child .label { font-weight: 600; }
  .bar .p { text-align: right; font-variant-numeric: tabular-nums; color: #5b6575; }
  .meta { color: #5b6575; font-size: .85rem; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<h1>ocrops serve</h1>
<div class="sub">image classifier <b id="model">${escapeHtml(opts.modelName)}</b> (${opts.numClasses} classes) on ${escapeHtml(opts.runtime)} · API: <code>POST /predict</code>, <code>POST /v2/models/${escapeHtml(opts.modelName)}/infer</code></div>
<label id="drop" for="file">Drop images here, or click to pick them
  <input id="file" type="file" accept="image/*" multiple hidden>
</label>
<div class="controls">
  ${opts.needsKey ? '<label>API key <input id="key" type="password" size="30"></label>' : ''}
</div>
<div id="results"></div>
<script>
const results = document.getElementById('results');
const keyInput = document.getElementById('key');
if (keyInput) { keyInput.value = localStorage.getItem('ocrops-serve-key') || ''; keyInput.onchange = () => localStorage.setItem('ocrops-serve-key', keyInput.value); }

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

async function classify(file) {
  const row = document.createElement('div');
  row.className = 'result';
  const img = document.createElement('img');
  img.src = URL.createObjectURL(file);
  img.alt = file.name;
  const out = document.createElement('div');
  out.innerHTML = '<div class="meta">classifying ' + file.name.replace(/[<>&]/g, '') + ' ...</div>';
  row.append(img, out);
  results.prepend(row);
  const headers = { 'content-type': file.type || 'application/octet-stream' };
  if (keyInput && keyInput.value) headers.authorization = 'Bearer ' + keyInput.value;
  try {
    const res = await fetch('/predict?top_k=5', { method: 'POST', body: file, headers });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    const bars = document.createElement('div');
    bars.className = 'bars';
    for (const c of body.top) bars.append(bar(c));
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = file.name + ' · ' + body.ms.toFixed(1) + ' ms';
    out.replaceChildren(bars, meta);
  } catch (err) {
    const e = document.createElement('div');
    e.className = 'error';
    e.textContent = file.name + ': ' + err.message;
    out.replaceChildren(e);
  }
}

const drop = document.getElementById('drop');
document.getElementById('file').onchange = (e) => { for (const f of e.target.files) classify(f); e.target.value = ''; };
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); for (const f of e.dataTransfer.files) classify(f); });
</script>
</body>
</html>
`;
}
