import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { beamSearchDecode, greedyDecode } from './decode.js';
import { ctcLoss } from './ctc.js';

/** Logits whose softmax is exactly `probs` ([B][T][C] probabilities). */
function fromProbs(probs: number[][][]): tf.Tensor3D {
  return tf.tensor3d(probs.map((s) => s.map((f) => f.map(Math.log))));
}

test('greedy decoding collapses repeats, drops blanks, keeps repeats separated by a blank', () => {
  const p = (k: number) => [0, 1, 2, 3].map((c) => (c === k ? 0.9 : 0.1 / 3));
  const logits = fromProbs([
    [p(1), p(1), p(0), p(1), p(2), p(2), p(0), p(0)],
    [p(0), p(0), p(0), p(0), p(0), p(0), p(0), p(0)],
    [p(3), p(0), p(3), p(3), p(0), p(3), p(0), p(0)],
  ]);
  const { ids, confidence } = greedyDecode(logits);
  assert.deepEqual(ids, [[1, 1, 2], [], [3, 3, 3]]);
  for (const c of confidence) assert.ok(Math.abs(c - 0.9) < 1e-6);
  assert.deepEqual(greedyDecode(logits, { lengths: [3, 8, 1] }).ids, [[1], [], [3]]);
});

test('prefix beam search sums alignments: finds "a" where greedy finds ""', () => {
  const logits = fromProbs([
    [
      [0.6, 0.4],
      [0.6, 0.4],
    ],
  ]);
  const g = greedyDecode(logits);
  assert.deepEqual(g.ids, [[]]);
  assert.ok(Math.abs(g.confidence[0] - 0.6) < 1e-6); // sqrt(0.36)
  const b = beamSearchDecode(logits, { beamWidth: 4 });
  assert.deepEqual(b.ids, [[1]]);
  assert.ok(Math.abs(b.confidence[0] - 0.8) < 1e-6); // sqrt(P("a") = 0.64)
  // its probability agrees with the CTC loss
  const nll = ctcLoss(logits, [[1]], { reduction: 'none' }).dataSync()[0];
  assert.ok(Math.abs(Math.exp(-nll) - 0.64) < 1e-6);
});

test('beam search agrees with greedy on peaked outputs and handles repeats', () => {
  const p = (k: number) => [0, 1, 2].map((c) => (c === k ? 0.98 : 0.01));
  const logits = fromProbs([[p(1), p(0), p(1), p(2), p(2), p(0)]]);
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 8 }).ids, greedyDecode(logits).ids);
  assert.deepEqual(greedyDecode(logits).ids, [[1, 1, 2]]);
  assert.throws(() => beamSearchDecode(logits, { beamWidth: 0 }), /beamWidth must be an integer >= 1/);
});

test('beam search extends each frame by its most probable characters only (maxCandidates)', () => {
  // blank, a, b, c: "b" sums to 0.16 + 0.06 + 0.06 = 0.28 over its alignments, "ac" is 0.45 * 0.45 = 0.2025
  const logits = fromProbs([
    [
      [0.15, 0.45, 0.4, 0],
      [0.15, 0, 0.4, 0.45],
    ],
  ]);
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 4 }).ids, [[2]]);
  // with one character per frame, 'b' (second in both frames) is never tried
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 4, maxCandidates: 1 }).ids, [[1, 3]]);
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 4, maxCandidates: 2 }).ids, [[2]]);
});
