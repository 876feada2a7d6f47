import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isOcropsError } from '@ocrops/common';
import { defaultModelConfig, ARCHS } from './config.js';
import { createModel } from './model.js';
import {
  CONTRACT_FILE,
  buildContract,
  charOfClass,
  frameLengthsForBatch,
  framesForWidth,
  minWidthForFrames,
  parseContract,
  readContract,
} from './contract.js';

test('the contract frame rule equals each architecture forward pass output length', () => {
  for (const arch of ARCHS) {
    const cfg = defaultModelConfig(arch);
    const model = createModel(
      { ...cfg, rnn: { ...cfg.rnn, hidden: 4, hiddenPerLayer: undefined }, innerDim: cfg.innerDim ? 16 : undefined },
      5,
    );
    try {
      const c = buildContract({ config: cfg, charset: ['a', 'b', 'c', 'd'], files: { onnx: 'model.onnx' } });
      for (let w = 1; w <= 67; w++)
        assert.equal(framesForWidth(c.decoding.frames, w), model.outputLength(w), `${arch} width ${w}`);
      assert.ok(framesForWidth(c.decoding.frames, c.input.width.min) >= 1);
      if (c.input.width.fixed !== undefined) {
        // a fixed-width model: that width only, its `steps` frames
        assert.equal(arch, 'resnet18');
        assert.deepEqual(
          [c.input.width.fixed, c.input.width.min, c.input.width.max],
          [cfg.width, cfg.width, cfg.width],
        );
        assert.equal(framesForWidth(c.decoding.frames, cfg.width!), cfg.steps);
      } else {
        assert.ok(framesForWidth(c.decoding.frames, c.input.width.min - 1) < 1, `${arch}: min width is the smallest`);
      }
    } finally {
      model.dispose();
    }
  }
  assert.deepEqual(frameLengthsForBatch([{ op: 'floorDiv', by: 4 }], [3, 40, 80], 80), [1, 10, 20]);
  assert.equal(
    minWidthForFrames([
      { op: 'floorDiv', by: 2 },
      { op: 'floorDiv', by: 2 },
      { op: 'add', value: -1 },
    ]),
    8,
  );
});

test('a written contract reads back identical; class ids map to characters around the blank', () => {
  const c = buildContract({
    config: { ...defaultModelConfig('vgg'), invert: true },
    charset: ['x', 'y'],
    files: { onnx: 'model.onnx', tfjs: 'model.json' },
    opset: 17,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-contract-'));
  writeFileSync(join(dir, CONTRACT_FILE), JSON.stringify(c));
  const back = readContract(join(dir, CONTRACT_FILE));
  assert.deepEqual(back, c);
  assert.equal(back.input.invert, true);
  assert.equal(back.input.width.min, 8);
  assert.deepEqual(
    [0, 1, 2].map((k) => charOfClass(back, k)),
    ['', 'x', 'y'],
  );
  assert.throws(() => charOfClass(back, 3), /outside the charset/);
});

test('resnet18: the contract states its fixed width and constant frame count, reads back identical, and is checked', () => {
  const cfg = { ...defaultModelConfig('resnet18'), width: 96, steps: 12 };
  const c = buildContract({ config: cfg, charset: ['A', 'B', '7'], files: { onnx: 'model.onnx' }, opset: 17 });
  assert.deepEqual(c.input.width, { fixed: 96, min: 96, multiple: 1, max: 96 });
  assert.deepEqual(c.decoding.frames, [{ op: 'const', value: 12 }]);
  assert.deepEqual(frameLengthsForBatch(c.decoding.frames, [96, 96], 96), [12, 12]);
  assert.deepEqual(parseContract(structuredClone(c), 'x.json'), c);
  const bad: Array<[string, (c: Record<string, any>) => void]> = [
    ["'input.width'", (x) => (x.input.width.max = 200)],
    ["'input.width.fixed'", (x) => (x.input.width.fixed = 0)],
    ["'decoding.frames[0].value'", (x) => (x.decoding.frames[0].value = 0)],
  ];
  for (const [field, mutate] of bad) {
    const x = structuredClone(c) as Record<string, any>;
    mutate(x);
    assert.throws(
      () => parseContract(x, 'x.json'),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_CONTRACT_INVALID' && e.message.includes(field),
      field,
    );
  }
  // the crnn recipe: vgg's rule, floor(W/4) - 1 (24 frames at width 100)
  const crnn = buildContract({ config: defaultModelConfig('crnn'), charset: ['a'], files: { onnx: 'model.onnx' } });
  assert.equal(framesForWidth(crnn.decoding.frames, 100), 24);
  assert.equal(crnn.input.width.fixed, undefined);
});

test('invalid contracts are rejected naming the field', () => {
  const good = buildContract({
    config: defaultModelConfig('small'),
    charset: ['1', '2'],
    files: { onnx: 'model.onnx' },
  });
  const cases: Array<[string, (c: Record<string, any>) => void]> = [
    ["'format'", (c) => (c.format = 'other/1')],
    ["'charset'", (c) => (c.charset = ['ab'])],
    ["'numClasses'", (c) => (c.numClasses = 7)],
    ["'input.channels'", (c) => (c.input.channels = 2)],
    ["'input.layout'", (c) => (c.input.layout = 'HWC')],
    ["'outputs[0].kind'", (c) => (c.outputs[0].kind = 'probs')],
    ["'decoding.frames[0].op'", (c) => (c.decoding.frames[0].op = 'mul')],
    ["'input.width.min'", (c) => (c.input.width.min = 1)],
    ["'files'", (c) => (c.files = {})],
    ['source.config', (c) => (c.source.config.rnn.type = 'rnn')],
  ];
  for (const [field, mutate] of cases) {
    const c = structuredClone(good) as Record<string, any>;
    mutate(c);
    assert.throws(
      () => parseContract(c, 'x.json'),
      (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_CONTRACT_INVALID' && e.message.includes(field),
      field,
    );
  }
  assert.throws(() => readContract('/nonexistent/ocrops-model.json'), /cannot read/);
});

/** Imports `specifier` in a child process whose module resolution refuses every @tensorflow package. */
function importWithoutTf(specifier: string): { status: number | null; stderr: string } {
  const hook =
    'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { if (s.startsWith("@tensorflow/")) throw new Error("TensorFlow imported: " + s); return next(s, c); }',
    );
  const code = `import { register } from 'node:module'; register(${JSON.stringify(hook)}); await import(${JSON.stringify(specifier)});`;
  const r = spawnSync(
    process.execPath,
    ['--conditions=@ocrops/source', '--import', 'tsx', '--input-type=module', '-e', code],
    {
      cwd: new URL('.', import.meta.url).pathname,
      encoding: 'utf8',
    },
  );
  return { status: r.status, stderr: r.stderr };
}

test('@ocrops/model/contract loads without TensorFlow (the package index does not)', () => {
  const contract = importWithoutTf('@ocrops/model/contract');
  assert.equal(contract.status, 0, contract.stderr);
  const index = importWithoutTf('@ocrops/model');
  assert.notEqual(index.status, 0);
  assert.match(index.stderr, /TensorFlow imported/);
});
