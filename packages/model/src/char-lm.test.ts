import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CharNgramLm } from './char-lm.js';
import { beamSearchDecode } from './decode.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('a character bigram model: Witten-Bell probabilities by hand, a distribution per context, round trip', () => {
  // classes: 0 boundary/blank, 1 'a', 2 'b', 3 'c'; lines "ab", "ab", "ac"
  const lm = CharNgramLm.estimate(
    [
      [1, 2],
      [1, 2],
      [1, 3],
    ],
    2,
    4,
  );
  // unigram counts over the predicted ids: a 3, b 2, c 1, end 3 (total 9, 4 types), interpolated with uniform 1/4
  const uni = (n: number) => (n + 4 * 0.25) / (9 + 4);
  // after 'a': b 2, c 1 (total 3, 2 types)
  const afterA = lm.logProbs(lm.contextOf([1])).map(Math.exp);
  close(afterA[2], (2 + 2 * uni(2)) / (3 + 2));
  close(afterA[3], (1 + 2 * uni(1)) / (3 + 2));
  close(afterA[0], (2 * uni(3)) / (3 + 2)); // 'a' never ended a line: only the lower order's share
  // the line's start: 'a' 3 times out of 3
  const start = lm.logProbs(lm.contextOf([])).map(Math.exp);
  close(start[1], (3 + 1 * uni(3)) / (3 + 1));
  for (const ctx of [[], [1], [2], [3], [1, 2]]) {
    close(
      lm.logProbs(lm.contextOf(ctx)).reduce((s, l) => s + Math.exp(l), 0),
      1,
    );
  }
  // after 'c' (seen once, ending the line), 'a' only has the lower order's share
  close(Math.exp(lm.logProbs(lm.contextOf([3]))[1]), (1 * uni(3)) / (1 + 1));
  // a context never seen is the lower order's distribution
  const tri = CharNgramLm.estimate([[1, 2]], 3, 4);
  assert.deepEqual([...tri.logProbs(tri.contextOf([3, 3]))], [...tri.logProbs(tri.contextOf([3]))]);
  const back = CharNgramLm.fromJSON(JSON.parse(JSON.stringify(lm)), 'lm.json', 4);
  assert.deepEqual([...back.logProbs(back.contextOf([1]))], [...lm.logProbs(lm.contextOf([1]))]);
});

