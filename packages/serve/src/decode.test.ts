import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { greedyDecode } from '@ocrops/model';
import { charConfidencesOf, greedyLine } from './decode.js';

const contract = { charset: ['a', 'b', 'c'], blank: 0 };

/** Logits [T, 4] with a strong class per frame. */
function frames(classes: number[]): Float32Array {
  const out = new Float32Array(classes.length * 4).fill(-2);
  classes.forEach((k, t) => (out[t * 4 + k] = 3 + t * 0.1));
  return out;
}

test('greedy decoding: repeats collapse, blanks separate, one confidence per character; matches @ocrops/model', () => {
  const ids = [1, 1, 0, 1, 2, 0, 0, 3, 3];
  const data = frames(ids);
  const line = greedyLine({ data, offset: 0, frames: ids.length, classes: 4 }, contract);
  assert.equal(line.text, 'aabc');
  assert.equal(line.chars.length, 4);
  assert.ok(line.chars.every((c) => c.confidence > 0.5 && c.confidence <= 1));
  const logits = tf.tensor3d(data, [1, ids.length, 4]);
  const ref = greedyDecode(logits);
  logits.dispose();
  assert.deepEqual(ref.ids[0].map((k) => contract.charset[k - 1]).join(''), line.text);
  assert.ok(Math.abs(ref.confidence[0] - line.confidence) < 1e-6);
});

test('greedy decoding uses only the line own frames (offset and frame count)', () => {
  const a = frames([1, 0, 2]);
  const b = frames([3, 3, 0]);
  const both = new Float32Array([...a, ...b]);
  assert.equal(greedyLine({ data: both, offset: 12, frames: 2, classes: 4 }, contract).text, 'c');
});

test('character confidences for a beam-search transcript follow its frames in order', () => {
  const ids = [1, 0, 2, 0, 1];
  const c = charConfidencesOf([1, 2, 1], { data: frames(ids), offset: 0, frames: ids.length, classes: 4 }, contract);
  assert.deepEqual(
    c.map((x) => x.char),
    ['a', 'b', 'a'],
  );
  assert.ok(c.every((x) => x.confidence > 0.5));
});
