// Export of image classifiers: cnn4 and resnet_gap, fitted a few steps on real butterfly images, exported by
// exportModel; onnxruntime-node on the graph, fed as the contract says, must give ocrops's own softmax probabilities
// (max abs difference < 1e-4) and the same top class; the graph passes onnx.checker's full check and Python
// onnxruntime gives the same logits (when .venv has onnx and onnxruntime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { repoRoot, sharedDatasetsDir, venvBin } from '@ocrops/common';
import { decodeLine } from '@ocrops/data';
import {
  CONTRACT_FILE,
  createClassifier,
  defaultClassifierConfig,
  loadTaskModel,
  readContract,
  readTaskContract,
  selectBackend,
  type ClassifierConfig,
  type ClassifierContract,
} from '@ocrops/model';
import { exportModel } from './export.js';

const TRAIN = join(sharedDatasetsDir(), 'butterflies-75', 'train');
const HAVE_DATA = existsSync(TRAIN);
const TOLERANCE = 1e-4;
const CHECKER = join(repoRoot(), 'packages', 'model', 'scripts', 'onnx_check.py');
const PYTHON_OK = spawnSync(venvBin('python'), ['-c', 'import onnx, onnxruntime'], { encoding: 'utf8' }).status === 0;

/** onnx.checker full check + Python onnxruntime's `logits` on a batch (packages/model/scripts/onnx_check.py). */
function pythonLogits(onnxPath: string, data: Float32Array, shape: number[], work: string): Float32Array {
  const inPath = join(work, 'batch.f32');
  const outPath = join(work, 'logits.f32');
  writeFileSync(inPath, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const r = spawnSync(venvBin('python'), [CHECKER, onnxPath, inPath, shape.join(','), outPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, `onnx_check.py failed: ${r.stderr}`);
  const buf = readFileSync(outPath);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Two images of each of the first `k` species (sorted folder names). */
function butterflies(k: number): { files: string[]; labels: number[]; classes: string[] } {
  const classes = readdirSync(TRAIN).sort().slice(0, k);
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, i) => {
    for (const f of readdirSync(join(TRAIN, c)).sort().slice(0, 2)) {
      files.push(join(TRAIN, c, f));
      labels.push(i);
    }
  });
  return { files, labels, classes };
}

/** Images as the contract says: resized to exactly width x height, bytes * scale + offset, NHWC. */
async function contractBatch(c: ClassifierContract, files: string[]): Promise<Float32Array> {
  const { height, width, channels, normalisation } = c.input;
  const per = height * width * channels;
  const data = new Float32Array(files.length * per);
  for (const [b, f] of files.entries()) {
    const img = await decodeLine(f, { height, channels, width });
    assert.equal(img.width, width);
    for (let i = 0; i < per; i++) data[b * per + i] = img.data[i] * normalisation.scale + normalisation.offset;
  }
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const argmaxRows = (p: Float32Array, k: number) =>
  Array.from({ length: p.length / k }, (_, b) => {
    const row = p.subarray(b * k, (b + 1) * k);
    return row.indexOf(Math.max(...row));
  });

const CASES: Array<{ name: string; config: ClassifierConfig; foldBatchNorm: boolean }> = [
  {
    name: 'cnn4 64x64, base 8, dropout 0.3, mirror averaged (tta hflip)',
    config: { ...defaultClassifierConfig('cnn4'), height: 64, width: 64, baseChannels: 8, dropout: 0.3, tta: 'hflip' },
    foldBatchNorm: true,
  },
  {
    name: 'resnet_gap 64x48, base 8, depth 2, BN folded, four flips averaged (tta flips)',
    config: {
      ...defaultClassifierConfig('resnet_gap'),
      height: 64,
      width: 48,
      baseChannels: 8,
      depth: 2,
      tta: 'flips',
    },
    foldBatchNorm: true,
  },
  {
    name: 'resnet_gap 32x32 gray, base 4, depth 1, BN kept',
    config: { ...defaultClassifierConfig('resnet_gap'), height: 32, width: 32, channels: 1, baseChannels: 4, depth: 1 },
    foldBatchNorm: false,
  },
];

test(
  'classifier export: ONNX probabilities equal ocrops softmax (onnxruntime-node, real butterfly images)',
  { skip: !HAVE_DATA && `${TRAIN} is absent (the butterflies-75 dataset)` },
  async (t) => {
    await selectBackend({ quiet: true });
    const { files, labels, classes } = butterflies(4);
    const work = mkdtempSync(join(tmpdir(), 'ocrops-export-cls-'));
    try {
      for (const c of CASES) {
        await t.test(c.name, async () => {
          const cfg = c.config;
          const model = createClassifier(cfg, classes.length, { seed: 11 });
          const imgs = await Promise.all(
            files.map((f) => decodeLine(f, { height: cfg.height, channels: cfg.channels, width: cfg.width })),
          );
          const x = tf.tidy(() =>
            tf.tensor4d(Float32Array.from(imgs.flatMap((i) => Array.from(i.data, (v) => v / 255))), [
              files.length,
              cfg.height,
              cfg.width,
              cfg.channels,
            ]),
          );
          const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes.length);
          const opt = tf.train.adam(3e-3);
          // a few training steps: batch-norm running statistics and weights move away from their init
          for (let s = 0; s < 4; s++)
            opt.minimize(
              () => tf.losses.softmaxCrossEntropy(y, model.forward(x, true)) as tf.Scalar,
              false,
              model.getWeights(),
            );
          const dir = join(work, cfg.arch + cfg.height + cfg.channels);
          await model.save(join(dir, 'best'), { classes });
          const out = join(work, `${cfg.arch}-${cfg.height}-${cfg.channels}-export`);
          const res = await exportModel({ model: dir, out, foldBatchNorm: c.foldBatchNorm, topK: 3 });
          assert.deepEqual(res.files, [
            'model.onnx',
            'model.json',
            'weights.bin',
            'ocrops.json',
            CONTRACT_FILE,
            'README.md',
          ]);
          const contract = readTaskContract(join(out, CONTRACT_FILE));
          assert.equal(contract.task, 'classify');
          if (contract.task !== 'classify') return;
          assert.deepEqual(
            [contract.classes, contract.topK, contract.outputs[0].name, contract.outputs[0].kind],
            [classes, 3, 'probabilities', 'probabilities'],
          );
          assert.throws(() => readContract(join(out, CONTRACT_FILE)), /classifier's contract.*readTaskContract/);

          const data = await contractBatch(contract, files);
          const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
          const dims = [files.length, cfg.height, cfg.width, cfg.channels];
          const r = await session.run({ image: new ort.Tensor('float32', data, dims) });
          const onnxP = r.probabilities.data as Float32Array;
          const onnxLogits = r.logits.data as Float32Array;
          assert.deepEqual(r.probabilities.dims, [files.length, classes.length]);
          await session.release();

          const loaded = await loadTaskModel(out);
          assert.equal(loaded.task, 'classify');
          const logits = tf.tidy(
            () =>
              loaded.model.forward(tf.tensor4d(data, dims as [number, number, number, number]), false) as tf.Tensor2D,
          );
          const ours = tf.softmax(logits);
          const oursP = ours.dataSync() as Float32Array;
          const diff = maxAbsDiff(onnxP, oursP);
          t.diagnostic(
            `${c.name}: max |p_onnx - p_ocrops| = ${diff.toExponential(2)}, logits ${maxAbsDiff(onnxLogits, logits.dataSync() as Float32Array).toExponential(2)}`,
          );
          assert.ok(diff < TOLERANCE, `max abs probability difference ${diff}`);
          assert.deepEqual(argmaxRows(onnxP, classes.length), argmaxRows(oursP, classes.length));
          if (PYTHON_OK) {
            const py = pythonLogits(join(out, 'model.onnx'), data, dims, work);
            const pyDiff = maxAbsDiff(py, logits.dataSync() as Float32Array);
            t.diagnostic(
              `${c.name}: onnx.checker full check passed; Python onnxruntime logits max diff ${pyDiff.toExponential(2)}`,
            );
            assert.ok(pyDiff < TOLERANCE, `Python onnxruntime logits differ by ${pyDiff}`);
          } else
            t.diagnostic('Python onnx/onnxruntime absent from .venv: checker skipped (scripts/setup installs them)');
          for (let b = 0; b < files.length; b++) {
            const sum = onnxP.subarray(b * classes.length, (b + 1) * classes.length).reduce((a, v) => a + v, 0);
            assert.ok(Math.abs(sum - 1) < 1e-5, 'probabilities sum to 1');
          }
          tf.dispose([x, y, logits, ours]);
          opt.dispose();
          model.dispose();
          loaded.model.dispose();
        });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
