// Leases on sweep trials over REST: heartbeats keep a trial, an expired lease re-assigns it up to retryAssignLimit times
// (then it stays failed), failures are retried the same way, a late result is recorded once and never makes a second
// trial, retryLimit bounds the attempts at a parameter set not tried before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackerApi, startServer, type TrackerServer } from '../index.js';
import { raw, tempDir, listAlgorithm } from '../../test-fixtures/helpers.js';

/** Suggests the first value of `x` not taken yet; `repeat: true` in the config makes it suggest 1 forever. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('trial leases', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  let api: TrackerApi;
  const config = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    algorithm: 'grid',
    spec: { maxCombo: 3, objective: 'minimize', metric: 'loss', ...spec },
    parameters: { x: { type: 'discrete', values: [1, 2, 3, 4] } },
    ...extra,
  });

  before(async () => {
    server = await startServer({ port: 0, dataDir: tmp.dir, optimizer: listAlgorithm });
    api = new TrackerApi({ url: server.url, apiKey: server.defaultKey });
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  test('heartbeats keep a lease; an expired one is assigned again, and the late result is recorded once', async () => {
    const id = await api.optimizerCreate(config({ retryAssignLimit: 1 }));
    const a = (await api.optimizerNext(id, { leaseSeconds: 1, worker: 'w1' }))!;
    assert.match(a.lease!, /^[0-9a-f]{32}$/);
    assert.equal(a.assignment, 1);
    // heartbeats every 400 ms keep the 1 s lease alive for 2 s
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      assert.equal((await api.optimizerHeartbeat({ id, pid: a.pid, trial: a.trial, lease: a.lease! })).state, 'leased');
    }
    const b = (await api.optimizerNext(id, { leaseSeconds: 1 }))!;
    assert.notEqual(b.pid, a.pid, 'a heartbeating trial is not handed out again');
    // a's worker goes silent: after the lease, the next caller gets a's trial (same pid, same trial number)
    await sleep(1300);
    await api.optimizerHeartbeat({ id, pid: b.pid, trial: b.trial, lease: b.lease! }); // b stays alive... and is renewed
    const again = (await api.optimizerNext(id, { leaseSeconds: 30, worker: 'w2' }))!;
    assert.deepEqual([again.pid, again.trial, again.assignment], [a.pid, a.trial, 2]);
    assert.notEqual(again.lease, a.lease);
    // the first worker comes back: its heartbeat says the trial went to someone else, its progress is refused
    assert.equal(
      (await api.optimizerHeartbeat({ id, pid: a.pid, trial: a.trial, lease: a.lease! })).state,
      'reassigned',
    );
    await assert.rejects(
      api.optimizerUpdate({ id, pid: a.pid, trial: a.trial, status: 'running', epoch: 3, lease: a.lease }),
      /409.*assigned again/,
    );
    // ...but its late final result is the trial's result, recorded once
    const late = await api.optimizerUpdate({
      id,
      pid: a.pid,
      trial: a.trial,
      status: 'completed',
      score: 0.5,
      lease: a.lease,
    });
    assert.equal(late.status, 'completed');
    // the same request repeated (a retried POST) is answered with the recorded trial; the new holder learns it is done
    assert.equal(
      (await api.optimizerUpdate({ id, pid: a.pid, trial: a.trial, status: 'completed', score: 0.5, lease: a.lease }))
        .score,
      0.5,
    );
    assert.equal(
      (await api.optimizerHeartbeat({ id, pid: again.pid, trial: again.trial, lease: again.lease! })).state,
      'completed',
    );
    await assert.rejects(
      api.optimizerUpdate({
        id,
        pid: again.pid,
        trial: again.trial,
        status: 'completed',
        score: 0.1,
        lease: again.lease,
      }),
      /409.*already has its result \(completed\)/,
    );
    const st = await api.optimizerStatus(id);
    const forA = st.trials.filter((t) => t.pid === a.pid);
    assert.equal(forA.length, 1, 'no duplicate trial');
    assert.equal(forA[0].score, 0.5, 'the first result stays');
    assert.equal(st.trials.length, 2);
  });

  test('retryAssignLimit: 0 leaves an expired trial failed; a worker back before anyone took it keeps it', async () => {
    const id = await api.optimizerCreate(config({ maxCombo: 2 }));
    const a = (await api.optimizerNext(id, { leaseSeconds: 1 }))!;
    await sleep(1200);
    // nobody asked for work in between: a's worker is back in time, and its heartbeat renews the lease
    assert.equal((await api.optimizerHeartbeat({ id, pid: a.pid, trial: a.trial, lease: a.lease! })).state, 'leased');
    await sleep(1200);
    const b = (await api.optimizerNext(id, { leaseSeconds: 30 }))!;
    assert.notEqual(b.pid, a.pid, 'not re-assigned: retryAssignLimit is 0');
    const st = await api.optimizerStatus(id);
    assert.equal(st.trials.find((t) => t.pid === a.pid)!.status, 'failed');
    assert.equal((await api.optimizerHeartbeat({ id, pid: a.pid, trial: a.trial, lease: a.lease! })).state, 'failed');
    assert.equal(await api.optimizerNext(id), undefined, 'maxCombo 2 reached');
  });

  test('a failed trial is assigned again up to retryAssignLimit times, then stays failed', async () => {
    const id = await api.optimizerCreate(config({ maxCombo: 1, retryAssignLimit: 2 }));
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = (await api.optimizerNext(id, { leaseSeconds: 30 }))!;
      seen.push(s.assignment!);
      const r = await api.optimizerUpdate({ id, pid: s.pid, trial: s.trial, status: 'failed', lease: s.lease });
      assert.equal(r.status, i < 2 ? 'running' : 'failed', `after failure ${i + 1}`);
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(await api.optimizerNext(id), undefined);
    const st = await api.optimizerStatus(id);
    assert.deepEqual(
      st.trials.map((t) => t.status),
      ['failed'],
    );
  });

  test('retryLimit bounds the attempts at a new parameter set; bad lease requests get 400', async () => {
    const id = await api.optimizerCreate(config({ maxCombo: 5, retryLimit: 3 }, { repeat: true }));
    const first = (await api.optimizerNext(id))!;
    assert.deepEqual(first.parameters, { x: 1 });
    assert.equal(
      await api.optimizerNext(id),
      undefined,
      'only repeats after retryLimit attempts: the sweep is exhausted',
    );
    const bad = await raw(server.url, 'POST', '/api/rest/v2/optimizer/heartbeat', {
      key: server.defaultKey,
      body: { id, pid: first.pid, trial: 1, lease: 'x' },
    });
    assert.equal(bad.status, 400);
    const badNext = await raw(server.url, 'GET', `/api/rest/v2/optimizer/next?id=${id}&leaseSeconds=0`, {
      key: server.defaultKey,
    });
    assert.equal(badNext.status, 400);
  });
});
