// Shared by the model benchmark's workers: reads the batches run.mjs prepared (meta.json + images.f32, NHWC float32)
// and cuts training batch i (cycling through the n lines) as a tensor plus its label ids.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export interface BenchMeta {
  shape: [number, number, number, number];
  labels: number[][];
  numClasses: number;
}

export function loadBenchData(dir: string) {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as BenchMeta;
  const [n, h, w, c] = meta.shape;
  const buf = readFileSync(join(dir, 'images.f32'));
  const images = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  /** Batch i of size B: x [B,h,w,c] and the labels of its lines. */
  const batch = (i: number, B: number) => {
    const x = new Float32Array(B * h * w * c);
    const labels: number[][] = [];
    for (let k = 0; k < B; k++) {
      const j = (i * B + k) % n;
      x.set(images.subarray(j * h * w * c, (j + 1) * h * w * c), k * h * w * c);
      labels.push(meta.labels[j]);
    }
    return { x: tf.tensor4d(x, [B, h, w, c]), labels };
  };
  return { meta, n, h, w, c, batch };
}
