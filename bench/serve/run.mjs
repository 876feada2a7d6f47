#!/usr/bin/env node
// Serving benchmark: the same model (the reference CTCModel, vgg, inner_dim 128, height 64, random weights of the
// trained shape) behind (1) `ocrops serve` on onnxruntime-node with dynamic batching, (2) the reference recipe's stack:
// the PyTorch CTCModel exported with torch.onnx.export, served by Flask + Python onnxruntime under gunicorn with one
// worker per core (once with 1 onnxruntime thread per worker, once with onnxruntime's default threads), and
// (3) `ocrops serve --runtime tfjs`. A client on the same machine posts real vn-handwriting line images to /predict at
// concurrency 1, 4 and 16. All servers are started first (idle ones sleep), then the cells are measured in interleaved
// rounds (every server at every concurrency, `--rounds` times) so that the drifting load of a shared machine falls on
// all of them alike. Reports lines/s, p50/p99 latency, errors and the peak RSS of each server (process tree),
// the ratios against the better Flask configuration at each concurrency, and writes bench/results/serve.{json,md}.
//
// Usage: nice node bench/serve/run.mjs [--seconds 10] [--rounds 2] [--images 48] [--levels 1,4,16] [--only ocrops-onnx,flask-1t,...]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    images: { type: 'string', default: '48' },
    levels: { type: 'string', default: '1,4,16' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(
    'Usage: nice node bench/serve/run.mjs [--seconds 10] [--rounds 2] [--images 48] [--levels 1,4,16] [--only ocrops-onnx,flask-1t,flask-ort,ocrops-tfjs]',
  );
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const LEVELS = args.levels.split(',').map(Number);
const CORES = cpus().length;
const benchPython = join(root, '.venv-bench', 'bin', 'python');
const datasets = process.env.OCROPS_DATASETS ?? join(root, '..', 'shared', 'datasets');
const vn = join(datasets, 'vn-handwriting');
if (!existsSync(join(vn, 'labels.json'))) {
  console.error(`serve benchmark: ${vn} absent (it needs real line images)`);
  process.exit(1);
}
if (!existsSync(benchPython)) {
  console.error(
    'serve benchmark: .venv-bench missing; run scripts/setup --bench (torch, flask, gunicorn, onnxruntime, onnx)',
  );
  process.exit(1);
}

const children = new Set();
process.on('exit', () =>
  children.forEach((c) => {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }),
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));

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

/** Sum of VmRSS (bytes) of `pid` and all its descendants. */
function treeRss(pid) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited */
    }
  }
  const tree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parent)
      if (tree.has(pp) && !tree.has(p)) {
        tree.add(p);
        grew = true;
      }
  }
  let rss = 0;
  for (const p of tree) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) rss += Number(m[1]) * 1024;
    } catch {
      /* exited */
    }
  }
  return rss;
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function post(agent, url, body) {
  const res = await request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'image/png' },
    dispatcher: agent,
    headersTimeout: 120_000,
    bodyTimeout: 120_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

