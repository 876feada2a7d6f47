// The classifier kind of the export contract (`task: 'classify'`): built from a classifier config, read back
// identical, checked field by field; OCR contracts without `task` (written before classifiers existed) stay valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOcropsError } from '@ocrops/common';
import { defaultClassifierConfig } from './classifier-config.js';
import { defaultModelConfig } from './config.js';
import {
  CONTRACT_FILE,
  buildClassifierContract,
  buildContract,
  parseClassifierContract,
  parseContract,
  parseTaskContract,
  readContract,
  readTaskContract,
} from './contract.js';

const CLASSES = ['ADONIS', 'AFRICAN GIANT SWALLOWTAIL', 'AMERICAN SNOOT', 'AN 88', 'APPOLLO', 'ATALA'];

test('a classifier contract states input size, normalisation, outputs and top-k, and reads back identical', () => {
  const cfg = { ...defaultClassifierConfig('resnet_gap'), height: 96, width: 112 };
  const c = buildClassifierContract({
    config: cfg,
    classes: CLASSES,
    files: { onnx: 'model.onnx', tfjs: 'model.json' },
    opset: 17,
  });
  assert.deepEqual(c.input, {
    name: 'image',
    layout: 'NHWC',
    dtype: 'float32',
    height: 96,
    width: 112,
    resize: 'stretch',
    channels: 3,
    normalisation: { scale: 1 / 255, offset: 0 },
  });
  assert.deepEqual(
    c.outputs.map((o) => [o.name, o.kind, o.axes.join(',')]),
    [
      ['probabilities', 'probabilities', 'batch,classes'],
      ['logits', 'logits', 'batch,classes'],
    ],
  );
  assert.deepEqual([c.task, c.numClasses, c.topK, c.source.arch], ['classify', 6, 5, 'resnet_gap']);
  assert.equal(
    buildClassifierContract({ config: cfg, classes: CLASSES.slice(0, 3), files: { tfjs: 'model.json' } }).topK,
    3,
    'top-k at most the classes',
  );
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-cls-contract-'));
  try {
    writeFileSync(join(dir, CONTRACT_FILE), JSON.stringify(c));
    const back = readTaskContract(join(dir, CONTRACT_FILE));
    assert.deepEqual(back, c);
    assert.throws(
      () => readContract(join(dir, CONTRACT_FILE)),
      (e: unknown) => isOcropsError(e) && /'task' is 'classify'.*readTaskContract/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid classifier contracts are rejected naming the field', () => {
  const good = buildClassifierContract({
    config: defaultClassifierConfig('cnn4'),
    classes: CLASSES,
    files: { onnx: 'model.onnx' },
  });
  const cases: Array<[string, (c: Record<string, any>) => void]> = [
    ["'classes'", (c) => (c.classes = ['a', 'a', 'b', 'c', 'd', 'e'])],
    ["'classes'", (c) => (c.classes = ['a'])],
    ["'numClasses'", (c) => (c.numClasses = 7)],
    ["'input.resize'", (c) => (c.input.resize = 'crop')],
    ["'input.layout'", (c) => (c.input.layout = 'NCHW')],
    ["'input'", (c) => (c.input.width = 64)],
    ["'outputs[0].kind'", (c) => (c.outputs[0].kind = 'log_probs')],
    ["'outputs[1].axes'", (c) => (c.outputs[1].axes = ['batch', 'frames', 'classes'])],
    ["'topK'", (c) => (c.topK = 7)],
    ["'files'", (c) => (c.files = {})],
    ["'source.arch'", (c) => (c.source.arch = 'resnet_gap')],
    ['source.config', (c) => (c.source.config.depth = 2)],
  ];
  for (const [field, mutate] of cases) {
    const c = structuredClone(good) as Record<string, any>;
    mutate(c);
    assert.throws(
      () => parseClassifierContract(c, 'x.json'),
      (e: unknown) =>
        isOcropsError(e) &&
        e.code === 'OCROPS_CONTRACT_INVALID' &&
        e.message.includes(field) &&
        e.message.includes('x.json'),
      field,
    );
  }
  assert.deepEqual(parseTaskContract(structuredClone(good), 'x.json'), good);
});

test('OCR contracts stay valid unchanged; one without task (written before classifiers) is an OCR contract', () => {
  const ocr = buildContract({
    config: defaultModelConfig('small'),
    charset: ['1', '2'],
    files: { onnx: 'model.onnx' },
  });
  assert.deepEqual(parseContract(structuredClone(ocr), 'x.json'), ocr);
  assert.deepEqual(parseTaskContract(structuredClone(ocr), 'x.json'), ocr);
  const old = structuredClone(ocr) as unknown as Record<string, unknown>;
  delete old.task;
  assert.deepEqual(parseTaskContract(old, 'old.json'), ocr);
  assert.equal(parseContract(old, 'old.json').task, 'ocr');
  assert.throws(
    () => parseTaskContract({ ...structuredClone(ocr), task: 'detect' }, 'x.json'),
    /'task' must be one of ocr/,
  );
});
