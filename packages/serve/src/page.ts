/**
 * The web page at `/`: drop or pick images, each is sent to `POST /predict` (the same API as any client) and shown
 * with its transcript, each character shaded by its confidence, the line confidence and the time taken.
 */
import { escapeHtml, servedPageHtml } from './page-shell.js';

/** The page's HTML for a model called `modelName`; `needsKey` shows an API key field. */
export function pageHtml(opts: { modelName: string; runtime: string; needsKey: boolean }): string {
  return servedPageHtml({
    ...opts,
    served: `model <b id="model">${escapeHtml(opts.modelName)}</b>`,
    dropText: 'Drop text-line images here, or click to pick them',
    styles: `  .result { display: grid; grid-template-columns: minmax(8rem, 20rem) 1fr; gap: 1rem; align-items: center; padding: .8rem 0; border-bottom: 1px solid #e3e7ee; }
  .result img { max-width: 100%; max-height: 6rem; border: 1px solid #d5dbe5; background: #fff; }
  .text { font: 1.5rem/1.3 ui-monospace, monospace; letter-spacing: .05em; }
  .text span { padding: 0 1px; border-radius: 2px; }`,
    controls: `  <label>decoding <select id="beam"><option value="">the model's</option><option value="1">greedy</option><option value="5">beam 5</option><option value="10">beam 10</option></select></label>
`,
    script: `
function shade(confidence) {
  // red (low) -> green (high)
  const hue = Math.round(120 * Math.max(0, Math.min(1, confidence)));
  return 'hsl(' + hue + ', 75%, 85%)';
}

const sending = 'reading';

function url() {
  const beam = document.getElementById('beam').value;
  return '/predict' + (beam ? '?beam=' + beam : '');
}

function render(body, file) {
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
  return [text, meta];
}
`,
  });
}