/** `concurrency` clients post images back to back for SECONDS; latencies in ms. */
async function load(url, images, concurrency) {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const latencies = [];
  let errors = 0;
  let next = 0;
  const end = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const img = images[next++ % images.length];
        const t0 = performance.now();
        try {
          const r = await post(agent, `${url}/predict`, img);
          if (r.status === 200 && JSON.parse(r.text).text !== undefined) latencies.push(performance.now() - t0);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const wall = (Date.now() - started) / 1000;
  await agent.close();
  return { latencies, errors, seconds: wall };
}

async function waitReady(url, probe, child, log) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${log()}`);
    try {
      if (await probe(url)) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`server not ready after 300 s:\n${log()}`);
    await sleep(300);
  }
}

/** Starts a server and waits until it answers /predict; polls the RSS of its process tree until stopped. */
async function startServer(spec, images) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const child = spawn(
    spec.cmd[0],
    spec.cmd.slice(1).map((a) => a.replace('{port}', String(port))),
    {
      cwd: root,
      env: { ...process.env, ...spec.env, TF_CPP_MIN_LOG_LEVEL: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  children.add(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const probe = async (u) => (await post(new Agent({ connections: 1 }), `${u}/predict`, images[0])).status === 200;
  await waitReady(url, probe, child, () => out.slice(-3000));
  const server = { spec, url, child, startupMs: Date.now() - started, peak: 0, cells: new Map() };
  for (let i = 0; i < 4; i++) await post(new Agent({ connections: 1 }), `${url}/predict`, images[i % images.length]); // warm-up
  server.poll = setInterval(() => (server.peak = Math.max(server.peak, treeRss(child.pid))), 250);
  return server;
}

async function stopServer(server) {
  clearInterval(server.poll);
  server.peak = Math.max(server.peak, treeRss(server.child.pid));
  try {
    process.kill(-server.child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  const exited = await Promise.race([
    new Promise((r) => server.child.once('exit', () => r(true))),
    sleep(20_000).then(() => false),
  ]);
  if (!exited)
    try {
      process.kill(-server.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  children.delete(server.child);
}

// ---- the model, exported both ways ----
const work = mkdtempSync(join(tmpdir(), 'ocrops-bench-serve-'));
console.log(
  `serve benchmark: ${CORES} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, work dir ${work}`,
);
const prep = spawnSync(
  process.execPath,
  ['--conditions=@ocrops/source', '--import', 'tsx', join(root, 'bench/serve/prepare.ts'), work],
  {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  },
);
if (prep.status !== 0) throw new Error(`prepare failed:\n${prep.stderr}`);
const model = JSON.parse(prep.stdout.trim().split('\n').pop());
writeFileSync(join(work, 'charset.json'), JSON.stringify(model.charset));
const torchOnnx = join(work, 'torch.onnx');
const tx = spawnSync(
  benchPython,
  [join(root, 'bench/serve/torch_export.py'), '--classes', String(model.numClasses), '--out', torchOnnx],
  { encoding: 'utf8' },
);
if (tx.status !== 0) throw new Error(`torch.onnx.export failed:\n${tx.stderr}`);

// ---- real line images ----
const labels = JSON.parse(readFileSync(join(vn, 'labels.json'), 'utf8'));
const names = Object.keys(labels).sort().slice(0, Number(args.images));
const images = names.map((n) => readFileSync(join(vn, 'images', n)));
console.log(
  `${images.length} vn-handwriting line images (${(images.reduce((s, b) => s + b.length, 0) / images.length / 1024).toFixed(0)} KiB on average)`,
);

const ocropsCmd = (runtime, modelPath) => [
  process.execPath,
  '--conditions=@ocrops/source',
  '--import',
  'tsx',
  'packages/cli/src/main.ts',
  'serve',
  '--model',
  modelPath,
  '--runtime',
  runtime,
  '--port',
  '{port}',
  '--max-batch',
  '16',
  '--max-delay-ms',
  '5',
];
const gunicorn = [
  join(root, '.venv-bench', 'bin', 'gunicorn'),
  '-w',
  String(CORES),
  '-b',
  '127.0.0.1:{port}',
  '--chdir',
  join(root, 'bench/serve'),
  '--timeout',
  '300',
  '--log-level',
  'warning',
  'flask_app:app',
];
const flaskEnv = (threads) => ({
  OCROPS_BENCH_ONNX: torchOnnx,
  OCROPS_BENCH_CHARSET: join(work, 'charset.json'),
  OCROPS_BENCH_THREADS: String(threads),
});
const specs = [
  {
    name: 'ocrops-onnx',
    label: 'ocrops serve (onnxruntime-node, dynamic batching)',
    cmd: ocropsCmd('onnx', model.onnx),
  },
  {
    name: 'flask-1t',
    label: `Flask + onnxruntime, gunicorn ${CORES} workers x 1 thread`,
    cmd: gunicorn,
    env: flaskEnv(1),
  },
  {
    name: 'flask-ort',
    label: `Flask + onnxruntime, gunicorn ${CORES} workers x onnxruntime's default threads`,
    cmd: gunicorn,
    env: flaskEnv(0),
  },
  {
    name: 'ocrops-tfjs',
    label: 'ocrops serve --runtime tfjs (native TensorFlow)',
    cmd: ocropsCmd('tfjs', join(work, 'ocrops')),
  },
].filter((s) => !args.only || args.only.split(',').includes(s.name));

