/**
 * CTC decoding of logits [B,T,C]: greedy (best path) and prefix beam search, each with a per-line confidence.
 * Confidence = exp(log P / T): the per-frame geometric mean of the probability of the decoded result (greedy: of its
 * best path; beam search: of the prefix summed over its alignments found by the search), in [0, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { logAdd, logSoftmaxRows } from './logspace.js';

/** Decoded class ids per line (blank removed, repeats collapsed) and a confidence per line in [0, 1]. */
export interface DecodeResult {
  ids: number[][];
  confidence: number[];
}

function check(logits: tf.Tensor): [number, number, number] {
  if (logits.rank !== 3) {
    throw new OcropsError('OCROPS_MODEL_DECODE_INPUT', `decoding needs logits [B,T,C], got shape [${logits.shape}]`);
  }
  return logits.shape as [number, number, number];
}

/**
 * Greedy CTC decoding: argmax per frame, collapse repeats, drop blanks.
 * @param logits [B,T,C] pre-softmax scores (softmax probabilities work too: argmax is the same, confidence is not)
 */
export function greedyDecode(logits: tf.Tensor3D, opts: { blank?: number; lengths?: number[] } = {}): DecodeResult {
  const [B, T, C] = check(logits);
  const blank = opts.blank ?? 0;
  const data = logits.dataSync() as Float32Array;
  const lp = new Float64Array(T * C);
  const ids: number[][] = [];
  const confidence: number[] = [];
  for (let b = 0; b < B; b++) {
    const Tb = opts.lengths ? Math.min(opts.lengths[b], T) : T;
    logSoftmaxRows(data, b * T * C, Tb, C, lp);
    const out: number[] = [];
    let prev = -1;
    let logp = 0;
    for (let t = 0; t < Tb; t++) {
      let best = 0;
      for (let k = 1; k < C; k++) if (lp[t * C + k] > lp[t * C + best]) best = k;
      logp += lp[t * C + best];
      if (best !== prev && best !== blank) out.push(best);
      prev = best;
    }
    ids.push(out);
    confidence.push(Tb > 0 ? Math.exp(logp / Tb) : 1);
  }
  return { ids, confidence };
}

interface Beam {
  prefix: number[];
  /** log P(prefix, ending in blank) */
  pb: number;
  /** log P(prefix, ending in its last label) */
  pnb: number;
}

/**
 * CTC prefix beam search (Hannun et al. 2014, without a language model): keeps the `beamWidth` most probable label
 * prefixes, summing the probabilities of all their alignments seen by the search.
 * @param logits [B,T,C] pre-softmax scores
 * @param opts.beamWidth prefixes kept per frame (>= 1; 1 is close to, but not always equal to, greedy decoding)
 * @param opts.pruneLogProb skip characters whose frame log-probability is below this (default -12: negligible)
 */
export function beamSearchDecode(
  logits: tf.Tensor3D,
  opts: { beamWidth: number; blank?: number; lengths?: number[]; pruneLogProb?: number },
): DecodeResult {
  const [B, T, C] = check(logits);
  const blank = opts.blank ?? 0;
  const width = opts.beamWidth;
  if (!Number.isInteger(width) || width < 1) {
    throw new OcropsError('OCROPS_MODEL_DECODE_INPUT', `beamWidth must be an integer >= 1, got ${width}`);
  }
  const prune = opts.pruneLogProb ?? -12;
  const data = logits.dataSync() as Float32Array;
  const lp = new Float64Array(T * C);
  const ids: number[][] = [];
  const confidence: number[] = [];
  for (let b = 0; b < B; b++) {
    const Tb = opts.lengths ? Math.min(opts.lengths[b], T) : T;
    logSoftmaxRows(data, b * T * C, Tb, C, lp);
    let beams = new Map<string, Beam>([['', { prefix: [], pb: 0, pnb: -Infinity }]]);
    for (let t = 0; t < Tb; t++) {
      const next = new Map<string, Beam>();
      const get = (prefix: number[]): Beam => {
        const key = prefix.join(',');
        let e = next.get(key);
        if (!e) next.set(key, (e = { prefix, pb: -Infinity, pnb: -Infinity }));
        return e;
      };
      let frameMax = -Infinity;
      for (let k = 0; k < C; k++) frameMax = Math.max(frameMax, lp[t * C + k]);
      for (const beam of beams.values()) {
        const total = logAdd(beam.pb, beam.pnb);
        const last = beam.prefix.length > 0 ? beam.prefix[beam.prefix.length - 1] : -1;
        // stay on the same prefix by emitting a blank
        const same = get(beam.prefix);
        same.pb = logAdd(same.pb, total + lp[t * C + blank]);
        // or by repeating the last label
        if (last >= 0) same.pnb = logAdd(same.pnb, beam.pnb + lp[t * C + last]);
        for (let k = 0; k < C; k++) {
          if (k === blank) continue;
          const p = lp[t * C + k];
          if (p < prune && p < frameMax) continue;
          const ext = get([...beam.prefix, k]);
          // a repeated label needs a blank in between
          ext.pnb = logAdd(ext.pnb, (k === last ? beam.pb : total) + p);
        }
      }
      const sorted = [...next.values()].sort((x, y) => logAdd(y.pb, y.pnb) - logAdd(x.pb, x.pnb));
      beams = new Map(sorted.slice(0, width).map((e) => [e.prefix.join(','), e]));
    }
    const best = [...beams.values()].reduce((x, y) => (logAdd(y.pb, y.pnb) > logAdd(x.pb, x.pnb) ? y : x));
    ids.push(best.prefix);
    confidence.push(Tb > 0 ? Math.exp(logAdd(best.pb, best.pnb) / Tb) : 1);
  }
  return { ids, confidence };
}
