// Training augmentation of classifier images on float32 HWC pixels in [0, 1]: flips, an affine shift + scale
// (bilinear, edge or constant fill) and colour jitter of brightness, contrast and saturation, all drawn from one
// seeded generator per image so that a batch is the same whenever it is produced.
import type { ClassAugmentConfig } from './classify-config.js';
import type { Rng } from './rng.js';

/** The random draw of one image's augmentation. */
export interface ClassAugmentDraw {
  hflip: boolean;
  vflip: boolean;
  /** Scale factor of the affine transform. */
  scale: number;
  /** Shift in px (x right, y down). */
  tx: number;
  ty: number;
  /** Factors of brightness, contrast and saturation (1 = unchanged). */
  brightness: number;
  contrast: number;
  saturation: number;
}

/** Draws the augmentation of one image of w x h. Every value is always drawn, so the stream stays aligned. */
export function drawClassAugment(cfg: ClassAugmentConfig, rng: Rng, w: number, h: number): ClassAugmentDraw {
  const hf = rng.next() < 0.5;
  const vf = rng.next() < 0.5;
  const scale = rng.uniform(cfg.scale[0], cfg.scale[1]);
  const tx = rng.uniform(-cfg.translate, cfg.translate) * w;
  const ty = rng.uniform(-cfg.translate, cfg.translate) * h;
  const j = cfg.colorJitter;
  const brightness = rng.uniform(Math.max(0, 1 - j), 1 + j);
  const contrast = rng.uniform(Math.max(0, 1 - j), 1 + j);
  const saturation = rng.uniform(Math.max(0, 1 - j), 1 + j);
  return { hflip: cfg.hflip && hf, vflip: cfg.vflip && vf, scale, tx, ty, brightness, contrast, saturation };
}

/**
 * Writes the flipped, shifted and scaled `src` (h x w x c) into `dst` at `offset`: every output pixel samples the
 * source bilinearly at its inverse-mapped position (about the image centre); positions outside take the nearest edge
 * pixel (`fill: edge`) or `fillValue`.
 */
export function affineInto(
  src: Float32Array,
  h: number,
  w: number,
  c: number,
  d: ClassAugmentDraw,
  fill: 'edge' | 'constant',
  fillValue: number,
  dst: Float32Array,
  offset: number,
): void {
  const inv = 1 / d.scale;
  const cx = w / 2;
  const cy = h / 2;
  const row = w * c;
  for (let y = 0; y < h; y++) {
    let v = (y + 0.5 - cy - d.ty) * inv + cy - 0.5;
    if (d.vflip) v = h - 1 - v;
    const outRow = offset + y * row;
    if (fill === 'constant' && (v < -0.5 || v > h - 0.5)) {
      dst.fill(fillValue, outRow, outRow + row);
      continue;
    }
    const vc = Math.min(h - 1, Math.max(0, v));
    const y0 = Math.floor(vc);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = vc - y0;
    const r0 = y0 * row;
    const r1 = y1 * row;
    const constant = fill === 'constant';
    // u(x) = u0 + x * du: the source column of output column x
    const u0 = d.hflip ? w - 1 - ((0.5 - cx - d.tx) * inv + cx - 0.5) : (0.5 - cx - d.tx) * inv + cx - 0.5;
    const du = d.hflip ? -inv : inv;
    for (let x = 0; x < w; x++) {
      const u = u0 + x * du;
      const o = outRow + x * c;
      if (constant && (u < -0.5 || u > w - 0.5)) {
        for (let k = 0; k < c; k++) dst[o + k] = fillValue;
        continue;
      }
      const uc = u < 0 ? 0 : u > w - 1 ? w - 1 : u;
      const x0 = uc | 0;
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = uc - x0;
      const a = (1 - fx) * (1 - fy);
      const b = fx * (1 - fy);
      const e = (1 - fx) * fy;
      const f = fx * fy;
      const p00 = r0 + x0 * c;
      const p01 = r0 + x1 * c;
      const p10 = r1 + x0 * c;
      const p11 = r1 + x1 * c;
      if (c === 3) {
        dst[o] = a * src[p00] + b * src[p01] + e * src[p10] + f * src[p11];
        dst[o + 1] = a * src[p00 + 1] + b * src[p01 + 1] + e * src[p10 + 1] + f * src[p11 + 1];
        dst[o + 2] = a * src[p00 + 2] + b * src[p01 + 2] + e * src[p10 + 2] + f * src[p11 + 2];
      } else
        for (let k = 0; k < c; k++)
          dst[o + k] = a * src[p00 + k] + b * src[p01 + k] + e * src[p10 + k] + f * src[p11 + k];
    }
  }
}

