// The dashboard in a real browser (Debian Chromium driven by playwright-core) against a real tracker server on
// loopback, seeded through the tracker client with runs (train/val metrics over steps and epochs, params, others,
// an asset and a model) and a sweep run through the optimizer resource. Screenshots: test-output/dashboard/*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '@ocrops/dashboard/chromium';
import { repoRoot } from '@ocrops/common';
import { ensureDashboardBuilt } from '@ocrops/dashboard';
import { Experiment, TrackerApi, startServer } from '@ocrops/tracker';
import { optimizerAlgorithm } from '@ocrops/search';

const PROJECT = 'ocr-dash';
const CLS_PROJECT = 'cls-dash';
const WS = 'default';
const SHOTS = join(repoRoot(), 'test-output', 'dashboard');

interface Seeded {
  keys: Record<string, string>;
  sweepId: string;
  sweepKeys: string[];
  /** inner_dim of each sweep trial (the grid's order is the algorithm's choice). */
  sweepInnerDims: number[];
  /** The classification run (project cls-dash). */
  classifyKey: string;
}

let server: Awaited<ReturnType<typeof startServer>> | undefined;
let browser: Browser | undefined;
let page: Page;
let dataDir: string;
let seeded: Seeded;
let live: Experiment | undefined;

const common = (url: string, apiKey: string, name: string) => ({
  url,
  apiKey,
  workspace: WS,
  project: PROJECT,
  name,
  captureConsole: false,
  crashHandler: false,
  logEnvironment: true,
  flushIntervalMs: 200,
});

/** Train loss per step (`steps` points) and val loss / accuracy per epoch (`epochs` points); `q` in (0,1] = quality. */
function logCurves(exp: Experiment, steps: number, epochs: number, q: number): void {
  const perEpoch = steps / epochs;
  for (let s = 0; s < steps; s++) {
    const epoch = Math.floor(s / perEpoch);
    exp.logMetric('train_loss', 3 * Math.exp((-3 * q * s) / steps) + 0.05 * Math.sin(s), { step: s, epoch });
    if ((s + 1) % perEpoch === 0) {
      const v = 3.2 * Math.exp((-2.5 * q * s) / steps) + 0.3 * (1 - q);
      exp.logMetrics({ val_loss: v, val_acc_by_char: Math.max(0, 1 - v / 3.5) }, { step: s, epoch });
    }
  }
}

