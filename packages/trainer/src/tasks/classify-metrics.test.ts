import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  ConfusionMatrix,
  cometConfusionMatrix,
  crossEntropy,
  mixedCrossEntropy,
  rankOf,
  topCorrect,
} from './classify-metrics.js';

test('cross-entropy with label smoothing equals PyTorch CrossEntropyLoss(label_smoothing) computed by hand', () => {
  const rows = [
    [2, 0.5, -1],
    [0, 0, 3],
  ];
  const labels = [0, 1];
  const e = 0.1;
  let want = 0;
  let plain = 0;
  rows.forEach((r, i) => {
    const lse = Math.log(r.reduce((a, v) => a + Math.exp(v), 0));
    const logp = r.map((v) => v - lse);
    plain += -logp[labels[i]];
    want += -(1 - e) * logp[labels[i]] - (e / 3) * logp.reduce((a, b) => a + b, 0);
  });
  const logits = tf.tensor2d(rows);
  assert.ok(Math.abs(crossEntropy(logits, labels, e).dataSync()[0] - want / 2) < 1e-5);
  assert.ok(Math.abs(crossEntropy(logits, labels, 0).dataSync()[0] - plain / 2) < 1e-5);
});

test('CutMix loss: own and partner cross-entropy weighted by the pixel shares; keep 1 is the plain loss', () => {
  const logits = tf.tensor2d([
    [2, 0.5, -1],
    [0, 0, 3],
  ]);
  const own = [0, 1];
  const partner = [2, 0];
  const ce = (labels: number[]) => crossEntropy(logits, labels, 0.1).dataSync()[0];
  const mixed = mixedCrossEntropy(logits, own, partner, 0.7, 0.1).dataSync()[0];
  assert.ok(Math.abs(mixed - (0.7 * ce(own) + 0.3 * ce(partner))) < 1e-6);
  assert.ok(Math.abs(mixedCrossEntropy(logits, own, partner, 1, 0.1).dataSync()[0] - ce(own)) < 1e-6);
});

test('top-1 and top-5 counts: the rank of the true class, ties counted against it', () => {
  assert.equal(rankOf([0.1, 0.5, 0.4], 1), 0);
  assert.equal(rankOf([0.1, 0.5, 0.4], 0), 2);
  assert.equal(rankOf([0.5, 0.5], 1), 1);
  const k = 6;
  const scores = new Float32Array([
    0.5,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1, // true 0: top-1
    0.3,
    0.2,
    0.15,
    0.15,
    0.12,
    0.08, // true 4: rank 4 -> top-5
    0.3,
    0.2,
    0.15,
    0.15,
    0.12,
    0.08, // true 5: rank 5 -> neither
  ]);
  assert.deepEqual(topCorrect(scores, k, [0, 4, 5], 5), { top1: 1, topk: 2 });
});

test('confusion matrix: per-class precision/recall and macro averages', () => {
  const cm = new ConfusionMatrix(['a', 'b', 'c']);
  for (const [t, p] of [
    [0, 0],
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 0],
    [2, 2],
  ])
    cm.add(t, p);
  const pc = cm.perClass();
  assert.deepEqual(
    pc.map((r) => [r.class, r.support, r.predicted]),
    [
      ['a', 3, 3],
      ['b', 2, 2],
      ['c', 1, 1],
    ],
  );
  assert.ok(Math.abs(pc[0].precision - 2 / 3) < 1e-12 && Math.abs(pc[0].recall - 2 / 3) < 1e-12);
  assert.equal(pc[1].precision, 0.5);
  assert.equal(pc[2].recall, 1);
  assert.ok(Math.abs(cm.macro().recall - (2 / 3 + 0.5 + 1) / 3) < 1e-12);
  assert.equal(cm.total, 6);
});

test('Comet confusion-matrix JSON: comet_ml to_json keys; above 25 classes the most confused 25, in class order', () => {
  const small = cometConfusionMatrix(Object.assign(new ConfusionMatrix(['x', 'y']), {}), { title: 'T' });
  assert.deepEqual(small, {
    version: 1,
    title: 'T',
    labels: ['x', 'y'],
    matrix: [
      [0, 0],
      [0, 0],
    ],
    rowLabel: 'Actual Category',
    columnLabel: 'Predicted Category',
    maxSamplesPerCell: 25,
    sampleMatrix: null,
    type: null,
  });
  const names = Array.from({ length: 30 }, (_, i) => `c${i}`);
  const cm = new ConfusionMatrix(names);
  // class i has i correct predictions: the 25 with the fewest are c0..c24
  names.forEach((_, i) => {
    for (let n = 0; n < i; n++) cm.add(i, i);
  });
  cm.add(3, 27);
  const j = cometConfusionMatrix(cm);
  assert.deepEqual(j.labels, names.slice(0, 25));
  assert.equal(j.matrix.length, 25);
  assert.equal(j.matrix[10][10], 10);
  assert.equal(
    j.matrix[3].reduce((a, b) => a + b, 0),
    3,
    'the confusion with c27 (not kept) is not shown',
  );
});
