/**
 * Connectionist Temporal Classification loss (Graves et al. 2006) for TensorFlow.js, which has none: a numerically
 * stable log-space forward-backward pass on typed arrays (float64) inside `tf.customGrad`, with the analytic gradient
 * with respect to the pre-softmax logits. Runs on every backend; the cost is small next to the network.
 */
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { logAdd, logSoftmaxRows } from './logspace.js';

/** Options of {@link ctcLoss}. */
export interface CtcLossOptions {
  /** Index of the blank class (default 0: the PAD/blank of the ocrops charsets). */
  blank?: number;
  /**
   * Replace +Infinity losses (labels that cannot fit the time axis) by 0 and their gradients by 0 (default true, like
   * the reference PyTorch CTCModel and PyTorch's `zero_infinity`). NaN losses (NaN/Infinity logits) are kept, so divergence stays visible.
   */
  zeroInfinity?: boolean;
  /**
   * `mean` (default, PyTorch's definition): each sample's loss divided by its label length (at least 1), then averaged
   * over the batch; `sum`: sum over the batch; `none`: a [B] tensor of per-sample losses.
   */
  reduction?: 'mean' | 'sum' | 'none';
  /** Frames used per sample (default: all T frames of every sample). Frames past a sample's length get zero gradient. */
  inputLengths?: number[];
}

/** Per-sample negative log-likelihoods and the gradient of their (weighted) sum, from {@link ctcForwardBackward}. */
export interface CtcResult {
  /** -log p(label | logits) per sample, Infinity when no alignment exists. [B] */
  losses: Float64Array;
  /** d(loss_b)/d(logits) per sample, NaN-free; zero for infinite losses. [B*T*C], row-major [B,T,C] */
  grad: Float32Array;
}

/**
 * CTC forward-backward on raw logits.
 * @param logits pre-softmax scores, row-major [B,T,C]
 * @param shape [B, T, C]
 * @param labels per sample, class ids in [0, C) without the blank (lengths may differ)
 */
export function ctcForwardBackward(
  logits: Float32Array | Float64Array,
  shape: readonly [number, number, number],
  labels: readonly (readonly number[])[],
  blank = 0,
  inputLengths?: readonly number[],
): CtcResult {
  const [B, T, C] = shape;
  if (labels.length !== B) {
    throw new OcropsError('OCROPS_MODEL_CTC_INPUT', `ctcLoss: ${labels.length} label sequences for a batch of ${B}`);
  }
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) {
    throw new OcropsError('OCROPS_MODEL_CTC_INPUT', `ctcLoss: blank index ${blank} outside [0, ${C})`);
  }
  if (inputLengths && inputLengths.length !== B) {
    throw new OcropsError(
      'OCROPS_MODEL_CTC_INPUT',
      `ctcLoss: ${inputLengths.length} input lengths for a batch of ${B}`,
    );
  }
  const losses = new Float64Array(B);
  const grad = new Float32Array(B * T * C);
  const lp = new Float64Array(T * C);
  for (let b = 0; b < B; b++) {
    const label = labels[b];
    const Tb = inputLengths ? inputLengths[b] : T;
    if (!Number.isInteger(Tb) || Tb < 0 || Tb > T) {
      throw new OcropsError('OCROPS_MODEL_CTC_INPUT', `ctcLoss: input length ${Tb} of sample ${b} outside [0, ${T}]`);
    }
    for (const id of label) {
      if (!Number.isInteger(id) || id < 0 || id >= C || id === blank) {
        throw new OcropsError(
          'OCROPS_MODEL_CTC_INPUT',
          `ctcLoss: label of sample ${b} holds class ${id}; labels must be integers in [0, ${C}) other than the blank ${blank}`,
        );
      }
    }
    // log-softmax of the frames in use
    const base = b * T * C;
    logSoftmaxRows(logits, base, Tb, C, lp);
    const L = label.length;
    const S = 2 * L + 1;
    const ext = new Int32Array(S);
    for (let s = 0; s < S; s++) ext[s] = s % 2 === 0 ? blank : label[(s - 1) >> 1];
    if (Tb === 0) {
      losses[b] = L === 0 ? 0 : Infinity;
      continue;
    }
    const alpha = new Float64Array(Tb * S).fill(-Infinity);
    const beta = new Float64Array(Tb * S).fill(-Infinity);
    alpha[0] = lp[blank];
    if (S > 1) alpha[1] = lp[ext[1]];
    for (let t = 1; t < Tb; t++) {
      const prev = (t - 1) * S;
      const cur = t * S;
      // states that can still reach the end: s >= S - 2*(Tb - t); states reachable from the start: s < 2*(t+1)
      const sLo = Math.max(0, S - 2 * (Tb - t));
      const sHi = Math.min(S, 2 * (t + 1));
      for (let s = sLo; s < sHi; s++) {
        let a = alpha[prev + s];
        if (s >= 1) a = logAdd(a, alpha[prev + s - 1]);
        if (s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2]) a = logAdd(a, alpha[prev + s - 2]);
        alpha[cur + s] = a === -Infinity ? a : a + lp[t * C + ext[s]];
      }
    }
    const last = (Tb - 1) * S;
    const logp = S > 1 ? logAdd(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last + S - 1];
    if (logp === -Infinity) {
      losses[b] = Infinity;
      continue;
    }
    losses[b] = -logp;
    // beta[t][s]: log-probability of emitting the rest of the label after frame t, being in state s at frame t
    beta[last + S - 1] = 0;
    if (S > 1) beta[last + S - 2] = 0;
    for (let t = Tb - 2; t >= 0; t--) {
      const nxt = (t + 1) * S;
      const cur = t * S;
      const lpn = (t + 1) * C;
      for (let s = 0; s < S; s++) {
        let v = beta[nxt + s] + lp[lpn + ext[s]];
        if (s + 1 < S) v = logAdd(v, beta[nxt + s + 1] + lp[lpn + ext[s + 1]]);
        if (s + 2 < S && ext[s + 2] !== blank && ext[s + 2] !== ext[s]) {
          v = logAdd(v, beta[nxt + s + 2] + lp[lpn + ext[s + 2]]);
        }
        beta[cur + s] = v;
      }
    }
    // d(-log p)/d(logit[t,k]) = softmax[t,k] - sum_{s: ext[s]=k} exp(alpha[t,s] + beta[t,s] - log p)
    const occ = new Float64Array(C);
    for (let t = 0; t < Tb; t++) {
      occ.fill(-Infinity);
      for (let s = 0; s < S; s++) {
        const v = alpha[t * S + s] + beta[t * S + s];
        if (v !== -Infinity) occ[ext[s]] = logAdd(occ[ext[s]], v);
      }
      for (let k = 0; k < C; k++) {
        grad[base + t * C + k] = Math.exp(lp[t * C + k]) - Math.exp(occ[k] - logp);
      }
    }
  }
  return { losses, grad };
}

