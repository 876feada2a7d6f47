/**
 * Requests to model lines, as the model's contract asks: encoded images are decoded, flattened onto white, resized to
 * the model's height keeping the aspect ratio (squeezed to the contract's widest width; to exactly its fixed width when
 * it has one) and converted to grayscale or
 * RGB by @ocrops/data's `decodeLine`, exactly as training prepared them; pixel bytes p become p * scale + offset.
 */
import { OcropsError } from '@ocrops/common';
import { decodeLine } from '@ocrops/data';
import type { ModelContract } from '@ocrops/model/contract';
import type { BatchItem } from './batcher.js';

/** Bad input from a client: answered with HTTP `status` and a JSON error naming the problem. */
export class InputError extends OcropsError {
  constructor(
    readonly status: number,
    message: string,
    hint?: string,
  ) {
    super(status === 404 ? 'OCROPS_SERVE_NOT_FOUND' : 'OCROPS_SERVE_INPUT', message, { hint });
  }
}

/** How an encoded image becomes a batch item: its size as `decodeLine` takes it, and p * scale + offset. */
export interface ImageGeometry {
  height: number;
  channels: 1 | 3;
  /** resize to exactly this width (undefined: keep the aspect ratio) */
  width: number | undefined;
  maxWidth: number;
  normalisation: { scale: number; offset: number };
}

/** Decodes one encoded image (PNG, JPEG, WebP, ...) into a normalised batch item. `name` names it in errors. */
export async function decodeToItem(bytes: Buffer, geometry: ImageGeometry, name: string): Promise<BatchItem> {
  if (bytes.length === 0)
    throw new InputError(400, `${name} is empty (0 bytes)`, 'send the bytes of a PNG or JPEG image');
  const { height, channels, width, maxWidth, normalisation } = geometry;
  let img;
  try {
    img = await decodeLine(bytes, { height, channels, width, maxWidth }, name);
  } catch (err) {
    throw new InputError(400, (err as Error).message, 'send a PNG or JPEG image');
  }
  const pixels = new Float32Array(img.data.length);
  const { scale, offset } = normalisation;
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] * scale + offset;
  return { pixels, width: img.width };
}

/** Decodes one encoded image (PNG, JPEG, WebP, ...) into a model line. `name` names it in errors. */
export async function imageToLine(bytes: Buffer, contract: ModelContract, name: string): Promise<BatchItem> {
  const { height, channels, width, normalisation } = contract.input;
  // a fixed-width model (contract input.width.fixed) takes every image resized to exactly that width
  return decodeToItem(bytes, { height, channels, width: width.fixed, maxWidth: width.max, normalisation }, name);
}

/**
 * Lines from a pixel tensor [N, height, W, channels] (or one line [height, W, channels]): UINT8 bytes (0 = black,
 * 255 = white) are normalised as the contract says; FP32 values are taken as already normalised.
 */
export function pixelsToLines(
  data: ArrayLike<number>,
  shape: number[],
  datatype: 'UINT8' | 'FP32',
  contract: ModelContract,
  inputName: string,
): BatchItem[] {
  const { height, channels, normalisation, width } = contract.input;
  const dims = shape.length === 3 ? [1, ...shape] : shape;
  const expected = `[N, ${height}, W, ${channels}] or [${height}, W, ${channels}]`;
  if (dims.length !== 4)
    throw new InputError(
      400,
      `input '${inputName}' has shape [${shape}]; a ${datatype} pixel tensor must be ${expected}`,
    );
  const [n, h, w, c] = dims;
  if (h !== height || c !== channels) {
    throw new InputError(
      400,
      `input '${inputName}' has shape [${shape}]; this model needs height ${height} and ${channels} channel(s): ${expected}`,
    );
  }
  if (n < 1 || w < 1)
    throw new InputError(400, `input '${inputName}' has shape [${shape}]: batch and width must be >= 1`);
  if (width.fixed !== undefined && w !== width.fixed) {
    throw new InputError(
      400,
      `input '${inputName}' is ${w} px wide; this model takes exactly ${width.fixed} px (resize the line to ${width.fixed} x ${height})`,
    );
  }
  if (w > width.max)
    throw new InputError(
      400,
      `input '${inputName}' is ${w} px wide; this model takes at most ${width.max} px (resize the line)`,
    );
  return splitPixels(data, shape, datatype, inputName, { n, per: h * w * c, width: w }, normalisation);
}

/**
 * The `n` batch items of a pixel tensor of checked `shape`, `per` values and `width` px each: UINT8 bytes normalised
 * as p * scale + offset, FP32 values taken as they are.
 */
export function splitPixels(
  data: ArrayLike<number>,
  shape: number[],
  datatype: 'UINT8' | 'FP32',
  inputName: string,
  size: { n: number; per: number; width: number },
  normalisation: { scale: number; offset: number },
): BatchItem[] {
  const { n, per, width } = size;
  if (data.length !== n * per) {
    throw new InputError(400, `input '${inputName}' has ${data.length} values; its shape [${shape}] needs ${n * per}`);
  }
  const { scale, offset } = normalisation;
  const items: BatchItem[] = [];
  for (let b = 0; b < n; b++) {
    const pixels = new Float32Array(per);
    for (let i = 0; i < per; i++) {
      const v = Number(data[b * per + i]);
      if (!Number.isFinite(v))
        throw new InputError(400, `input '${inputName}' holds a non-finite value at index ${b * per + i}`);
      pixels[i] = datatype === 'UINT8' ? v * scale + offset : v;
    }
    items.push({ pixels, width });
  }
  return items;
}