async function seed(url: string, apiKey: string): Promise<Seeded> {
  const keys: Record<string, string> = {};
  const specs = [
    { name: 'crnn-a', innerDim: 64, lr: 1e-3, q: 0.6, steps: 120 },
    { name: 'crnn-b', innerDim: 256, lr: 3e-4, q: 1.0, steps: 120 },
    { name: 'crnn-c', innerDim: 128, lr: 1e-3, q: 0.8, steps: 1500 },
  ];
  const file = join(dataDir, 'confusion.txt');
  writeFileSync(file, 'confusion matrix of crnn-a\n');
  const modelDir = join(dataDir, 'best');
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'model.json'), '{"format":"layers-model"}');
  for (const s of specs) {
    const exp = await Experiment.create(common(url, apiKey, s.name));
    exp.logParameters({ inner_dim: s.innerDim, lr: s.lr, batch_size: 32, arch: 'vgg' });
    exp.addTags(['dashboard-test', s.innerDim >= 128 ? 'large' : 'small']);
    exp.logOther('git_commit', '82c254e0b1d3f0c9a8e7d6c5b4a39281706f5e4d');
    exp.logOther('dvc_models_best', 'd41d8cd98f00b204e9800998ecf8427e.dir');
    logCurves(exp, s.steps, 12, s.q);
    if (s.name === 'crnn-a') {
      exp.logHtml('<h2 id="report">crnn-a report</h2>');
      // a count that never moves off 0 (its chart must not read as "0 %" on a 0..100 axis)
      for (let e = 0; e < 12; e++) exp.logMetric('labels_too_long', 0, { step: e * 10, epoch: e });
      // console output through Comet's write endpoint (the client's console capture would grab the test runner's output)
      const res = await fetch(`${url}/api/rest/v2/write/experiment/output`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: apiKey },
        body: JSON.stringify({
          experimentKey: exp.key,
          outputLines: [
            { output: 'epoch 1/12 train_loss=2.91\n', stderr: false, localTimestamp: Date.now(), offset: 0 },
            { output: 'warning: slow data loader\n', stderr: true, localTimestamp: Date.now() + 1, offset: 1 },
          ],
        }),
      });
      assert.equal(res.status, 200, await res.text());
      await exp.logAsset(file, { name: 'confusion.txt', type: 'text-sample', step: 119 });
      await exp.logModel('best', modelDir);
    }
    await exp.end();
    keys[s.name] = exp.key;
  }
  // a run that is still going (for live updates)
  live = await Experiment.create(common(url, apiKey, 'crnn-live'));
  live.logParameters({ inner_dim: 32, lr: 1e-3, batch_size: 32, arch: 'vgg' });
  logCurves(live, 40, 4, 0.5);
  await live.flush();
  keys['crnn-live'] = live.key;

  // a grid sweep over inner_dim through the optimizer resource
  const api = new TrackerApi({ url, apiKey, workspace: WS });
  const sweepId = await api.optimizerCreate(
    {
      algorithm: 'grid',
      name: 'inner-dim search',
      spec: { metric: 'val_loss', objective: 'minimize', maxCombo: 4, seed: 1 },
      parameters: {
        inner_dim: { type: 'discrete', values: [32, 64, 128] },
        lr: { type: 'discrete', values: [0.001, 0.0003] },
      },
      trials: 1,
    },
    { projectName: PROJECT },
  );
  const sweepKeys: string[] = [];
  const sweepInnerDims: number[] = [];
  for (;;) {
    const sug = await api.optimizerNext(sweepId);
    if (!sug) break;
    const innerDim = Number(sug.parameters.inner_dim);
    const exp = await Experiment.create(common(url, apiKey, `sweep-${innerDim}-${sug.parameters.lr}`));
    exp.logParameters({ ...sug.parameters, batch_size: 32, arch: 'vgg' });
    exp.logOther('optimizer_id', sweepId);
    exp.logOther('optimizer_pid', sug.pid);
    const q = Math.log2(innerDim) / 8 + (Number(sug.parameters.lr) > 5e-4 ? 0.05 : 0);
    logCurves(exp, 60, 6, q);
    await exp.end();
    const score = 3.2 * Math.exp(-2.5 * q * (59 / 60)) + 0.3 * (1 - q);
    await api.optimizerUpdate({
      id: sweepId,
      pid: sug.pid,
      trial: sug.trial,
      status: 'completed',
      score,
      experimentKey: exp.key,
    });
    sweepKeys.push(exp.key);
    sweepInnerDims.push(innerDim);
  }
  assert.equal(sweepKeys.length, 4, 'maxCombo 4');
  const classifyKey = await seedClassifier(url, apiKey);
  return { keys, sweepId, sweepKeys, sweepInnerDims, classifyKey };
}

/** Classes of the seeded classification run (as many as the butterflies set). */
const CLASSES = Array.from({ length: 75 }, (_, i) => `SPECIES ${String(i).padStart(2, '0')}`);

/**
 * A classification run in its own project: val_top1/val_top5 per epoch, a Comet confusion-matrix asset as the
 * comet_ml SDK's log_confusion_matrix writes it (75 classes; class 3 is mistaken for class 7 five times) and a
 * mistakes.png image.
 */
async function seedClassifier(url: string, apiKey: string): Promise<string> {
  const exp = await Experiment.create({ ...common(url, apiKey, 'cnn4-butterflies'), project: CLS_PROJECT });
  exp.logParameters({ task: 'classify', arch: 'cnn4', batch_size: 32 });
  for (let e = 0; e < 5; e++)
    exp.logMetrics({ val_top1: 0.2 + 0.1 * e, val_top5: 0.5 + 0.08 * e, val_loss: 3 - 0.4 * e }, { step: e, epoch: e });
  const matrix = CLASSES.map((_, i) =>
    CLASSES.map((__, j) => (i === j ? (i === 3 ? 2 : 7) : i === 3 && j === 7 ? 5 : 0)),
  );
  const cm = {
    version: 1,
    title: 'Confusion Matrix, Epoch #4',
    labels: CLASSES,
    matrix,
    rowLabel: 'Actual Category',
    columnLabel: 'Predicted Category',
    maxSamplesPerCell: 25,
    sampleMatrix: null,
    type: null,
  };
  const cmFile = join(dataDir, 'confusion-matrix.json');
  writeFileSync(cmFile, JSON.stringify(cm));
  await exp.logAsset(cmFile, { name: 'confusion-matrix.json', type: 'confusion-matrix', step: 4 });
  const png = join(dataDir, 'mistakes.png');
  // a 2x1 PNG (red, blue), written from bytes: the test needs no image library
  writeFileSync(
    png,
    Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==',
      'base64',
    ),
  );
  await exp.logAsset(png, { name: 'mistakes.png', type: 'image', step: 4 });
  await exp.end();
  return exp.key;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