test('a group of interchangeable characters is one token whose probability its members share: by hand', () => {
  // classes: 0 boundary, 1 'a', 2 'b', 3 '1', 4 '2' with the digits {3, 4} one token (4 tokens in all);
  // lines "a1", "a2", "a1": unigram counts a 3, digit 3, end 3 (total 9, 3 types) over a uniform 1/4
  const lm = CharNgramLm.estimate(
    [
      [1, 3],
      [1, 4],
      [1, 3],
    ],
    2,
    5,
    [[3, 4]],
  );
  const p = (prefix: number[]) => Array.from(lm.logProbs(lm.contextOf(prefix)), Math.exp);
  const unigramDigit = (3 + 3 / 4) / 12; // 0.3125, shared by '1' and '2'
  const unigramB = 3 / 4 / 12;
  // after 'a': the digit token 3 times (1 type): P(digit | a) = (3 + P1(digit)) / 4, halved per digit
  const afterA = p([1]);
  close(afterA[3], (3 + unigramDigit) / 4 / 2);
  close(afterA[4], afterA[3]);
  close(afterA[2], unigramB / 4);
  close(
    afterA.reduce((s, x) => s + x, 0),
    1,
  );
  // '1' and '2' are the same context: the end of the line follows either 3 times
  assert.deepEqual(p([3]), p([4]));
  close(p([4])[0], (3 + (3 + 3 / 4) / 12) / 4);
  const back = CharNgramLm.fromJSON(JSON.parse(JSON.stringify(lm.toJSON())), 'lm.json', 5);
  assert.deepEqual(back.groups, [[3, 4]]);
  assert.deepEqual(Array.from(back.logProbs(back.contextOf([1]))), Array.from(lm.logProbs(lm.contextOf([1]))));
  assert.throws(
    () => CharNgramLm.estimate([[1]], 2, 5, [[3, 5]]),
    /groups: group 0: 5 is not a character class \(1\.\.4\)/,
  );
  assert.throws(() => CharNgramLm.estimate([[1]], 2, 5, [[3, 3]]), /group 0 must list at least 2 distinct/);
  assert.throws(() => CharNgramLm.estimate([[1]], 2, 5, [[3, 4, 3]]), /group 0 lists class id 3 twice/);
  assert.throws(
    () =>
      CharNgramLm.estimate([[1]], 2, 5, [
        [3, 4],
        [2, 4],
      ]),
    /group 1 shares a character with group 0/,
  );
  assert.throws(
    () => CharNgramLm.fromJSON({ ...lm.toJSON(), groups: [[0, 1]] }, 'm/lm.json'),
    /m\/lm\.json: field 'groups'/,
  );
  // '2' (id 4) is counted as '1' (id 3), its group's first: only a hand-edited file gives it counts of its own
  const memberCounts = { ...lm.toJSON(), contexts: { '': [[4, 1]] } };
  assert.throws(() => CharNgramLm.fromJSON(memberCounts, 'm/lm.json'), /context '' must be a list of \[class id/);
});

test('a language model refuses what does not fit: bad ids, another class count, a foreign file', () => {
  assert.throws(() => CharNgramLm.estimate([[1, 4]], 2, 4), /label id 4/);
  assert.throws(() => CharNgramLm.estimate([[1, 0, 2]], 2, 4), /label id 0/);
  assert.throws(() => CharNgramLm.estimate([[1]], 0, 4), /order must be an integer >= 1/);
  const lm = CharNgramLm.estimate([[1, 2]], 3, 4);
  assert.throws(() => CharNgramLm.fromJSON(lm.toJSON(), 'm/lm.json', 5), /m\/lm\.json: it was estimated for 4 classes/);
  assert.throws(() => CharNgramLm.fromJSON({ format: 'x' }, 'm/lm.json'), /not an ocrops language model/);
  const oldLayout = { ...lm.toJSON(), contexts: { '0': [1, 1, [[1, 1]]] } };
  assert.throws(
    () => CharNgramLm.fromJSON(oldLayout, 'm/lm.json'),
    /m\/lm\.json: context '0' must be a list of \[class id/,
  );
  const foreignId = { ...lm.toJSON(), contexts: { '0': [[4, 1]] } };
  assert.throws(() => CharNgramLm.fromJSON(foreignId, 'm/lm.json'), /class id below 4/);
  const logits = tf.zeros([1, 3, 5]) as tf.Tensor3D;
  assert.throws(
    () => beamSearchDecode(logits, { beamWidth: 2, fusion: { lm, weight: 1, bonus: 0 } }),
    /estimated for 4 classes, the logits have 5/,
  );
});

test('beam search with a language model reads the likely word where the frames are ambiguous', () => {
  // classes: 0 blank, 1 'c', 2 'a', 3 'r', 4 'e'; the second letter's frame hesitates between 'a' (0.45) and 'e' (0.55)
  const frame = (p: Record<number, number>) => {
    const rest = 1 - Object.values(p).reduce((s, v) => s + v, 0);
    return [0, 1, 2, 3, 4].map((k) => Math.log(p[k] ?? rest / (5 - Object.keys(p).length)));
  };
  const logits = tf.tensor3d([
    [frame({ 1: 0.97 }), frame({ 0: 0.97 }), frame({ 2: 0.45, 4: 0.53 }), frame({ 3: 0.97 })],
  ]);
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 8 }).ids, [[1, 4, 3]]); // "cer"
  const lm = CharNgramLm.estimate(
    Array.from({ length: 20 }, () => [1, 2, 3]),
    3,
    5,
  ); // "car" x 20
  const fused = beamSearchDecode(logits, { beamWidth: 8, fusion: { lm, weight: 0.5, bonus: 0 } });
  assert.deepEqual(fused.ids, [[1, 2, 3]]); // "car"
  // the confidence stays the frames' own: P("car") alone
  const plain = beamSearchDecode(logits, { beamWidth: 8 });
  assert.ok(fused.confidence[0] < plain.confidence[0]);
  // weight 0 and bonus 0 is the search without a model
  assert.deepEqual(beamSearchDecode(logits, { beamWidth: 8, fusion: { lm, weight: 0, bonus: 0 } }).ids, plain.ids);
});
