#!/usr/bin/env node
// Tracker benchmark: N concurrent clients log metric batches for a fixed time into (1) the ocrops tracker server
// (SQLite) and (2) an MLflow tracking server (SQLite backend, REST log-batch), one after the other in the same run.
// Reports sustained points/s and request latency percentiles for both, counts every point back from both servers
// (each step exactly once), prints the throughput ratio and writes bench/results/tracker.json.
//
// With --soak: the ocrops server only, while one more client sends hostile requests in a loop (broken multipart
// bodies, aborted and trickled uploads, encoded paths without a key, wrong keys, deep JSON, huge sweep grids, foreign
// Host headers); reports points/s, p99, lost/duplicated points and whether the server process ever exited, and writes
// bench/results/tracker-soak.json.
//
// Usage: node bench/tracker/run.mjs [--seconds 15] [--clients 8] [--batch 1000] [--skip-mlflow] [--soak]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    'skip-mlflow': { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log('Usage: node bench/tracker/run.mjs [--seconds 15] [--clients 8] [--batch 1000] [--skip-mlflow] [--soak]');
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const BATCH = Number(args.batch);
const agent = new Agent({ connections: CLIENTS * 2, keepAliveTimeout: 30_000 });
const children = [];
/** Kills a child and, when it leads its own process group (mlflow's uvicorn workers and job runners), the whole group. */
function killTree(c, signal = 'SIGKILL') {
  try {
    if (c.spawnargs && c.detached) process.kill(-c.pid, signal);
    else if (c.exitCode === null) c.kill(signal);
  } catch {
    /* already gone */
  }
}
process.on('exit', () => children.forEach((c) => killTree(c)));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function http(method, url, { body, headers = {} } = {}) {
  // reads are retried when a server drops an idle keep-alive connection; writes are not (they would be counted twice)
  for (let attempt = 0; ; attempt++) {
    try {
      return await http1(method, url, { body, headers });
    } catch (err) {
      if (method !== 'GET' || attempt >= 3 || err.code !== 'UND_ERR_SOCKET') throw err;
      await sleep(100);
    }
  }
}

