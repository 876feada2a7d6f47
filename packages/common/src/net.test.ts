import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { freePorts, isPortFree, STABLE_PORT_RANGE } from './net.js';

test('freePorts gives distinct bindable ports; isPortFree sees a listening port as busy', async () => {
  const ports = await freePorts(5);
  assert.equal(new Set(ports).size, 5);
  for (const p of ports) assert.ok(p > 0 && p < 65536);
  assert.ok(await isPortFree(ports[0]));
  const srv = createServer();
  await new Promise<void>((r) => srv.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  const busy = (srv.address() as AddressInfo).port;
  try {
    assert.equal(await isPortFree(busy), false);
  } finally {
    await new Promise((r) => srv.close(r));
  }
  assert.equal(await isPortFree(busy), true);
});

test('freePorts with a range gives distinct free ports inside it', async () => {
  const ports = await freePorts(6, { range: STABLE_PORT_RANGE });
  assert.equal(new Set(ports).size, 6);
  for (const p of ports) {
    assert.ok(p >= STABLE_PORT_RANGE[0] && p <= STABLE_PORT_RANGE[1], `${p} in range`);
    assert.ok(await isPortFree(p));
  }
});