const haveChromium = existsSync(CHROMIUM);

before(async () => {
  if (!haveChromium) return;
  await ensureDashboardBuilt();
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'ocrops-dash-'));
  server = await startServer({ port: 0, dataDir: join(dataDir, 'tracker'), optimizer: optimizerAlgorithm });
  seeded = await seed(server.url, server.defaultKey);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  // the API key arrives once in the URL and is kept in local storage
  await page.goto(`${server.url}/?apiKey=${server.defaultKey}#/`);
  await page.waitForSelector('[data-testid="projects"] a');
});

after(async () => {
  await browser?.close();
  await live?.end().catch(() => undefined);
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const rowKeys = () => page.$$eval('.tbody .tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.key!));
const cellValues = (col: string) =>
  page.$$eval(`.tbody .tr .cell[data-col="${col}"]`, (cells) =>
    cells.map((c) => Number((c.textContent ?? '').replace(/,/g, ''))),
  );

test('projects list links to the project, runs table sorts by val_loss', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  assert.ok(await page.isVisible(`text=${PROJECT}`));
  await page.click(`[data-testid="projects"] a:text("${PROJECT}")`);
  await page.waitForFunction(() => document.querySelectorAll('.tbody .tr').length === 8);
  const all = [...Object.values(seeded.keys), ...seeded.sweepKeys];
  assert.deepEqual(new Set(await rowKeys()), new Set(all));

  await page.click('.th[data-col="metrics.val_loss.min"]');
  await page.waitForFunction(
    () => document.querySelector('.th.sorted')?.getAttribute('data-col') === 'metrics.val_loss.min',
  );
  await page.waitForFunction(
    (key) => document.querySelector<HTMLElement>('.tbody .tr')?.dataset.key === key,
    seeded.keys['crnn-b'],
  );
  const asc = await cellValues('metrics.val_loss.min');
  assert.equal(asc.length, 8);
  assert.deepEqual(
    asc,
    [...asc].sort((a, b) => a - b),
    `val_loss.min ascending: ${asc}`,
  );
  assert.equal((await rowKeys())[0], seeded.keys['crnn-b'], 'crnn-b has the lowest val_loss');
  await shot('runs-table');

  await page.click('.th[data-col="metrics.val_loss.min"]');
  await page.waitForFunction(() => document.querySelector('.th.sorted .th-arrow')?.textContent === '▼');
  // crnn-live has logged only 4 epochs: the highest val_loss
  await page.waitForFunction(
    (key) => document.querySelector<HTMLElement>('.tbody .tr')?.dataset.key === key,
    seeded.keys['crnn-live'],
  );
  const desc = await cellValues('metrics.val_loss.min');
  assert.deepEqual(
    desc,
    [...desc].sort((a, b) => b - a),
    `val_loss.min descending: ${desc}`,
  );

  await page.fill('[data-testid="runs-filter"]', 'params.inner_dim>=128 and metrics.val_loss.min<5');
  await page.press('[data-testid="runs-filter"]', 'Enter');
  const expected = [128, 256].length + seeded.sweepInnerDims.filter((d) => d >= 128).length;
  await page.waitForFunction((n) => document.querySelectorAll('.tbody .tr').length === n, expected);
  await page.fill('[data-testid="runs-filter"]', '');
  await page.press('[data-testid="runs-filter"]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.tbody .tr').length === 8);

  await page.check('[data-testid="only-differing"]');
  await page.waitForFunction(() => !document.querySelector('.th[data-col="params.arch"]'));
  assert.ok(await page.$('.th[data-col="params.inner_dim"]'), 'inner_dim differs between runs and stays');
  await page.uncheck('[data-testid="only-differing"]');
});

/** Records the URLs of `/api/ocrops/series` (or, with `all`, every `/api/`) requests the page sends until the returned function is called. */
function countSeriesRequests(all = false): () => string[] {
  const urls: string[] = [];
  const onRequest = (r: { url(): string }) => {
    if (r.url().includes(all ? '/api/' : '/api/ocrops/series')) urls.push(decodeURIComponent(r.url()));
  };
  page.on('request', onRequest);
  return () => {
    page.off('request', onRequest);
    return urls;
  };
}

test('run page: charts with the right number of points, versions, assets', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  const stopCounting = countSeriesRequests(true);
  await page.click(`.tbody .tr[data-key="${seeded.keys['crnn-a']}"] [data-col="name"] a`);
  await page.waitForSelector('[data-testid="run-page"]');
  await page.waitForSelector('.chart[data-metric="train_loss"][data-points="120"]');
  await page.waitForSelector('.chart[data-metric="val_loss"][data-points="12"]');
  await page.waitForSelector('.summary-box tbody tr');
  const apiUrls = stopCounting();
  // the requests started on the hash change (prefetch) are taken over by the page: each is sent once
  for (const path of [
    'experiment/metadata',
    'experiment/metrics/summary',
    'experiment/parameters',
    'experiment/log-other',
    'experiment/tags',
  ])
    assert.equal(apiUrls.filter((u) => u.includes(`/${path}?`)).length, 1, `${path} sent once: ${apiUrls.join(' ')}`);
  const seriesUrls = apiUrls.filter((u) => u.includes('/api/ocrops/series'));
  assert.equal(seriesUrls.length, 1, `every chart of the run in one series request: ${seriesUrls.join(' ')}`);
  assert.match(seriesUrls[0], /metricNames=[^&]*train_loss/);
  assert.match(seriesUrls[0], /metricNames=[^&]*val_loss/);
  const canvases = await page.$$eval('.chart[data-metric="train_loss"] canvas', (c) => c.length);
  assert.equal(canvases, 1, 'the chart is drawn on a canvas');
  // an all-zero series gets a y axis around its data (0..1), not uPlot's 0..100
  const flat = await page.waitForSelector('.chart[data-metric="labels_too_long"][data-y-max]');
  assert.deepEqual(
    [Number(await flat.getAttribute('data-y-min')), Number(await flat.getAttribute('data-y-max'))],
    [0, 1],
  );
  const loss = await page.waitForSelector('.chart[data-metric="train_loss"][data-y-max]');
  assert.ok(Number(await loss.getAttribute('data-y-max')) < 5, 'a varying series keeps a range near its data');
  await shot('run');

  await page.click('[data-tab="versions"]');
  await page.waitForSelector('[data-testid="versions"]');
  const versions = await page.textContent('[data-testid="versions"]');
  assert.match(versions ?? '', /d41d8cd98f00b204e9800998ecf8427e\.dir/);
  assert.match(versions ?? '', /dvc pull models\/best/);

  await page.click('[data-tab="output"]');
  await page.waitForSelector('[data-testid="console"]');
  assert.match((await page.textContent('[data-testid="console"]')) ?? '', /epoch 1\/12 train_loss=2\.91/);
  assert.equal(await page.textContent('[data-testid="console"] .stderr'), 'warning: slow data loader\n');

  await page.click('[data-tab="html"]');
  const frame = await (await page.waitForSelector('iframe.html-frame')).contentFrame();
  assert.equal(await frame?.textContent('#report'), 'crnn-a report');

  await page.click('[data-tab="system"]');
  await page.waitForSelector('text=hostname');

  await page.click('[data-tab="assets"]');
  await page.waitForSelector('a:text("download")');
  const links = await page.$$eval('a:text("download")', (as) => as.map((a) => (a as HTMLAnchorElement).href));
  assert.equal(links.length, 2, 'one asset and one model file');
  const bodies = await Promise.all(links.map(async (l) => (await page.request.get(l)).text()));
  assert.ok(bodies.includes('confusion matrix of crnn-a\n'), 'the asset downloads with its content');
  assert.ok(bodies.includes('{"format":"layers-model"}'), 'the model file downloads');
});

