/**
 * LSTM recurrence over precomputed input projections, for one or two directions at once, with a hand-written backward
 * pass (BPTT) inside `tf.customGrad` (gate blocks i | f | o | g):
 *   i, f, o = σ(gx + h W_h + b_h)[i|f|o], g = tanh(…)[g], c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
 * Backward: per-gate factors that do not depend on the incoming gradient are computed once for all steps; each step is
 * then a handful of element-wise ops and one matMul; the weight gradient is one batched matMul over all T*B rows.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * @param gx input projections incl. input biases [T, dirs, B, 4H] (direction 1 already reversed in time)
 * @param wh recurrent weights [dirs, H, 4H]
 * @param bh recurrent biases [dirs, 1, 4H]
 * @returns hidden states after each step [T, dirs, B, H] (h_0 = c_0 = 0)
 */
export function lstmSequence(gx: tf.Tensor4D, wh: tf.Tensor3D, bh: tf.Tensor3D): tf.Tensor4D {
  const fn = tf.customGrad(((gxIn: tf.Tensor, whIn: tf.Tensor, bhIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const [T, dirs, B, G] = gxIn.shape as [number, number, number, number];
    const H = G / 4;
    const w = whIn as tf.Tensor3D;
    const steps = tf.unstack(gxIn, 0) as tf.Tensor3D[];
    let h: tf.Tensor3D = tf.zeros([dirs, B, H]);
    let c: tf.Tensor3D = tf.zeros([dirs, B, H]);
    const hs: tf.Tensor3D[] = [];
    const acts: tf.Tensor3D[] = [];
    const cs: tf.Tensor3D[] = [];
    const prevH: tf.Tensor3D[] = [];
    const prevC: tf.Tensor3D[] = [];
    for (let t = 0; t < T; t++) {
      const pre = tf.add(steps[t], tf.add(tf.matMul(h, w), bhIn)) as tf.Tensor3D;
      const ifo = tf.sigmoid(pre.slice([0, 0, 0], [dirs, B, 3 * H]));
      const g = tf.tanh(pre.slice([0, 0, 3 * H], [dirs, B, H]));
      const i = ifo.slice([0, 0, 0], [dirs, B, H]);
      const f = ifo.slice([0, 0, H], [dirs, B, H]);
      const o = ifo.slice([0, 0, 2 * H], [dirs, B, H]);
      prevH.push(h);
      prevC.push(c);
      c = tf.add(tf.mul(f, c), tf.mul(i, g)) as tf.Tensor3D;
      h = tf.mul(o, tf.tanh(c)) as tf.Tensor3D;
      hs.push(h);
      cs.push(c);
      acts.push(tf.concat([ifo, g], 2) as tf.Tensor3D);
    }
    const value = tf.stack(hs, 0) as tf.Tensor4D;
    save([tf.stack(acts, 0), tf.stack(cs, 0), tf.stack(prevC, 0), tf.stack(prevH, 0), w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [act, cAll, cPrev, hPrev, wSaved] = saved as tf.Tensor4D[];
      const sl = (k: number) => act.slice([0, 0, 0, k * H], [T, dirs, B, H]);
      const [i, f, o, g] = [sl(0), sl(1), sl(2), sl(3)];
      const tc = tf.tanh(cAll);
      const o1 = tf.mul(o, tf.sub(1, tf.square(tc))); // d c' / d h' (through h' = o tanh c')
      const fac = tf.concat(
        [
          tf.mul(g, tf.mul(i, tf.sub(1, i))),
          tf.mul(cPrev, tf.mul(f, tf.sub(1, f))),
          tf.mul(tc, tf.mul(o, tf.sub(1, o))),
          tf.mul(i, tf.sub(1, tf.square(g))),
        ],
        3,
      );
      const facs = tf.unstack(fac, 0) as tf.Tensor3D[];
      const o1s = tf.unstack(o1, 0) as tf.Tensor3D[];
      const fs = tf.unstack(f, 0) as tf.Tensor3D[];
      const dys = tf.unstack(dy, 0) as tf.Tensor3D[];
      // transposed once, explicitly: per-step matMuls with a transposed operand are slow on wasm
      const w3T = tf.transpose(wSaved as unknown as tf.Tensor3D, [0, 2, 1]);
      const dpres: tf.Tensor3D[] = new Array(T);
      let dh = dys[T - 1];
      let dc: tf.Tensor3D = tf.zeros([dirs, B, H]);
      for (let t = T - 1; t >= 0; t--) {
        const dct = tf.add(dc, tf.mul(dh, o1s[t])) as tf.Tensor3D;
        const dpre = tf.mul(tf.concat([dct, dct, dh, dct], 2), facs[t]) as tf.Tensor3D;
        dpres[t] = dpre;
        if (t > 0) {
          dc = tf.mul(dct, fs[t]) as tf.Tensor3D;
          dh = tf.add(dys[t - 1], tf.matMul(dpre, w3T)) as tf.Tensor3D;
        }
      }
      const dgx = tf.stack(dpres, 0) as tf.Tensor4D; // [T, dirs, B, 4H]
      const prevRows = hPrev.transpose([1, 0, 2, 3]).reshape([dirs, T * B, H]);
      const dRows = dgx.transpose([1, 0, 2, 3]).reshape([dirs, T * B, G]);
      return [dgx, tf.matMul(prevRows, dRows, true, false), tf.sum(dRows, 1, true)];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(gx, wh, bh) as tf.Tensor4D;
}
