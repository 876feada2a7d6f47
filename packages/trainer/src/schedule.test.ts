import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcropsError } from '@ocrops/common';
import {
  budgetSteps,
  constantSchedule,
  freshPlateau,
  lrAt,
  plateauEpochEnd,
  readScheduleConfig,
  type ScheduleConfig,
} from './schedule.js';

const sched = (over: Partial<ScheduleConfig>): ScheduleConfig => ({ ...constantSchedule(), ...over });
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b), `${what}: ${a} vs ${b}`);
const closeAll = (a: number[], b: number[]) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => close(x, b[i], `[${i}] of [${a.join(', ')}]`));
};

test('constant schedule: the base lr at every step; linear warm-up from warmupStart', () => {
  const s = sched({ type: 'constant' });
  for (const step of [0, 1, 50, 999]) assert.equal(lrAt(s, 0.01, step, 1000), 0.01);
  const w = sched({ type: 'constant', warmupSteps: 4 });
  closeAll(
    [0, 1, 2, 3, 4, 5].map((i) => lrAt(w, 0.01, i, 100)),
    [0, 0.0025, 0.005, 0.0075, 0.01, 0.01],
  );
  const w2 = sched({ type: 'constant', warmupSteps: 2, warmupStart: 0.5 });
  closeAll(
    [0, 1, 2].map((i) => lrAt(w2, 0.1, i, 100)),
    [0.05, 0.075, 0.1],
  );
});

test('step schedule: lr * gamma^floor((step - warmup) / stepSize)', () => {
  const s = sched({ type: 'step', stepSize: 3, gamma: 0.5 });
  const got = [0, 1, 2, 3, 5, 6, 9].map((i) => lrAt(s, 0.08, i, 100));
  closeAll(got, [0.08, 0.08, 0.08, 0.04, 0.04, 0.02, 0.01]);
  const w = sched({ type: 'step', stepSize: 2, gamma: 0.1, warmupSteps: 2 });
  const gw = [0, 1, 2, 3, 4].map((i) => lrAt(w, 1, i, 100));
  closeAll(gw.slice(0, 4), [0, 0.5, 1, 1]);
  close(gw[4], 0.1, 'step 4');
});

test('cosine schedule: from lr down to minLr over the steps after the warm-up (PyTorch CosineAnnealingLR)', () => {
  const s = sched({ type: 'cosine', minLr: 0.001 });
  const total = 100;
  close(lrAt(s, 0.011, 0, total), 0.011, 'start');
  close(lrAt(s, 0.011, 50, total), 0.006, 'half-way: (lr + minLr) / 2');
  close(lrAt(s, 0.011, 25, total), 0.001 + (0.01 * (1 + Math.cos(Math.PI / 4))) / 2, 'quarter');
  close(lrAt(s, 0.011, 100, total), 0.001, 'end');
  close(lrAt(s, 0.011, 150, total), 0.001, 'past the end stays at minLr');
  const w = sched({ type: 'cosine', warmupSteps: 10 });
  close(lrAt(w, 1, 5, 110), 0.5, 'warm-up');
  close(lrAt(w, 1, 10, 110), 1, 'warm-up done');
  close(lrAt(w, 1, 60, 110), 0.5, 'cosine half-way after the warm-up');
});

test('onecycle schedule: the values of PyTorch OneCycleLR (cos anneal, pct_start 0.3, div 25, final div 1e4)', () => {
  const s = sched({ type: 'onecycle', pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 });
  const total = 11;
  // phase 1 ends at step 0.3 * 11 - 1 = 2.3, phase 2 at step 10
  const initial = 0.1 / 25;
  const final = initial / 1e4;
  const anneal = (a: number, b: number, p: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1);
  close(lrAt(s, 0.1, 0, total), initial, 'step 0');
  close(lrAt(s, 0.1, 1, total), anneal(initial, 0.1, 1 / 2.3), 'step 1');
  close(lrAt(s, 0.1, 2, total), anneal(initial, 0.1, 2 / 2.3), 'step 2');
  close(lrAt(s, 0.1, 3, total), anneal(0.1, final, 0.7 / 7.7), 'step 3');
  close(lrAt(s, 0.1, 10, total), final, 'last step');
  const values = Array.from({ length: total }, (_, i) => lrAt(s, 0.1, i, total));
  const peak = values.indexOf(Math.max(...values));
  assert.ok(peak === 2 || peak === 3, `peak near 30% of the run, at ${peak}`);
});

