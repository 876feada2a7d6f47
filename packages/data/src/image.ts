import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { OcropsError } from '@ocrops/common';

sharp.cache(false);

/** Target geometry of a decoded text-line image. */
export interface LineImageOptions {
  /** Output height, px. */
  height: number;
  channels: 1 | 3;
  /** Fixed output width (aspect ratio ignored). */
  width?: number;
  /** Cap on the output width when the aspect ratio is kept (wider lines are squeezed), px. Default height * 40. */
  maxWidth?: number;
}

/** A decoded line: raw uint8 pixels [height, width, channels], row-major, 0 = black, 255 = white. */
export interface LineImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Size of the source image (after EXIF orientation). */
  sourceWidth: number;
  sourceHeight: number;
  /** True when the width was capped at maxWidth. */
  squeezed: boolean;
}

/** Output width for a source of w x h at the target height, keeping the aspect ratio, within [1, maxWidth]. */
export function scaledWidth(w: number, h: number, opts: LineImageOptions): number {
  if (opts.width) return opts.width;
  const max = opts.maxWidth ?? opts.height * 40;
  return Math.max(1, Math.min(max, Math.round((w * opts.height) / h)));
}

function imageError(source: string, reason: string, cause?: unknown): OcropsError {
  return new OcropsError('OCROPS_DATA_IMAGE', `${source}: ${reason}`, {
    hint: 'replace or remove the file; prepare skips such images and lists them in stats.json',
    cause,
  });
}

/**
 * Decodes an image file or buffer (PNG, JPEG, WebP, ...; RGBA is flattened onto white), converts it to grayscale or
 * RGB and resizes it to the target height keeping the aspect ratio (or to a fixed size).
 * Throws OcropsError OCROPS_DATA_IMAGE naming the file and the reason for empty, truncated or unreadable images.
 */
export async function decodeLine(input: string | Buffer, opts: LineImageOptions, name?: string): Promise<LineImage> {
  const source = name ?? (typeof input === 'string' ? input : '<buffer>');
  if (typeof input === 'string') {
    let size: number;
    try {
      size = (await stat(input)).size;
    } catch (err) {
      throw imageError(source, 'file not found', err);
    }
    if (size === 0) throw imageError(source, 'empty file (0 bytes)');
  } else if (input.length === 0) throw imageError(source, 'empty buffer (0 bytes)');
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, { failOn: 'truncated' }).metadata();
  } catch (err) {
    throw imageError(source, await failureReason(input, err), err);
  }
  if (!meta.width || !meta.height) throw imageError(source, 'image has no size (empty or not an image)');
  const rotated = (meta.orientation ?? 1) >= 5;
  const sw = rotated ? meta.height : meta.width;
  const sh = rotated ? meta.width : meta.height;
  const width = scaledWidth(sw, sh, opts);
  const maxWidth = opts.maxWidth ?? opts.height * 40;
  const squeezed = !opts.width && width === maxWidth && Math.round((sw * opts.height) / sh) > maxWidth;
  let pipeline = sharp(input, { failOn: 'truncated' }).rotate().flatten({ background: '#ffffff' });
  if (sw !== width || sh !== opts.height) {
    pipeline = pipeline.resize(width, opts.height, { fit: 'fill', kernel: sw > width ? 'lanczos3' : 'cubic' });
  }
  pipeline = opts.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw imageError(source, await failureReason(input, err), err);
  }
  const { data, info } = out;
  if (info.width !== width || info.height !== opts.height) {
    throw imageError(source, `decoded to ${info.width}x${info.height}, expected ${width}x${opts.height}`);
  }
  let pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (info.channels !== opts.channels) pixels = convertChannels(pixels, info.channels, opts.channels);
  return {
    data: pixels,
    width,
    height: opts.height,
    channels: opts.channels,
    sourceWidth: sw,
    sourceHeight: sh,
    squeezed,
  };
}

function convertChannels(src: Uint8Array, from: number, to: 1 | 3): Uint8Array {
  const n = src.length / from;
  const dst = new Uint8Array(n * to);
  for (let i = 0; i < n; i++) {
    if (to === 1) {
      dst[i] =
        from >= 3
          ? Math.round(0.299 * src[i * from] + 0.587 * src[i * from + 1] + 0.114 * src[i * from + 2])
          : src[i * from];
    } else {
      const g = src[i * from];
      dst[i * 3] = from >= 3 ? src[i * from] : g;
      dst[i * 3 + 1] = from >= 3 ? src[i * from + 1] : g;
      dst[i * 3 + 2] = from >= 3 ? src[i * from + 2] : g;
    }
  }
  return dst;
}

/**
 * Why decoding failed, stated deterministically: libvips' own message can vary between runs when several images are
 * decoded at once, so a missing PNG/JPEG end marker is checked directly and reported as truncation.
 */
async function failureReason(input: string | Buffer, err: unknown): Promise<string> {
  let bytes: Buffer | undefined;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch {
    return 'file not found';
  }
  if (isTruncated(bytes))
    return `truncated image (${bytes.length} bytes, the ${bytes[0] === 0x89 ? 'PNG IEND chunk' : 'JPEG end marker'} is missing)`;
  return describeSharpError(err);
}

/** True for a PNG without its IEND chunk or a JPEG without its end-of-image marker. */
export function isTruncated(b: Buffer): boolean {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    return b.lastIndexOf('IEND', undefined, 'latin1') < 0 || b.lastIndexOf('IEND', undefined, 'latin1') < b.length - 64;
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8) {
    for (let i = b.length - 1; i >= Math.max(1, b.length - 64); i--)
      if (b[i] === 0xd9 && b[i - 1] === 0xff) return false;
    return true;
  }
  return false;
}

function describeSharpError(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  if (/empty|zero-length|Input Buffer is empty/i.test(msg)) return 'empty file';
  if (/unsupported image format/i.test(msg)) return 'not an image (unsupported or unknown format)';
  if (/truncat|premature end|end of (file|stream)|unexpected end|Read error|not enough data/i.test(msg))
    return `truncated image (${msg.split('\n')[0]})`;
  if (/ENOENT|no such file|missing/i.test(msg)) return 'file not found';
  return `unreadable image (${msg.split('\n')[0]})`;
}

/** Converts uint8 pixels to float32 in [0, 1] (0 = black, 1 = white). */
export function toFloat(src: Uint8Array, dst = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) dst[i] = U8_TO_F32[src[i]];
  return dst;
}

/** Lookup table uint8 -> [0, 1]. */
export const U8_TO_F32 = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/**
 * Loads one image for prediction exactly as `prepare` preprocesses training images.
 * @returns data: float32 [height, width, channels] in [0, 1]; width in px
 */
export async function loadImageForModel(
  path: string,
  opts: { height: number; channels: 1 | 3; width?: number; maxWidth?: number },
): Promise<{ data: Float32Array; width: number }> {
  const img = await decodeLine(path, opts);
  return { data: toFloat(img.data), width: img.width };
}
