// Model of the serving benchmark: the reference CTCModel (vgg, inner_dim 128, height 64, RGB, BiGRU 256) for the
// Vietnamese charset with random weights (seeded), saved as an ocrops model folder and exported to ONNX by ocrops.
// Usage: tsx bench/serve/prepare.ts <out dir>   -> <out>/ocrops (tfjs weights), <out>/export (model.onnx + contract)
import { join } from 'node:path';
import { Charset } from '@ocrops/data';
import { createModel, defaultModelConfig, saveModel, selectBackend } from '@ocrops/model';
import { exportModel } from '@ocrops/trainer';

const out = process.argv[2];
await selectBackend({ quiet: true });
const charset = Charset.vietnamese();
const model = createModel(
  { ...defaultModelConfig('vgg'), innerDim: 128, height: 64, channels: 3 },
  charset.numClasses,
  { seed: 7 },
);
await saveModel(model, join(out, 'ocrops'), { charset: charset.toJSON() });
model.dispose();
const r = await exportModel({ model: join(out, 'ocrops'), out: join(out, 'export'), format: 'onnx' });
console.log(
  JSON.stringify({ numClasses: charset.numClasses, onnx: join(r.dir, 'model.onnx'), charset: charset.chars }),
);