test('run page: a long series is downsampled, zooming re-fetches full resolution', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/run/${seeded.keys['crnn-c']}`);
  const chart = '.chart[data-metric="train_loss"]';
  await page.waitForSelector(`${chart}[data-points]`);
  await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-points')) > 0, chart);
  const n = Number(await page.getAttribute(chart, 'data-points'));
  assert.ok(n <= 500 && n >= 250, `1,500 points downsampled to ${n}`);
  assert.match((await page.textContent(`${chart} .chart-note`)) ?? '', /of 1,500/);
  // drag over roughly the first tenth of the plot: the zoomed range has < 500 raw points, all shown
  const box = (await (await page.$(`${chart} .u-over`))!.boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector('.chart-reset');
  await page.waitForFunction(
    (sel) => /zoom/.test(document.querySelector(`${sel} .chart-note`)?.textContent ?? ''),
    chart,
  );
  const note = (await page.textContent(`${chart} .chart-note`)) ?? '';
  const zoomed = Number(await page.getAttribute(chart, 'data-points'));
  assert.doesNotMatch(note, /buckets/, `zoomed view at full resolution: ${note}`);
  assert.ok(zoomed > 50 && zoomed < 300, `zoomed points ${zoomed}`);
  await page.click('.chart-reset');
  await page.waitForFunction(
    (sel) => /of 1,500/.test(document.querySelector(`${sel} .chart-note`)?.textContent ?? ''),
    chart,
  );
});

test('live run: new points appear without reloading (server-sent events)', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/run/${seeded.keys['crnn-live']}`);
  await page.waitForSelector('.chart[data-metric="train_loss"][data-points="40"]');
  assert.ok(await page.isVisible('h1 .status-running'));
  await page.$eval('.chart[data-metric="train_loss"] canvas', (c) => ((c as HTMLElement).dataset.mark = 'first'));
  for (let s = 40; s < 50; s++) live!.logMetric('train_loss', 0.5, { step: s, epoch: 4 });
  await live!.flush();
  await page.waitForSelector('.chart[data-metric="train_loss"][data-points="50"]', { timeout: 15_000 });
  // new values of the same shape go into the existing chart (setData), not a rebuilt canvas
  assert.equal(
    await page.$eval('.chart[data-metric="train_loss"] canvas', (c) => (c as HTMLElement).dataset.mark),
    'first',
  );
});

