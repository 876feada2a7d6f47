import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher, type BatchItem, type ItemOutput } from './batcher.js';

const item = (width: number): BatchItem => ({ pixels: new Float32Array(width), width });

/** A runner that records the widths of each batch and answers each line with its own width as data. */
function recorder(failOn?: number) {
  const batches: number[][] = [];
  const run = async (items: BatchItem[]): Promise<ItemOutput[]> => {
    batches.push(items.map((i) => i.width));
    await new Promise((r) => setTimeout(r, 5));
    if (failOn !== undefined && items.some((i) => i.width === failOn)) throw new Error('runtime failed');
    return items.map((i) => ({
      data: Float32Array.of(i.width),
      offset: 0,
      frames: 1,
      classes: 1,
      batchSize: items.length,
    }));
  };
  return { batches, run };
}

test('concurrent lines are grouped up to maxBatch and each gets its own output', async () => {
  const r = recorder();
  // (a long delay: the full queue, not the timer, must form the first batch even if this process is descheduled)
  const b = new Batcher(r.run, { maxBatch: 4, maxDelayMs: 400, widthRatio: 10 });
  const outs = await Promise.all([100, 101, 102, 103, 104, 105].map((w) => b.submit(item(w))));
  assert.deepEqual(
    outs.map((o) => o.data[0]),
    [100, 101, 102, 103, 104, 105],
  );
  assert.deepEqual(
    r.batches.map((x) => x.length),
    [4, 2],
  );
  assert.equal(outs[0].batchSize, 4);
});

test('a lone line waits at most maxDelayMs', async () => {
  const r = recorder();
  const b = new Batcher(r.run, { maxBatch: 16, maxDelayMs: 30, widthRatio: 1.5 });
  const t0 = Date.now();
  await b.submit(item(50));
  const ms = Date.now() - t0;
  assert.ok(ms >= 25 && ms < 1000, `waited ${ms} ms`);
});

test('width buckets: a batch takes the oldest line and the closest widths within the ratio', async () => {
  const r = recorder();
  const b = new Batcher(r.run, { maxBatch: 8, maxDelayMs: 300, widthRatio: 1.5 });
  await Promise.all([100, 900, 120, 1000, 140, 95].map((w) => b.submit(item(w))));
  for (const batch of r.batches) {
    assert.ok(Math.max(...batch) / Math.min(...batch) <= 1.5, `batch [${batch}] mixes widths beyond 1.5x`);
  }
  assert.deepEqual(
    r.batches,
    [
      [100, 95, 120, 140],
      [900, 1000],
    ],
    'the oldest line and its closest widths, then the wide ones',
  );
});

test('parallel: up to N batches run at the same time', async () => {
  let running = 0;
  let most = 0;
  const run = async (items: BatchItem[]): Promise<ItemOutput[]> => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return items.map(() => ({ data: new Float32Array(1), offset: 0, frames: 1, classes: 1, batchSize: items.length }));
  };
  const b = new Batcher(run, { maxBatch: 2, maxDelayMs: 1, widthRatio: 2, parallel: 2 });
  await Promise.all(Array.from({ length: 12 }, () => b.submit(item(10))));
  assert.equal(most, 2);
});

test('a failed run rejects only the lines of that batch; drain waits for queued lines', async () => {
  const r = recorder(7);
  const b = new Batcher(r.run, { maxBatch: 2, maxDelayMs: 5, widthRatio: 1.01 });
  const bad = b.submit(item(7));
  const good = b.submit(item(500));
  await assert.rejects(bad, /runtime failed/);
  assert.equal((await good).data[0], 500);
  const late = b.submit(item(300));
  await b.drain();
  assert.equal((await late).data[0], 300);
  await assert.rejects(b.submit(item(1)), /shutting down/);
});

test('options are checked', () => {
  assert.throws(() => new Batcher(recorder().run, { maxBatch: 0, maxDelayMs: 1, widthRatio: 1.5 }), /--max-batch/);
});
