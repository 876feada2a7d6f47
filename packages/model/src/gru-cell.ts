/**
 * GRU recurrence (PyTorch's equations) over precomputed input projections, for one or two directions at once, with a
 * hand-written backward pass (BPTT) inside `tf.customGrad`:
 *   r = σ(gx_r + h W_hr + b_hr), z = σ(gx_z + h W_hz + b_hz), n = tanh(gx_n + r ⊙ (h W_hn + b_hn)),
 *   h' = (1 - z) ⊙ n + z ⊙ h.
 * Forward: 2 batched matMuls + 10 element-wise ops per step, no tape. Backward: every factor that does not depend on the
 * incoming gradient is computed once for all steps; each step is then tile, mul, matMul, mul, add, add; the weight
 * gradient is a single batched matMul over all T*B rows.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * @param gx input projections incl. input biases [T, dirs, B, 3H] (direction 1 already reversed in time)
 * @param wh recurrent weights [dirs, H, 3H] (gate blocks r | z | n)
 * @param bh recurrent biases [dirs, 1, 3H]
 * @returns hidden states after each step [T, dirs, B, H] (h_1 .. h_T; h_0 = 0)
 */
export function gruSequence(gx: tf.Tensor4D, wh: tf.Tensor3D, bh: tf.Tensor3D): tf.Tensor4D {
  const fn = tf.customGrad(((gxIn: tf.Tensor, whIn: tf.Tensor, bhIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const [T, dirs, B, G] = gxIn.shape as [number, number, number, number];
    const H = G / 3;
    const w = whIn as tf.Tensor3D;
    const b = bhIn as tf.Tensor3D;
    const whRz = w.slice([0, 0, 0], [dirs, H, 2 * H]);
    const whN = w.slice([0, 0, 2 * H], [dirs, H, H]);
    const bhRz = b.slice([0, 0, 0], [dirs, 1, 2 * H]);
    const bhN = b.slice([0, 0, 2 * H], [dirs, 1, H]);
    const gxRz = tf.unstack(gxIn.slice([0, 0, 0, 0], [T, dirs, B, 2 * H]), 0) as tf.Tensor3D[];
    const gxN = tf.unstack(gxIn.slice([0, 0, 0, 2 * H], [T, dirs, B, H]), 0) as tf.Tensor3D[];
    let h: tf.Tensor3D = tf.zeros([dirs, B, H]);
    const hs: tf.Tensor3D[] = [];
    const rs: tf.Tensor3D[] = [];
    const zs: tf.Tensor3D[] = [];
    const ns: tf.Tensor3D[] = [];
    const ghns: tf.Tensor3D[] = [];
    const prevs: tf.Tensor3D[] = [];
    for (let t = 0; t < T; t++) {
      const rz = tf.sigmoid(tf.add(gxRz[t], tf.add(tf.matMul(h, whRz), bhRz))) as tf.Tensor3D;
      const ghn = tf.add(tf.matMul(h, whN), bhN) as tf.Tensor3D;
      const r = rz.slice([0, 0, 0], [dirs, B, H]);
      const z = rz.slice([0, 0, H], [dirs, B, H]);
      const n = tf.tanh(tf.add(gxN[t], tf.mul(r, ghn))) as tf.Tensor3D;
      prevs.push(h);
      h = tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor3D;
      hs.push(h);
      rs.push(r);
      zs.push(z);
      ns.push(n);
      ghns.push(ghn);
    }
    const value = tf.stack(hs, 0) as tf.Tensor4D;
    save([tf.stack(rs, 0), tf.stack(zs, 0), tf.stack(ns, 0), tf.stack(ghns, 0), tf.stack(prevs, 0), w]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [r, z, n, ghn, prev, wSaved] = saved as tf.Tensor4D[];
      // factors of d(loss)/d(pre-activation gates) per unit of incoming dh
      const a = tf.mul(tf.sub(1, z), tf.sub(1, tf.square(n))); // d n-pre / dh
      const rFac = tf.mul(tf.mul(a, ghn), tf.mul(r, tf.sub(1, r)));
      const zFac = tf.mul(tf.sub(prev, n), tf.mul(z, tf.sub(1, z)));
      const mh = tf.unstack(tf.concat([rFac, zFac, tf.mul(a, r)], 3), 0) as tf.Tensor3D[];
      const zSteps = tf.unstack(z, 0) as tf.Tensor3D[];
      const dySteps = tf.unstack(dy, 0) as tf.Tensor3D[];
      // transposed once, explicitly: per-step matMuls with a transposed operand are slow on wasm
      const w3T = tf.transpose(wSaved as unknown as tf.Tensor3D, [0, 2, 1]);
      const dhs: tf.Tensor3D[] = new Array(T);
      const dghs: tf.Tensor3D[] = new Array(T);
      let dh = dySteps[T - 1];
      for (let t = T - 1; t >= 0; t--) {
        dhs[t] = dh;
        const dgh = tf.mul(tf.tile(dh, [1, 1, 3]), mh[t]) as tf.Tensor3D;
        dghs[t] = dgh;
        if (t > 0) {
          dh = tf.add(tf.add(dySteps[t - 1], tf.mul(dh, zSteps[t])), tf.matMul(dgh, w3T)) as tf.Tensor3D;
        }
      }
      const dhAll = tf.stack(dhs, 0) as tf.Tensor4D; // [T, dirs, B, H]
      const dgh = tf.stack(dghs, 0) as tf.Tensor4D; // [T, dirs, B, 3H]
      const dgx = tf.mul(tf.tile(dhAll, [1, 1, 1, 3]), tf.concat([rFac, zFac, a], 3));
      // dW_h[d] = sum over t, b of h_prev[t,d,b]^T dgh[t,d,b]
      const prevRows = prev.transpose([1, 0, 2, 3]).reshape([dirs, T * B, H]);
      const dghRows = dgh.transpose([1, 0, 2, 3]).reshape([dirs, T * B, G]);
      const dwh = tf.matMul(prevRows, dghRows, true, false);
      const dbh = tf.sum(dghRows, 1, true);
      return [dgx, dwh, dbh];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return fn(gx, wh, bh) as tf.Tensor4D;
}
