#!/usr/bin/env node
/* global document, location, requestAnimationFrame -- browser code run by page.evaluate */
// Dashboard benchmark (reported, not a timed test). Seeds a tracker database through the server's storage layer
// with RUNS runs x METRICS metrics x POINTS points, then measures in Chromium:
//   - the runs table: from navigation (hash change) to the table's rows on screen (goal < 1 s for 1,000 runs);
//   - a run page: from navigation to every metric chart drawn with its downsampled series (goal < 300 ms).
// Usage: node bench/dashboard/run.mjs [--runs 1000] [--metrics 10] [--points 5000] [--data-dir DIR] [--repeat 5] [--seed-only]
//   [--static-dir DIR] [--out FILE]
// The seeded database is kept in --data-dir (default $TMPDIR/ocrops-bench-dashboard-<runs>x<metrics>x<points>) and
// reused by later runs with the same sizes. --static-dir serves another dashboard build (e.g. of an older revision,
// for a before/after comparison in the same conditions). Writes bench/results/dashboard.json (or --out); the headline
// figures of the file it replaces move to its `previous` section (two results back at most).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (!process.execArgv.some((a) => a.includes('tsx'))) {
  // load the TypeScript sources of the workspace packages
  const res = spawnSync(
    process.execPath,
    ['--conditions=@ocrops/source', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(res.status ?? 1);
}

const { existsSync, mkdirSync, readFileSync, writeFileSync, statSync, readdirSync } = await import('node:fs');
const { dirname, join } = await import('node:path');
const { tmpdir, cpus, loadavg } = await import('node:os');
const { parseArgs } = await import('node:util');
const { launchChromium } = await import('@ocrops/dashboard/chromium');
const { repoRoot } = await import('@ocrops/common');
const { startServer } = await import('@ocrops/tracker');
const { ensureDashboardBuilt } = await import('@ocrops/dashboard');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    metrics: { type: 'string', default: '10' },
    points: { type: 'string', default: '5000' },
    'data-dir': { type: 'string' },
    repeat: { type: 'string', default: '5' },
    'seed-only': { type: 'boolean', default: false },
    'static-dir': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: node bench/dashboard/run.mjs [--runs 1000] [--metrics 10] [--points 5000] [--data-dir DIR] [--repeat 5] [--seed-only] [--static-dir DIR] [--out FILE]',
  );
  process.exit(0);
}
const RUNS = Number(args.runs);
const METRICS = Number(args.metrics);
const POINTS = Number(args.points);
const REPEAT = Number(args.repeat);
const WS = 'default';
const PROJECT = 'bench';
const dataDir = args['data-dir'] ?? join(tmpdir(), `ocrops-bench-dashboard-${RUNS}x${METRICS}x${POINTS}`);
const marker = join(dataDir, 'seeded.json');

function dirBytes(d) {
  let n = 0;
  for (const e of readdirSync(d, { withFileTypes: true }))
    n += e.isDirectory() ? dirBytes(join(d, e.name)) : statSync(join(d, e.name)).size;
  return n;
}

const metricNames = Array.from(
  { length: METRICS },
  (_, i) =>
    [
      'train_loss',
      'val_loss',
      'train_acc_by_char',
      'val_acc_by_char',
      'train_acc_by_field',
      'val_acc_by_field',
      'lr',
      'grad_norm',
      'cer',
      'wer',
    ][i] ?? `metric_${i}`,
);

/** Seeds through TrackerStore (the server's storage layer), one transaction per run. */
async function seed(store) {
  const t0 = Date.now();
  const start = Date.UTC(2026, 0, 1);
  let lastReport = t0;
  for (let r = 0; r < RUNS; r++) {
    const { experimentKey: key } = await store.createExperiment(WS, PROJECT, `run-${String(r).padStart(4, '0')}`);
    const runStart = start + r * 3_600_000;
    await store.setStartEnd(key, runStart, runStart + POINTS * 1000);
    const innerDim = [32, 64, 128, 256, 512][r % 5];
    const lr = 10 ** (-4 + ((r * 7919) % 1000) / 500);
    await store.setParams(key, 'parameter', [
      { name: 'inner_dim', value: innerDim },
      { name: 'lr', value: Number(lr.toPrecision(3)) },
      { name: 'batch_size', value: 32 },
      { name: 'epochs', value: 50 },
      { name: 'arch', value: r % 3 ? 'vgg' : 'resnet' },
    ]);
    await store.addTags(key, [r % 2 ? 'baseline' : 'tuned']);
    const q = 0.3 + Math.log2(innerDim) / 12;
    const pts = new Array(POINTS * METRICS);
    for (let m = 0; m < METRICS; m++) {
      for (let s = 0; s < POINTS; s++) {
        const base = 3 * Math.exp((-3 * q * s) / POINTS) + 0.05;
        const noise = Math.sin(s * 12.9898 + r * 78.233 + m) * 0.08;
        pts[m * POINTS + s] = {
          id: `${m}.${s}`,
          name: metricNames[m],
          value: m % 2 ? 1 - base / 3.1 + noise : base + noise,
          step: s,
          epoch: Math.floor((s * 50) / POINTS),
          timestamp: runStart + s * 1000,
        };
      }
    }
    await store.addMetrics(key, pts); // one transaction per run
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const rate = ((r + 1) * METRICS * POINTS) / ((Date.now() - t0) / 1000);
      console.log(`seeded ${r + 1}/${RUNS} runs (${Math.round(rate).toLocaleString('en-US')} points/s)`);
    }
  }
  return (Date.now() - t0) / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The figures of an earlier results file worth keeping next to new ones (its own `previous` kept, older dropped). */
