// Per-epoch curves as a PNG (loss, accuracy...), drawn from a run's epoch records: one panel per group of metrics.
import { createCanvas } from '@napi-rs/canvas';
import type { EpochRecord } from './checkpoint.js';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** A PNG of `panels` side by side, each plotting its metrics against the epoch (missing or non-finite values skipped). */
export function curvesPng(
  history: EpochRecord[],
  panels: Array<{ title: string; keys: string[] }>,
  font?: string,
): Buffer {
  const pw = 360;
  const ph = 240;
  const pad = { l: 44, r: 10, t: 22, b: 26 };
  const canvas = createCanvas(pw * panels.length, ph);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  panels.forEach((panel, pi) => {
    const x0 = pi * pw;
    const series = panel.keys.map((k) =>
      history.map((h) => [h.epoch, h.metrics[k]] as const).filter(([, v]) => Number.isFinite(v)),
    );
    const values = series.flat().map(([, v]) => v);
    const epochs = history.map((h) => h.epoch);
    if (values.length === 0 || epochs.length === 0) return;
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 1e-9) {
      lo -= 0.5;
      hi += 0.5;
    }
    const e0 = Math.min(...epochs);
    const e1 = Math.max(e0 + 1, Math.max(...epochs));
    const px = (e: number) => x0 + pad.l + ((e - e0) / (e1 - e0)) * (pw - pad.l - pad.r);
    const py = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (ph - pad.t - pad.b);
    ctx.strokeStyle = '#999999';
    ctx.lineWidth = 1;
    ctx.strokeRect(x0 + pad.l, pad.t, pw - pad.l - pad.r, ph - pad.t - pad.b);
    if (font) {
      ctx.fillStyle = '#000000';
      ctx.font = `12px ${font}`;
      ctx.fillText(panel.title, x0 + pad.l, 15);
      ctx.font = `10px ${font}`;
      ctx.fillText(hi.toPrecision(3), x0 + 2, pad.t + 8);
      ctx.fillText(lo.toPrecision(3), x0 + 2, ph - pad.b);
      ctx.fillText(`epoch ${e0}`, x0 + pad.l, ph - 8);
      ctx.fillText(`${e1}`, x0 + pw - pad.r - 16, ph - 8);
    }
    series.forEach((pts, si) => {
      ctx.strokeStyle = COLOURS[si % COLOURS.length];
      ctx.fillStyle = COLOURS[si % COLOURS.length];
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach(([e, v], i) => (i === 0 ? ctx.moveTo(px(e), py(v)) : ctx.lineTo(px(e), py(v))));
      ctx.stroke();
      for (const [e, v] of pts) ctx.fillRect(px(e) - 2, py(v) - 2, 4, 4);
      if (font) {
        ctx.font = `10px ${font}`;
        ctx.fillText(panel.keys[si], x0 + pad.l + 6 + si * 80, pad.t + 12);
      }
    });
  });
  return canvas.toBuffer('image/png');
}
