/**
 * Recurrent layers (GRU, LSTM; uni- or bidirectional) written to batch work across time:
 * - the input projections of every time step and both directions are one matMul ([T*B, D] x [D, dirs*G*H]);
 * - both directions advance together: one batched matMul per step ([dirs, B, H] x [dirs, H, G*H]);
 * - gates are fused (one sigmoid over r|z, one tanh; LSTM: one sigmoid over i|f|o).
 * Backward passes are hand-written BPTT inside `tf.customGrad` (gru-cell.ts, lstm-cell.ts); `impl: 'autodiff'` runs
 * the same recurrences through tf's tape instead (the reference the tests compare against).
 * Time-major layout: input [T, B, D], output [T, B, dirs*H] with the forward direction's features first.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './params.js';
import { gruSequence } from './gru-cell.js';
import { lstmSequence } from './lstm-cell.js';

/** One recurrent layer's variables. G = 3 gates (GRU: r, z, n) or 4 (LSTM: i, f, o, g). */
export interface RnnLayer {
  type: 'gru' | 'lstm';
  hidden: number;
  dirs: 1 | 2;
  /** input weights of both directions [D, dirs*G*H] */
  wx: tf.Variable;
  /** input biases [dirs*G*H] */
  bx: tf.Variable;
  /** recurrent weights [dirs, H, G*H] */
  wh: tf.Variable;
  /** recurrent biases [dirs, 1, G*H] (GRU: b_hn stays inside r * (W_hn h + b_hn), as in PyTorch) */
  bh: tf.Variable;
}

/** Start of the LSTM forget-gate block (gate order i | f | o | g) inside each direction's 4H bias columns. */
const LSTM_FORGET_GATE = 1;

/**
 * Sets the LSTM forget-gate bias so that b_f = bx_f + bh_f = 1 at initialisation (bx_f = 0, bh_f = 1; the other
 * gates keep PyTorch's uniform init): the cell starts by remembering, which lets gradients flow through long lines.
 */
function initForgetBias(bx: tf.Variable, bh: tf.Variable, dirs: number, hidden: number): void {
  const G = 4;
  const H = hidden;
  const lo = LSTM_FORGET_GATE * H;
  const mask = tf.tidy(() => {
    const cols = tf.range(0, G * H, 1, 'int32');
    return tf.logicalAnd(tf.greaterEqual(cols, lo), tf.less(cols, lo + H)); // [G*H]
  });
  tf.tidy(() => {
    const bxm = tf.tile(mask, [dirs]); // [dirs*G*H]
    bx.assign(tf.where(bxm, tf.zerosLike(bx), bx));
    const bhm = mask.reshape([1, 1, G * H]).tile([dirs, 1, 1]); // [dirs, 1, G*H]
    bh.assign(tf.where(bhm, tf.onesLike(bh), bh));
  });
  mask.dispose();
}

/**
 * Creates a recurrent layer with PyTorch's init: every weight and bias Uniform(-1/sqrt(H), 1/sqrt(H)), except the
 * LSTM forget-gate bias, which starts at 1 (see {@link initForgetBias}).
 */
export function makeRnnLayer(
  p: ParamStore,
  name: string,
  type: 'gru' | 'lstm',
  inputDim: number,
  hidden: number,
  bidirectional: boolean,
): RnnLayer {
  const G = type === 'gru' ? 3 : 4;
  const dirs = bidirectional ? 2 : 1;
  const bound = 1 / Math.sqrt(hidden);
  const layer: RnnLayer = {
    type,
    hidden,
    dirs,
    wx: p.uniform(`${name}/wx`, [inputDim, dirs * G * hidden], bound),
    bx: p.uniform(`${name}/bx`, [dirs * G * hidden], bound),
    wh: p.uniform(`${name}/wh`, [dirs, hidden, G * hidden], bound),
    bh: p.uniform(`${name}/bh`, [dirs, 1, G * hidden], bound),
  };
  if (type === 'lstm') initForgetBias(layer.bx, layer.bh, dirs, hidden);
  return layer;
}

/** Reverses the second direction's sequence in time: [T, dirs, B, F] -> same shape. */
function flipBackward(x: tf.Tensor4D, dirs: number): tf.Tensor4D {
  if (dirs === 1) return x;
  const [f, b] = tf.split(x, 2, 1);
  return tf.concat([f, tf.reverse(b, 0)], 1) as tf.Tensor4D;
}

