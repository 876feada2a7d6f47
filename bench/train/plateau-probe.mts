// Diagnostic of CTC's all-blank plateau for the `small` architecture (the Keras captcha recipe's model): on one batch of
// 64 training lines, how many ReLU units never fire (conv0, conv1 channels, dense0 units), how much the per-column
// features vary, and the mean p(blank) of the output.
//   node --conditions=@ocrops/source --import tsx bench/train/plateau-probe.mts [--prepared data/prepared/captcha-v2]
//        <model dir | init:configs/train/captcha-v2.yaml[:seed]>...
// A model dir is a run's best/ (or any saved model); `init:<train config>` probes a fresh model of that config.
import * as tf from '@tensorflow/tfjs';
import { ConfigReader } from '@ocrops/common';
import { batches, openPrepared } from '@ocrops/data';
import { createModel, loadModel, readModelConfig, selectBackend, type OcrModel } from '@ocrops/model';
import { loadTrainConfig } from '@ocrops/trainer';

const args = process.argv.slice(2);
const pi = args.indexOf('--prepared');
const preparedDir = pi >= 0 ? args.splice(pi, 2)[1] : 'data/prepared/captcha-v2';
await selectBackend({ quiet: true });
const data = await openPrepared(preparedDir);
const b = (await batches(data.splits.train!, { batchSize: 64, shuffle: false, augment: false }).next()).value!;
const x = tf.tensor4d(b.images, b.shape);

function probe(name: string, m: OcrModel): void {
  if (m.config.arch !== 'small') throw new Error(`${name}: the probe reads arch 'small' only, got '${m.config.arch}'`);
  const w = m.namedWeights();
  const get = (k: string) => [...w.entries()].find(([n]) => n.endsWith(k))![1];
  tf.tidy(() => {
    const xin = m.config.invert ? tf.sub(1, x) : x;
    const a0 = tf.relu(
      tf.add(tf.conv2d(xin as tf.Tensor4D, get('conv0/kernel') as tf.Tensor4D, 1, 'same'), get('conv0/bias')),
    );
    const a1 = tf.relu(
      tf.add(
        tf.conv2d(tf.maxPool(a0 as tf.Tensor4D, 2, 2, 'valid'), get('conv1/kernel') as tf.Tensor4D, 1, 'same'),
        get('conv1/bias'),
      ),
    );
    const p1 = tf.maxPool(a1 as tf.Tensor4D, 2, 2, 'valid');
    const [B, H, T, C] = p1.shape;
    const cols = p1.transpose([2, 0, 1, 3]).reshape([T * B, H * C]) as tf.Tensor2D;
    const d = tf.relu(tf.add(tf.matMul(cols, get('dense0/kernel')), get('dense0/bias'))) as tf.Tensor2D;
    const dead = (t: tf.Tensor, ch: number) =>
      Array.from(t.reshape([-1, ch]).max(0).dataSync()).filter((v) => v <= 0).length;
    const spread = (t: tf.Tensor2D) => tf.moments(t, 0).variance.sqrt().mean().dataSync()[0].toFixed(3);
    const blank = tf.softmax(m.forward(x, false)).slice([0, 0, 0], [-1, -1, 1]).mean().dataSync()[0];
    console.log(
      `${name}: dead conv0 ${dead(a0, a0.shape[3])}/${a0.shape[3]}, conv1 ${dead(a1, C)}/${C}, dense0 ${dead(d, d.shape[1])}/${d.shape[1]}; ` +
        `dense0 spread over columns ${spread(d)}; mean p(blank) ${blank.toFixed(3)}`,
    );
  });
}

for (const a of args) {
  if (a.startsWith('init:')) {
    const [, file, seed] = a.split(':');
    const cfg = loadTrainConfig(file);
    const mc = readModelConfig(ConfigReader.from(cfg.model, file));
    probe(a, createModel(mc, data.charset.numClasses, { seed: seed ? Number(seed) : cfg.train.seed }));
  } else {
    probe(a, (await loadModel(a)).model);
  }
}
