import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyHandoff } from './handoff.js';

test('a started reply is handed to the first taker of its path, once; starting twice fetches once', async () => {
  const h = new ReplyHandoff(3000);
  let fetches = 0;
  const fetch = () => Promise.resolve({ n: ++fetches });
  const a = h.start('/x?k=1', fetch);
  assert.equal(h.start('/x?k=1', fetch), a);
  assert.equal(fetches, 1);
  assert.equal(h.take('/x?k=2'), undefined, 'another path is not served');
  assert.equal(h.take('/x?k=1'), a);
  assert.equal(h.take('/x?k=1'), undefined, 'a later request fetches fresh data');
  assert.deepEqual(await a, { n: 1 });
});

test('a reply nobody took within the TTL is dropped', () => {
  let now = 0;
  const h = new ReplyHandoff(3000, () => now);
  h.start('/a', () => Promise.resolve(1));
  now = 3001;
  assert.equal(h.take('/a'), undefined);
  h.start('/b', () => Promise.resolve(2));
  now = 7000;
  h.start('/c', () => Promise.resolve(3));
  assert.equal(h.size, 1, 'expired replies are pruned when new ones start');
});

test('a failed early request fails its taker (and nobody else)', async () => {
  const h = new ReplyHandoff(3000);
  h.start('/bad', () => Promise.reject(new Error('401 no key')));
  await new Promise((r) => setTimeout(r, 0)); // no unhandled rejection meanwhile
  await assert.rejects(h.take('/bad')!, /401 no key/);
});
