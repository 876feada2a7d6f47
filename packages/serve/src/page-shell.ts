/**
 * The frame both served web pages share: a drop zone for images, an optional API key field, and a list of results.
 * Each dropped or picked file is sent to `url(file)` (the same API as any client) and its JSON answer turned into
 * elements by the task's `render(body, file)`; a failed request shows its error instead.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a task's page puts into the shared frame (HTML, CSS and browser JavaScript as text). */
export interface PageParts {
  modelName: string;
  runtime: string;
  needsKey: boolean;
  /** HTML naming the model, before "on <runtime>" */
  served: string;
  /** what the drop zone says */
  dropText: string;
  /** CSS of the result rows and the task's own elements */
  styles: string;
  /** HTML of the task's own controls (before the API key field) */
  controls: string;
  /**
   * browser JavaScript defining `sending` (the word shown while a file is on its way), `url(file)` and
   * `render(body, file)` (the elements showing an answer)
   */
  script: string;
}

/** The page's HTML. */
export function servedPageHtml(p: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ocrops serve · ${escapeHtml(p.modelName)}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1d2430; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  .sub { color: #5b6575; margin-bottom: 1rem; }
  #drop { display: block; border: 2px dashed #9aa5b5; border-radius: 8px; padding: 2rem; text-align: center; cursor: pointer; background: #f7f9fc; }
  #drop.over { background: #e6efff; border-color: #3b6fd8; }
  .controls { margin: .8rem 0; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
${p.styles}
  .meta { color: #5b6575; font-size: .85rem; }
  .error { color: #b3261e; }
</style>
</head>
<body>
<h1>ocrops serve</h1>
<div class="sub">${p.served} on ${escapeHtml(p.runtime)} · API: <code>POST /predict</code>, <code>POST /v2/models/${escapeHtml(p.modelName)}/infer</code></div>
<label id="drop" for="file">${p.dropText}
  <input id="file" type="file" accept="image/*" multiple hidden>
</label>
<div class="controls">
${p.controls}  ${p.needsKey ? '<label>API key <input id="key" type="password" size="30"></label>' : ''}
</div>
<div id="results"></div>
<script>
const results = document.getElementById('results');
const keyInput = document.getElementById('key');
if (keyInput) { keyInput.value = localStorage.getItem('ocrops-serve-key') || ''; keyInput.onchange = () => localStorage.setItem('ocrops-serve-key', keyInput.value); }
${p.script}
async function send(file) {
  const row = document.createElement('div');
  row.className = 'result';
  const img = document.createElement('img');
  img.src = URL.createObjectURL(file);
  img.alt = file.name;
  const out = document.createElement('div');
  out.innerHTML = '<div class="meta">' + sending + ' ' + file.name.replace(/[<>&]/g, '') + ' ...</div>';
  row.append(img, out);
  results.prepend(row);
  const target = url(file);
  const headers = { 'content-type': file.type || 'application/octet-stream' };
  if (keyInput && keyInput.value) headers.authorization = 'Bearer ' + keyInput.value;
  try {
    const res = await fetch(target, { method: 'POST', body: file, headers });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    out.replaceChildren(...render(body, file));
  } catch (err) {
    const e = document.createElement('div');
    e.className = 'error';
    e.textContent = file.name + ': ' + err.message;
    out.replaceChildren(e);
  }
}

const drop = document.getElementById('drop');
document.getElementById('file').onchange = (e) => { for (const f of e.target.files) send(f); e.target.value = ''; };
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); for (const f of e.dataTransfer.files) send(f); });
</script>
</body>
</html>
`;
}
