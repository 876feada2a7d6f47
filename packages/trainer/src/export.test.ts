// Export equivalence: models of every architecture and recurrent type, trained a few steps on real lines, exported to
// ONNX; onnxruntime-node and Python onnxruntime (after onnx.checker's full check) must give ocrops's own logits
// (max abs difference <= 1e-4) and, decoded by the contract alone, ocrops predict's text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { OcropsError, readJsonFile, repoRoot, sharedDataset, venvBin } from '@ocrops/common';
import { Charset, decodeLine } from '@ocrops/data';
import {
  CONTRACT_FILE,
  beamSearchDecode,
  charOfClass,
  createModel,
  ctcLoss,
  defaultModelConfig,
  frameLengthsForBatch,
  greedyDecode,
  loadModel,
  readContract,
  selectBackend,
  type ModelConfig,
  type ModelContract,
} from '@ocrops/model';
import { exportModel } from './export.js';
import { predict } from './predict.js';

const DATASET = sharedDataset('vn-handwriting');
const CHECKER = join(repoRoot(), 'packages', 'model', 'scripts', 'onnx_check.py');
const TOLERANCE = 1e-4;

interface Case {
  name: string;
  config: ModelConfig;
  foldBatchNorm: boolean;
}

const H = 32;
const CASES: Case[] = [
  {
    name: 'vgg, BiGRU x1, RGB, BN folded',
    config: {
      ...defaultModelConfig('vgg'),
      height: H,
      channels: 3,
      innerDim: 16,
      embedDim: 16,
      rnn: { type: 'gru', hidden: 16, layers: 1, bidirectional: true, dropout: 0 },
    },
    foldBatchNorm: true,
  },
  {
    name: 'vgg, LSTM x2 (unidirectional), inverted, BN kept',
    config: {
      ...defaultModelConfig('vgg'),
      height: H,
      channels: 1,
      innerDim: 16,
      embedDim: 12,
      invert: true,
      rnn: { type: 'lstm', hidden: 12, layers: 2, bidirectional: false, dropout: 0 },
    },
    foldBatchNorm: false,
  },
  {
    name: 'small, BiLSTM 16/8, inverted',
    config: {
      ...defaultModelConfig('small'),
      height: H,
      channels: 1,
      embedDim: 16,
      invert: true,
      rnn: { type: 'lstm', hidden: 16, layers: 2, bidirectional: true, dropout: 0.25, hiddenPerLayer: [16, 8] },
    },
    foldBatchNorm: true,
  },
  {
    name: 'small, GRU x1 (unidirectional)',
    config: {
      ...defaultModelConfig('small'),
      height: H,
      channels: 1,
      embedDim: 16,
      rnn: { type: 'gru', hidden: 16, layers: 1, bidirectional: false, dropout: 0 },
    },
    foldBatchNorm: true,
  },
  {
    name: 'resnet, BiGRU x2, BN folded',
    config: {
      ...defaultModelConfig('resnet'),
      height: H,
      channels: 1,
      innerDim: 16,
      rnn: { type: 'gru', hidden: 12, layers: 2, bidirectional: true, dropout: 0.3 },
    },
    foldBatchNorm: true,
  },
  {
    // the licence-plate recipe's real backbone (ResNet-18 stem and stages 1-2, 64/128 channels), a narrow fixed width
    name: 'resnet18, fixed width 96 -> 12 frames, BiGRU x2, RGB, BN folded',
    config: {
      ...defaultModelConfig('resnet18'),
      height: H,
      channels: 3,
      width: 96,
      steps: 12,
      rnn: { type: 'gru', hidden: 12, layers: 2, bidirectional: true, dropout: 0.3 },
    },
    foldBatchNorm: true,
  },
  {
    name: 'resnet18, fixed width 64 -> 9 frames, LSTM x1 (unidirectional), inverted, BN kept',
    config: {
      ...defaultModelConfig('resnet18'),
      height: H,
      channels: 1,
      width: 64,
      steps: 9,
      invert: true,
      rnn: { type: 'lstm', hidden: 12, layers: 1, bidirectional: false, dropout: 0 },
    },
    foldBatchNorm: false,
  },
  {
    // the Synth90k recipe's real CRNN (VGG 64-512 with BN, map-to-sequence, 2 BiLSTM), small embedding and hidden sizes
    name: 'crnn, map-to-seq 16, BiLSTM x2, BN folded',
    config: {
      ...defaultModelConfig('crnn'),
      height: H,
      channels: 1,
      embedDim: 16,
      rnn: { type: 'lstm', hidden: 12, layers: 2, bidirectional: true, dropout: 0 },
    },
    foldBatchNorm: true,
  },
  {
    name: 'crnn, RGB, inverted, BN kept',
    config: {
      ...defaultModelConfig('crnn'),
      height: H,
      channels: 3,
      embedDim: 16,
      invert: true,
      rnn: { type: 'gru', hidden: 8, layers: 2, bidirectional: true, dropout: 0 },
    },
    foldBatchNorm: false,
  },
  {
    name: 'resnet, BiLSTM x1, RGB, inverted, BN kept',
    config: {
      ...defaultModelConfig('resnet'),
      height: H,
      channels: 3,
      innerDim: 16,
      invert: true,
      rnn: { type: 'lstm', hidden: 12, layers: 1, bidirectional: true, dropout: 0 },
    },
    foldBatchNorm: false,
  },
];

