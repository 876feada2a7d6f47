// Helpers for tests: real image files made with sharp in a temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'ocrops-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes a w x h image with a dark bar in the middle third (so resizing can be checked), as PNG or JPEG.
 * channels 4 gives an RGBA PNG whose background is transparent.
 */
export async function writeLineImage(
  path: string,
  w: number,
  h: number,
  opts: { channels?: 1 | 3 | 4; jpeg?: boolean } = {},
): Promise<void> {
  const ch = opts.channels ?? 3;
  const px = Buffer.alloc(w * h * ch);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dark = y >= h / 3 && y < (2 * h) / 3 && x >= w / 4 && x < (3 * w) / 4;
      const o = (y * w + x) * ch;
      for (let c = 0; c < Math.min(ch, 3); c++) px[o + c] = dark ? 20 : 255;
      if (ch === 4) px[o + 3] = dark ? 255 : 0;
    }
  }
  const img = sharp(px, { raw: { width: w, height: h, channels: ch } });
  await (opts.jpeg ? img.jpeg({ quality: 95 }) : img.png()).toFile(path);
}
