import { Type, type Static } from '@sinclair/typebox';
import { camelizeConfig, validateConfig, type Camelized, type ConfigLocator } from '@ocrops/common';
import { Rng } from './rng.js';

const share = (def: number) => Type.Number({ minimum: 0, maximum: 1, default: def });

/**
 * Training augmentation (`augment:` of a data config), applied per image by `batches()` when asked. Each effect is
 * drawn independently with its probability; amplitudes are drawn uniformly up to the given maximum. Geometry keeps the
 * image size and fills with white.
 */
export const AugmentSchema = Type.Object(
  {
    /** Probability of a geometric transform (rotation + shear). */
    geometry_p: share(0.5),
    /** Largest rotation, degrees (either direction). */
    rotation: Type.Number({ minimum: 0, maximum: 45, default: 2 }),
    /** Largest horizontal shear, as tan(angle) (either direction). */
    shear: share(0.2),
    /** Probability of a light blur (a [1,2,1]/4 kernel applied 1-2 times). */
    blur_p: share(0.3),
    /** Probability of Gaussian pixel noise, and its largest standard deviation (0..1 scale). */
    noise_p: share(0.3),
    noise: share(0.05),
    /** Probability of a brightness/contrast change, and the largest changes (brightness offset, contrast factor delta). */
    color_p: share(0.5),
    brightness: share(0.15),
    contrast: share(0.3),
    /**
     * Probability of an elastic warp (handwriting): every pixel moves by a displacement interpolated bilinearly from a
     * random grid; `elastic` is the largest displacement as a share of the height, `elastic_grid` the grid spacing as a
     * share of the height (larger = smoother). Default p 0.
     */
    elastic_p: share(0),
    elastic: Type.Number({ minimum: 0, maximum: 0.5, default: 0.04 }),
    elastic_grid: Type.Number({ minimum: 0.05, maximum: 10, default: 0.5 }),
    /**
     * Probability of a stroke-width change (handwriting pens): ink thickened (3x3 minimum, dark ink) or thinned (3x3
     * maximum), blended with the original by a random share up to `stroke` (0..1). Default p 0.
     */
    stroke_p: share(0),
    stroke: share(0.6),
  },
  { default: {} },
);

/** A resolved augment section (camelCase properties). */
export type AugmentConfig = Camelized<Static<typeof AugmentSchema>>;

export function defaultAugmentConfig(): AugmentConfig {
  return parseAugmentConfig({}, '<default>');
}

/** Parses an `augment` config section on its own (any missing field takes its default). */
export function parseAugmentConfig(value: unknown, source: string, locate?: ConfigLocator): AugmentConfig {
  return camelizeConfig(AugmentSchema, validateConfig(AugmentSchema, value, { source, locate }));
}

/** A fixed table of standard-normal samples, read at a seeded offset and stride (much cheaper than Box-Muller per pixel). */
const NOISE_N = 1 << 16;
const NOISE = (() => {
  const rng = new Rng(0xa0e);
  const t = new Float32Array(NOISE_N);
  for (let i = 0; i < NOISE_N; i++) t[i] = rng.normal();
  return t;
})();

/**
 * Augments one image in place.
 * Geometry is two cheap 1-D passes: a horizontal shear (rows shifted by shear * (y - centre)) and a small rotation done
 * as a vertical shear (columns shifted by tan(angle) * (x - centre)); the angle is capped so that the ends of a long
 * line move by at most 10% of the height.
 * @param img pixels [height, width, channels] in [0, 1], row-major
 * @param scratch a buffer of at least img.length floats (reused between calls)
 */