test('compare view overlays two runs and diffs their parameters', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/p/${WS}/${PROJECT}`);
  await page.waitForFunction(() => document.querySelectorAll('.tbody .tr').length === 8);
  for (const name of ['crnn-a', 'crnn-b'])
    await page.check(`.tbody .tr[data-key="${seeded.keys[name]}"] .cell.check input`);
  const stopCounting = countSeriesRequests();
  await page.click('[data-testid="compare-button"]');
  await page.waitForSelector('[data-testid="compare-page"]');
  await page.waitForSelector('.chart[data-metric="val_loss"][data-points="24"]');
  await page.waitForSelector('.chart[data-metric="train_loss"][data-points="240"]');
  const seriesUrls = stopCounting();
  assert.equal(seriesUrls.length, 2, `one series request per compared run: ${seriesUrls.join(' ')}`);
  assert.ok(seriesUrls.every((u) => /metricNames=/.test(u)));
  const diffRows = await page.$$eval('[data-testid="param-diff"] tbody tr.differs th', (th) =>
    th.map((x) => x.textContent),
  );
  assert.deepEqual(diffRows.sort(), ['inner_dim', 'lr']);
  assert.equal(await page.$$eval('.legend-item', (l) => l.length), 2);
  const legend = await page.$$eval('.legend-item', (l) => l.map((x) => x.textContent));
  for (const table of ['parameter', 'metric']) {
    const head = await page.$$eval(`.compare-side table:has(th:text-is("${table}")) thead th`, (th) =>
      th.map((x) => x.textContent),
    );
    assert.deepEqual(head, [table, ...legend], `the ${table} table's columns are the compared runs`);
  }
  await shot('compare');
});

test('sweep view: history, parallel coordinates, importance, trials', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/p/${WS}/${PROJECT}`);
  await page.click('[data-testid="sweeps-tab"]');
  await page.waitForSelector('[data-testid="sweeps"] a');
  await page.click('[data-testid="sweeps"] a');
  await page.waitForSelector('[data-testid="sweep-page"]');
  await page.waitForSelector('[data-testid="history-chart"][data-points="4"]');
  assert.equal(await page.$$eval('[data-testid="trials"] tbody tr', (r) => r.length), 4);
  assert.equal(await page.$$eval('[data-testid="parallel-coords"] polyline', (p) => p.length), 4);
  const imp = await page.$$eval('[data-testid="importance"] .bar-label', (l) => l.map((x) => x.textContent));
  assert.deepEqual(new Set(imp), new Set(['inner_dim', 'lr']));
  const runLinks = await page.$$eval('[data-testid="trials"] a', (as) => as.map((a) => (a as HTMLAnchorElement).hash));
  assert.deepEqual(new Set(runLinks.map((h) => h.split('/').pop())), new Set(seeded.sweepKeys));
  await shot('sweep');
});

test('without a stored key the dashboard asks for one, then loads', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  const ctx = await browser!.newContext({ viewport: { width: 1200, height: 700 } });
  try {
    const p = await ctx.newPage();
    await p.goto(`${server!.url}/#/`);
    await p.waitForSelector('.modal');
    assert.match((await p.textContent('.modal')) ?? '', /API key needed/);
    await p.fill('.modal input', server!.defaultKey);
    await p.click('.modal button[type="submit"]');
    await p.waitForSelector(`[data-testid="projects"] a:text("${PROJECT}")`);
    assert.equal(await p.$('.modal'), null);
  } finally {
    await ctx.close();
  }
});

