/**
 * CTC decoding of logits [B,T,C]: greedy (best path) and prefix beam search, each with a per-line confidence.
 * Confidence = exp(log P / T): the per-frame geometric mean of the probability of the decoded result (greedy: of its
 * best path; beam search: of the prefix summed over its alignments found by the search), in [0, 1].
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import type { CharNgramLm } from './char-lm.js';
import type { CtcDecoding } from './contract.js';
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

/** A label prefix in the search's trie: the beams that extend it share it, so extending one costs O(1). */
interface PrefixNode {
  /** unique per line: the key of the beam on this prefix */
  id: number;
  /** last label (-1 for the empty prefix) */
  label: number;
  parent: PrefixNode | undefined;
  children: Map<number, PrefixNode>;
  /** the language model's context key after this prefix (made on first use) */
  context?: string;
}

interface Beam {
  node: PrefixNode;
  /** log P(prefix, ending in blank) */
  pb: number;
  /** log P(prefix, ending in its last label) */
  pnb: number;
  /** the language model's share of the score: sum over the prefix of weight * log P_lm(char | context) + bonus */
  lm: number;
}

/** The labels of a prefix, first to last. */
function labelsOf(node: PrefixNode): number[] {
  const out: number[] = [];
  for (let n: PrefixNode | undefined = node; n && n.label >= 0; n = n.parent) out.push(n.label);
  return out.reverse();
}

/** Shallow fusion of a character language model into the beam search. */
export interface LmFusion {
  lm: CharNgramLm;
  /** weight of log P_lm in a prefix's score */
  weight: number;
  /** added per character of a prefix (offsets the language model's cost of each character) */
  bonus: number;
}

/** The fusion a decoding asks for, with its language model (read by `readDecodingLm`); undefined for none. */
export function fusionOf(decoding: CtcDecoding, lm: CharNgramLm | undefined): LmFusion | undefined {
  if (decoding.method !== 'beam' || !decoding.lm) return undefined;
  if (!lm) {
    throw new OcropsError('OCROPS_MODEL_DECODE_INPUT', `the decoding needs its language model (${decoding.lm.file})`);
  }
  return { lm, weight: decoding.lm.weight, bonus: decoding.lm.bonus };
}

/**
 * The frame's characters worth extending by, into `out`: those above the pruning threshold, and a character that is
 * the frame's most probable class; at most the `max` most probable of them.
 */
function frameCandidates(frame: Float64Array, blank: number, prune: number, max: number, out: number[]): void {
  let frameMax = -Infinity;
  for (let k = 0; k < frame.length; k++) frameMax = Math.max(frameMax, frame[k]);
  out.length = 0;
  for (let k = 0; k < frame.length; k++) if (k !== blank && (frame[k] >= prune || frame[k] >= frameMax)) out.push(k);
  if (out.length > max) {
    out.sort((a, b) => frame[b] - frame[a]);
    out.length = max;
  }
}

/** A prefix's rank in the search: its CTC log-probability plus the language model's share. */
const score = (b: Beam) => logAdd(b.pb, b.pnb) + b.lm;

/**
 * CTC prefix beam search (Hannun et al. 2014): keeps the `beamWidth` best label prefixes, summing the probabilities
 * of all their alignments seen by the search; with `fusion`, a prefix's rank adds a character language model's score
 * (and, at the end, its probability of ending the line there). The confidence stays the CTC probability alone.
 * @param logits [B,T,C] pre-softmax scores
 * @param opts.beamWidth prefixes kept per frame (>= 1; 1 is close to, but not always equal to, greedy decoding)
 * @param opts.pruneLogProb skip characters whose frame log-probability is below this (default -8, p < 3.4e-4: below
 *   it the readings of a trained model did not change, and a young model's flat frames cost 3x less to search)
 * @param opts.maxCandidates characters extended per frame at most: the most probable ones above the threshold
 *   (default: twice the beam width). A trained model's frames rarely have more above it; a young model's near-flat
 *   frames have all of them, and searching every character made a beam of 20 cost ~0.5 s per line.
 */
