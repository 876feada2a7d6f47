// Per-kernel profile of one training step of the reference CTCModel (vgg, inner_dim 128, 64x256, batch 16) on the
// active backend: node --conditions=@ocrops/source --import tsx bench/model/profile.ts [batch] [rnnImpl]
import * as tf from '@tensorflow/tfjs';
import { createModel, ctcLoss, defaultModelConfig, selectBackend } from '@ocrops/model';

await selectBackend({ threads: 1 });
const B = Number(process.argv[2] ?? 16);
const impl = (process.argv[3] ?? 'fused') as 'fused' | 'autodiff';
const model = createModel({ ...defaultModelConfig('vgg'), innerDim: 128 }, 140, { rnnImpl: impl });
const opt = tf.train.adam(1e-3);
const x = tf.randomUniform([B, 64, 256, 3]) as tf.Tensor4D;
const labels = Array.from({ length: B }, (_, b) => Array.from({ length: 30 }, (_, i) => 1 + ((i * 13 + b) % 139)));
const step = () =>
  tf.dispose(opt.minimize(() => ctcLoss(model.forward(x, true), labels), true, model.getWeights()) ?? []);
for (let i = 0; i < 3; i++) step();
const t0 = performance.now();
for (let i = 0; i < 3; i++) step();
console.log(`step ${((performance.now() - t0) / 3).toFixed(0)} ms (batch ${B}, ${impl})`);
const prof = await tf.profile(step);
const by = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  if (!/^[A-Z_]/.test(k.name) || k.name.endsWith('__op')) continue; // scopes, not kernels
  const key = `${k.name} ${k.name.startsWith('Conv') || k.name.includes('MatMul') ? JSON.stringify(k.inputShapes) : ''}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += (k.kernelTimeMs as number) || 0;
  e.n++;
  by.set(key, e);
}
const rows = [...by].sort((p, q) => q[1].ms - p[1].ms);
const total = rows.reduce((s, [, e]) => s + e.ms, 0);
console.log(`kernels: ${prof.kernels.length}, summed kernel time ${total.toFixed(0)} ms`);
for (const [k, e] of rows.slice(0, 30))
  console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(5)}x  ${k}`);
