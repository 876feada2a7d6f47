import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestUpTo, shouldPrune } from './pruner.js';

const median = { type: 'median', minEpochs: 2, minTrials: 2 } as const;
const asha = { type: 'asha', minEpochs: 1, reductionFactor: 2 } as const;

test('median rule stops a trial worse than the median of its peers at the same epoch', () => {
  const others = [
    [1.0, 0.8, 0.6],
    [1.1, 0.9, 0.7],
    [1.2, 1.0, 0.9],
  ];
  assert.equal(shouldPrune(median, [1.5, 1.4], others, 2, false), true);
  assert.equal(shouldPrune(median, [1.0, 0.7], others, 2, false), false);
  // before minEpochs, or with too few peers, never
  assert.equal(shouldPrune(median, [9], others, 1, false), false);
  assert.equal(shouldPrune(median, [9, 9], others.slice(0, 1), 2, false), false);
  // maximize flips the comparison
  assert.equal(
    shouldPrune(
      median,
      [0.1, 0.2],
      [
        [0.5, 0.6],
        [0.4, 0.7],
      ],
      2,
      true,
    ),
    true,
  );
  assert.equal(
    shouldPrune(
      median,
      [0.1, 0.9],
      [
        [0.5, 0.6],
        [0.4, 0.7],
      ],
      2,
      true,
    ),
    false,
  );
});

test('ASHA promotes the top 1/eta at each rung and decides only at rungs', () => {
  const others = [
    [0.5, 0.4, 0.3, 0.2],
    [0.9, 0.8, 0.7, 0.6],
    [0.7, 0.6, 0.5, 0.4],
  ];
  // rung 1: 4 trials, keep 2: values 0.5, 0.7 kept; 0.8 and 0.9 stopped
  assert.equal(shouldPrune(asha, [0.6], others, 1, false), false);
  assert.equal(shouldPrune(asha, [0.8], others, 1, false), true);
  // epoch 3 is not a rung (1, 2, 4, ...)
  assert.equal(shouldPrune(asha, [0.6, 0.6, 0.99], others, 3, false), false);
  // first trial at a rung always continues
  assert.equal(shouldPrune(asha, [5], [], 1, false), false);
});

test('bestUpTo ignores missing values', () => {
  assert.equal(bestUpTo([NaN, 0.5, 0.7], 3, false), 0.5);
  assert.ok(Number.isNaN(bestUpTo([], 2, false)));
  assert.equal(
    shouldPrune(
      { type: 'none' },
      [9, 9],
      [
        [1, 1],
        [1, 1],
      ],
      2,
      false,
    ),
    false,
  );
});

test('median pruner: warm-up epochs and startup trials protect trials still on the plateau', () => {
  const warm = { type: 'median', minEpochs: 8, minTrials: 2 } as const;
  const plateau = [0, 0, 0, 0];
  // two completed trials that left the plateau by epoch 4: a trial still at 0 is not judged before the warm-up ends
  const completed = [
    [0, 0, 0.3, 0.5, 0.6, 0.6, 0.7, 0.7],
    [0, 0.1, 0.4, 0.5, 0.6, 0.7, 0.7, 0.72],
  ];
  assert.equal(shouldPrune(warm, plateau, completed, 4, true), false);
  // after the warm-up, a trial that stayed on the plateau is stopped
  assert.equal(shouldPrune(warm, [...plateau, 0, 0, 0, 0], completed, 8, true), true);
  // one completed trial is not enough (startup trials)
  assert.equal(shouldPrune(warm, [...plateau, 0, 0, 0, 0], completed.slice(0, 1), 8, true), false);
});
