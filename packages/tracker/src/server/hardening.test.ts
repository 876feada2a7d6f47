// What a hostile client tried and must not achieve: crash the server with a broken upload, skip authentication with
// an encoded path, hold connections or leave temporary files, nest JSON deep, bypass limits, read through DNS
// rebinding, find keys in the log, keep using a revoked key, learn internals from a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readdirSync, readlinkSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { makeTrackerCommands, startServer, type TrackerServer } from '../index.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';

const V2 = '/api/rest/v2';

/** Sends raw bytes on a new connection; resolves with everything the server answered once it closes or `waitMs` passes. */
function rawHttp(
  url: string,
  chunks: Array<string | Buffer>,
  opts: { waitMs?: number; destroyAfterSend?: boolean; destroyAfterMs?: number } = {},
): Promise<{ text: string; closedByServer: boolean; ms: number }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s: Socket = connect(Number(u.port), u.hostname);
    let text = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closedByServer, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 5000);
    s.on('data', (d) => (text += d));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      if (opts.destroyAfterSend) setTimeout(() => finish(false), opts.destroyAfterMs ?? 100);
    });
  });
}

/** Open descriptors of this process that point at upload temporary files. */
function openPartFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.endsWith('.part')) out.push(target);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

function partFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'assets', '.tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('tracker hardening', () => {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  const logs: string[] = [];
  let server: TrackerServer;
  let key: string;
  let exp: string;

  before(async () => {
    server = await startServer({
      port: 0,
      dataDir,
      logger: true,
      logStream: { write: (l: string) => void logs.push(l) },
      maxAssetBytes: 1024 * 1024,
      bodyTimeoutMillis: 1500,
      idleTimeoutMillis: 1500,
      authFailuresPerMinute: 1000,
      allowedHosts: ['tracker.internal'],
    });
    key = server.defaultKey;
    exp = (await raw(server.url, 'POST', `${V2}/write/experiment/create`, { key, body: { projectName: 'p' } })).json
      .experimentKey;
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  const uploadHead = (len: number | 'chunked', boundary = 'XXB') =>
    `POST ${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: ${key}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
    (len === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${len}\r\n`) +
    'Connection: close\r\n\r\n';
  const partHead =
    '--XXB\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n';

  test('crash body: a multipart upload without its closing boundary gets 400 and the server keeps serving', async () => {
    const body = `${partHead}hello world`;
    const r = await rawHttp(server.url, [uploadHead(Buffer.byteLength(body)), body]);
    assert.match(r.text, /^HTTP\/1\.1 400/, r.text);
    assert.match(r.text, /malformed multipart/);
    // the 2 MiB chunked variant (over the 1 MiB limit here): 400 or 413, never a dead server
    const big = Buffer.concat([Buffer.from(partHead), Buffer.alloc(2 * 1024 * 1024, 97)]);
    const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
    const r2 = await rawHttp(server.url, [uploadHead('chunked'), chunk(big), '0\r\n\r\n']);
    assert.match(r2.text, /^HTTP\/1\.1 (400|413)/, r2.text.slice(0, 200));
    const small = Buffer.concat([Buffer.from(partHead), Buffer.alloc(2000, 97)]);
    const r3 = await rawHttp(server.url, [uploadHead('chunked'), chunk(small), '0\r\n\r\n']);
    assert.match(r3.text, /^HTTP\/1\.1 400/, r3.text.slice(0, 200));
    await sleep(200);
    assert.equal((await raw(server.url, 'GET', '/api/health')).status, 200);
    assert.deepEqual(partFiles(dataDir), []);
    assert.deepEqual(openPartFiles(), []);
  });

  test('an upload over the size limit gets 413 while it streams', async () => {
    const r = await rawHttp(server.url, [uploadHead(50 * 1024 * 1024), partHead, Buffer.alloc(1024, 1)]);
    assert.match(r.text, /^HTTP\/1\.1 413/, r.text.slice(0, 200));
    const ok = await raw(server.url, 'GET', `${V2}/experiment/asset/list?experimentKey=${exp}`, { key });
    assert.deepEqual(ok.json.assets, []);
  });

  test('encoded paths: percent-encoded or doubled route names without a key get 401, never the handler', async () => {
    for (const path of [
      `/%61pi/rest/v2/experiment/metadata?experimentKey=${exp}`,
      `/api/rest/v2/%65xperiment/metadata?experimentKey=${exp}`,
      `/%61%70%69/rest/v2/experiments?workspaceName=default`,
      `/api/rest/v2/experiment/metadat%61?experimentKey=${exp}`,
    ]) {
      const r = await raw(server.url, 'GET', path);
      assert.ok(r.status === 401 || r.status === 404, `${path} -> ${r.status} ${r.text}`);
      assert.ok(!/projectName|experimentKey"/.test(r.text), `${path} leaked ${r.text}`);
    }
    const post = await raw(server.url, 'POST', `/%61pi/rest/v2/write/experiment/metric`, {
      body: { experimentKey: exp, metricName: 'x', metricValue: 1 },
    });
    assert.equal(post.status, 401);
  });

  test('aborted upload: no .part file and no open descriptor stay behind', async () => {
    const r = await rawHttp(server.url, [uploadHead(512 * 1024), partHead, Buffer.alloc(64 * 1024, 7)], {
      destroyAfterSend: true,
    });
    assert.equal(r.closedByServer, false);
    for (let i = 0; i < 20 && (partFiles(dataDir).length || openPartFiles().length); i++) await sleep(100);
    assert.deepEqual(partFiles(dataDir), []);
    assert.deepEqual(openPartFiles(), []);
    assert.equal((await raw(server.url, 'GET', '/api/health')).status, 200);
  });

  test('a refused asset name gets 400 and leaves no .part file, on the REST route and the comet_ml SDK route', async () => {
    const body = (filename: string) =>
      `--XXB\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\nhello\r\n--XXB--\r\n';
    for (const path of [
      `${V2}/write/experiment/upload-asset?experimentKey=${exp}`,
      `${V2}/asset/upload?experimentId=${exp}`,
    ]) {
      const r = await raw(server.url, 'POST', path, {
        key,
        rawBody: body('..'), // the multipart parser keeps only the base name, and '..' has none
        contentType: 'multipart/form-data; boundary=XXB',
      });
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.match(r.text, /fileName \\"\\" must not contain/);
      assert.deepEqual(partFiles(dataDir), [], path);
    }
    const list = await raw(server.url, 'GET', `${V2}/experiment/asset/list?experimentKey=${exp}`, { key });
    assert.deepEqual(list.json.assets, []);
  });

  test('slow upload: a client sending a byte at a time is cut off at the body deadline, its file removed', async () => {
    const u = new URL(server.url);
    const t0 = Date.now();
    const closed = await new Promise<number>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(uploadHead(100_000));
        s.write(partHead);
        const drip = setInterval(() => s.write('a'), 200);
        s.on('close', () => {
          clearInterval(drip);
          resolve(Date.now() - t0);
        });
      });
      s.on('error', () => {});
    });
    assert.ok(closed >= 1400 && closed < 4000, `closed after ${closed} ms`);
    for (let i = 0; i < 20 && partFiles(dataDir).length; i++) await sleep(100);
    assert.deepEqual(partFiles(dataDir), []);
    assert.deepEqual(openPartFiles(), []);
  });

  test('slow client: an idle connection is closed after the idle timeout', async () => {
    const r = await rawHttp(server.url, [`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n`], { waitMs: 6000 });
    assert.equal(r.closedByServer, true);
    assert.ok(r.ms < 5000, `closed after ${r.ms} ms`);
  });

  test('deep JSON: 5,000 nested arrays in a parameter value get 400, not 500', async () => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const r = await raw(server.url, 'POST', `${V2}/write/experiment/parameter`, {
      key,
      rawBody: `{"experimentKey":"${exp}","parameterName":"p","parameterValue":${deep}}`,
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.msg, /parameterValue.*nested deeper/);
  });

  test('limits: experiment name through log-other Name, oversized values, lone surrogates get 400 naming the field', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      [
        '/write/experiment/log-other',
        { experimentKey: exp, key: 'Name', value: 'n'.repeat(501) },
        /^value: the experiment name/,
      ],
      ['/write/experiment/log-other', { experimentKey: exp, key: 'k', value: 'v'.repeat(200_000) }, /^value: value is/],
      [
        '/write/experiment/parameter',
        { experimentKey: exp, parameterName: 'p', parameterValue: 'v'.repeat(200_000) },
        /^parameterValue/,
      ],
      ['/write/experiment/system-details', { experimentKey: exp, env: 'e'.repeat(200_000) }, /^env: value is/],
      [
        '/write/experiment/metric',
        { experimentKey: exp, metricName: 'loss\ud800', metricValue: 1 },
        /metricName.*lone surrogate/,
      ],
    ];
    for (const [path, body, msg] of cases) {
      const r = await raw(server.url, 'POST', `${V2}${path}`, { key, body });
      assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 200)}`);
      assert.match(r.json.msg, msg);
    }
    const meta = await raw(server.url, 'GET', `${V2}/experiment/metadata?experimentKey=${exp}`, { key });
    assert.equal(meta.json.experimentName ?? null, null);
    const metrics = await raw(server.url, 'GET', `${V2}/experiment/metrics/summary?experimentKey=${exp}`, { key });
    assert.deepEqual(metrics.json.values, []);
  });

  test('host check: a foreign Host header gets 421; loopback names and --allowed-hosts are answered', async () => {
    const evil = await raw(server.url, 'GET', '/api/health', { headers: { host: 'evil.example:80' } });
    assert.equal(evil.status, 421);
    const evilRead = await raw(server.url, 'GET', `${V2}/experiments?workspaceName=default`, {
      key,
      headers: { host: 'rebind.evil.example' },
    });
    assert.equal(evilRead.status, 421);
    for (const host of ['127.0.0.1:1234', 'localhost', 'LOCALHOST:5959', 'tracker.internal:443', '[::1]:80'])
      assert.equal((await raw(server.url, 'GET', '/api/health', { headers: { host } })).status, 200, host);
  });

  test('log redaction: ?apiKey= is never written to the request log', async () => {
    const r = await raw(server.url, 'GET', `${V2}/workspaces?apiKey=${encodeURIComponent(key)}`);
    assert.equal(r.status, 200);
    await sleep(100);
    const text = logs.join('');
    assert.match(text, /apiKey=REDACTED/);
    assert.ok(!text.includes(key), 'the key appears in the log');
  });

  test('security headers on every reply', async () => {
    for (const path of ['/api/health', `${V2}/experiments`, '/nope']) {
      const r = await request(`${server.url}${path}`);
      await r.body.text();
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(r.headers['x-frame-options'], 'DENY', path);
      assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/, path);
    }
  });

  test('data folder 0700, database and key files 0600', () => {
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    for (const f of ['tracker.db', 'default-key']) assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f);
  });

  test('revocation: `ocrops tracker keys revoke` stops a key on the running server', async () => {
    const { keys } = makeTrackerCommands();
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      await keys.run(['create', '--workspace', 'team', '--data-dir', dataDir]);
      const teamKey = lines.pop()!;
      assert.equal((await raw(server.url, 'GET', `${V2}/workspaces`, { key: teamKey })).status, 200);
      await keys.run(['revoke', '--prefix', teamKey.slice(0, 6), '--workspace', 'team', '--data-dir', dataDir]);
      assert.match(lines.pop()!, /revoked 1 key/);
      let status = 200;
      for (let i = 0; i < 70 && status === 200; i++) {
        await sleep(100);
        status = (await raw(server.url, 'GET', `${V2}/workspaces`, { key: teamKey })).status;
      }
      assert.equal(status, 401);
      await assert.rejects(
        keys.run(['revoke', '--prefix', teamKey.slice(0, 6), '--data-dir', dataDir]),
        /no API key matches/,
      );
    } finally {
      console.log = log;
    }
    assert.equal((await raw(server.url, 'GET', `${V2}/workspaces`, { key })).status, 200, 'other keys keep working');
  });
});

