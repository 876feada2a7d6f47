#!/usr/bin/env node
// What limits the serving throughput: onnxruntime-node time per line of the benchmark model (1 thread) at batch 1 and
// at batch 8, for lines of the benchmark's width. Usage: node bench/serve/profile.mjs <model.onnx> [width 1150]
import ort from 'onnxruntime-node';

const [path, w = '1150'] = process.argv.slice(2);
const W = Number(w);
const s = await ort.InferenceSession.create(path, {
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});
for (const B of [1, 8, 1, 8]) {
  const dims = [B, 64, W, 3];
  const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5), dims);
  await s.run({ image: x });
  const t = performance.now();
  const n = B === 1 ? 6 : 2;
  for (let i = 0; i < n; i++) await s.run({ image: x });
  console.log(`batch ${B}: ${((performance.now() - t) / n / B).toFixed(1)} ms per line`);
}
