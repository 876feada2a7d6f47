// Evaluation of a model on a prepared split: CTC loss, acc_by_char, acc_by_field, CER, and per-line predictions.
import * as tf from '@tensorflow/tfjs';
import {
  accByChar,
  accByField,
  beamSearchDecode,
  cer,
  ctcLoss,
  fusionOf,
  greedyDecode,
  wer,
  type CharNgramLm,
  type CtcDecoding,
  type OcrModel,
} from '@ocrops/model';
import { batches, type Charset, type PreparedSplit } from '@ocrops/data';
import { encodeLabels, frameLengths, labelsTooLong } from './labels.js';

/** One evaluated line. */
export interface LineResult {
  /** source image file name */
  id: string;
  truth: string;
  prediction: string;
  /** decoder confidence of the line, in [0, 1] */
  confidence: number;
  /** acc_by_char of this line */
  accByChar: number;
  /** per-line CTC loss (batch mean when the loss cannot be split) */
  loss: number;
}

/** Split-level metrics, with the reference recipe's names (without the `val_`/`test_` prefix). */
export interface SplitMetrics {
  loss: number;
  acc_by_char: number;
  acc_by_field: number;
  cer: number;
  /** word error rate (words split on whitespace, corpus-level) */
  wer: number;
  count: number;
  /** lines whose label is too long for the model's T (their loss is zeroed) */
  labels_too_long: number;
}

export interface EvaluateSplitOptions {
  batchSize: number;
  decode: CtcDecoding;
  /** the language model `decode.lm` names (see readDecodingLm) */
  lm?: CharNgramLm;
  /** stop after this many lines (0 = all) */
  maxSamples?: number;
  /** keep per-line results (for error reports) */
  collect?: boolean;
  /** polled between batches; true aborts the evaluation (returns undefined) */
  shouldStop?: () => boolean;
  /** called after each batch with the lines done so far */
  onBatch?: (done: number) => void;
}

/** Decodes logits `[B, T, numClasses]` into text + confidence per line (`lm`: the language model `decode.lm` names). */
export function decodeLogits(
  logits: tf.Tensor3D,
  charset: Charset,
  decode: CtcDecoding,
  lengths?: number[],
  lm?: CharNgramLm,
): { texts: string[]; confidence: number[] } {
  const r =
    decode.method === 'beam'
      ? beamSearchDecode(logits, { beamWidth: decode.beamWidth, lengths, fusion: fusionOf(decode, lm) })
      : greedyDecode(logits, { lengths });
  return { texts: r.ids.map((ids) => charset.decode(ids)), confidence: r.confidence };
}

/**
 * Runs the model in inference mode over `split` and computes loss and accuracy metrics.
 * Returns undefined if `shouldStop` asked to stop.
 */
export async function evaluateSplit(
  model: OcrModel,
  split: PreparedSplit,
  charset: Charset,
  opts: EvaluateSplitOptions,
): Promise<{ metrics: SplitMetrics; lines: LineResult[] } | undefined> {
  const max = opts.maxSamples && opts.maxSamples > 0 ? opts.maxSamples : Infinity;
  let lossSum = 0;
  let count = 0;
  let charAccSum = 0;
  let tooLong = 0;
  const preds: string[] = [];
  const truths: string[] = [];
  const lines: LineResult[] = [];
  for await (const batch of batches(split, { batchSize: opts.batchSize, shuffle: false, augment: false })) {
    if (opts.shouldStop?.()) return undefined;
    let n = batch.labels.length;
    if (count + n > max) n = max - count;
    if (n <= 0) break;
    const labels = batch.labels.slice(0, n);
    const ids = batch.ids.slice(0, n);
    const encoded = encodeLabels(labels, ids, charset);
    const lengths = frameLengths(model, batch.widths.slice(0, n), batch.shape[2]);
    tooLong += labelsTooLong(encoded, lengths).length;
    const { loss, texts, confidence } = tf.tidy(() => {
      let x = tf.tensor4d(batch.images, batch.shape);
      if (n < batch.shape[0]) x = x.slice([0, 0, 0, 0], [n, -1, -1, -1]);
      const logits = model.forward(x, false);
      const l = ctcLoss(logits, encoded, { zeroInfinity: true, reduction: 'mean', inputLengths: lengths });
      const dec = decodeLogits(logits, charset, opts.decode, lengths, opts.lm);
      return { loss: l.dataSync()[0], ...dec };
    });
    lossSum += loss * n;
    for (let i = 0; i < n; i++) {
      const acc = accByChar(texts[i], labels[i]);
      charAccSum += acc;
      preds.push(texts[i]);
      truths.push(labels[i]);
      if (opts.collect) {
        lines.push({
          id: ids[i],
          truth: labels[i],
          prediction: texts[i],
          confidence: confidence[i],
          accByChar: acc,
          loss,
        });
      }
    }
    count += n;
    opts.onBatch?.(count);
    await new Promise((r) => setImmediate(r)); // let signal handlers and timers run between batches
    if (count >= max) break;
  }
  const metrics: SplitMetrics = {
    loss: count ? lossSum / count : NaN,
    acc_by_char: count ? charAccSum / count : 0,
    acc_by_field: count ? accByField(preds, truths) : 0,
    cer: count ? cer(preds, truths) : 0,
    wer: count ? wer(preds, truths) : 0,
    count,
    labels_too_long: tooLong,
  };
  return { metrics, lines };
}
