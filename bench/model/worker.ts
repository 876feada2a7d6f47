// One benchmark measurement of @ocrops/model in its own process (so peak RSS is per configuration):
// the reference CTCModel (vgg), Adam + CTC, on the batches prepared by run.mjs. Prints one JSON line.
// node --conditions=@ocrops/source --import tsx bench/model/worker.ts --data DIR --backend tensorflow --batch 16 --steps 20
import { parseArgs } from 'node:util';
import { loadBenchData } from './batches.js';
import * as tf from '@tensorflow/tfjs';
import { createModel, ctcLoss, defaultModelConfig, greedyDecode, selectBackend, type BackendName } from '@ocrops/model';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    backend: { type: 'string', default: 'tensorflow' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'infer-batches': { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    'inner-dim': { type: 'string', default: '128' },
    'rnn-impl': { type: 'string', default: 'fused' },
  },
});
const threads = Number(a.threads);
const backend = await selectBackend({ prefer: a.backend as BackendName, quiet: true, threads });
if (backend.name !== a.backend) throw new Error(`backend ${a.backend} unavailable (got ${backend.name})`);
const { meta, h, c, batch: batchAt } = loadBenchData(a.data!);
const B = Number(a.batch);
const cfg = { ...defaultModelConfig('vgg'), height: h, channels: c as 1 | 3, innerDim: Number(a['inner-dim']) };
const model = createModel(cfg, meta.numClasses, { rnnImpl: a['rnn-impl'] as 'fused' | 'autodiff' });
const opt = tf.train.adam(1e-3);
const batch = (i: number) => batchAt(i, B);
const warmup = Number(a.warmup);
const steps = Number(a.steps);
const times: number[] = [];
const losses: number[] = [];
for (let s = 0; s < warmup + steps; s++) {
  const { x, labels } = batch(s);
  const t0 = performance.now();
  const loss = opt.minimize(() => ctcLoss(model.forward(x, true), labels), true, model.getWeights())!;
  losses.push(loss.dataSync()[0]);
  times.push(performance.now() - t0);
  tf.dispose([x, loss]);
}
const train = times.slice(warmup);
const inferTimes: number[] = [];
for (let i = 0; i <= Number(a['infer-batches']); i++) {
  const { x } = batch(i);
  const t0 = performance.now();
  const logits = model.forward(x, false);
  greedyDecode(logits);
  inferTimes.push(performance.now() - t0);
  tf.dispose([x, logits]);
}
const inf = inferTimes.slice(1);
const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
console.log(
  JSON.stringify({
    impl: `ocrops/${backend.name}${a['rnn-impl'] === 'fused' ? '' : `/${a['rnn-impl']}`}`,
    backend: backend.name,
    threads,
    batch: B,
    steps,
    msPerStep: sum(train) / train.length,
    imagesPerSec: (B * train.length) / (sum(train) / 1000),
    inferLinesPerSec: inf.length ? (B * inf.length) / (sum(inf) / 1000) : 0,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