export function augmentImage(
  img: Float32Array,
  height: number,
  width: number,
  channels: number,
  cfg: AugmentConfig,
  rng: Rng,
  scratch: Float32Array,
): void {
  const n = height * width * channels;
  // The handwriting effects come first and draw from the generator only when enabled, so configs without them get
  // exactly the augmentations they got before these existed.
  if (cfg.elasticP > 0 && cfg.elastic > 0 && rng.chance(cfg.elasticP)) {
    elasticWarp(
      img,
      height,
      width,
      channels,
      cfg.elastic * height,
      Math.max(2, cfg.elasticGrid * height),
      rng,
      scratch,
    );
  }
  if (cfg.strokeP > 0 && cfg.stroke > 0 && rng.chance(cfg.strokeP)) {
    strokeWidth(img, height, width, channels, rng.chance(0.5), rng.uniform(0, cfg.stroke), scratch);
  }
  if (rng.chance(cfg.geometryP) && (cfg.rotation > 0 || cfg.shear > 0)) {
    const shear = rng.uniform(-cfg.shear, cfg.shear);
    const maxTan = Math.min(Math.tan((cfg.rotation * Math.PI) / 180), (0.1 * height) / Math.max(1, width / 2));
    const tan = rng.uniform(-maxTan, maxTan);
    if (shear !== 0) shearRows(img, height, width, channels, shear, scratch);
    if (tan !== 0) shearColumns(img, height, width, channels, tan, scratch);
  }
  if (rng.chance(cfg.blurP)) {
    const times = rng.int(1, 2);
    for (let t = 0; t < times; t++) blur121(img, height, width, channels, scratch);
  }
  if (rng.chance(cfg.colorP)) {
    const b = rng.uniform(-cfg.brightness, cfg.brightness);
    const c = 1 + rng.uniform(-cfg.contrast, cfg.contrast);
    const k = 0.5 - 0.5 * c + b;
    for (let i = 0; i < n; i++) {
      const v = img[i] * c + k;
      img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  if (rng.chance(cfg.noiseP) && cfg.noise > 0) {
    const std = rng.uniform(0, cfg.noise);
    const start = rng.int(0, NOISE_N - 1);
    const stride = rng.int(0, 1023) * 2 + 1;
    for (let i = 0; i < n; i++) {
      const v = img[i] + std * NOISE[(start + i * stride) & (NOISE_N - 1)];
      img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}

/**
 * Elastic warp: random displacements (up to `amp` px in x and y) on a grid of `spacing` px, interpolated bilinearly to
 * every pixel; each output pixel samples the input there (bilinear), outside = white.
 */
function elasticWarp(
  img: Float32Array,
  h: number,
  w: number,
  ch: number,
  amp: number,
  spacing: number,
  rng: Rng,
  tmp: Float32Array,
): void {
  const gw = Math.ceil((w - 1) / spacing) + 2;
  const gh = Math.ceil((h - 1) / spacing) + 2;
  const gx = new Float32Array(gw * gh);
  const gy = new Float32Array(gw * gh);
  for (let i = 0; i < gx.length; i++) {
    gx[i] = rng.uniform(-amp, amp);
    gy[i] = rng.uniform(-amp, amp);
  }
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    const fy = y / spacing;
    const j0 = Math.floor(fy);
    const ty = fy - j0;
    for (let x = 0; x < w; x++) {
      const fx = x / spacing;
      const i0 = Math.floor(fx);
      const tx = fx - i0;
      const k = j0 * gw + i0;
      const lerp = (g: Float32Array) =>
        (g[k] * (1 - tx) + g[k + 1] * tx) * (1 - ty) + (g[k + gw] * (1 - tx) + g[k + gw + 1] * tx) * ty;
      const sx = x + lerp(gx);
      const sy = y + lerp(gy);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const ax = sx - x0;
      const ay = sy - y0;
      for (let c = 0; c < ch; c++) {
        const at = (yy: number, xx: number) =>
          yy >= 0 && yy < h && xx >= 0 && xx < w ? img[yy * row + xx * ch + c] : 1;
        tmp[y * row + x * ch + c] =
          (at(y0, x0) * (1 - ax) + at(y0, x0 + 1) * ax) * (1 - ay) +
          (at(y0 + 1, x0) * (1 - ax) + at(y0 + 1, x0 + 1) * ax) * ay;
      }
    }
  }
  img.set(tmp.subarray(0, h * row));
}

/**
 * Stroke width: a 3x3 minimum (`thicken`: dark ink spreads) or maximum (thins it), blended with the original by
 * `amount` (0 = unchanged, 1 = the full filter).
 */
function strokeWidth(
  img: Float32Array,
  h: number,
  w: number,
  ch: number,
  thicken: boolean,
  amount: number,
  tmp: Float32Array,
): void {
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < ch; c++) {
        let v = thicken ? Infinity : -Infinity;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= w) continue;
            const p = img[yy * row + xx * ch + c];
            v = thicken ? Math.min(v, p) : Math.max(v, p);
          }
        }
        const i = y * row + x * ch + c;
        tmp[i] = img[i] * (1 - amount) + v * amount;
      }
    }
  }
  img.set(tmp.subarray(0, h * row));
}