/** Clamps to [0, 1]. */
function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * Colour jitter in place on n pixels of c channels at `offset`, in the order brightness, contrast, saturation (each
 * result clamped to [0, 1]): brightness scales the values; contrast blends with the mean grey level of the brightened
 * image; saturation blends each pixel with its own grey level (RGB only). Grey = 0.299 R + 0.587 G + 0.114 B.
 * Two passes: brightness + the mean grey, then contrast + saturation.
 */
export function colorJitterInPlace(px: Float32Array, offset: number, n: number, c: number, d: ClassAugmentDraw): void {
  const end = offset + n * c;
  const br = d.brightness;
  let sum = 0;
  if (c === 3) {
    for (let i = offset; i < end; i += 3) {
      const r = clamp01(px[i] * br);
      const g = clamp01(px[i + 1] * br);
      const b = clamp01(px[i + 2] * br);
      px[i] = r;
      px[i + 1] = g;
      px[i + 2] = b;
      sum += 0.299 * r + 0.587 * g + 0.114 * b;
    }
  } else {
    for (let i = offset; i < end; i++) sum += px[i] = clamp01(px[i] * br);
  }
  const k = d.contrast;
  const add = (1 - k) * (sum / n);
  const s = d.saturation;
  if (c === 3 && s !== 1) {
    for (let i = offset; i < end; i += 3) {
      const r = clamp01(px[i] * k + add);
      const g = clamp01(px[i + 1] * k + add);
      const b = clamp01(px[i + 2] * k + add);
      const grey = (1 - s) * (0.299 * r + 0.587 * g + 0.114 * b);
      px[i] = clamp01(r * s + grey);
      px[i + 1] = clamp01(g * s + grey);
      px[i + 2] = clamp01(b * s + grey);
    }
  } else if (k !== 1) {
    for (let i = offset; i < end; i++) px[i] = clamp01(px[i] * k + add);
  }
}

/**
 * Augments one image: `src` (h x w x c floats in [0, 1]) is written, flipped/shifted/scaled and colour-jittered, into
 * `dst` at `offset`. Deterministic for the same `rng` state.
 */
export function augmentClassImage(
  src: Float32Array,
  h: number,
  w: number,
  c: number,
  cfg: ClassAugmentConfig,
  rng: Rng,
  dst: Float32Array,
  offset = 0,
): ClassAugmentDraw {
  const d = drawClassAugment(cfg, rng, w, h);
  affineInto(src, h, w, c, d, cfg.fill, cfg.fillValue, dst, offset);
  colorJitterInPlace(dst, offset, h * w, c, d);
  return d;
}

/** What CutMix did to a batch: image i holds a box cut from image `partner[i]`; `keep` is the share of its own pixels. */
export interface CutMixDraw {
  partner: number[];
  /** Share of each image's own pixels after the paste (the weight of its own label in the loss). */
  keep: number;
  /** The pasted box in pixels, [x0, x1) x [y0, y1). */
  box: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * CutMix (Yun et al., 2019) of a batch in place: `images` holds n HWC images of h x w x c. The mixing share lambda is
 * drawn from Beta(alpha, alpha); one box of area (1 - lambda) of the image, centred uniformly and clipped to the image,
 * is copied into every image from its partner in a random permutation of the batch. The weight of an image's own label
 * is the exact share of its pixels left after the clipping.
 */
export function cutMixBatch(
  images: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  alpha: number,
  rng: Rng,
): CutMixDraw {
  const lambda = rng.beta(alpha, alpha);
  const side = Math.sqrt(1 - lambda);
  const cx = rng.uniform(0, w);
  const cy = rng.uniform(0, h);
  const bw = Math.round(w * side);
  const bh = Math.round(h * side);
  const x0 = Math.max(0, Math.round(cx - bw / 2));
  const x1 = Math.min(w, Math.round(cx + bw / 2));
  const y0 = Math.max(0, Math.round(cy - bh / 2));
  const y1 = Math.min(h, Math.round(cy + bh / 2));
  const partner = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const box = { x0, y0, x1, y1 };
  if (x1 <= x0 || y1 <= y0 || n < 2) return { partner, keep: 1, box };
  // the boxes of the unmixed images first, so a partner is read before it is pasted over
  const rowLen = (x1 - x0) * c;
  const boxLen = (y1 - y0) * rowLen;
  const size = h * w * c;
  const cut = new Float32Array(n * boxLen);
  for (let i = 0; i < n; i++) {
    for (let y = y0; y < y1; y++) {
      const from = i * size + (y * w + x0) * c;
      cut.set(images.subarray(from, from + rowLen), i * boxLen + (y - y0) * rowLen);
    }
  }
  for (let i = 0; i < n; i++) {
    const j = partner[i];
    for (let y = y0; y < y1; y++) {
      const from = j * boxLen + (y - y0) * rowLen;
      images.set(cut.subarray(from, from + rowLen), i * size + (y * w + x0) * c);
    }
  }
  return { partner, keep: 1 - ((x1 - x0) * (y1 - y0)) / (w * h), box };
}
