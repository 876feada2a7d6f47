import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClassifierContract } from '@ocrops/model/contract';
import { isOcropsError } from '@ocrops/common';
import type { BatchItem } from './batcher.js';
import { createMetrics } from './metrics.js';
import { InputError } from './preprocess.js';
import type { InferenceRuntime } from './runtime.js';
import { ModelSlots, type SlotOptions } from './slots.js';

const contract = buildClassifierContract({
  config: {
    task: 'classify',
    arch: 'cnn4',
    height: 4,
    width: 6,
    channels: 1,
    baseChannels: 4,
    dropout: 0,
    tta: 'none',
  },
  classes: ['a', 'b', 'c'],
  files: { onnx: 'model.onnx' },
});
const image: BatchItem = { pixels: new Float32Array(4 * 6).fill(0.5), width: 6 };

/** A classifier runtime answering uniform probabilities; runs wait for `hold` when set; disposal is recorded. */
function testRuntime(id: string, events: string[]): InferenceRuntime & { hold?: Promise<void> } {
  const runtime: InferenceRuntime & { hold?: Promise<void> } = {
    name: 'onnx',
    contract,
    detail: `test runtime ${id}`,
    parallel: 1,
    async infer(_input, dims) {
      await runtime.hold;
      return { data: new Float32Array(dims[0] * 3).fill(1 / 3), dims: [dims[0], 3] };
    },
    async dispose() {
      events.push(`disposed ${id}`);
    },
  };
  return runtime;
}

function slotOptions(log: string[], extra: Partial<SlotOptions> = {}): SlotOptions {
  return {
    name: 'm',
    maxBatch: 4,
    maxDelayMs: 0,
    widthRatio: 1.5,
    metrics: createMetrics(4),
    log: (msg) => log.push(msg),
    cacheSize: 2,
    ...extra,
  };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('swap: new requests go to the new version; the old model is released after the request still holding it', async () => {
  const events: string[] = [];
  const log: string[] = [];
  const first = testRuntime('1', events);
  const slots = await ModelSlots.open(first, '1', { registry_model: 'm' }, slotOptions(log));
  assert.match(log[0], /^warm-up: \d+ ms$/);

  let finish!: () => void;
  first.hold = new Promise((r) => (finish = r));
  const inFlight = slots.withSlot(undefined, async (slot) => {
    await slot.batcher.submit(image);
    return slot.version;
  });
  await new Promise((r) => setTimeout(r, 20)); // the request's line runs on version 1 and waits there

  await slots.swap(testRuntime('2', events), '2', { registry_version: 2 });
  assert.equal(slots.version, '2');
  assert.ok(log.includes('now serving version 2 (was 1)'), log.join('\n'));
  assert.equal(events.length, 0, 'version 1 is still held by a request');
  const now = await slots.withSlot(undefined, async (slot) => ({ version: slot.version, parameters: slot.parameters }));
  assert.deepEqual(now, { version: '2', parameters: { registry_model: 'm', registry_version: 2 } });

  finish();
  assert.equal(await inFlight, '1');
  await until('version 1 released', () => events.includes('disposed 1'));
  assert.ok(log.includes('released version 1'));
  await slots.close(async () => {});
  assert.deepEqual(events, ['disposed 1', 'disposed 2']);
});

test('pinned versions: loaded once, least recently used released beyond the cache; unknown versions are 404s', async () => {
  const events: string[] = [];
  const loads: string[] = [];
  const loadVersion = async (v: string) => {
    loads.push(v);
    if (v === '9') throw Object.assign(new Error('no such version'), { status: 404 });
    return testRuntime(v, events);
  };
  const slots = await ModelSlots.open(
    testRuntime('1', events),
    '1',
    {},
    slotOptions([], { loadVersion, cacheSize: 1 }),
  );
  const versionOf = (v: string | undefined) => slots.withSlot(v, async (slot) => slot.version);

  assert.equal(await versionOf('2'), '2');
  assert.equal(await versionOf('2'), '2');
  assert.equal(await versionOf('1'), '1', 'the served version is not loaded again');
  assert.deepEqual(loads, ['2']);
  assert.equal(await versionOf('3'), '3');
  assert.deepEqual(loads, ['2', '3']);
  await until('version 2 evicted', () => events.includes('disposed 2'));

  await assert.rejects(versionOf('9'), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.status, 404);
    assert.match(err.message, /model 'm' has no version '9' in the registry/);
    return true;
  });
  assert.deepEqual(loads, ['2', '3', '9']);
  await until('version 3 evicted by the newer request', () => events.includes('disposed 3'));

  const fixed = await ModelSlots.open(testRuntime('x', events), '1', {}, slotOptions([]));
  await assert.rejects(
    fixed.withSlot('5', async () => 'never'),
    /unknown version '5' of model 'm'; it has version 1/,
  );
  await fixed.close(async () => {});
  await slots.close(async () => {});
  assert.deepEqual(events.sort(), ['disposed 1', 'disposed 2', 'disposed 3', 'disposed x']);
});

test('close: drains first, releases every slot, then refuses swaps (disposing the runtime it was given)', async () => {
  const events: string[] = [];
  const slots = await ModelSlots.open(testRuntime('1', events), '1', {}, slotOptions([]));
  const order: string[] = [];
  await slots.close(async () => {
    order.push(`drain (closing: ${slots.closing})`);
    assert.equal(events.length, 0, 'nothing is released before the drain');
  });
  assert.deepEqual(order, ['drain (closing: true)']);
  assert.deepEqual(events, ['disposed 1']);
  await assert.rejects(slots.swap(testRuntime('2', events), '2'), (err: unknown) => {
    assert.ok(isOcropsError(err));
    assert.equal(err.code, 'OCROPS_SERVE_CLOSING');
    return true;
  });
  assert.deepEqual(events, ['disposed 1', 'disposed 2']);
});
