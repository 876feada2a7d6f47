/**
 * CTC decoding of one line's output frames held in a plain Float32Array (no TensorFlow needed): text, line confidence
 * and a confidence per character. Greedy decoding here; prefix beam search through @ocrops/model's decoder.
 */
import type { ModelContract } from '@ocrops/model/contract';
import { charOfClass } from '@ocrops/model/contract';

/** One character of a transcript with its confidence in [0, 1]. */
export interface CharConfidence {
  char: string;
  confidence: number;
}

/** A decoded line. */
export interface LineText {
  text: string;
  /** exp(log P(path) / T): per-frame geometric mean of the decoded path's probability, in [0, 1]. */
  confidence: number;
  chars: CharConfidence[];
}

/** The frames of one line: `frames` rows of `classes` scores starting at `offset` in `data`. */
export interface LineFrames {
  data: Float32Array;
  offset: number;
  frames: number;
  classes: number;
}

/** Log-softmax of each frame (a no-op shift for outputs that are already log-probabilities). */
export function logSoftmaxFrames(f: LineFrames): Float64Array {
  const { data, offset, frames, classes } = f;
  const out = new Float64Array(frames * classes);
  for (let t = 0; t < frames; t++) {
    const row = offset + t * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, data[row + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(data[row + k] - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < classes; k++) out[t * classes + k] = data[row + k] - lse;
  }
  return out;
}

/**
 * Greedy CTC decoding (argmax per frame, repeats collapsed, blanks dropped). A character's confidence is the highest
 * probability it reaches over the frames of its run (the frames where it is the argmax).
 */
export function greedyLine(f: LineFrames, contract: Pick<ModelContract, 'charset' | 'blank'>): LineText {
  const { frames, classes } = f;
  const lp = logSoftmaxFrames(f);
  const chars: CharConfidence[] = [];
  let prev = -1;
  let logp = 0;
  for (let t = 0; t < frames; t++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (lp[t * classes + k] > lp[t * classes + best]) best = k;
    const p = lp[t * classes + best];
    logp += p;
    if (best !== contract.blank) {
      if (best !== prev) chars.push({ char: charOfClass(contract, best), confidence: Math.exp(p) });
      else chars[chars.length - 1].confidence = Math.max(chars[chars.length - 1].confidence, Math.exp(p));
    }
    prev = best;
  }
  return { text: chars.map((c) => c.char).join(''), confidence: frames > 0 ? Math.exp(logp / frames) : 1, chars };
}

/**
 * Confidences for the classes of a transcript found by beam search: each class is placed on the frame (in order,
 * leaving room for the classes after it) where its probability is highest, and gets that probability.
 */
export function charConfidencesOf(
  ids: number[],
  f: LineFrames,
  contract: Pick<ModelContract, 'charset' | 'blank'>,
): CharConfidence[] {
  const lp = logSoftmaxFrames(f);
  const out: CharConfidence[] = [];
  let from = 0;
  ids.forEach((id, i) => {
    const last = Math.max(from, f.frames - (ids.length - i));
    let bestT = from;
    for (let t = from; t <= last && t < f.frames; t++)
      if (lp[t * f.classes + id] > lp[bestT * f.classes + id]) bestT = t;
    out.push({
      char: charOfClass(contract, id),
      confidence: bestT < f.frames ? Math.exp(lp[bestT * f.classes + id]) : 0,
    });
    from = bestT + 1;
  });
  return out;
}