test('runs table keeps only the visible rows in the DOM (2,000 runs)', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  const store = server!.store;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const { experimentKey } = await store.createExperiment(WS, 'ocr-many', `many-${String(i).padStart(4, '0')}`);
    await store.setParams(experimentKey, 'parameter', [{ name: 'seed', value: i }]);
    await store.addMetrics(experimentKey, [{ name: 'val_loss', value: 1 + i / n, step: 0 }]);
  }
  await page.goto(`${server!.url}/#/p/${WS}/ocr-many`);
  await page.waitForFunction(() =>
    /2,000 runs/.test(document.querySelector('[data-testid="runs-count"]')?.textContent ?? ''),
  );
  await page.click('.th[data-col="metrics.val_loss.last"]');
  await page.waitForFunction(() => document.querySelector('.tbody .tr [data-col="name"]')?.textContent === 'many-0000');
  const inDom = await page.$$eval('.tbody .tr', (r) => r.length);
  assert.ok(inDom < 80, `${inDom} rows in the DOM for 2,000 runs`);
  await page.$eval('[data-testid="runs-table"]', (el) => el.scrollTo(0, el.scrollHeight));
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.tbody .tr [data-col="name"]')].some((c) => c.textContent === 'many-1999'),
  );
  assert.ok((await page.$$eval('.tbody .tr', (r) => r.length)) < 80);
});

test('classification run: headline metrics first in the runs table; confusion-matrix heat map (75 classes) and mistakes image', async (t) => {
  if (!haveChromium) return t.skip(`${CHROMIUM} absent`);
  await page.goto(`${server!.url}/#/p/${WS}/${CLS_PROJECT}`);
  await page.waitForFunction(() => document.querySelectorAll('.tbody .tr').length === 1);
  const metricCols = await page.$$eval('.th[data-col^="metrics."]', (ths) =>
    ths.map((th) => th.getAttribute('data-col')!.split('.')[1]),
  );
  assert.deepEqual(
    [...new Set(metricCols)],
    ['val_top1', 'val_top5', 'val_loss'],
    'the headline metrics of a classifier first',
  );

  await page.goto(`${server!.url}/#/run/${seeded.classifyKey}`);
  await page.click('[data-tab="classifier"]');
  await page.waitForSelector('[data-testid="confusion-matrix"] table.cm-table tbody tr');
  const rows = await page.$$eval('.cm-table tbody tr', (trs) => trs.length);
  assert.equal(rows, 75);
  const cols = await page.$$eval('.cm-table thead th.cm-col', (ths) => ths.length);
  assert.equal(cols, 76, '75 classes and the recall column');
  // row 3 (SPECIES 03): 2 right, 5 taken for SPECIES 07
  const row3 = await page.$$eval('.cm-table tbody tr:nth-child(4) td', (tds) => tds.map((td) => td.textContent));
  assert.equal(row3[3], '2');
  assert.equal(row3[7], '5');
  assert.equal(row3[75], '28.6%', 'recall 2/7');
  const scroll = await page.$eval('.cm-scroll', (el) => ({
    sw: el.scrollWidth,
    cw: el.clientWidth,
    sh: el.scrollHeight,
    ch: el.clientHeight,
  }));
  assert.ok(scroll.sh > scroll.ch, `the 75 rows scroll inside the view: ${JSON.stringify(scroll)}`);
  assert.match((await page.textContent('[data-testid="confusion-matrix"]')) ?? '', /75 classes, 525 samples/);
  await page.selectOption('[data-testid="cm-order"]', 'recall');
  await page.waitForFunction(() => document.querySelector('.cm-table tbody tr th')?.textContent === 'SPECIES 03');
  const img = await page.waitForSelector('[data-testid="mistakes-image"]');
  await page.waitForFunction(
    (el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 2,
    img,
  );
  await shot('run-classifier');
});