/** The first `n` lines of the dataset: image paths and transcripts. */
function datasetLines(dir: string, n: number, skip = 0): { files: string[]; texts: string[] } {
  const labels = readJsonFile(join(dir, 'labels.json')) as Record<string, string>;
  const names = Object.keys(labels)
    .sort()
    .slice(skip, skip + n);
  return { files: names.map((f) => join(dir, 'images', f)), texts: names.map((f) => labels[f]) };
}

/** A batch built as the contract says: bytes * scale + offset, padded on the right with padValue to the widest line. */
async function contractBatch(
  c: ModelContract,
  files: string[],
): Promise<{ data: Float32Array; shape: number[]; widths: number[] }> {
  const { height, channels, normalisation, padValue } = c.input;
  const lines = await Promise.all(
    files.map((f) => decodeLine(f, { height, channels, width: c.input.width.fixed, maxWidth: c.input.width.max })),
  );
  const widths = lines.map((l) => Math.max(l.width, c.input.width.min));
  const W = Math.max(...widths);
  const data = new Float32Array(files.length * height * W * channels).fill(padValue);
  lines.forEach((l, b) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < l.width * channels; x++) {
        data[(b * height + y) * W * channels + x] =
          l.data[y * l.width * channels + x] * normalisation.scale + normalisation.offset;
      }
    }
  });
  return { data, shape: [files.length, height, W, channels], widths };
}

/** CTC decoding of [B, T, C] logits with the contract alone (its method and beam width, frame rule, blank, charset). */
function contractDecode(
  c: ModelContract,
  logits: Float32Array,
  dims: readonly number[],
  widths: number[],
  batchWidth: number,
): { texts: string[]; confidence: number[] } {
  const lengths = frameLengthsForBatch(c.decoding.frames, widths, batchWidth);
  const t = tf.tensor3d(logits, dims as [number, number, number]);
  try {
    const r =
      c.decoding.method === 'beam'
        ? beamSearchDecode(t, { beamWidth: c.decoding.beamWidth, blank: c.blank, lengths })
        : greedyDecode(t, { blank: c.blank, lengths });
    return { texts: r.ids.map((ids) => ids.map((k) => charOfClass(c, k)).join('')), confidence: r.confidence };
  } finally {
    t.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'logit counts differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs the Python checker (onnx.checker full check + onnxruntime) on one batch; returns its logits. */
function pythonRun(
  onnxPath: string,
  batch: { data: Float32Array; shape: number[] },
  work: string,
): { logits: Float32Array; info: Record<string, unknown> } {
  const inPath = join(work, 'batch.f32');
  const outPath = join(work, 'logits.f32');
  writeFileSync(inPath, Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength));
  const r = spawnSync(venvBin('python'), [CHECKER, onnxPath, inPath, batch.shape.join(','), outPath], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`onnx_check.py failed (${r.status}): ${r.stderr}`);
  const buf = readFileSync(outPath);
  return {
    logits: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)),
    info: JSON.parse(r.stdout),
  };
}

