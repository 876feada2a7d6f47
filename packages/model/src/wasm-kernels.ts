/**
 * Kernels the wasm backend of tfjs 4.22 lacks for training: `Conv2DBackpropFilter` (the convolution weight
 * gradient), computed here in JavaScript on the backend's buffers (NHWC, any stride/padding/dilation).
 */
import * as tf from '@tensorflow/tfjs';

interface BackendWithBuffers {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
}

let registered = false;

/**
 * dW[kh,kw,ci,co] = sum over b, oh, ow of x[b, oh*sh - top + kh*dh, ow*sw - left + kw*dw, ci] * dy[b,oh,ow,co].
 * @param x input [B,H,W,Ci] (NHWC)
 * @param dy output gradient [B,OH,OW,Co]
 */
export function conv2dBackpropFilterJs(
  x: Float32Array,
  xShape: readonly number[],
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): Float32Array {
  const [B, H, W, Ci] = xShape;
  const { filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = new Float32Array(KH * KW * Ci * Co);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyOff = ((b * OH + oh) * OW + ow) * Co;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - top + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - left + kw * dw;
            if (iw < 0 || iw >= W) continue;
            const xOff = ((b * H + ih) * W + iw) * Ci;
            const wOff = (kh * KW + kw) * Ci * Co;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = x[xOff + ci];
              if (xv === 0) continue;
              const o = wOff + ci * Co;
              for (let co = 0; co < Co; co++) out[o + co] += xv * dy[dyOff + co];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Registers the missing training kernels for the `wasm` backend (idempotent). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const be = backend as unknown as BackendWithBuffers;
      const xv = be.readSync(x.dataId) as Float32Array;
      const dyv = be.readSync(dy.dataId) as Float32Array;
      const out = conv2dBackpropFilterJs(xv, x.shape, dyv, info);
      return be.makeOutput(a.filterShape, 'float32', undefined, out);
    },
  });
}