/** Row y is shifted right by shear * (y - cy) px (linear interpolation); uncovered pixels become white. */
function shearRows(img: Float32Array, h: number, w: number, ch: number, shear: number, tmp: Float32Array): void {
  const cy = (h - 1) / 2;
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    const shift = shear * (y - cy);
    const i0 = Math.floor(shift);
    const f = shift - i0;
    const g = 1 - f;
    const base = y * row;
    // destination x takes f * src[x - i0 - 1] + (1 - f) * src[x - i0]; outside the row = white
    for (let x = 0; x < w; x++) {
      const sx = x - i0;
      for (let c = 0; c < ch; c++) {
        const pa = sx - 1 >= 0 && sx - 1 < w ? img[base + (sx - 1) * ch + c] : 1;
        const pb = sx >= 0 && sx < w ? img[base + sx * ch + c] : 1;
        tmp[base + x * ch + c] = pa * f + pb * g;
      }
    }
  }
  img.set(tmp.subarray(0, h * row));
}

/** Column x is shifted down by tan * (x - cx) px (linear interpolation); uncovered pixels become white. Row-major. */
function shearColumns(img: Float32Array, h: number, w: number, ch: number, tan: number, tmp: Float32Array): void {
  const cx = (w - 1) / 2;
  const row = w * ch;
  const i0s = new Int32Array(w);
  const fs = new Float32Array(w);
  for (let x = 0; x < w; x++) {
    const shift = tan * (x - cx);
    i0s[x] = Math.floor(shift);
    fs[x] = shift - i0s[x];
  }
  for (let y = 0; y < h; y++) {
    const out = y * row;
    for (let x = 0; x < w; x++) {
      const sy = y - i0s[x];
      const f = fs[x];
      const a = sy - 1 >= 0 && sy - 1 < h;
      const b = sy >= 0 && sy < h;
      for (let c = 0; c < ch; c++) {
        const pa = a ? img[(sy - 1) * row + x * ch + c] : 1;
        const pb = b ? img[sy * row + x * ch + c] : 1;
        tmp[out + x * ch + c] = pa * f + pb * (1 - f);
      }
    }
  }
  img.set(tmp.subarray(0, h * row));
}

/** Separable [1,2,1]/4 blur with edge replication, in place (uses `tmp`). */
function blur121(img: Float32Array, h: number, w: number, ch: number, tmp: Float32Array): void {
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    const base = y * row;
    for (let x = 0; x < w; x++) {
      const l = x > 0 ? x - 1 : x;
      const r = x < w - 1 ? x + 1 : x;
      for (let c = 0; c < ch; c++) {
        tmp[base + x * ch + c] =
          0.25 * img[base + l * ch + c] + 0.5 * img[base + x * ch + c] + 0.25 * img[base + r * ch + c];
      }
    }
  }
  for (let y = 0; y < h; y++) {
    const u = (y > 0 ? y - 1 : y) * row;
    const m = y * row;
    const d = (y < h - 1 ? y + 1 : y) * row;
    for (let i = 0; i < row; i++) img[m + i] = 0.25 * tmp[u + i] + 0.5 * tmp[m + i] + 0.25 * tmp[d + i];
  }
}