/**
 * CTC loss of pre-softmax logits against variable-length labels; differentiable with respect to `logits`.
 * @param logits [B, T, C] scores before softmax (C includes the blank)
 * @param labels per sample the class ids of its transcript (without blanks), any lengths
 * @returns a scalar for `mean`/`sum`, a [B] tensor for `reduction: 'none'`
 */
export function ctcLoss(
  logits: tf.Tensor3D,
  labels: number[][],
  opts: CtcLossOptions & { reduction: 'none' },
): tf.Tensor1D;
export function ctcLoss(logits: tf.Tensor3D, labels: number[][], opts?: CtcLossOptions): tf.Scalar;
export function ctcLoss(logits: tf.Tensor3D, labels: number[][], opts: CtcLossOptions = {}): tf.Scalar | tf.Tensor1D {
  const blank = opts.blank ?? 0;
  const zeroInfinity = opts.zeroInfinity ?? true;
  const reduction = opts.reduction ?? 'mean';
  if (logits.rank !== 3) {
    throw new OcropsError('OCROPS_MODEL_CTC_INPUT', `ctcLoss: logits must be [B,T,C], got shape [${logits.shape}]`);
  }
  const [B, T, C] = logits.shape;
  const fn = tf.customGrad(((x: tf.Tensor) => {
    const { losses, grad } = ctcForwardBackward(
      x.dataSync() as Float32Array,
      [B, T, C],
      labels,
      blank,
      opts.inputLengths,
    );
    const weights = new Float32Array(B);
    const per = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      let l = losses[b];
      // only +Infinity (no alignment) is zeroed, as PyTorch's zero_infinity; a NaN (diverged logits) propagates
      const infinite = l === Infinity;
      if (infinite && zeroInfinity) l = 0;
      const w = reduction === 'mean' ? 1 / (Math.max(labels[b].length, 1) * B) : 1;
      per[b] = reduction === 'mean' ? l / Math.max(labels[b].length, 1) : l;
      // infinite losses: zero gradient with zeroInfinity, NaN otherwise (as PyTorch)
      weights[b] = infinite ? (zeroInfinity ? 0 : NaN) : w;
      if (infinite && zeroInfinity) grad.fill(0, b * T * C, (b + 1) * T * C);
    }
    let value: tf.Tensor;
    if (reduction === 'none') value = tf.tensor1d(per);
    else {
      let s = 0;
      for (let b = 0; b < B; b++) s += per[b];
      value = tf.scalar(reduction === 'mean' ? s / Math.max(B, 1) : s);
    }
    const gradFunc = (dy: tf.Tensor) =>
      tf.tidy(() => {
        const g = tf.tensor3d(grad, [B, T, C]);
        const w = tf.tensor3d(weights, [B, 1, 1]);
        const scale = reduction === 'none' ? dy.reshape([B, 1, 1]) : dy;
        return g.mul(w).mul(scale);
      });
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(logits) as tf.Scalar | tf.Tensor1D;
}