/**
 * Runs one recurrent layer over a sequence.
 * @param x [T, B, D]
 * @param impl 'fused' (default: hand-written BPTT) or 'autodiff' (per-step ops through tf's tape)
 * @returns [T, B, dirs*H]
 */
export function rnnLayer(x: tf.Tensor3D, l: RnnLayer, impl: 'fused' | 'autodiff' = 'fused'): tf.Tensor3D {
  const [T, B, D] = x.shape;
  const H = l.hidden;
  const G = l.type === 'gru' ? 3 : 4;
  const proj = tf.fused
    .matMul({ a: x.reshape([T * B, D]), b: l.wx as tf.Tensor2D, bias: l.bx })
    .reshape([T, B, l.dirs, G * H])
    .transpose([0, 2, 1, 3]) as tf.Tensor4D;
  const gx = flipBackward(proj, l.dirs); // [T, dirs, B, G*H], direction 1 in reversed time
  let hs: tf.Tensor4D;
  if (l.type === 'gru') {
    hs = impl === 'fused' ? gruSequence(gx, l.wh as tf.Tensor3D, l.bh as tf.Tensor3D) : gruAutodiff(gx, l);
  } else {
    hs = impl === 'fused' ? lstmSequence(gx, l.wh as tf.Tensor3D, l.bh as tf.Tensor3D) : lstmAutodiff(gx, l);
  }
  return flipBackward(hs, l.dirs)
    .transpose([0, 2, 1, 3])
    .reshape([T, B, l.dirs * H]) as tf.Tensor3D;
}

/** GRU recurrence through tf's autodiff. gx [T, dirs, B, 3H] -> hs [T, dirs, B, H]. */
export function gruAutodiff(gx: tf.Tensor4D, l: RnnLayer): tf.Tensor4D {
  const [T, dirs, B] = gx.shape;
  const H = l.hidden;
  const steps = tf.unstack(gx, 0) as tf.Tensor3D[];
  let h: tf.Tensor3D = tf.zeros([dirs, B, H]);
  const out: tf.Tensor3D[] = [];
  for (let t = 0; t < T; t++) {
    const g = steps[t];
    const gh = tf.add(tf.matMul(h, l.wh as tf.Tensor3D), l.bh) as tf.Tensor3D;
    const rz = tf.sigmoid(tf.add(g.slice([0, 0, 0], [dirs, B, 2 * H]), gh.slice([0, 0, 0], [dirs, B, 2 * H])));
    const r = rz.slice([0, 0, 0], [dirs, B, H]);
    const z = rz.slice([0, 0, H], [dirs, B, H]);
    const n = tf.tanh(tf.add(g.slice([0, 0, 2 * H], [dirs, B, H]), tf.mul(r, gh.slice([0, 0, 2 * H], [dirs, B, H]))));
    h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor3D;
    out.push(h);
  }
  return tf.stack(out, 0) as tf.Tensor4D;
}

/** LSTM recurrence through tf's autodiff (gates i, f, o, g). gx [T, dirs, B, 4H] -> hs [T, dirs, B, H]. */
export function lstmAutodiff(gx: tf.Tensor4D, l: RnnLayer): tf.Tensor4D {
  const [T, dirs, B] = gx.shape;
  const H = l.hidden;
  const steps = tf.unstack(gx, 0) as tf.Tensor3D[];
  let h: tf.Tensor3D = tf.zeros([dirs, B, H]);
  let c: tf.Tensor3D = tf.zeros([dirs, B, H]);
  const out: tf.Tensor3D[] = [];
  for (let t = 0; t < T; t++) {
    const g = tf.add(steps[t], tf.add(tf.matMul(h, l.wh as tf.Tensor3D), l.bh)) as tf.Tensor3D;
    const ifo = tf.sigmoid(g.slice([0, 0, 0], [dirs, B, 3 * H]));
    const cand = tf.tanh(g.slice([0, 0, 3 * H], [dirs, B, H]));
    const i = ifo.slice([0, 0, 0], [dirs, B, H]);
    const f = ifo.slice([0, 0, H], [dirs, B, H]);
    const o = ifo.slice([0, 0, 2 * H], [dirs, B, H]);
    c = tf.add(tf.mul(f, c), tf.mul(i, cand)) as tf.Tensor3D;
    h = tf.mul(o, tf.tanh(c)) as tf.Tensor3D;
    out.push(h);
  }
  return tf.stack(out, 0) as tf.Tensor4D;
}
