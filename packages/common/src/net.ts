// Loopback TCP port helpers shared by the services (SeaweedFS, tracker) and the tests that start them.
import { createServer, type AddressInfo, type Server } from 'node:net';

/** Whether `port` can be bound exclusively on `host` right now (default 127.0.0.1). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Ports below the kernel's ephemeral range (20000-32767): a port released when a server stops is not taken by some
 * outgoing connection before a test restarts the server on the same port.
 */
export const STABLE_PORT_RANGE: readonly [number, number] = [20000, 32767];

/**
 * `n` distinct free TCP ports on 127.0.0.1: chosen by the OS (all held open at once, then released), or, with
 * `range`, drawn from that inclusive range and checked free (e.g. STABLE_PORT_RANGE for servers that restart).
 */
export async function freePorts(n: number, opts: { range?: readonly [number, number] } = {}): Promise<number[]> {
  return opts.range ? freePortsIn(n, opts.range) : osChosenPorts(n);
}

async function osChosenPorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen({ port: 0, host: '127.0.0.1' }, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function freePortsIn(n: number, [lo, hi]: readonly [number, number]): Promise<number[]> {
  const out = new Set<number>();
  for (let attempt = 0; out.size < n && attempt < 1000; attempt++) {
    const p = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (!out.has(p) && (await isPortFree(p))) out.add(p);
  }
  if (out.size < n) throw new Error(`found only ${out.size} free ports in ${lo}-${hi}`);
  return [...out];
}