/** A few Adam steps on real lines (training mode: batch-norm running statistics move away from 0/1). */
async function trainFewSteps(cfg: ModelConfig, charset: Charset, files: string[], texts: string[], steps: number) {
  const model = createModel(cfg, charset.numClasses, { seed: 7 });
  const opt = tf.train.adam(3e-3);
  const lines = await Promise.all(
    files.map((f) => decodeLine(f, { height: cfg.height, channels: cfg.channels, width: cfg.width, maxWidth: 256 })),
  );
  const W = Math.max(...lines.map((l) => l.width));
  const data = new Float32Array(files.length * cfg.height * W * cfg.channels).fill(1);
  lines.forEach((l, b) => {
    for (let y = 0; y < cfg.height; y++) {
      for (let x = 0; x < l.width * cfg.channels; x++)
        data[(b * cfg.height + y) * W * cfg.channels + x] = l.data[y * l.width * cfg.channels + x] / 255;
    }
  });
  const images = tf.tensor4d(data, [files.length, cfg.height, W, cfg.channels]);
  const labels = texts.map((t) => charset.encode(t));
  const lengths = lines.map((l) => Math.max(1, Math.min(model.outputLength(W), model.outputLength(l.width))));
  for (let s = 0; s < steps; s++) {
    opt.minimize(
      () => ctcLoss(model.forward(images, true), labels, { zeroInfinity: true, inputLengths: lengths }),
      false,
      model.getWeights(),
    );
  }
  images.dispose();
  opt.dispose();
  return model;
}