const loadBefore = loadavg();
const servers = [];
for (const spec of specs) {
  console.log(`starting ${spec.label} ...`);
  servers.push(await startServer(spec, images));
}
for (let round = 1; round <= ROUNDS; round++) {
  for (const c of LEVELS) {
    for (const s of servers) {
      const r = await load(s.url, images, c);
      const cell = s.cells.get(c) ?? { latencies: [], errors: 0, seconds: 0, loads: [] };
      cell.latencies.push(...r.latencies);
      cell.errors += r.errors;
      cell.seconds += r.seconds;
      cell.loads.push(loadavg()[0]);
      s.cells.set(c, cell);
      console.log(
        `  round ${round} ${s.spec.name} c=${c}: ${(r.latencies.length / r.seconds).toFixed(2)} lines/s, errors ${r.errors}, load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
}
for (const s of servers) await stopServer(s);
const results = servers.map((s) => ({
  name: s.spec.name,
  label: s.spec.label,
  startupMs: s.startupMs,
  peakRssMb: s.peak / 2 ** 20,
  cells: LEVELS.map((c) => {
    const cell = s.cells.get(c);
    const lat = cell.latencies.sort((a, b) => a - b);
    return {
      concurrency: c,
      lines: lat.length,
      errors: cell.errors,
      seconds: cell.seconds,
      linesPerSec: lat.length / cell.seconds,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      load1: cell.loads.reduce((a, b) => a + b, 0) / cell.loads.length,
    };
  }),
}));
const loadAfter = loadavg();
rmSync(work, { recursive: true, force: true });

// ---- table and ratios ----
const byName = Object.fromEntries(results.map((r) => [r.name, r]));
const cellOf = (name, c) => byName[name]?.cells.find((x) => x.concurrency === c);
const flaskBest = (c) =>
  ['flask-1t', 'flask-ort']
    .map((n) => cellOf(n, c))
    .filter(Boolean)
    .sort((a, b) => b.linesPerSec - a.linesPerSec)[0];
const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const lines = [
  '# Serving benchmark (`node bench/serve/run.mjs`)',
  '',
  `Model: the reference CTCModel (vgg, inner_dim 128, height 64, RGB, BiGRU 256, ${model.numClasses} classes), random weights of that shape; ` +
    `${images.length} real vn-handwriting line images (~1,150 px wide at height 64) posted to \`/predict\` by a client on the same machine, ` +
    `${ROUNDS} interleaved rounds of ${SECONDS} s per server and concurrency. ${CORES} cores, shared: load average ${loadBefore.map((l) => l.toFixed(1)).join(' / ')} before, ` +
    `${loadAfter.map((l) => l.toFixed(1)).join(' / ')} after, so the absolute figures are those of a loaded machine; the cells of all servers were ` +
    'measured interleaved, so each saw the same drift of the load. Date: ' +
    new Date().toISOString().slice(0, 16).replace('T', ' ') +
    ' UTC.',
  '',
  '| server | concurrency | lines/s | p50 ms | p99 ms | errors | peak RSS | load (1 min) |',
  '|---|---|---|---|---|---|---|---|',
];
for (const r of results) {
  for (const c of r.cells) {
    lines.push(
      `| ${r.label} | ${c.concurrency} | ${fmt(c.linesPerSec, 2)} | ${fmt(c.p50, 0)} | ${fmt(c.p99, 0)} | ${c.errors} | ${fmt(r.peakRssMb, 0)} MB | ${fmt(c.load1)} |`,
    );
  }
}
lines.push(
  '',
  '| concurrency | ocrops onnx / best Flask, lines/s | p50 ratio (ocrops / Flask) | p99 ratio (ocrops / Flask) | ocrops tfjs / ocrops onnx, lines/s |',
  '|---|---|---|---|---|',
);
const ratios = [];
for (const c of LEVELS) {
  const o = cellOf('ocrops-onnx', c);
  const f = flaskBest(c);
  const t = cellOf('ocrops-tfjs', c);
  const row = {
    concurrency: c,
    throughput: o && f ? o.linesPerSec / f.linesPerSec : NaN,
    p50: o && f ? o.p50 / f.p50 : NaN,
    p99: o && f ? o.p99 / f.p99 : NaN,
    tfjs: o && t ? t.linesPerSec / o.linesPerSec : NaN,
  };
  ratios.push(row);
  lines.push(
    `| ${c} | ${fmt(row.throughput, 2)}x | ${fmt(row.p50, 2)}x | ${fmt(row.p99, 2)}x | ${fmt(row.tfjs, 2)}x |`,
  );
}
const g16 = ratios.find((r) => r.concurrency === 16);
const g1 = ratios.find((r) => r.concurrency === 1);
lines.push(
  '',
  'Goals: at concurrency 16 >= 2x the Flask throughput with p99 no worse; at concurrency 1 p50 within 1.2x.',
);
if (g16)
  lines.push(
    `- concurrency 16: ${fmt(g16.throughput, 2)}x throughput (${g16.throughput >= 2 ? 'met' : 'NOT met'}), p99 ${fmt(g16.p99, 2)}x (${g16.p99 <= 1 ? 'met' : 'NOT met'})`,
  );
if (g1) lines.push(`- concurrency 1: p50 ${fmt(g1.p50, 2)}x (${g1.p50 <= 1.2 ? 'met' : 'NOT met'})`);
lines.push(
  '',
  `Startup to first answer: ${results.map((r) => `${r.name} ${(r.startupMs / 1000).toFixed(1)} s`).join(', ')}.`,
  '',
);
const md = lines.join('\n');
console.log(`\n${md}`);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'serve.md'), md);
writeFileSync(
  join(root, 'bench', 'results', 'serve.json'),
  JSON.stringify(
    { cores: CORES, seconds: SECONDS, rounds: ROUNDS, images: images.length, loadBefore, loadAfter, results, ratios },
    null,
    2,
  ) + '\n',
);
process.exit(0);