test('plateau schedule: lr * factor after more than `patience` epochs without relative improvement', () => {
  const s = sched({ type: 'plateau', factor: 0.5, patience: 1, threshold: 0.01, floorLr: 0.02 });
  const st = freshPlateau();
  const lrs: number[] = [];
  for (const v of [1.0, 0.9, 0.895, 0.899, 0.7, 0.71, 0.72, 0.8, 0.9, 0.9, 0.9]) {
    plateauEpochEnd(s, st, v, 'min');
    lrs.push(lrAt(s, 0.1, 0, 1, st));
  }
  // 0.895 is within 1% of 0.9 (not better); 0.899 the second bad epoch -> halve. 0.71, 0.72 -> halve; 0.8, 0.9 -> halve
  // (0.0125, floored at 0.02); then two more bad epochs -> 0.00625 floored.
  closeAll(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]);
  const mx = freshPlateau();
  plateauEpochEnd(s, mx, 0.5, 'max');
  assert.equal(plateauEpochEnd(s, mx, 0.5, 'max'), false);
  assert.equal(plateauEpochEnd(s, mx, 0.4, 'max'), true);
  assert.equal(mx.scale, 0.5);
});

test('schedule config: a type name or a mapping, clear errors for unknown types and unused keys', () => {
  const r = (v: unknown) => readScheduleConfig(v, 'train.yaml (optim.schedule)');
  assert.equal(r({ type: 'cosine', warmup_steps: 100, min_lr: 1e-5 }).minLr, 1e-5);
  assert.equal(r('cosine').type, 'cosine');
  const err = (v: unknown, re: RegExp) =>
    assert.throws(
      () => r(v),
      (e: unknown) => e instanceof OcropsError && re.test(e.message) && /train\.yaml/.test(e.message),
    );
  err({ type: 'linear' }, /type/);
  err({ type: 'cosine', gamma: 0.5 }, /gamma.*not used by schedule type 'cosine'/);
  err({ type: 'onecycle', warmup_steps: 5 }, /warmup_steps: is not used/);
  err({ type: 'step', gamma: 0 }, /gamma/);
  err({ type: 'cosine', warmupStep: 5 }, /warmupStep: is not a known field \(did you mean warmup_steps\?\)/);
});

test('time horizon: the schedule spans the steps that fit in the budget at the pace so far, within [step + 1, total]', () => {
  // 100 steps in 60 s of a 600 s budget: 1000 steps fit
  assert.equal(budgetSteps(100, 60, 600, 5000), 1000);
  // the epochs end first
  assert.equal(budgetSteps(100, 60, 600, 800), 800);
  // before any step, and past the budget (the schedule stays at its end)
  assert.equal(budgetSteps(0, 0, 600, 5000), 5000);
  assert.equal(budgetSteps(1200, 700, 600, 5000), 1201);
  // a one-cycle run cut at its budget ends at the final lr instead of its peak
  const s = sched({ type: 'onecycle', pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, horizon: 'time' });
  const last = 999;
  close(lrAt(s, 0.01, last, budgetSteps(last, 599.4, 600, 5000)), 0.01 / 25 / 1e4, 'final lr at the budget');
  assert.ok(lrAt(s, 0.01, last, 5000) > 0.007, 'on the epochs horizon the same step is still rising to the peak');
  assert.equal(readScheduleConfig({ type: 'cosine', horizon: 'time' }, '<t>').horizon, 'time');
  assert.throws(() => readScheduleConfig({ type: 'step', horizon: 'time' }, '<t>'), /horizon: is not used/);
});
