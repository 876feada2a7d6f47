import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repeatFactors, repeatedLength, repeatedOrder } from './repeat-factors.js';
import { Rng } from './rng.js';

test('repeatFactors: sqrt(t / f) of the rarest label, at least 1', () => {
  // 'a' is on every line (f 1), 'b' on half (f 0.5), 'c' on one line of eight (f 0.125), 'd' on one
  const lines = ['ab', 'ab', 'ab', 'ab', 'a', 'a', 'ac', 'ad'];
  const r = repeatFactors(lines, 0.5);
  assert.deepEqual(
    [...r].map((x) => +x.toFixed(6)),
    [1, 1, 1, 1, 1, 1, 2, 2],
  );
  const r2 = repeatFactors(lines, 1);
  assert.equal(+r2[0].toFixed(6), +Math.sqrt(2).toFixed(6), 'a line with b: sqrt(1 / 0.5)');
  assert.equal(r2[4], 1, 'a line of a only');
  assert.equal(+r2[6].toFixed(6), +Math.sqrt(8).toFixed(6));
  // a label repeated within one line counts once
  assert.deepEqual(
    [...repeatFactors(['aaaa', 'b', 'b', 'b'], 1)],
    [2, 1, 1, 1].map((x, i) => (i === 0 ? x : Math.sqrt(4 / 3))),
  );
  // classes: one label per item
  assert.deepEqual([...repeatFactors([['cat'], ['cat'], ['cat'], ['dog']], 0.25)], [1, 1, 1, 1]);
  assert.deepEqual([...repeatFactors(lines, 0)], new Array(8).fill(1));
  assert.throws(() => repeatFactors(lines, 1.5), /repeat threshold/);
  assert.throws(() => repeatFactors(lines, Number.NaN), /repeat threshold/);
});

test('repeatedOrder: each item about r times and at least once, a fixed length, seeded', () => {
  const repeats = [1, 1, 2.5, 1, 4, 1.2, 1, 1, 3, 1];
  const total = repeatedLength(repeats);
  assert.equal(total, 17);
  for (const seed of [1, 2, 3, 4, 5]) {
    const order = repeatedOrder(repeats, new Rng(seed));
    assert.equal(order.length, total, 'the same length in every epoch');
    const counts = new Array(repeats.length).fill(0);
    for (const i of order) counts[i] += 1;
    counts.forEach((c, i) => {
      // r scaled to fill the rounded-up epoch (17 positions for a sum of 16.7)
      const x = (repeats[i] * total) / 16.7;
      assert.ok(c >= Math.floor(x) && c <= Math.ceil(x), `item ${i}: drawn ${c} times for r ${repeats[i]}`);
    });
  }
  assert.deepEqual(repeatedOrder(repeats, new Rng(9)), repeatedOrder(repeats, new Rng(9)));
  assert.notDeepEqual(repeatedOrder(repeats, new Rng(9)), repeatedOrder(repeats, new Rng(10)));
  // on average over epochs an item is drawn r times
  const mean = new Array(repeats.length).fill(0);
  const epochs = 2000;
  for (let e = 0; e < epochs; e++) for (const i of repeatedOrder(repeats, new Rng(e))) mean[i] += 1 / epochs;
  mean.forEach((m, i) =>
    assert.ok(Math.abs(m - (repeats[i] * 17) / 16.7) < 0.1, `item ${i}: mean ${m.toFixed(3)}, r ${repeats[i]}`),
  );
  // factors of 1: a permutation
  assert.deepEqual([...repeatedOrder([1, 1, 1, 1, 1], new Rng(3))].sort(), [0, 1, 2, 3, 4]);
  assert.throws(() => repeatedOrder([1, 0.5], new Rng(1)), /repeat factors must be >= 1/);
});