describe('tracker hardening: failures', () => {
  test('failed authentications from one address are rate-limited (429)', async () => {
    const tmp = tempDir();
    const server = await startServer({ port: 0, dataDir: tmp.dir, authFailuresPerMinute: 5 });
    try {
      const statuses: number[] = [];
      assert.equal((await raw(server.url, 'GET', `${V2}/workspaces`, { key: server.defaultKey })).status, 200);
      for (let i = 0; i < 8; i++)
        statuses.push((await raw(server.url, 'GET', `${V2}/workspaces`, { key: `wrong-${i}` })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
      // a key already shown valid from that address keeps working (other clients behind the same address)
      assert.equal((await raw(server.url, 'GET', `${V2}/workspaces`, { key: server.defaultKey })).status, 200);
    } finally {
      await server.close();
      tmp.cleanup();
    }
  });

  test('a 500 carries a request id, not the internal message, which goes to the server log', async () => {
    const tmp = tempDir();
    const logs: string[] = [];
    const server = await startServer({
      port: 0,
      dataDir: tmp.dir,
      logStream: { write: (l: string) => void logs.push(l) },
    });
    const key = server.defaultKey;
    // break the storage under the server: every query now throws inside a handler
    await server.store.db.close();
    try {
      const r = await raw(server.url, 'GET', `${V2}/projects`, { key: 'x'.repeat(201) });
      assert.equal(r.status, 401);
      const broken = await raw(server.url, 'POST', `${V2}/write/project/create`, { key, body: { projectName: 'p' } });
      assert.equal(broken.status, 500, broken.text);
      assert.match(broken.json.msg, /^internal error; .* request id [0-9a-f]{12}$/);
      assert.ok(!/database|sqlite|connection/i.test(broken.text), broken.text);
      await sleep(100);
      assert.ok(
        logs.some((l) => l.includes(broken.json.requestId) && /database|connection/i.test(l)),
        'the log has the details',
      );
    } finally {
      await server.app.close();
      tmp.cleanup();
    }
  });
});

test('aborted uploads: clients gone before the upload is read leave no request hanging (close finishes)', async () => {
  const tmp = tempDir();
  const server = await startServer({ port: 0, dataDir: tmp.dir });
  const key = server.defaultKey;
  const exp = (await raw(server.url, 'POST', `${V2}/write/experiment/create`, { key, body: { projectName: 'p' } })).json
    .experimentKey;
  const head =
    `POST ${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: ${key}\r\nContent-Type: multipart/form-data; boundary=XXB\r\nContent-Length: 100000\r\n\r\n--XXB\r\n`;
  // 40 clients that send the head and vanish at once, while the route is still looking up the experiment
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      rawHttp(server.url, [head], { destroyAfterSend: true, destroyAfterMs: i % 5, waitMs: 2000 }),
    ),
  );
  await sleep(300);
  assert.equal((await raw(server.url, 'GET', '/api/health')).status, 200);
  const t0 = Date.now();
  await Promise.race([
    server.close(),
    sleep(10_000).then(() => assert.fail('server.close() still waiting after 10 s: a request never finished')),
  ]);
  assert.ok(Date.now() - t0 < 10_000);
  assert.deepEqual(partFiles(tmp.dir), []);
  tmp.cleanup();
});
