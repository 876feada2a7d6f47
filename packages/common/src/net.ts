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

/** `n` distinct free TCP ports on 127.0.0.1 chosen by the OS (all held open at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
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
