/**
 * The web page at `/`: drop or pick images, each is sent to `POST /predict` (the same API as any client) and shown
 * with its transcript, each character shaded by its confidence, the line confidence and the time taken.
 */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's HTML for a model called `modelName`; `needsKey` shows an API key field. */
export function pageHtml(opts: { modelName: string; runtime: string; needsKey: boolean }): string {
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
  .result { display: grid; grid-template-columns: minmax(8rem, 20rem) 1fr; gap: 1rem; align-items: center; padding: .8rem 0; border-bottom: 1px solid #e3e7ee; }
  .result img { max-width: 100%; max-height: 6rem; border: 1px solid #d5dbe5; background: #fff; }
  .text { font: 1.5rem/1.3 ui-monospace, monospace; letter-spacing: .05em; }
  .text span { padding: 0 1px; border-radius: 2px; }
  .meta { color: #5b6575; font-size: .85rem; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<h1>ocrops serve</h1>
<div class="sub">model <b id="model">${escapeHtml(opts.modelName)}</b> on ${escapeHtml(opts.runtime)} · API: <code>POST /predict</code>, <code>POST /v2/models/${escapeHtml(opts.modelName)}/infer</code></div>
<label id="drop" for="file">Drop text-line images here, or click to pick them
  <input id="file" type="file" accept="image/*" multiple hidden>
</label>
<div class="controls">
  <label>decoding <select id="beam"><option value="">greedy</option><option value="5">beam 5</option><option value="10">beam 10</option></select></label>
  ${opts.needsKey ? '<label>API key <input id="key" type="password" size="30"></label>' : ''}
</div>
<div id="results"></div>
<script>
const results = document.getElementById('results');
const keyInput = document.getElementById('key');
if (keyInput) { keyInput.value = localStorage.getItem('ocrops-serve-key') || ''; keyInput.onchange = () => localStorage.setItem('ocrops-serve-key', keyInput.value); }

function shade(confidence) {
  // red (low) -> green (high)
  const hue = Math.round(120 * Math.max(0, Math.min(1, confidence)));
  return 'hsl(' + hue + ', 75%, 85%)';
}

async function read(file) {
  const row = document.createElement('div');
  row.className = 'result';
  const img = document.createElement('img');
  img.src = URL.createObjectURL(file);
  img.alt = file.name;
  const out = document.createElement('div');
  out.innerHTML = '<div class="meta">reading ' + file.name.replace(/[<>&]/g, '') + ' ...</div>';
  row.append(img, out);
  results.prepend(row);
  const beam = document.getElementById('beam').value;
  const headers = { 'content-type': file.type || 'application/octet-stream' };
  if (keyInput && keyInput.value) headers.authorization = 'Bearer ' + keyInput.value;
  try {
    const res = await fetch('/predict' + (beam ? '?beam=' + beam : ''), { method: 'POST', body: file, headers });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    const text = document.createElement('div');
    text.className = 'text';
    text.dataset.text = body.text;
    for (const c of body.chars) {
      const s = document.createElement('span');
      s.textContent = c.char;
      s.style.background = shade(c.confidence);
      s.title = c.char + ': ' + c.confidence.toFixed(3);
      text.append(s);
    }
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = file.name + ' · confidence ' + body.confidence.toFixed(3) + ' · ' + body.ms.toFixed(1) + ' ms';
    out.replaceChildren(text, meta);
  } catch (err) {
    const e = document.createElement('div');
    e.className = 'error';
    e.textContent = file.name + ': ' + err.message;
    out.replaceChildren(e);
  }
}

const drop = document.getElementById('drop');
document.getElementById('file').onchange = (e) => { for (const f of e.target.files) read(f); e.target.value = ''; };
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); for (const f of e.dataTransfer.files) read(f); });
</script>
</body>
</html>
`;
}
