import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, renameSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { OcropsError } from '@ocrops/common';
import { selectBackend } from '@ocrops/model';
import {
  assignWeights,
  findCheckpoint,
  freshState,
  optimizerTensors,
  readCheckpoint,
  restoreOptimizer,
  writeCheckpoint,
} from './checkpoint.js';
import { frameLengths, labelsTooLong } from './labels.js';
import { hashSeed, mulberry32, withSeededRandom } from './rng.js';

await selectBackend({ quiet: true });

/** A tiny least-squares problem: w [3,2], b [2]; returns the loss function for a fixed batch. */
function problem(prefix: string) {
  const w = tf.variable(
    tf.tensor2d([
      [0.1, -0.2],
      [0.3, 0.05],
      [-0.4, 0.2],
    ]),
    true,
    `${prefix}_w`,
  );
  const b = tf.variable(tf.tensor1d([0.01, -0.03]), true, `${prefix}_b`);
  const x = tf.tensor2d([
    [1, 2, 3],
    [0.5, -1, 2],
  ]);
  const y = tf.tensor2d([
    [1, 0],
    [0, 1],
  ]);
  const loss = () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;
  return { vars: [w, b], loss };
}

async function steps(opt: tf.Optimizer, p: ReturnType<typeof problem>, n: number) {
  for (let i = 0; i < n; i++) opt.minimize(p.loss, false, p.vars);
}

for (const name of ['adam', 'rmsprop'] as const) {
  test(`${name}: a restored checkpoint continues exactly like the uninterrupted optimiser`, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ocrops-ckpt-')), 'last');
    const make = () => (name === 'adam' ? tf.train.adam(0.05) : tf.train.rmsprop(0.05));
    const a = problem(`${name}a`);
    const optA = make();
    await steps(optA, a, 5);
    const state = { ...freshState('h'), step: 5, epoch: 1, batchInEpoch: 2 };
    await writeCheckpoint(dir, { state, model: a.vars, optimizer: await optimizerTensors(optA) });
    await steps(optA, a, 4);

    const b = problem(`${name}b`);
    const optB = make();
    const ck = readCheckpoint(dir);
    assert.equal(ck.state.step, 5);
    assert.equal(ck.state.batchInEpoch, 2);
    assignWeights(b.vars, ck.model, dir);
    await restoreOptimizer(optB, ck.optimizer);
    await steps(optB, b, 4);
    for (let i = 0; i < a.vars.length; i++) {
      assert.deepEqual(
        Array.from(b.vars[i].dataSync()),
        Array.from(a.vars[i].dataSync()),
        `variable ${i} after resume`,
      );
    }
  });
}

test('checkpoints are replaced atomically and a half-finished swap is still readable', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ocrops-ckpt-')), 'last');
  const v = [tf.variable(tf.tensor1d([1, 2, 3]), true, 'atomic_v')];
  await writeCheckpoint(dir, { state: { ...freshState('h'), step: 1 }, model: v, optimizer: [] });
  await writeCheckpoint(dir, { state: { ...freshState('h'), step: 2 }, model: v, optimizer: [] });
  assert.equal(readCheckpoint(dir).state.step, 2);
  assert.ok(!existsSync(`${dir}.old`) && !existsSync(`${dir}.tmp-${process.pid}`));
  // A crash between "rename last -> last.old" and "rename tmp -> last" leaves only last.old.
  renameSync(dir, `${dir}.old`);
  assert.equal(findCheckpoint(dir), `${dir}.old`);
  assert.equal(readCheckpoint(dir).state.step, 2);
  renameSync(`${dir}.old`, dir);
  truncateSync(join(dir, 'tensors.bin'), 4);
  assert.throws(
    () => readCheckpoint(dir),
    (e: unknown) => e instanceof OcropsError && /truncated/.test(e.message),
  );
  assert.throws(
    () => readCheckpoint(join(dir, 'nothing')),
    (e: unknown) => e instanceof OcropsError && e.code === 'OCROPS_TRAIN_NO_CHECKPOINT',
  );
});

test('assignWeights refuses a checkpoint of another model shape', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ocrops-ckpt-')), 'last');
  await writeCheckpoint(dir, {
    state: freshState('h'),
    model: [tf.variable(tf.zeros([2, 2]), true, 'shape_a')],
    optimizer: [],
  });
  const ck = readCheckpoint(dir);
  assert.throws(
    () => assignWeights([tf.variable(tf.zeros([3, 2]), true, 'shape_b')], ck.model, dir),
    /has shape \[2,2\] in the checkpoint/,
  );
  assert.throws(() => assignWeights([], ck.model, dir), /holds 1 weight tensors but the model has 0/);
});

test('labelsTooLong counts repeats as needing a separating blank', () => {
  // T = 4: [1,2,3,4] needs 4, [1,1,2] needs 4, [1,1,1] needs 5, [5,6,7,8,9] needs 5
  assert.deepEqual(
    labelsTooLong(
      [
        [1, 2, 3, 4],
        [1, 1, 2],
        [1, 1, 1],
        [5, 6, 7, 8, 9],
      ],
      4,
    ),
    [2, 3],
  );
  assert.deepEqual(labelsTooLong([[]], 0), []);
  // per-sample frame counts: the short image of a padded batch has fewer frames
  assert.deepEqual(
    labelsTooLong(
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      [2, 3],
    ),
    [0],
  );
});

test("frameLengths: each image's own output frames, capped at the batch T, at least 1", () => {
  const vggLike = { outputLength: (w: number) => Math.floor(Math.floor(w / 2) / 2) - 1 };
  assert.deepEqual(frameLengths(vggLike, [256, 100, 8, 4, 300], 256), [63, 24, 1, 1, 63]);
});

test('seeded Math.random is reproducible and restored afterwards', () => {
  const original = Math.random;
  const a = withSeededRandom(hashSeed(42, 'step', 7), () => [Math.random(), Math.random()]);
  const b = withSeededRandom(hashSeed(42, 'step', 7), () => [Math.random(), Math.random()]);
  const c = withSeededRandom(hashSeed(42, 'step', 8), () => [Math.random(), Math.random()]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(Math.random, original);
  const r = mulberry32(1);
  for (let i = 0; i < 1000; i++) {
    const x = r();
    assert.ok(x >= 0 && x < 1);
  }
  // tfjs dropout draws from Math.random when unseeded: same seed, same mask.
  const m1 = withSeededRandom(5, () => tf.dropout(tf.ones([64]), 0.5).dataSync());
  const m2 = withSeededRandom(5, () => tf.dropout(tf.ones([64]), 0.5).dataSync());
  assert.deepEqual(Array.from(m1), Array.from(m2));
});
