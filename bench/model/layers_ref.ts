// The "before" of the model package's rewrite: the reference CTCModel built from stock tfjs-layers (Conv2D, MaxPooling2D,
// BatchNormalization, Bidirectional GRU, Dense) on the same data, with our CTC loss. Prints one JSON line like worker.ts.
// node --conditions=@ocrops/source --import tsx bench/model/layers_ref.ts --data DIR --batch 16 --steps 3
import { parseArgs } from 'node:util';
import { loadBenchData } from './batches.js';
import * as tf from '@tensorflow/tfjs';
import { ctcLoss, selectBackend } from '@ocrops/model';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
  },
});
await selectBackend({ prefer: 'tensorflow', quiet: true, threads: Number(a.threads) });
const { meta, h, w, c, batch: batchAt } = loadBenchData(a.data!);
const d = 128;
const L = tf.layers;
const input = tf.input({ shape: [h, w, c] });
let y = L.conv2d({ filters: d / 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(
  input,
) as tf.SymbolicTensor;
y = L.maxPooling2d({ poolSize: 2 }).apply(y) as tf.SymbolicTensor;
y = L.conv2d({ filters: d / 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(y) as tf.SymbolicTensor;
y = L.maxPooling2d({ poolSize: 2 }).apply(y) as tf.SymbolicTensor;
y = L.conv2d({ filters: d / 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(y) as tf.SymbolicTensor;
y = L.conv2d({ filters: d / 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(y) as tf.SymbolicTensor;
y = L.maxPooling2d({ poolSize: [2, 1] }).apply(y) as tf.SymbolicTensor;
for (let i = 0; i < 2; i++) {
  y = L.conv2d({ filters: d, kernelSize: 3, padding: 'same', useBias: false }).apply(y) as tf.SymbolicTensor;
  y = L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(y) as tf.SymbolicTensor;
  y = L.activation({ activation: 'relu' }).apply(y) as tf.SymbolicTensor;
}
y = L.maxPooling2d({ poolSize: [2, 1] }).apply(y) as tf.SymbolicTensor;
y = L.conv2d({ filters: d, kernelSize: 2, padding: 'valid', activation: 'relu' }).apply(y) as tf.SymbolicTensor;
const [, hh, tt] = y.shape as number[];
y = L.averagePooling2d({ poolSize: [hh, 1] }).apply(y) as tf.SymbolicTensor;
y = L.reshape({ targetShape: [tt, d] }).apply(y) as tf.SymbolicTensor;
// uniform recurrent init: tfjs-layers' default orthogonal initialiser takes minutes at hidden 256 (references.md §6)
y = L.bidirectional({
  layer: L.gru({ units: 256, returnSequences: true, recurrentInitializer: 'glorotUniform' }) as never,
  mergeMode: 'concat',
}).apply(y) as tf.SymbolicTensor;
y = L.timeDistributed({ layer: L.dense({ units: 256 }) }).apply(y) as tf.SymbolicTensor;
y = L.timeDistributed({ layer: L.dense({ units: meta.numClasses }) }).apply(y) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: y });
const opt = tf.train.adam(1e-3);
const B = Number(a.batch);
const batch = (i: number) => batchAt(i, B);
const warmup = Number(a.warmup);
const steps = Number(a.steps);
const times: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  const { x, labels } = batch(s);
  const t0 = performance.now();
  const loss = opt.minimize(
    () => ctcLoss(model.apply(x, { training: true }) as tf.Tensor3D, labels),
    true,
    model.trainableWeights.map((v) => v.read() as tf.Variable),
  )!;
  loss.dataSync();
  times.push(performance.now() - t0);
  tf.dispose([x, loss]);
}
const train = times.slice(warmup);
const ms = train.reduce((s, v) => s + v, 0) / train.length;
console.log(
  JSON.stringify({
    impl: 'tfjs-layers/tensorflow',
    batch: B,
    steps,
    msPerStep: ms,
    imagesPerSec: (B * 1000) / ms,
    inferLinesPerSec: 0,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