function headline(r) {
  if (!r.runCharts) return r; // already a headline
  const { previous, ...rest } = r;
  return {
    date: rest.date,
    loadavg: rest.machine?.loadavg,
    runs: rest.data?.runs,
    metrics: rest.data?.metrics,
    pointsPerMetric: rest.data?.pointsPerMetric,
    dbMegabytes: rest.data?.dbMegabytes,
    seedSeconds: rest.data?.seedSeconds,
    runsTableMedianMs: rest.runsTable?.medianMs,
    runChartsMedianMs: rest.runCharts.medianMs,
    runChartsSamplesMs: rest.runCharts.samplesMs,
    runChartsRequests: rest.runCharts.requests,
    runChartsLastApiResponseMedianMs: rest.runCharts.lastApiResponseMedianMs,
    seriesApiMedianMs: rest.runCharts.seriesApiMedianMs,
    seriesManyApiMedianMs: rest.runCharts.seriesManyApiMedianMs,
    ...(rest.note ? { note: rest.note } : {}),
    ...(previous ? { previous: { ...previous, previous: undefined } } : {}),
  };
}

await ensureDashboardBuilt();
mkdirSync(dataDir, { recursive: true });
let seedSeconds;
const reuse = existsSync(marker);
const server = await startServer({ port: 0, dataDir, staticDir: args['static-dir'] });
try {
  if (!reuse) {
    console.log(`seeding ${RUNS} runs x ${METRICS} metrics x ${POINTS} points into ${dataDir} ...`);
    seedSeconds = await seed(server.store);
    writeFileSync(marker, JSON.stringify({ runs: RUNS, metrics: METRICS, points: POINTS, seedSeconds }));
    console.log(
      `seeded in ${seedSeconds.toFixed(1)} s (${Math.round((RUNS * METRICS * POINTS) / seedSeconds).toLocaleString('en-US')} points/s)`,
    );
  } else {
    seedSeconds = JSON.parse(readFileSync(marker, 'utf8')).seedSeconds;
    console.log(`reusing the seeded database in ${dataDir}`);
  }
  const dbBytes = dirBytes(dataDir);
  if (args['seed-only']) {
    await server.close();
    process.exit(0);
  }

  // server-side timings of the two requests behind the views
  const auth = { authorization: server.defaultKey };
  const timeFetch = async (path) => {
    const t = performance.now();
    const res = await fetch(server.url + path, { headers: auth });
    const body = await res.json();
    return { ms: performance.now() - t, body };
  };
  const runsApi = [];
  let firstKey;
  let allKeys = [];
  for (let i = 0; i < REPEAT; i++) {
    const { ms, body } = await timeFetch(
      `/api/ocrops/runs?workspaceName=${WS}&projectName=${PROJECT}&limit=10000&sort=startTimeMillis&order=desc`,
    );
    runsApi.push(ms);
    firstKey = body.runs[Math.floor(body.runs.length / 2)].experimentKey;
    allKeys = body.runs.map((r) => r.experimentKey);
    if (body.total !== RUNS) throw new Error(`expected ${RUNS} runs, the server has ${body.total}`);
  }
  const seriesApi = [];
  for (let i = 0; i < REPEAT; i++) {
    const { ms } = await timeFetch(
      `/api/ocrops/series?experimentKey=${firstKey}&metricName=${metricNames[0]}&points=500&x=step`,
    );
    seriesApi.push(ms);
  }
  // every metric of a run in one request (what the run page sends), each time on a run not read before
  const pick = (i) => allKeys[(Math.floor(allKeys.length / 3) + i * 37) % allKeys.length];
  const seriesManyApi = [];
  for (let i = 0; i < REPEAT; i++) {
    const { ms, body } = await timeFetch(
      `/api/ocrops/series?experimentKey=${pick(i)}&metricNames=${metricNames.join(',')}&points=500&x=step`,
    );
    if (body.series.length !== METRICS || body.series.some((s) => s.total !== POINTS))
      throw new Error('multi-series reply is incomplete');
    seriesManyApi.push(ms);
  }

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${server.url}/?apiKey=${server.defaultKey}#/`);
  await page.waitForSelector('[data-testid="projects"] a');

  /** Milliseconds from setting location.hash to `done()` being true in a frame that was painted. */
  const timeView = (hash, doneSrc) =>
    page.evaluate(
      ({ hash, doneSrc }) =>
        new Promise((resolve, reject) => {
          const done = new Function(`return (${doneSrc})`)();
          const t0 = performance.now();
          location.hash = hash;
          const deadline = t0 + 60_000;
          const poll = () => {
            if (done()) {
              return requestAnimationFrame(() => {
                const total = performance.now() - t0;
                const api = performance
                  .getEntriesByType('resource')
                  .filter((e) => e.startTime >= t0 && e.name.includes('/api/'));
                const last = api.reduce((a, e) => Math.max(a, e.responseEnd), t0);
                performance.clearResourceTimings();
                resolve({ total, requests: api.length, lastResponseMs: last - t0 });
              });
            }
            if (performance.now() > deadline) return reject(new Error(`timeout waiting for ${hash}`));
            requestAnimationFrame(poll);
          };
          requestAnimationFrame(poll);
        }),
      { hash, doneSrc },
    );

  // the first screen of rows is drawn (all of them when there are fewer than 10 runs) and the total is shown
  const tableDone = `() => document.querySelectorAll('.tbody .tr').length >= ${Math.min(RUNS, 10)} && /${RUNS.toLocaleString('en-US')} runs/.test(document.querySelector('[data-testid="runs-count"]')?.textContent ?? '')`;
  const chartsDone = `() => { const c = [...document.querySelectorAll('.chart[data-points]')]; return c.length === ${METRICS} && c.every((e) => Number(e.dataset.points) > 0 && e.querySelector('canvas')); }`;
  const tableMs = [];
  const chartMs = [];
  for (let i = 0; i < REPEAT; i++) {
    await timeView('#/', `() => document.querySelector('[data-testid="projects"] a') !== null`);
    tableMs.push(await timeView(`#/p/${WS}/${PROJECT}`, tableDone));
    // a different run each time (its series not read before by the benchmark)
    chartMs.push(await timeView(`#/run/${pick(REPEAT + i)}`, chartsDone));
    console.log(`table ${JSON.stringify(tableMs.at(-1))} charts ${JSON.stringify(chartMs.at(-1))}`);
  }
  await page.goto(`${server.url}/#/p/${WS}/${PROJECT}`);
  await page.waitForFunction(`(${tableDone})()`);
  const renderedRows = await page.$$eval('.tbody .tr', (r) => r.length);
  await page.evaluate(() => document.querySelector('[data-testid="runs-table"]').scrollTo(0, 20000));
  await page.waitForTimeout(200);
  const scrolledRows = await page.$$eval('.tbody .tr', (r) => r.length);
  await browser.close();

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))) },
    data: {
      runs: RUNS,
      metrics: METRICS,
      pointsPerMetric: POINTS,
      totalPoints: RUNS * METRICS * POINTS,
      database: 'sqlite',
      dbMegabytes: Math.round(dbBytes / 1e6),
      seedSeconds: Number(seedSeconds.toFixed(1)),
      reusedSeed: reuse,
    },
    runsTable: {
      goalMs: 1000,
      medianMs: Math.round(median(tableMs.map((x) => x.total))),
      samplesMs: tableMs.map((x) => Math.round(x.total)),
      lastApiResponseMedianMs: Math.round(median(tableMs.map((x) => x.lastResponseMs))),
      apiMedianMs: Math.round(median(runsApi)),
      domRowsRendered: renderedRows,
      domRowsAfterScroll: scrolledRows,
    },
    runCharts: {
      goalMs: 300,
      charts: METRICS,
      pointsPerChart: 500,
      medianMs: Math.round(median(chartMs.map((x) => x.total))),
      samplesMs: chartMs.map((x) => Math.round(x.total)),
      requests: chartMs[0].requests,
      lastApiResponseMedianMs: Math.round(median(chartMs.map((x) => x.lastResponseMs))),
      seriesApiMedianMs: Math.round(median(seriesApi)),
      seriesManyApiMedianMs: Math.round(median(seriesManyApi)),
      seriesManyApiSamplesMs: seriesManyApi.map((x) => Math.round(x)),
    },
    note: 'times from hash navigation to painted rows/charts in headless Chromium (--disable-gpu); lastApiResponse = when the last API reply of the view arrived (the rest is client work); machine shared by other jobs, so noisy',
  };
  const out = args.out ?? join(repoRoot(), 'bench', 'results', 'dashboard.json');
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(out)) result.previous = headline(JSON.parse(readFileSync(out, 'utf8')));
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `runs table ${result.runsTable.medianMs} ms (goal < 1000), run charts ${result.runCharts.medianMs} ms (goal < 300); wrote ${out}`,
  );
} finally {
  await server.close();
}