export function beamSearchDecode(
  logits: tf.Tensor3D,
  opts: {
    beamWidth: number;
    blank?: number;
    lengths?: number[];
    pruneLogProb?: number;
    maxCandidates?: number;
    fusion?: LmFusion;
  },
): DecodeResult {
  const [B, T, C] = check(logits);
  const blank = opts.blank ?? 0;
  const width = opts.beamWidth;
  if (!Number.isInteger(width) || width < 1) {
    throw new OcropsError('OCROPS_MODEL_DECODE_INPUT', `beamWidth must be an integer >= 1, got ${width}`);
  }
  const prune = opts.pruneLogProb ?? -8;
  const maxCandidates = opts.maxCandidates ?? 2 * width;
  const fusion = opts.fusion;
  if (fusion && fusion.lm.classes !== C) {
    throw new OcropsError(
      'OCROPS_MODEL_DECODE_INPUT',
      `the language model was estimated for ${fusion.lm.classes} classes, the logits have ${C}`,
    );
  }
  /** the language model's log P(. | prefix): its context key made once per trie node */
  const lmLogProbs = (node: PrefixNode) => {
    node.context ??= fusion!.lm.contextOf(labelsOf(node));
    return fusion!.lm.logProbs(node.context);
  };
  const data = logits.dataSync() as Float32Array;
  const lp = new Float64Array(T * C);
  const ids: number[][] = [];
  const confidence: number[] = [];
  for (let b = 0; b < B; b++) {
    const Tb = opts.lengths ? Math.min(opts.lengths[b], T) : T;
    logSoftmaxRows(data, b * T * C, Tb, C, lp);
    let nodes = 0;
    const root: PrefixNode = { id: nodes++, label: -1, parent: undefined, children: new Map() };
    const childOf = (node: PrefixNode, k: number): PrefixNode => {
      let c = node.children.get(k);
      if (!c) node.children.set(k, (c = { id: nodes++, label: k, parent: node, children: new Map() }));
      return c;
    };
    let beams: Beam[] = [{ node: root, pb: 0, pnb: -Infinity, lm: 0 }];
    const candidates: number[] = [];
    for (let t = 0; t < Tb; t++) {
      const next = new Map<number, Beam>();
      const get = (node: PrefixNode, lm: () => number): Beam => {
        let e = next.get(node.id);
        if (!e) next.set(node.id, (e = { node, pb: -Infinity, pnb: -Infinity, lm: lm() }));
        return e;
      };
      frameCandidates(lp.subarray(t * C, (t + 1) * C), blank, prune, maxCandidates, candidates);
      for (const beam of beams) {
        const total = logAdd(beam.pb, beam.pnb);
        const last = beam.node.label;
        // stay on the same prefix by emitting a blank
        const same = get(beam.node, () => beam.lm);
        same.pb = logAdd(same.pb, total + lp[t * C + blank]);
        // or by repeating the last label
        if (last >= 0) same.pnb = logAdd(same.pnb, beam.pnb + lp[t * C + last]);
        for (const k of candidates) {
          const p = lp[t * C + k];
          const ext = get(childOf(beam.node, k), () =>
            fusion ? beam.lm + fusion.weight * lmLogProbs(beam.node)[k] + fusion.bonus : 0,
          );
          // a repeated label needs a blank in between
          ext.pnb = logAdd(ext.pnb, (k === last ? beam.pb : total) + p);
        }
      }
      beams = [...next.values()].sort((x, y) => score(y) - score(x)).slice(0, width);
    }
    // the language model also scores where the line ends (id 0: its end-of-line)
    const final = (b: Beam) => score(b) + (fusion ? fusion.weight * lmLogProbs(b.node)[0] : 0);
    const best = beams.reduce((x, y) => (final(y) > final(x) ? y : x));
    ids.push(labelsOf(best.node));
    confidence.push(Tb > 0 ? Math.exp(logAdd(best.pb, best.pnb) / Tb) : 1);
  }
  return { ids, confidence };
}
