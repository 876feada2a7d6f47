// Label encoding for CTC and the check for labels too long for the model's time steps.
import { OcropsError } from '@ocrops/common';
import type { Charset } from '@ocrops/data';

/** Encodes transcripts to class ids; an unknown character is an error naming the line. */
export function encodeLabels(labels: string[], ids: string[], charset: Charset): number[][] {
  return labels.map((text, i) => {
    const missing = charset.missing(text);
    if (missing.length > 0) {
      throw new OcropsError(
        'OCROPS_TRAIN_LABEL',
        `label of ${ids[i]} ("${text}") has characters outside the model's charset: ${missing.map((c) => JSON.stringify(c)).join(' ')}`,
        { hint: 'prepare the data with the same charset as the model (or filter such lines in the data config)' },
      );
    }
    return charset.encode(text);
  });
}

/**
 * CTC needs at least `length + repeats` time steps for a label (a blank must separate repeated characters).
 * Returns the indices of labels that need more than `T` steps; their loss is infinite (zeroed with zeroInfinity).
 */
export function labelsTooLong(encoded: number[][], T: number | readonly number[]): number[] {
  const out: number[] = [];
  encoded.forEach((ids, i) => {
    let need = ids.length;
    for (let k = 1; k < ids.length; k++) if (ids[k] === ids[k - 1]) need++;
    if (need > (typeof T === 'number' ? T : T[i])) out.push(i);
  });
  return out;
}

/**
 * The model's output frames that belong to each image of a padded batch: `outputLength(width)` per image, capped at
 * the batch's T (and at least 1). The CTC loss and the decoders use only these frames, so a short line in a wide batch
 * is not asked to emit blanks over the padding (PyTorch's `input_lengths`).
 */
export function frameLengths(
  model: { outputLength(width: number): number },
  widths: readonly number[],
  batchWidth: number,
): number[] {
  const T = model.outputLength(batchWidth);
  return widths.map((w) => Math.max(1, Math.min(T, model.outputLength(w))));
}