let pythonReady: string | undefined;
function pythonProblem(): string | undefined {
  if (pythonReady !== undefined) return pythonReady || undefined;
  const r = spawnSync(venvBin('python'), ['-c', 'import onnx, onnxruntime'], { encoding: 'utf8' });
  pythonReady =
    r.status === 0
      ? ''
      : `${venvBin('python')} cannot import onnx/onnxruntime (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return pythonReady || undefined;
}

test(
  'ONNX export of every architecture matches ocrops (onnxruntime-node and Python onnxruntime, real lines)',
  { skip: !DATASET && 'vn-handwriting is absent from ../shared/datasets' },
  async (t) => {
    const problem = pythonProblem();
    if (problem)
      throw new OcropsError('OCROPS_TEST_SETUP', `${problem}`, {
        hint: 'run scripts/setup (it installs the pinned onnx and onnxruntime into .venv)',
      });
    await selectBackend({ quiet: true });
    const dir = DATASET!;
    const charset = Charset.vietnamese();
    const train = datasetLines(dir, 4);
    const held = datasetLines(dir, 5, 100);
    const work = mkdtempSync(join(tmpdir(), 'ocrops-export-'));
    try {
      for (const [i, c] of CASES.entries()) {
        // the last model records beam search as its decoding (the JS beam search costs ~10 s per 5 lines here)
        const decode =
          i === CASES.length - 1
            ? { method: 'beam' as const, beamWidth: 3 }
            : { method: 'greedy' as const, beamWidth: 1 };
        await t.test(`${c.name}, ${decode.method} decoding`, async () => {
          const runDir = join(work, c.name.replace(/[^a-z0-9]+/gi, '-'));
          const model = await trainFewSteps(c.config, charset, train.files, train.texts, 3);
          await model.save(join(runDir, 'best'), { charset: charset.toJSON() });
          model.dispose();
          const out = join(runDir, 'export');
          const res = await exportModel({ model: runDir, out, foldBatchNorm: c.foldBatchNorm, decode });
          assert.deepEqual(readdirSync(out).sort(), [...res.files].sort());
          const contract = readContract(join(out, CONTRACT_FILE));
          assert.equal(contract.files.onnx, 'model.onnx');
          assert.equal(contract.input.invert, c.config.invert === true);
          assert.deepEqual([contract.decoding.method, contract.decoding.beamWidth], [decode.method, decode.beamWidth]);
          if (c.config.arch === 'resnet18') {
            // one fixed width in, `steps` frames out, whatever the line
            assert.deepEqual(contract.input.width, {
              fixed: c.config.width,
              min: c.config.width,
              multiple: 1,
              max: c.config.width,
            });
            assert.deepEqual(contract.decoding.frames, [{ op: 'const', value: c.config.steps }]);
          }

          const batch = await contractBatch(contract, held.files);
          const { model: ocrops } = await loadModel(out);
          const ref = tf.tidy(() =>
            ocrops.forward(tf.tensor4d(batch.data, batch.shape as [number, number, number, number]), false),
          );
          const refLogits = ref.dataSync() as Float32Array;
          const refDims = [...ref.shape];
          ref.dispose();
          ocrops.dispose();

          const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
          const nodeOut = (await session.run({ image: new ort.Tensor('float32', batch.data, batch.shape) })).logits;
          assert.deepEqual(nodeOut.dims, refDims);
          assert.equal(
            refDims[1],
            frameLengthsForBatch(contract.decoding.frames, [batch.shape[2]], batch.shape[2])[0],
            'frames of the batch width as the contract says',
          );
          const nodeDiff = maxAbsDiff(refLogits, nodeOut.data as Float32Array);
          const py = pythonRun(join(out, 'model.onnx'), batch, work);
          assert.deepEqual(py.info, { opset: 17, inputs: ['image'], outputs: ['logits'], shape: refDims });
          const pyDiff = maxAbsDiff(refLogits, py.logits);
          t.diagnostic(
            `${c.name}: max |ocrops - onnxruntime-node| = ${nodeDiff.toExponential(2)}, max |ocrops - python onnxruntime| = ${pyDiff.toExponential(2)}`,
          );
          assert.ok(nodeDiff <= TOLERANCE, `onnxruntime-node differs by ${nodeDiff}`);
          assert.ok(pyDiff <= TOLERANCE, `python onnxruntime differs by ${pyDiff}`);

          // text: ocrops predict on the export folder vs the contract's decoding of each runtime's logits
          const preds = await predict({
            modelDir: out,
            inputs: held.files,
            batchSize: held.files.length,
            beam: decode.beamWidth,
          });
          const ocropsTexts = preds.map((p) => p.text);
          const W = batch.shape[2];
          for (const [runtime, logits] of [
            ['onnxruntime-node', nodeOut.data as Float32Array],
            ['python onnxruntime', py.logits],
          ] as const) {
            const dec = contractDecode(contract, logits, refDims, batch.widths, W);
            assert.deepEqual(dec.texts, ocropsTexts, runtime);
            dec.confidence.forEach((conf, k) =>
              assert.ok(
                Math.abs(conf - preds[k].confidence) <= 1e-5,
                `${runtime} line ${k}: confidence ${conf} vs ${preds[k].confidence}`,
              ),
            );
          }
          t.diagnostic(`${c.name}: texts ${JSON.stringify(ocropsTexts.map((s) => s.slice(0, 24)))}`);
          assert.ok(
            ocropsTexts.some((s) => s.length > 0),
            `every line decodes to '' (outputs are trivial): ${JSON.stringify(ocropsTexts)}`,
          );

          // dynamic batch: one line alone, at its own width
          const one = await contractBatch(contract, held.files.slice(1, 2));
          const single = (await session.run({ image: new ort.Tensor('float32', one.data, one.shape) })).logits;
          const { model: again } = await loadModel(out);
          const refOne = tf.tidy(
            () =>
              again
                .forward(tf.tensor4d(one.data, one.shape as [number, number, number, number]), false)
                .dataSync() as Float32Array,
          );
          again.dispose();
          assert.ok(maxAbsDiff(refOne, single.data as Float32Array) <= TOLERANCE);
          await session.release();
        });
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test(
  'export --format tfjs writes no ONNX graph and a contract without one; bad formats are refused',
  { skip: !DATASET && 'vn-handwriting is absent from ../shared/datasets' },
  async () => {
    await selectBackend({ quiet: true });
    const work = mkdtempSync(join(tmpdir(), 'ocrops-export-tfjs-'));
    try {
      const charset = Charset.vietnamese();
      const cfg: ModelConfig = {
        ...defaultModelConfig('small'),
        height: H,
        channels: 1,
        embedDim: 8,
        rnn: { type: 'gru', hidden: 8, layers: 1, bidirectional: true, dropout: 0 },
      };
      const model = createModel(cfg, charset.numClasses);
      await model.save(join(work, 'model'), { charset: charset.toJSON() });
      model.dispose();
      const out = join(work, 'out');
      await exportModel({ model: join(work, 'model'), out });
      assert.ok(existsSync(join(out, 'model.onnx')));
      const res = await exportModel({ model: join(work, 'model'), out, format: 'tfjs' });
      assert.ok(
        !existsSync(join(out, 'model.onnx')),
        'a stale model.onnx must not stay beside a contract that does not name it',
      );
      assert.deepEqual(readContract(join(out, CONTRACT_FILE)).files, { tfjs: 'model.json' });
      assert.equal(res.contract.opset, undefined);
      assert.match(
        readFileSync(join(out, 'README.md'), 'utf8'),
        /tf\.loadLayersModel and tf\.loadGraphModel cannot load them/,
      );
      await assert.rejects(
        exportModel({ model: join(work, 'model'), out, format: 'savedmodel' as never }),
        /export format 'savedmodel'/,
      );
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