async function http1(method, url, { body, headers = {} } = {}) {
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${method} ${url} -> ${res.statusCode}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

async function healthy(url) {
  const r = await request(url, { dispatcher: agent });
  await r.body.text();
  return r.statusCode === 200;
}

async function waitUntil(fn, what, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      /* not ready */
    }
    if (Date.now() > deadline) throw new Error(`${what} did not start in ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs CLIENTS loops for SECONDS; `send(client, step0, n)` posts one batch of n points starting at step0. */
async function drive(name, send) {
  const latencies = [];
  const acked = new Array(CLIENTS).fill(0);
  let errors = 0;
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await send(c, acked[c], BATCH);
          acked[c] += BATCH;
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error(`${name}: ${err.message}`);
          await sleep(50);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const total = acked.reduce((a, b) => a + b, 0);
  return {
    points: total,
    perClient: acked,
    requests: latencies.length,
    errors,
    seconds: Number(elapsed.toFixed(2)),
    pointsPerSecond: Math.round(total / elapsed),
    latencyMs: {
      p50: Number(percentile(latencies, 50)?.toFixed(1)),
      p99: Number(percentile(latencies, 99)?.toFixed(1)),
      max: Number(latencies[latencies.length - 1]?.toFixed(1)),
    },
  };
}

/** Checks that `steps` is exactly 0..n-1 with no duplicates. */
function exactlyOnce(steps, n) {
  if (steps.length !== n) return false;
  const sorted = [...steps].sort((a, b) => a - b);
  return sorted.every((s, i) => s === i);
}

/** Writes raw bytes on a fresh connection; resolves with the status line once the server answers or closes (or after `waitMs`). */
function rawSend(port, chunks, { destroyAfterMs, waitMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const done = (what) => {
      clearTimeout(timer);
      s.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done('timeout'), waitMs);
    s.on('data', (d) => {
      text += d;
      if (text.includes('\r\n')) done(text.slice(0, text.indexOf('\r\n')));
    });
    s.on('error', () => done('reset'));
    s.on('close', () => done(text ? text.split('\r\n')[0] : 'closed'));
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
      if (destroyAfterMs !== undefined) setTimeout(() => done('aborted by client'), destroyAfterMs);
    });
  });
}

/** The hostile requests by name: each sends one request and resolves with the answer (status line or status). */
function hostileRequests(port, key, exp) {
  const V2 = '/api/rest/v2';
  const head = (len) =>
    `POST ${V2}/write/experiment/upload-asset?experimentKey=${exp}&fileName=a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${key}\r\n` +
    `Content-Type: multipart/form-data; boundary=XXB\r\n${len === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${len}`}\r\nConnection: close\r\n\r\n`;
  const part =
    '--XXB\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n';
  const big = Buffer.concat([Buffer.from(part), Buffer.alloc(2 * 1024 * 1024, 97)]);
  const json = (path, body, headers = {}) =>
    request(`http://127.0.0.1:${port}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    }).then(
      async (r) => (await r.body.text(), String(r.statusCode)),
      (e) => e.code ?? e.message,
    );
  const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
  return {
    'crash body': () => rawSend(port, [head(Buffer.byteLength(`${part}hello world`)), `${part}hello world`]),
    'chunked 2 MiB broken': () =>
      rawSend(port, [head('chunked'), `${big.length.toString(16)}\r\n`, big, '\r\n0\r\n\r\n']),
    'aborted upload': () =>
      rawSend(port, [head(1024 * 1024), part, Buffer.alloc(64 * 1024, 1)], { destroyAfterMs: 50 }),
    'slow upload': () => rawSend(port, [head(100_000), part, 'a'], { destroyAfterMs: 2000 }), // a slow client, given up by itself
    'encoded path': () => json(`/%61pi/rest/v2/experiment/metadata?experimentKey=${exp}`),
    'wrong key': () => json(`${V2}/workspaces`, undefined, { authorization: `wrong-${Math.random()}` }),
    'deep JSON': () =>
      json(
        `${V2}/write/experiment/parameter`,
        `{"experimentKey":"${exp}","parameterName":"p","parameterValue":${deep}}`,
        { authorization: key },
      ),
    'huge grid': () =>
      json(
        `${V2}/optimizer/create`,
        {
          config: {
            algorithm: 'grid',
            spec: { gridSize: 1_000_000, randomize: true },
            parameters: { x: { type: 'float', min: 0, max: 1 } },
          },
        },
        { authorization: key },
      ),
    'foreign Host': () =>
      json(`${V2}/experiments?workspaceName=default`, undefined, { host: 'rebind.evil.example', authorization: key }),
    'apiKey query': () => json(`${V2}/workspaces?apiKey=${encodeURIComponent(key)}`),
  };
}

async function benchOcrops(tmp, { soak = false } = {}) {
  const dataDir = join(tmp, 'ocrops');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--conditions=@ocrops/source',
      '--import',
      'tsx',
      join(root, 'packages/tracker/test-fixtures/serve.ts'),
      dataDir,
      String(port),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(() => healthy(`${url}/api/health`), 'ocrops tracker');
  const key = readFileSync(join(dataDir, 'default-key'), 'utf8').trim();
  const h = { authorization: key };
  const V2 = `${url}/api/rest/v2`;
  const exps = [];
  for (let c = 0; c < CLIENTS; c++)
    exps.push(
      (
        await http('POST', `${V2}/write/experiment/create`, {
          headers: h,
          body: { projectName: 'bench', experimentName: `client-${c}` },
        })
      ).experimentKey,
    );
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const hostile = { requests: 0, answers: {}, healthChecks: 0, healthFailures: 0 };
  let stopHostile = false;
  // one loop per kind of hostile request, so the quick ones keep coming while a slow one is in flight
  const hostileLoop = (async () => {
    if (!soak) return;
    const victim = (
      await http('POST', `${V2}/write/experiment/create`, { headers: h, body: { projectName: 'hostile' } })
    ).experimentKey;
    const kinds = Object.entries(hostileRequests(port, key, victim));
    const loops = kinds.map(async ([name, send]) => {
      while (!stopHostile) {
        const answer = String(await send());
        hostile.requests++;
        const a = (hostile.answers[name] ??= {});
        a[answer] = (a[answer] ?? 0) + 1;
      }
    });
    const health = (async () => {
      while (!stopHostile) {
        hostile.healthChecks++;
        if (!(await healthy(`${url}/api/health`).catch(() => false))) hostile.healthFailures++;
        await sleep(1000);
      }
    })();
    await Promise.all([...loops, health]);
  })();
  const ts0 = Date.now();
  const result = await drive('ocrops', (c, step0, n) => {
    const values = new Array(n);
    for (let i = 0; i < n; i++) {
      const step = step0 + i;
      values[i] = { metricName: 'loss', metricValue: 1 / (step + 1), step, timestamp: ts0 + step, id: `${c}.${step}` };
    }
    return http('POST', `${V2}/clientlib/batch/logger/experiment/metric`, {
      headers: h,
      body: { experimentKey: exps[c], values },
    });
  });
  stopHostile = true;
  await hostileLoop;
  // count back
  let counted = 0;
  let exact = true;
  for (let c = 0; c < CLIENTS; c++) {
    const { metrics } = await http(
      'GET',
      `${V2}/experiment/metrics/get-metric?experimentKey=${exps[c]}&metricName=loss`,
      { headers: h },
    );
    counted += metrics.length;
    exact &&= exactlyOnce(
      metrics.map((m) => m.step),
      result.perClient[c],
    );
  }
  const serverNeverExited = exited === null && child.exitCode === null;
  const stopAt = performance.now();
  child.kill('SIGTERM');
  const stopped = await Promise.race([
    new Promise((r) => (child.exitCode !== null ? r(true) : child.once('exit', () => r(true)))),
    sleep(60_000).then(() => false),
  ]);
  const stopMillis = Math.round(performance.now() - stopAt);
  if (!stopped) {
    console.error('ocrops server did not stop within 60 s of SIGTERM: killed');
    child.kill('SIGKILL');
  }
  const lost = result.points - Math.min(counted, result.points);
  return {
    ...result,
    countedBack: counted,
    exactlyOnce: exact,
    ...(soak
      ? {
          lost,
          duplicated: Math.max(0, counted - result.points),
          serverNeverExited,
          stoppedOnSigterm: stopped,
          stopMillis,
          hostile,
        }
      : {}),
  };
}

async function benchMlflow(tmp) {
  const mlflow = join(root, '.venv-bench', 'bin', 'mlflow');
  if (!existsSync(mlflow)) return { skipped: `MLflow absent (${mlflow}); run scripts/setup --bench` };
  const port = await freePort();
  const dir = join(tmp, 'mlflow');
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    mlflow,
    [
      'server',
      '--backend-store-uri',
      `sqlite:///${join(dir, 'mlflow.db')}`,
      '--default-artifact-root',
      join(dir, 'artifacts'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  child.detached = true;
  children.push(child);
  try {
    return await mlflowWorkload(child, port);
  } finally {
    killTree(child, 'SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)]);
    await sleep(2000);
    killTree(child, 'SIGKILL');
  }
}

/** Retries a setup call (not timed) when the server drops a connection while its workers start. */
async function setup(fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 10 || err.code !== 'UND_ERR_SOCKET') throw err;
      await sleep(1000);
    }
  }
}

async function mlflowWorkload(child, port) {
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(() => healthy(`${url}/health`), 'mlflow server', 240_000);
  } catch (err) {
    return { skipped: `${err.message}: ${log.slice(-500)}` };
  }
  const A = `${url}/api/2.0/mlflow`;
  // the parent answers before all workers are up: require several healthy answers and a successful warm-up write
  for (let ok = 0, tries = 0; ok < 5 && tries < 240; tries++) {
    ok = (await healthy(`${url}/health`).catch(() => false)) ? ok + 1 : 0;
    await sleep(500);
  }
  const { experiment_id } = await setup(() =>
    http('POST', `${A}/experiments/create`, { body: { name: `bench-${Date.now()}-${Math.random()}` } }),
  );
  const warm = (
    await setup(() =>
      http('POST', `${A}/runs/create`, { body: { experiment_id, start_time: Date.now(), run_name: 'warm-up' } }),
    )
  ).run.info.run_id;
  for (let i = 0; i < CLIENTS * 2; i++)
    await setup(() =>
      http('POST', `${A}/runs/log-batch`, {
        body: { run_id: warm, metrics: [{ key: 'warm', value: i, timestamp: Date.now(), step: i }] },
      }),
    );
  const runs = [];
  for (let c = 0; c < CLIENTS; c++)
    runs.push(
      (
        await setup(() =>
          http('POST', `${A}/runs/create`, {
            body: { experiment_id, start_time: Date.now(), run_name: `client-${c}` },
          }),
        )
      ).run.info.run_id,
    );
  const ts0 = Date.now();
  const result = await drive('mlflow', (c, step0, n) => {
    const metrics = new Array(n);
    for (let i = 0; i < n; i++) {
      const step = step0 + i;
      metrics[i] = { key: 'loss', value: 1 / (step + 1), timestamp: ts0 + step, step };
    }
    return http('POST', `${A}/runs/log-batch`, { body: { run_id: runs[c], metrics } });
  });
  let counted = 0;
  let exact = true;
  for (let c = 0; c < CLIENTS; c++) {
    const steps = [];
    let token;
    do {
      const q = new URLSearchParams({ run_id: runs[c], metric_key: 'loss', max_results: '25000' });
      if (token) q.set('page_token', token);
      const r = await http('GET', `${A}/metrics/get-history?${q}`);
      for (const m of r.metrics ?? []) steps.push(Number(m.step));
      token = r.next_page_token;
    } while (token);
    counted += steps.length;
    exact &&= exactlyOnce(steps, result.perClient[c]);
  }
  return { ...result, countedBack: counted, exactlyOnce: exact, workers: 'mlflow server default (4 workers)' };
}

const tmp = mkdtempSync(join(tmpdir(), 'ocrops-bench-tracker-'));
try {
  if (args.soak) {
    console.log(
      `tracker soak: ${CLIENTS} writers x ${SECONDS}s (batches of ${BATCH}) while a hostile client loops, ${cpus().length} CPUs`,
    );
    const soak = await benchOcrops(tmp, { soak: true });
    console.log(
      `ocrops : ${soak.pointsPerSecond} points/s, p50 ${soak.latencyMs.p50} ms, p99 ${soak.latencyMs.p99} ms, ` +
        `${soak.points} acknowledged, ${soak.countedBack} counted back, lost ${soak.lost}, duplicated ${soak.duplicated}, ` +
        `exactly once: ${soak.exactlyOnce}, writer errors ${soak.errors}, server never exited: ${soak.serverNeverExited}`,
    );
    console.log(
      `hostile: ${soak.hostile.requests} requests, health checks ${soak.hostile.healthChecks}, failed ${soak.hostile.healthFailures}`,
    );
    for (const [k, v] of Object.entries(soak.hostile.answers)) console.log(`  ${k}: ${JSON.stringify(v)}`);
    const out = {
      benchmark: 'tracker-soak',
      date: new Date().toISOString(),
      config: { writers: CLIENTS, seconds: SECONDS, batch: BATCH, cpus: cpus().length, node: process.version },
      ocrops: soak,
      note: 'one run under nice on a shared 2-core machine with other jobs running (loaded): absolute figures are low',
    };
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'tracker-soak.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log('wrote bench/results/tracker-soak.json');
    process.exitCode = soak.lost || soak.duplicated || !soak.exactlyOnce || !soak.serverNeverExited ? 1 : 0;
  } else {
    console.log(`tracker bench: ${CLIENTS} clients x ${SECONDS}s, batches of ${BATCH} points, ${cpus().length} CPUs`);
    const ocrops = await benchOcrops(tmp);
    console.log(
      `ocrops : ${ocrops.pointsPerSecond} points/s, p50 ${ocrops.latencyMs.p50} ms, p99 ${ocrops.latencyMs.p99} ms, ` +
        `${ocrops.points} acknowledged, ${ocrops.countedBack} counted back, exactly once: ${ocrops.exactlyOnce}, errors ${ocrops.errors}`,
    );
    const mlflow = args['skip-mlflow'] ? { skipped: '--skip-mlflow' } : await benchMlflow(tmp);
    if (mlflow.skipped) console.log(`mlflow : skipped (${mlflow.skipped})`);
    else
      console.log(
        `mlflow : ${mlflow.pointsPerSecond} points/s, p50 ${mlflow.latencyMs.p50} ms, p99 ${mlflow.latencyMs.p99} ms, ` +
          `${mlflow.points} acknowledged, ${mlflow.countedBack} counted back, exactly once: ${mlflow.exactlyOnce}, errors ${mlflow.errors}`,
      );
    const ratio = mlflow.skipped ? null : Number((ocrops.pointsPerSecond / mlflow.pointsPerSecond).toFixed(2));
    if (ratio !== null) console.log(`ratio  : ocrops/mlflow throughput = ${ratio}x (goal >= 2x, nothing lost)`);
    const out = {
      benchmark: 'tracker',
      date: new Date().toISOString(),
      config: { clients: CLIENTS, seconds: SECONDS, batch: BATCH, cpus: cpus().length, node: process.version },
      ocrops,
      mlflow,
      ratio,
      note: 'same client code and workload for both; servers run one after the other on a shared, noisy machine',
    };
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'tracker.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log('wrote bench/results/tracker.json');
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
  await agent.close();
}
